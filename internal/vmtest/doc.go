// Package vmtest holds the test helpers for what only the VM runner's
// kernel (go run ./vm, see vm's package doc) offers: nfit_test's emulated
// NVDIMMs, device-mapper and loop devices, and a second boot of the same
// machine.
//
// A test finds out with a Need function (NeedNfitTest, NeedDeviceMapper,
// NeedLoop) whether the kernel has the feature: in the VM's guest a
// missing feature fails the test, since the VM kernel is built with it;
// elsewhere (the host's kernel) the test skips, naming the feature. InVM
// tells the two apart, from the environment the guest gives its tests.
//
// # nfit_test
//
// tools/testing/nvdimm, built with the VM kernel, emulates a platform with
// NVDIMMs: bus nfit_test.0 has DIMMs (nmem devices) whose firmware
// answers Intel's DSM security commands (set and change a passphrase,
// unlock, freeze, disable, secure erase, overwrite), security "disabled"
// at load, and bus nfit_test.1 two more without security. nfit.c
// describes five DIMMs on nfit_test.0, but on Linux 6.1.192 the fifth,
// hot-added at probe through a _FIT notification, fails ("failed to
// evaluate _FIT" in the kernel log): four are there, nmem0 to nmem3. The guest loads the stack (nfit_test_iomap,
// libnvdimm, nd_btt, nd_pmem, nfit, device_dax, dax_pmem, nfit_test; the
// files are in $KERNKEYS_VM_MODULES) before the tests. The DIMMs'
// security state lives in nfit_test's memory: it lasts (a freeze, a
// passphrase) until the module is reloaded, which ReloadNfitTest does.
//
// # Device-mapper and loop
//
// The VM kernel has dm-crypt (AES, XTS) and loop devices built in. The
// guest runs no udev: devtmpfs makes /dev/mapper/control,
// /dev/loop-control, /dev/loopN and /dev/dm-N; /dev/mapper/NAME links are
// for whoever creates the device (cryptsetup makes its own nodes when it
// finds no udev). /tmp is a tmpfs: loop files may live there, or in
// Boot's directory to outlast a boot.
//
// # Two boots
//
// Boot gives a test a second boot of the same machine: the same swtpm
// state (so blobs sealed by the TPM in the first boot unseal in the
// second), a directory that lasts from one boot to the other, and nothing
// else (every key, mapping, module state and tmpfs is gone). In the first
// boot Boot returns 1 and registers the test (if it passes) for the
// second; after the first boot the runner boots again and runs only the
// registered tests, where Boot returns 2 and the same directory.
//
// # The guest
//
// Its host name is Hostname; ndctl's key directory NdctlKeys is a
// writable tmpfs; tests run as root.
package vmtest
