package vmtest

// What the VM runner (go run ./vm) tells the tests it runs in its guest,
// in their environment, and what the guest is. Outside the VM none of the
// variables is set.
const (
	// EnvBoot is the boot of the VM the tests run in: "1", or "2" in the
	// second boot that runs again the tests that asked for it (Boot).
	EnvBoot = "KERNKEYS_VM_BOOT"

	// EnvState is a directory of the test binary's own, shared with the
	// host's work directory of the run, that persists from the first boot
	// to the second (Boot).
	EnvState = "KERNKEYS_VM_STATE"

	// EnvModules lists the .ko files of the nfit_test stack in load
	// order, separated by ':' (filepath.ListSeparator); the guest's /init
	// loaded them before the tests (ReloadNfitTest loads them again).
	EnvModules = "KERNKEYS_VM_MODULES"

	// Hostname is the guest's host name: ndctl and cryptsetup put the
	// host name in what they write.
	Hostname = "kernkeys-vm"

	// NdctlKeys is ndctl's key directory, where it keeps the blobs of
	// the DIMMs' passphrase keys: in the guest a writable tmpfs over the
	// host's read-only one, empty at boot (and again at the second boot:
	// keep what must last in Boot's directory).
	NdctlKeys = "/etc/ndctl/keys"
)
