//go:build linux

package main

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/kernkeys/kernkeys/encrypted"
	"github.com/kernkeys/kernkeys/internal/keytest"
	"github.com/kernkeys/kernkeys/internal/vmtest"
	"github.com/kernkeys/kernkeys/keyring"
	"github.com/kernkeys/kernkeys/trusted"
)

// The tests below run the command against the kernel's NVDIMM emulator,
// nfit_test.0 (tools/testing/nvdimm, which the VM's kernel builds:
// go run ./vm ./examples/nvdimm-keys). Its DIMMs answer the security
// attribute through drivers/nvdimm/security.c and
// drivers/acpi/nfit/intel.c as Intel DIMMs do; the emulator holds the
// passphrases. Each test has a DIMM of its own, so that none meets
// another's passphrases; freeze, which lasts until nfit_test is reloaded,
// reloads nfit_test when it ends.
//
// The security attribute is root's, so these tests run in the initial user
// namespace and keep the keys in the real @u, which they leave as they
// found it. The test's thread joins a session linking @u, as a login
// session does: the kernel reads a passphrase only from a key the writer
// of the attribute possesses, and unlocks a DIMM at probe with a
// request_key from the probing task, here the test writing the driver's
// bind file.

// The tests' DIMMs, in nfit_test's order (test_dimm0 to test_dimm3; on
// 6.1 the fifth, hot-added through _FIT, never appears). Freeze takes the
// first DIMM after TestNfit/user is done with it, and reloads nfit_test.
const (
	dimmUserKek = iota
	dimmTrustedKek
	dimmCrash
	dimmNdctl
	nfitDimmCount
	dimmFreeze = dimmUserKek
)

// spk is the TPM's storage key, which the VM's swtpm_setup --create-spk
// persists: the parent of the trusted kek.
const spk uint32 = 0x81000001

// nfitDimm is one DIMM of nfit_test.0.
type nfitDimm struct {
	name string // nmem3
	id   string // nfit/id: what key descriptions and blob names carry
	dir  string // /sys/bus/nd/devices/nmem3
	test string // nfit_test's side of it, with lock_dimm
}

// nfitDimms returns nfit_test.0's DIMMs after disabling the bus's regions
// (erase and overwrite want the DIMMs idle, ndctl wants it for every
// command), or skips the test where the kernel has no nfit_test.0.
func nfitDimms(t *testing.T) []nfitDimm {
	t.Helper()
	mems := vmtest.NeedNfitTest(t)
	regions, _ := filepath.Glob(filepath.Join(filepath.Dir(mems[0]), "region*"))
	for _, r := range regions {
		if _, err := os.Stat(filepath.Join(r, "driver")); err == nil {
			sysfsWrite(t, filepath.Join(r, "driver", "unbind"), filepath.Base(r))
		}
	}
	byHandle := map[uint64]string{}
	tests, _ := filepath.Glob(filepath.Join(vmtest.NfitTestDevice, "nfit_test_dimm", "test_dimm*"))
	for _, td := range tests {
		byHandle[readHandle(t, filepath.Join(td, "handle"))] = td
	}
	var dimms []nfitDimm
	for _, m := range mems {
		name := filepath.Base(m)
		id, err := os.ReadFile(filepath.Join(m, "nfit", "id"))
		if err != nil {
			t.Fatal(err)
		}
		td := byHandle[readHandle(t, filepath.Join(m, "nfit", "handle"))]
		if td == "" {
			t.Fatalf("%s: no nfit_test_dimm has its handle", name)
		}
		dimms = append(dimms, nfitDimm{name: name, id: strings.TrimSpace(string(id)), dir: "/sys/bus/nd/devices/" + name, test: td})
	}
	sort.Slice(dimms, func(i, j int) bool {
		ni, _ := strconv.Atoi(strings.TrimPrefix(filepath.Base(dimms[i].test), "test_dimm"))
		nj, _ := strconv.Atoi(strings.TrimPrefix(filepath.Base(dimms[j].test), "test_dimm"))
		return ni < nj
	})
	if len(dimms) != nfitDimmCount {
		t.Fatalf("nfit_test.0 has %d DIMMs, want %d", len(dimms), nfitDimmCount)
	}
	return dimms
}

func readHandle(t *testing.T, name string) uint64 {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	h, err := strconv.ParseUint(strings.TrimSpace(string(b)), 0, 32)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return h
}

func sysfsWrite(t *testing.T, name, value string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(value), 0); err != nil {
		t.Fatal(err)
	}
}

// nfitWorld is a test's DIMM, key directory and kek.
type nfitWorld struct {
	*world
	s       keyring.Keyring // the test's session, linking @u
	d       nfitDimm
	kek     encrypted.Master
	payload []byte       // a user kek's payload, to load it again
	sealed  trusted.Blob // a trusted kek's blob, to load it again
	cached  bool         // the security attribute is the kernel's cached state: see lock
}

// newNfit returns the world of the test's DIMM n (clean: no user
// passphrase, not frozen) with a kek of type kind ("user" or "trusted",
// sealed by the TPM) named name in @u, and a key directory keyDir ("": a
// new one). At cleanup it unlinks from @u the kek and every passphrase key
// of the DIMM.
func newNfit(t *testing.T, n int, kind, name, keyDir string) *nfitWorld {
	t.Helper()
	d := nfitDimms(t)[n]
	s := keytest.Session(t)
	if err := s.Link(keyring.User().Key); err != nil {
		t.Fatal(err)
	}
	// Before the session's check of what the test left: @u outlives it.
	t.Cleanup(func() { s.Unlink(keyring.User().Key) })
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	if keyDir == "" {
		keyDir = t.TempDir()
	}
	w := &nfitWorld{world: &world{t: t, bin: keytest.Build(t, "."), keyDir: keyDir, sysfs: "/sys", host: host}, s: s, d: d}
	if st, fr := w.state(), w.read("frozen"); st != "disabled" || fr != "0" {
		t.Fatalf("%s: security %q, frozen %q; want a DIMM without a passphrase: left so by an earlier run? (reload nfit_test)", d.name, st, fr)
	}
	t.Cleanup(w.forget)
	w.kek = encrypted.Master{Name: name}
	switch kind {
	case "user":
		w.kek.Kind = encrypted.UserMaster
		w.payload = make([]byte, 32)
		rand.Read(w.payload)
	case "trusted":
		w.kek.Kind = encrypted.TrustedMaster
		k, err := trusted.New(keyring.User(), name, trusted.Options{KeyLen: 32, KeyHandle: spk})
		if errors.Is(err, keyring.ErrNotSupported) {
			t.Skipf("the kernel has no trusted keys: %v", err)
		}
		if b, berr := trusted.KernelBackend(); berr != nil || b != trusted.TPM2 {
			t.Skipf("needs TPM 2.0 with a storage key at %#x; trusted keys use %v (%v)", spk, b, berr)
		}
		if err != nil {
			t.Fatal(err)
		}
		if w.sealed, err = trusted.ReadBlob(k); err != nil {
			t.Fatal(err)
		}
		return w
	}
	w.loadKek()
	return w
}

// loadKek puts the kek into @u, as an initramfs would.
func (w *nfitWorld) loadKek() {
	w.t.Helper()
	var err error
	if w.kek.Kind == encrypted.TrustedMaster {
		// spk, the parent it was sealed under: a blob made before Linux
		// 5.13 does not name it, and a later one names the same.
		_, err = trusted.Load(keyring.User(), w.kek.Name, w.sealed, trusted.Options{KeyHandle: spk})
	} else {
		_, err = keyring.User().Add("user", w.kek.Name, w.payload)
	}
	if err != nil {
		w.t.Fatal(err)
	}
}

// forget unlinks from @u the kek and the DIMM's passphrase keys: a reboot.
func (w *nfitWorld) forget() {
	w.t.Helper()
	for _, p := range []string{"nvdimm", "nvdimm-old", "nvdimm-master", "nvdimm-master-old"} {
		if err := unlinkKey(p + ":" + w.d.id); err != nil {
			w.t.Error(err)
		}
	}
	if k, err := keyring.User().Search(w.kek.Kind.String(), w.kek.Name); err == nil {
		if err := keyring.User().Unlink(k); err != nil {
			w.t.Error(err)
		}
	}
}

func (w *nfitWorld) read(attr string) string {
	w.t.Helper()
	b, err := os.ReadFile(filepath.Join(w.d.dir, attr))
	if err != nil {
		w.t.Fatalf("%s %s: %v", w.d.name, attr, err)
	}
	return strings.TrimSpace(string(b))
}

// state is what the DIMM's security attribute reads: on 6.1 the
// emulator's state, read afresh each time; on 6.12 the kernel's cached
// state (see lock).
func (w *nfitWorld) state() string { return w.read("security") }

func (w *nfitWorld) wantState(want string) {
	w.t.Helper()
	if got := w.state(); got != want {
		w.t.Errorf("%s: security %q, want %q", w.d.name, got, want)
	}
}

// blob returns the stored blob of prefix ("nvdimm", "nvdimm-master"), or
// nil if there is none.
func (w *nfitWorld) blob(prefix string) []byte {
	w.t.Helper()
	b, err := os.ReadFile(w.blobPath(prefix, w.d.id))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		w.t.Fatal(err)
	}
	return b
}

func (w *nfitWorld) setBlob(prefix string, text []byte) {
	w.t.Helper()
	if err := os.WriteFile(w.blobPath(prefix, w.d.id), text, 0o600); err != nil {
		w.t.Fatal(err)
	}
}

// holds reports whether the DIMM's user (master) passphrase is the one
// sealed in the blob text: "update <k> <k>" ("master_update") changes
// nothing and succeeds only then; the DIMM answers EINVAL otherwise.
func (w *nfitWorld) holds(master bool, text []byte) bool {
	w.t.Helper()
	b, err := encrypted.ParseBlob(text)
	if err != nil {
		w.t.Fatal(err)
	}
	k, err := encrypted.Load(w.s, "kktest-nvdimm-probe", b)
	if err != nil {
		w.t.Fatal(err)
	}
	defer w.s.Unlink(k)
	cmd := "update"
	if master {
		cmd = "master_update"
	}
	err = os.WriteFile(filepath.Join(w.d.dir, "security"), fmt.Appendf(nil, "%s %d %d", cmd, k.ID(), k.ID()), 0)
	if err != nil && !errors.Is(err, syscall.EINVAL) {
		w.t.Fatalf("%s %s <k> <k>: %v", w.d.name, cmd, err)
	}
	return err == nil
}

func (w *nfitWorld) wantHolds(master bool, text []byte, what string) {
	w.t.Helper()
	if text == nil || !w.holds(master, text) {
		w.t.Errorf("%s: the DIMM does not have the passphrase of %s", w.d.name, what)
	}
}

// lock makes the emulator lock the DIMM, as a power cycle would, behind
// the kernel's back, and learns whether the kernel sees that at once.
//
// On 6.1 it does: the nfit_test build of libnvdimm overrides the __weak
// security_show of drivers/nvdimm/dimm_devs.c with one
// (tools/testing/nvdimm/dimm_devs.c) that asks the DIMM each time. 6.12
// drops that override: security_show reads nvdimm->sec.flags, which the
// kernel refreshes from the DIMM (nvdimm_security_flags) only when it
// creates the nvdimm (__nvdimm_create, at boot), after each command
// written to the attribute, when an overwrite ends, and at probe
// (__nvdimm_security_unlock) after an unlock or, for a DIMM it believes
// unlocked, after nvdimm_key_revalidate sends "update <k> <k>" with the
// key request_key finds; asking each time is left to
// CONFIG_NVDIMM_SECURITY_TEST, which Debian's kernel does not set. So on
// 6.12 the attribute still reads "unlocked" here: a real DIMM is locked
// only by a power cycle, after which __nvdimm_create reads it afresh, but
// unbind and bind do not create the nvdimm again. The probes after lock
// (lockedAtProbe, unlockAtProbe) differ accordingly.
func (w *nfitWorld) lock() {
	w.t.Helper()
	sysfsWrite(w.t, filepath.Join(w.d.test, "lock_dimm"), "1")
	switch st := w.state(); st {
	case "locked":
		w.cached = false
	case "unlocked":
		w.cached = true
	default:
		w.t.Errorf("%s: security %q after lock_dimm, want \"locked\" (asked afresh) or \"unlocked\" (cached)", w.d.name, st)
	}
}

// unlockAtProbe re-probes the DIMM that lock locked while its key is in
// @u: the probe unlocks it. Where the attribute is cached, the kernel
// still believes the DIMM unlocked at the first probe, so that probe only
// revalidates the key (nvdimm_key_revalidate, which the DIMM accepts only
// if the key holds its passphrase) and so learns that the DIMM is locked;
// the next probe unlocks it.
func (w *nfitWorld) unlockAtProbe() {
	w.t.Helper()
	if w.cached {
		w.reprobe()
		w.wantState("locked")
	}
	w.reprobe()
	w.wantState("unlocked")
}

// lockedAtProbe re-probes the DIMM that lock locked while @u lacks its key:
// the DIMM stays locked. Where the attribute is cached, the probe's
// revalidation sends the all-zero passphrase, which the DIMM refuses
// (EINVAL), and the kernel keeps believing it unlocked: the attribute
// still reads "unlocked" (the unlockAtProbe that follows shows the DIMM
// locked all along).
func (w *nfitWorld) lockedAtProbe() {
	w.t.Helper()
	w.reprobe()
	if w.cached {
		w.wantState("unlocked")
	} else {
		w.wantState("locked")
	}
}

// reprobe unbinds the DIMM's driver if it is bound and binds it again; the
// probe unlocks a locked DIMM with the key that the kernel's request_key
// finds from this thread. A probe that cannot unlock may fail, which bind
// reports: the test looks at the state instead. A request_key that finds
// nothing leaves a negative key in the session, which would hide the key
// that a later load-keys puts in @u: the session is emptied but for @u.
func (w *nfitWorld) reprobe() {
	w.t.Helper()
	const drv = "/sys/bus/nd/drivers/nvdimm/"
	if _, err := os.Stat(filepath.Join(w.d.dir, "driver")); err == nil {
		sysfsWrite(w.t, drv+"unbind", w.d.name)
	}
	if err := os.WriteFile(drv+"bind", []byte(w.d.name), 0); err != nil {
		w.t.Logf("binding %s: %v", w.d.name, err)
	}
	if err := w.s.Clear(); err != nil {
		w.t.Fatal(err)
	}
	if err := w.s.Link(keyring.User().Key); err != nil {
		w.t.Fatal(err)
	}
}

// keyIn reports whether @u links the passphrase key desc.
func keyIn(t *testing.T, desc string) bool {
	t.Helper()
	return key(t, desc) != (keyring.Key{})
}

// gone fails the test if the DIMM's blob of prefix or its key remain.
func (w *nfitWorld) gone(prefix, after string) {
	w.t.Helper()
	if w.blob(prefix) != nil || keyIn(w.t, prefix+":"+w.d.id) {
		w.t.Errorf("%s left the %s blob or key", after, prefix)
	}
}

// The whole workflow on the emulated DIMM, with a user kek and with a
// trusted one sealed by the TPM.
func TestNfit(t *testing.T) {
	for _, c := range []struct {
		kind string
		dimm int
	}{{"user", dimmUserKek}, {"trusted", dimmTrustedKek}} {
		t.Run(c.kind, func(t *testing.T) {
			w := newNfit(t, c.dimm, c.kind, "kktest-nvdimm-kek", "")
			name, kek := w.d.name, w.kek.String()

			w.ok("setup-passphrase", "--dimm", name, "--key-handle", kek)
			w.wantState("unlocked")
			b0 := w.blob("nvdimm")
			w.wantHolds(false, b0, "the set-up blob")

			w.ok("update-passphrase", "--dimm", name)
			b1 := w.blob("nvdimm")
			w.wantState("unlocked")
			w.wantHolds(false, b1, "the updated blob")
			if w.holds(false, b0) {
				t.Error("the DIMM still takes the passphrase from before the update")
			}

			// A stale blob (a backup from before the update): the kernel
			// refuses the old passphrase and the command undoes its work.
			w.setBlob("nvdimm", b0)
			w.fails("invalid argument (the DIMM refused the passphrase)", "update-passphrase", "--dimm", name)
			if !bytes.Equal(w.blob("nvdimm"), b0) || keyIn(t, "nvdimm-old:"+w.d.id) {
				t.Error("a refused update did not put the blob back as it was")
			}
			w.wantHolds(false, b1, "the blob before the refused update")
			w.clean()
			w.setBlob("nvdimm", b1)

			w.ok("remove-passphrase", "--dimm", name)
			w.wantState("disabled")
			w.gone("nvdimm", "remove-passphrase")

			// A locked DIMM is unlocked at probe by the kernel, with the
			// key that setup left in @u.
			w.ok("setup-passphrase", "--dimm", name, "--key-handle", kek)
			w.lock()
			w.unlockAtProbe()

			// A reboot: nothing in @u, and the DIMM stays locked at probe
			// until the kek and then load-keys bring the key back.
			w.forget()
			w.lock()
			w.lockedAtProbe()
			w.fails("is not in the user keyring", "load-keys")
			w.loadKek()
			if out := w.ok("load-keys"); !strings.Contains(out, "loaded nvdimm:"+w.d.id) {
				t.Errorf("load-keys:\n%s", out)
			}
			w.unlockAtProbe()

			w.ok("setup-passphrase", "--dimm", name, "--key-handle", kek, "--master")
			m0 := w.blob("nvdimm-master")
			w.wantHolds(true, m0, "the master blob")
			w.ok("update-passphrase", "--dimm", name, "--master")
			m1 := w.blob("nvdimm-master")
			w.wantHolds(true, m1, "the updated master blob")
			if w.holds(true, m0) {
				t.Error("the DIMM still takes the master passphrase from before the update")
			}

			// A master erase disables the user passphrase and keeps the
			// master one.
			w.ok("secure-erase", "--dimm", name, "--master")
			w.wantState("disabled")
			w.gone("nvdimm", "secure-erase --master")
			w.wantHolds(true, m1, "the master blob after a master erase")

			w.ok("setup-passphrase", "--dimm", name, "--key-handle", kek)
			w.ok("secure-erase", "--dimm", name)
			w.wantState("disabled")
			w.gone("nvdimm", "secure-erase")
			// nfit_test's erase resets the master passphrase too (Intel's
			// DIMMs keep it), so the master blob no longer opens it; the
			// command keeps it, as it would for a real DIMM.
			if w.blob("nvdimm-master") == nil || w.holds(true, m1) {
				t.Error("after an erase, the master blob is gone or still opens nfit_test's DIMM")
			}
			if err := os.Remove(w.blobPath("nvdimm-master", w.d.id)); err != nil {
				t.Fatal(err)
			}

			// An overwrite keeps the passphrase. While it runs,
			// intel_security_flags (drivers/acpi/nfit/intel.c) answers
			// only NVDIMM_SECURITY_OVERWRITE, which security_show of
			// drivers/nvdimm/dimm_devs.c reads as "overwrite" (6.12, and
			// 6.1 without nfit_test); 6.1's nfit_test override
			// (tools/testing/nvdimm/dimm_devs.c, which asks the DIMM each
			// time: see lock) has no such case and fails with ENOTTY.
			w.ok("setup-passphrase", "--dimm", name, "--key-handle", kek)
			b2 := w.blob("nvdimm")
			w.ok("secure-erase", "--dimm", name, "--overwrite")
			st, err := os.ReadFile(filepath.Join(w.d.dir, "security"))
			switch {
			case err == nil && string(st) == "overwrite\n":
			case errors.Is(err, syscall.ENOTTY) && !w.cached:
			default:
				t.Errorf("security during an overwrite: %q, %v; want \"overwrite\" (or ENOTTY where lock found the state asked afresh)", st, err)
			}
			if out := w.ok("wait-overwrite", "--dimm", name); !strings.Contains(out, "security: unlocked") {
				t.Errorf("wait-overwrite:\n%s", out)
			}
			w.wantHolds(false, b2, "the blob after the overwrite")
			w.ok("remove-passphrase", "--dimm", name)
			w.wantState("disabled")
			w.clean()
		})
	}
}

// crashed runs the command with a crash after step, wants it killed, and
// checks that no passphrase is lost: the one the DIMM has is in a stored
// blob (or, for a setup the DIMM never saw, it has none).
func (w *nfitWorld) crashed(step string, master bool, args ...string) {
	w.t.Helper()
	out, err := w.run([]string{"KERNKEYS_NVDIMM_CRASH_AT=" + step}, args...)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		w.t.Fatalf("crash at %s: %v, want SIGKILL\n%s", step, err, out)
	}
	if strings.HasPrefix(step, "setup:") && w.state() == "disabled" {
		return
	}
	prefix := "nvdimm"
	if master {
		prefix = "nvdimm-master"
	}
	for _, p := range []string{prefix, prefix + "-old"} {
		if b := w.blob(p); b != nil && w.holds(master, b) {
			return
		}
	}
	w.t.Fatalf("crash at %s: the DIMM's %s passphrase is in no blob", step, prefix)
}

// Update killed after each step, then run again: the user passphrase
// directly, the master one after a reboot and load-keys, to the other
// kek; the DIMM's state machine answers the repeated "update <old> <new>"
// and the "update <new> <new>" that proves a finished one. Setup is killed
// after each of its steps too.
func TestNfitCrash(t *testing.T) {
	w := newNfit(t, dimmCrash, "user", "kktest-nvdimm-kek", "")
	kek2 := encrypted.Master{Kind: encrypted.UserMaster, Name: "kktest-nvdimm-kek2"}
	k2, err := keyring.User().Add("user", kek2.Name, w.payload[:16])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { keyring.User().Unlink(k2) })
	name, id := w.d.name, w.d.id
	master := w.kek
	for n := 1; n <= 8; n++ {
		step := strconv.Itoa(n)

		if w.blob("nvdimm") == nil {
			w.ok("setup-passphrase", "--dimm", name, "--key-handle", w.kek.String())
		}
		before := w.blob("nvdimm")
		w.crashed(step, false, "update-passphrase", "--dimm", name)
		if n < 8 {
			w.fails("unfinished user passphrase update", "remove-passphrase", "--dimm", name)
		}
		out := w.ok("update-passphrase", "--dimm", name)
		if want := recovery(n); !strings.Contains(out, want) {
			t.Errorf("after a crash at step %d, update said\n%s\nwant %q", n, out, want)
		}
		after := w.blob("nvdimm")
		if bytes.Equal(after, before) {
			t.Errorf("step %d: the passphrase did not change", n)
		}
		w.wantHolds(false, after, "step "+step+": the blob after recovery")
		if keyIn(t, "nvdimm-old:"+id) {
			t.Errorf("step %d: nvdimm-old:%s left in @u", n, id)
		}
		w.clean()

		if w.blob("nvdimm-master") == nil {
			w.ok("setup-passphrase", "--dimm", name, "--key-handle", master.String(), "--master")
		}
		to := kek2
		if master == kek2 {
			to = w.kek
		}
		mbefore := w.blob("nvdimm-master")
		w.crashed(step, true, "update-passphrase", "--dimm", name, "--master", "--key-handle", to.String())
		for _, p := range []string{"nvdimm", "nvdimm-old", "nvdimm-master", "nvdimm-master-old"} {
			if err := unlinkKey(p + ":" + id); err != nil {
				t.Fatal(err)
			}
		}
		w.ok("load-keys")
		out = w.ok("update-passphrase", "--dimm", name, "--master", "--key-handle", to.String())
		if want := recovery(n); !strings.Contains(out, want) {
			t.Errorf("after a crash at step %d and a reboot, update --master said\n%s\nwant %q", n, out, want)
		}
		mafter := w.blob("nvdimm-master")
		if bytes.Equal(mafter, mbefore) || w.master("nvdimm-master", id) != to.String() {
			t.Errorf("step %d: the master passphrase did not change to one under %v", n, to)
		}
		w.wantHolds(true, mafter, "step "+step+": the master blob after recovery")
		master = to
		w.clean()

		if n <= 4 {
			w.ok("remove-passphrase", "--dimm", name)
			w.crashed("setup:"+step, false, "setup-passphrase", "--dimm", name, "--key-handle", w.kek.String())
			w.ok("setup-passphrase", "--dimm", name, "--key-handle", w.kek.String())
			w.wantHolds(false, w.blob("nvdimm"), "step "+step+": the blob after setup")
			w.clean()
		}
	}
	// Leave the DIMM without passphrases: nfit_test's erase resets both.
	w.ok("secure-erase", "--dimm", name)
	w.wantState("disabled")
	if err := os.Remove(w.blobPath("nvdimm-master", id)); err != nil {
		t.Fatal(err)
	}
}

// Freeze, last, on the first DIMM: the DIMM refuses every command until
// nfit_test is reloaded, which the test does when it ends, and the command
// keeps the blob.
func TestNfitFreeze(t *testing.T) {
	w := newNfit(t, dimmFreeze, "user", "kktest-nvdimm-kek", "")
	t.Cleanup(func() { vmtest.ReloadNfitTest(t) })
	name := w.d.name
	w.ok("setup-passphrase", "--dimm", name, "--key-handle", w.kek.String())
	b := w.blob("nvdimm")
	w.ok("freeze", "--dimm", name)
	if got := w.read("frozen"); got != "1" {
		t.Errorf("frozen: %q, want 1", got)
	}
	w.fails("input/output error (the DIMM's security is frozen", "update-passphrase", "--dimm", name)
	w.fails("input/output error (the DIMM's security is frozen", "remove-passphrase", "--dimm", name)
	if !bytes.Equal(w.blob("nvdimm"), b) {
		t.Error("a refused command changed the blob")
	}
	w.wantState("unlocked")
	w.clean()
}
