//go:build linux

package main

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/kernkeys/kernkeys/internal/keytest"
	"github.com/kernkeys/kernkeys/internal/vmtest"
)

// ndctlKeyDir is where ndctl keeps its blobs: fixed when it is built
// (NDCTL_KEYS_DIR; only load-keys takes another). The VM mounts a tmpfs
// there.
const ndctlKeyDir = vmtest.NdctlKeys

// ndctl runs ndctl from the test's thread, whose session links @u.
func (w *nfitWorld) ndctl(args ...string) (string, error) {
	w.t.Helper()
	out, err := exec.Command("ndctl", args...).CombinedOutput()
	return string(out), err
}

func (w *nfitWorld) ndctlOK(args ...string) string {
	w.t.Helper()
	out, err := w.ndctl(args...)
	if err != nil {
		w.t.Fatalf("ndctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func (w *nfitWorld) ndctlFails(args ...string) string {
	w.t.Helper()
	out, err := w.ndctl(args...)
	if err == nil {
		w.t.Errorf("ndctl %s succeeded\n%s", strings.Join(args, " "), out)
	}
	return out
}

// ndctl 76.1 and this command on the same DIMM and key directory: each
// loads the other's blobs, and takes over the other's passphrases. The
// differences found are in the README.
func TestNdctl(t *testing.T) {
	if _, err := exec.LookPath("ndctl"); err != nil {
		nfitDimms(t) // skips first where the kernel has no nfit_test.0
		t.Fatalf("ndctl is not installed: %v", err)
	}
	// ndctl's load-keys loads a kek named nvdimm-master from
	// nvdimm-master.blob, and no other.
	w := newNfit(t, dimmNdctl, "user", "nvdimm-master", ndctlKeyDir)
	name, id, kek := w.d.name, w.d.id, w.kek.String()
	mine, _ := filepath.Glob(filepath.Join(ndctlKeyDir, "*_"+id+"_*"))
	if len(mine) != 0 {
		t.Fatalf("%s already holds %v", ndctlKeyDir, mine)
	}
	kekBlob := filepath.Join(ndctlKeyDir, "nvdimm-master.blob")
	t.Cleanup(func() {
		mine, _ := filepath.Glob(filepath.Join(ndctlKeyDir, "*_"+id+"_*"))
		for _, f := range append(mine, kekBlob) {
			os.Remove(f)
		}
	})

	// ndctl sets up; ours loads its blob (the DIMM unlocks with it at
	// probe), updates and removes.
	w.ndctlOK("setup-passphrase", name, "-k", kek)
	w.wantState("unlocked")
	nb := w.blob("nvdimm")
	w.wantHolds(false, nb, "ndctl's blob")
	// ndctl writes its blob with fopen("w"): mode 0666 less the umask,
	// which ndctl inherits from the test (0644 in the VM), where ours are
	// 0600.
	if fi, err := os.Stat(w.blobPath("nvdimm", id)); err != nil {
		t.Error(err)
	} else if want := 0o666 &^ umask(t); fi.Mode().Perm() != want {
		t.Errorf("ndctl wrote its blob with mode %v, want %v", fi.Mode().Perm(), want)
	}
	if err := unlinkKey("nvdimm:" + id); err != nil {
		t.Fatal(err)
	}
	if out := w.ok("load-keys"); !strings.Contains(out, "loaded nvdimm:"+id) {
		t.Errorf("load-keys did not load ndctl's blob:\n%s", out)
	}
	w.lock()
	w.unlockAtProbe()
	w.ok("update-passphrase", "--dimm", name)
	ob := w.blob("nvdimm")
	w.wantHolds(false, ob, "our update of ndctl's passphrase")
	if w.holds(false, nb) {
		t.Error("the DIMM still takes ndctl's passphrase")
	}
	w.ok("remove-passphrase", "--dimm", name)
	w.wantState("disabled")
	w.gone("nvdimm", "remove-passphrase")

	// Ours sets up; ndctl updates and removes. Without --key-handle ndctl
	// finds the kek only through the passphrase key in @u: it refuses
	// when only the blob is there, where ours loads it.
	w.ok("setup-passphrase", "--dimm", name, "--key-handle", kek)
	ob = w.blob("nvdimm")
	if err := unlinkKey("nvdimm:" + id); err != nil {
		t.Fatal(err)
	}
	w.ndctlFails("update-passphrase", name)
	if !bytes.Equal(w.blob("nvdimm"), ob) {
		t.Fatal("ndctl's refused update changed the blob")
	}
	w.ndctlOK("update-passphrase", name, "-k", kek)
	nb = w.blob("nvdimm")
	w.wantHolds(false, nb, "ndctl's update of our passphrase")
	w.ndctlOK("remove-passphrase", name)
	w.wantState("disabled")
	w.gone("nvdimm", "ndctl remove-passphrase")

	// Ours sets up; after a reboot ndctl's load-keys loads the kek from
	// its blob and our passphrase blob, and the DIMM unlocks at probe.
	w.ok("setup-passphrase", "--dimm", name, "--key-handle", kek)
	ob = w.blob("nvdimm")
	if err := os.WriteFile(kekBlob, w.payload, 0o600); err != nil {
		t.Fatal(err)
	}
	w.forget()
	w.lock()
	w.lockedAtProbe()
	w.ndctlOK("load-keys")
	if !keyIn(t, "nvdimm:"+id) {
		t.Error("ndctl load-keys did not load our blob")
	}
	w.unlockAtProbe()

	// ndctl's update is not atomic. In a session without @u (a service,
	// su without pam_keyinit) it renames the blob to nvdimm-old_, unlinks
	// the key, then cannot load the old blob (the kernel finds no kek):
	// the DIMM's only blob is one that no later ndctl command, load-keys
	// included, looks at. (Without -k it fails earlier, harmlessly: it
	// cannot read the key it found to learn the kek.) Ours rolls that back
	// and updates.
	out, err := exec.Command("keyctl", "session", "-", "ndctl", "update-passphrase", name, "-k", kek).CombinedOutput()
	if err == nil {
		t.Fatalf("ndctl update-passphrase in a session without @u succeeded:\n%s", out)
	}
	if w.blob("nvdimm") != nil || !bytes.Equal(w.blob("nvdimm-old"), ob) || keyIn(t, "nvdimm:"+id) {
		t.Fatalf("ndctl's failed update left other than nvdimm-old_ alone (its output:\n%s)", out)
	}
	w.wantHolds(false, ob, "the blob ndctl renamed to nvdimm-old_")
	w.ndctlFails("update-passphrase", name)
	w.ndctlFails("update-passphrase", name, "-k", kek)
	w.ndctlOK("load-keys")
	if keyIn(t, "nvdimm:"+id) || keyIn(t, "nvdimm-old:"+id) {
		t.Error("ndctl load-keys loaded the nvdimm-old_ blob")
	}
	if out := w.ok("update-passphrase", "--dimm", name); !strings.Contains(out, "rolled back an interrupted") {
		t.Errorf("update after ndctl's failed one:\n%s", out)
	}
	w.wantHolds(false, w.blob("nvdimm"), "our update after ndctl's failed one")

	// Master passphrases: ndctl cannot remove one (it writes
	// "disable_master", which 6.1 does not know: EINVAL; 6.12's
	// security_disable knows it but answers EOPNOTSUPP, since Intel DIMMs'
	// __intel_security_ops in drivers/acpi/nfit/intel.c have no
	// disable_master, only CXL's do), and its master erase
	// keeps the user blob, which the erase made stale; ours removes that.
	w.ok("setup-passphrase", "--dimm", name, "--key-handle", kek, "--master")
	mb := w.blob("nvdimm-master")
	w.ndctlFails("remove-passphrase", "-m", name)
	if !bytes.Equal(w.blob("nvdimm-master"), mb) {
		t.Error("ndctl's refused remove-passphrase -m changed the master blob")
	}
	w.wantHolds(true, mb, "the master blob after ndctl's remove-passphrase -m")
	ub := w.blob("nvdimm")
	w.ndctlOK("sanitize-dimm", "-c", "-m", name)
	w.wantState("disabled")
	if !bytes.Equal(w.blob("nvdimm"), ub) || w.holds(false, ub) {
		t.Error("after ndctl's master erase, the user blob is not the stale one")
	}
	w.ok("remove-passphrase", "--dimm", name)
	w.gone("nvdimm", "remove-passphrase of a stale blob")

	// Leave the DIMM without passphrases: nfit_test's erase resets both.
	w.ok("setup-passphrase", "--dimm", name, "--key-handle", kek)
	w.ok("secure-erase", "--dimm", name)
	w.wantState("disabled")
	if err := os.Remove(w.blobPath("nvdimm-master", id)); err != nil {
		t.Fatal(err)
	}
	w.clean()
}

// umask returns the process's umask, from /proc/self/status (Linux 4.7+).
func umask(t *testing.T) fs.FileMode {
	t.Helper()
	v := keytest.ProcStatus(t, "Umask")
	m, err := strconv.ParseUint(v, 8, 32)
	if err != nil {
		t.Fatalf("Umask %q: %v", v, err)
	}
	return fs.FileMode(m)
}
