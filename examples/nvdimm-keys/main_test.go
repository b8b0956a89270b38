//go:build linux

package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/kernkeys/kernkeys/encrypted"
	"github.com/kernkeys/kernkeys/internal/keytest"
	"github.com/kernkeys/kernkeys/keyring"
	"github.com/kernkeys/kernkeys/trusted"
)

// The tests run the built command in a child of the test binary inside a
// new user namespace (keytest.RunChild with UserNS), whose user keyring
// (@u) is private to it and dies with it: the command keeps the kek and the
// passphrase keys in @u, as ndctl does, and a second child is a machine
// after a reboot. The sysfs root is a directory of plain files; the
// "security" attribute keeps the last command written to it.

// Environment from the parent test to its children.
const (
	envBin  = "NVDIMM_TEST_BIN"
	envDir  = "NVDIMM_TEST_DIR"
	envKeks = "NVDIMM_TEST_KEKS"
	envBoot = "NVDIMM_TEST_BOOT"
)

// uniqueID is the nfit/id of nmem1.
const uniqueID = "8089-a2-1837-00000bb3"

// parent builds the command, makes a directory that the child's uid may
// write (for state shared by several children), and returns the
// environment for the children. In a child it returns nil.
func parent(t *testing.T) []string {
	t.Helper()
	if os.Getenv(envBin) != "" {
		return nil
	}
	bin := keytest.Build(t, ".")
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} { // the child runs as another uid
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	keks := make([]byte, 64)
	rand.Read(keks)
	return []string{envBin + "=" + bin, envDir + "=" + dir, envKeks + "=" + hex.EncodeToString(keks)}
}

// inChild runs child in a new user namespace as the test t.
func inChild(t *testing.T, env []string, child func(t *testing.T)) {
	t.Helper()
	if keytest.IsChild(t) {
		child(t)
		return
	}
	keytest.Session(t)
	keytest.RunChild(t, keytest.ChildOptions{UserNS: true, Env: env})
}

// world is a child's machine: the command, a key directory, a fake sysfs
// with DIMMs nmem0, nmem1 (with a unique id) and nmem2, and the keks.
type world struct {
	t      *testing.T
	bin    string
	keyDir string
	sysfs  string
	host   string
	keks   map[string][]byte // kek name to payload
}

// enter sets the child's thread up as a login session would (a session
// keyring linking @u, so the kernel finds the kek when the test reads a
// blob) and returns its world in dir (a new one if dir is "").
func enter(t *testing.T, dir string) *world {
	t.Helper()
	runtime.LockOSThread() // never unlocked: the thread dies with the test
	s, err := keyring.JoinAnonymousSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Link(keyring.User().Key); err != nil {
		t.Fatal(err)
	}
	if dir == "" {
		dir = t.TempDir()
	}
	keks, err := hex.DecodeString(os.Getenv(envKeks))
	if err != nil || len(keks) != 64 {
		t.Fatalf("bad %s", envKeks)
	}
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, bin: os.Getenv(envBin), keyDir: filepath.Join(dir, "keys"), sysfs: filepath.Join(dir, "sys"), host: host,
		keks: map[string][]byte{"nvdimm-kek": keks[:32], "nvdimm-kek2": keks[32:]}}
	for _, d := range []string{"nmem0", "nmem1", "nmem2"} {
		p := filepath.Join(w.sysfs, "bus", "nd", "devices", d)
		if err := os.MkdirAll(filepath.Join(p, "nfit"), 0o755); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(p, "security")); err == nil {
			continue
		}
		if err := os.WriteFile(filepath.Join(p, "security"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if d == "nmem1" {
			if err := os.WriteFile(filepath.Join(p, "nfit", "id"), []byte(uniqueID+"\n"), 0o444); err != nil {
				t.Fatal(err)
			}
		}
	}
	return w
}

// addKeks loads the keks into @u, as the initramfs would.
func (w *world) addKeks() {
	w.t.Helper()
	for name, payload := range w.keks {
		if _, err := keyring.User().Add("user", name, payload); err != nil {
			w.t.Fatal(err)
		}
	}
}

// run runs the command: args[0], the key directory and sysfs flags, the
// rest of args; env adds to its environment.
func (w *world) run(env []string, args ...string) (string, error) {
	w.t.Helper()
	full := append([]string{args[0], "--key-dir", w.keyDir, "--sysfs-root", w.sysfs}, args[1:]...)
	cmd := exec.Command(w.bin, full...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// ok runs the command and fails the test if it fails.
func (w *world) ok(args ...string) string {
	w.t.Helper()
	out, err := w.run(nil, args...)
	if err != nil {
		w.t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// fails runs the command, wants exit status 1 and a message containing want.
func (w *world) fails(want string, args ...string) {
	w.t.Helper()
	out, err := w.run(nil, args...)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(out, want) {
		w.t.Errorf("%s: %v, want exit 1 and %q in\n%s", strings.Join(args, " "), err, want, out)
	}
}

func (w *world) security(dimm string) string {
	w.t.Helper()
	b, err := os.ReadFile(filepath.Join(w.sysfs, "bus", "nd", "devices", dimm, "security"))
	if err != nil {
		w.t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func (w *world) blobPath(prefix, id string) string {
	return filepath.Join(w.keyDir, prefix+"_"+id+"_"+w.host+".blob")
}

// key returns the key described desc in @u, or the zero Key.
func key(t *testing.T, desc string) keyring.Key {
	t.Helper()
	k, err := keyring.User().Search("encrypted", desc)
	if errors.Is(err, keyring.ErrNotFound) {
		return keyring.Key{}
	}
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// stored checks that the blob of prefix:id is in the key directory with
// mode 0600 and that @u holds the key with that same blob; it returns the
// key and the passphrase.
func (w *world) stored(prefix, id string) (keyring.Key, []byte) {
	w.t.Helper()
	name := w.blobPath(prefix, id)
	fi, err := os.Stat(name)
	if err != nil {
		w.t.Fatalf("%s: %v", prefix, err)
	}
	if fi.Mode().Perm() != 0o600 {
		w.t.Errorf("%s: mode %v, want 0600", name, fi.Mode())
	}
	text, _ := os.ReadFile(name)
	k := key(w.t, prefix+":"+id)
	if k == (keyring.Key{}) {
		w.t.Fatalf("%s:%s is not in @u", prefix, id)
	}
	b, err := encrypted.ReadBlob(k)
	if err != nil {
		w.t.Fatal(err)
	}
	kt, _ := b.MarshalText()
	if !bytes.Equal(kt, text) {
		w.t.Errorf("the key %s:%s does not hold the blob in %s", prefix, id, name)
	}
	return k, w.open(text)
}

// open returns a blob's passphrase, decrypted with the test's copy of its kek.
func (w *world) open(text []byte) []byte {
	w.t.Helper()
	b, err := encrypted.ParseBlob(text)
	if err != nil {
		w.t.Fatal(err)
	}
	if b.Format != encrypted.Enc32 {
		w.t.Errorf("blob format %v, want enc32", b.Format)
	}
	p, err := encrypted.Open(b, w.keks[b.Master.Name])
	if err != nil {
		w.t.Fatal(err)
	}
	return p
}

func (w *world) master(prefix, id string) string {
	w.t.Helper()
	b, _ := os.ReadFile(w.blobPath(prefix, id))
	p, err := encrypted.ParseBlob(b)
	if err != nil {
		w.t.Fatal(err)
	}
	return p.Master.String()
}

// clean checks that the key directory holds only blobs, mode 0600, and no
// "-old" blob, temporary file or setup marker.
func (w *world) clean() {
	w.t.Helper()
	entries, err := os.ReadDir(w.keyDir)
	if err != nil {
		w.t.Fatal(err)
	}
	for _, e := range entries {
		fi, _ := e.Info()
		switch {
		case strings.HasPrefix(e.Name(), ".") || !strings.HasSuffix(e.Name(), ".blob") || strings.Contains(e.Name(), "-old_"):
			w.t.Errorf("left in the key directory: %s", e.Name())
		case fi.Mode().Perm() != 0o600:
			w.t.Errorf("%s: mode %v, want 0600", e.Name(), fi.Mode())
		}
	}
}

// fields parses the security attribute's last command.
func (w *world) fields(dimm string) []string { return strings.Fields(w.security(dimm)) }

func serial(t *testing.T, s string) keyring.ID {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		t.Fatalf("bad serial %q", s)
	}
	return keyring.ID(n)
}

// updated checks that the device was last told to change the passphrase
// to the key to, from a key other than to (the previous passphrase, which
// the command reloads from its blob as nvdimm-old:<id>, so its serial is
// not from's) and that from is gone.
func (w *world) updated(dimm, cmd string, from, to keyring.Key) {
	w.t.Helper()
	f := w.fields(dimm)
	if len(f) != 3 || f[0] != cmd || serial(w.t, f[2]) != to.ID() || f[1] == f[2] || f[1] == "0" {
		w.t.Errorf("security %q, want %s <old> %v", w.security(dimm), cmd, to)
	}
	links, err := keyring.User().Links()
	if err != nil {
		w.t.Fatal(err)
	}
	if slices.Contains(links, from) {
		w.t.Errorf("the old key %v is still in @u", from)
	}
}

func TestCommands(t *testing.T) {
	inChild(t, parent(t), func(t *testing.T) {
		w := enter(t, "")
		if out := w.ok("--help"); !strings.Contains(out, "update-passphrase") {
			t.Errorf("--help:\n%s", out)
		}
		var exit *exec.ExitError
		if _, err := w.run(nil, "frobnicate"); !errors.As(err, &exit) || exit.ExitCode() != 2 {
			t.Errorf("unknown command: %v, want exit 2", err)
		}
		if _, err := w.run(nil, "setup-passphrase", "--dimm", "nmem0"); !errors.As(err, &exit) || exit.ExitCode() != 2 {
			t.Errorf("setup without --key-handle: %v, want exit 2", err)
		}

		// No kek loaded yet: a clear error, and nothing changes.
		w.fails("kek user:nvdimm-kek is not in the user keyring", "setup-passphrase", "--dimm", "nmem0", "--key-handle", "user:nvdimm-kek")
		w.fails("kek trusted:tpm-kek is not in the user keyring", "setup-passphrase", "--dimm", "nmem0", "--key-handle", "trusted:tpm-kek")
		if s := w.security("nmem0"); s != "" {
			t.Errorf("a failed setup wrote %q", s)
		}
		w.clean()
		if entries, _ := os.ReadDir(w.keyDir); len(entries) != 0 {
			t.Errorf("a failed setup left %v", entries)
		}
		w.addKeks()

		// setup, user and master.
		w.ok("setup-passphrase", "--dimm", "nmem0", "--key-handle", "user:nvdimm-kek")
		k, p0 := w.stored("nvdimm", "nmem0")
		if got, want := w.security("nmem0"), fmt.Sprintf("update 0 %d", k.ID()); got != want {
			t.Errorf("security: %q, want %q", got, want)
		}
		if len(p0) != 32 {
			t.Errorf("passphrase of %d bytes", len(p0))
		}
		w.fails("already has a user passphrase", "setup-passphrase", "--dimm", "nmem0", "--key-handle", "user:nvdimm-kek")
		w.ok("setup-passphrase", "--dimm", "nmem0", "--key-handle", "user:nvdimm-kek", "--master")
		mk, m0 := w.stored("nvdimm-master", "nmem0")
		if got, want := w.security("nmem0"), fmt.Sprintf("master_update 0 %d", mk.ID()); got != want {
			t.Errorf("security: %q, want %q", got, want)
		}
		w.clean()

		// update with the same kek, then with a new one.
		w.ok("update-passphrase", "--dimm", "nmem0")
		k1, p1 := w.stored("nvdimm", "nmem0")
		w.updated("nmem0", "update", k, k1)
		if bytes.Equal(p1, p0) || w.master("nvdimm", "nmem0") != "user:nvdimm-kek" {
			t.Error("update did not make a new passphrase under the same kek")
		}
		if key(t, "nvdimm-old:nmem0") != (keyring.Key{}) {
			t.Error("nvdimm-old:nmem0 left in @u")
		}
		w.ok("update-passphrase", "--dimm", "nmem0", "--key-handle", "user:nvdimm-kek2")
		k2, p2 := w.stored("nvdimm", "nmem0")
		w.updated("nmem0", "update", k1, k2)
		if bytes.Equal(p2, p1) || w.master("nvdimm", "nmem0") != "user:nvdimm-kek2" {
			t.Error("update did not make a new passphrase under the new kek")
		}
		before, _ := os.ReadFile(w.blobPath("nvdimm", "nmem0"))
		w.fails("kek user:nope is not in the user keyring", "update-passphrase", "--dimm", "nmem0", "--key-handle", "user:nope")
		if after, _ := os.ReadFile(w.blobPath("nvdimm", "nmem0")); !bytes.Equal(before, after) {
			t.Error("a failed update changed the blob")
		}
		w.clean()
		w.ok("update-passphrase", "--dimm", "nmem0", "--master")
		mk1, m1 := w.stored("nvdimm-master", "nmem0")
		w.updated("nmem0", "master_update", mk, mk1)
		if bytes.Equal(m0, m1) {
			t.Error("update --master did not make a new passphrase")
		}
		k2, _ = w.stored("nvdimm", "nmem0")

		// The device commands.
		w.ok("secure-erase", "--dimm", "nmem0", "--overwrite")
		if got, want := w.security("nmem0"), fmt.Sprintf("overwrite %d", k2.ID()); got != want {
			t.Errorf("security: %q, want %q", got, want)
		}
		w.ok("freeze", "--dimm", "nmem0")
		if got := w.security("nmem0"); got != "freeze" {
			t.Errorf("security: %q, want freeze", got)
		}
		w.fails("no command to remove a master passphrase of an NFIT DIMM", "remove-passphrase", "--dimm", "nmem0", "--master")
		w.ok("remove-passphrase", "--dimm", "nmem0")
		if got, want := w.security("nmem0"), fmt.Sprintf("disable %d", k2.ID()); got != want {
			t.Errorf("security: %q, want %q", got, want)
		}
		if _, err := os.Stat(w.blobPath("nvdimm", "nmem0")); !os.IsNotExist(err) || key(t, "nvdimm:nmem0") != (keyring.Key{}) {
			t.Errorf("remove-passphrase left the blob (%v) or the key", err)
		}
		w.fails("has no user passphrase", "remove-passphrase", "--dimm", "nmem0")
		w.fails("has no user passphrase", "update-passphrase", "--dimm", "nmem0")
		w.ok("secure-erase", "--dimm", "nmem0", "--overwrite")
		if got := w.security("nmem0"); got != "overwrite 0" {
			t.Errorf("security: %q, want overwrite 0", got)
		}

		// A master erase keeps the master passphrase and discards the
		// user one, which the DIMM disables.
		w.ok("setup-passphrase", "--dimm", "nmem0", "--key-handle", "user:nvdimm-kek")
		w.ok("secure-erase", "--dimm", "nmem0", "--master")
		if got, want := w.security("nmem0"), fmt.Sprintf("master_erase %d", mk1.ID()); got != want {
			t.Errorf("security: %q, want %q", got, want)
		}
		w.stored("nvdimm-master", "nmem0")
		if _, err := os.Stat(w.blobPath("nvdimm", "nmem0")); !os.IsNotExist(err) || key(t, "nvdimm:nmem0") != (keyring.Key{}) {
			t.Errorf("a master erase left the user passphrase's blob (%v) or key", err)
		}

		// A unique id from nfit/id names the keys and blobs; erase
		// discards the user passphrase.
		w.ok("setup-passphrase", "--dimm", "nmem1", "--key-handle", "user:nvdimm-kek")
		k3, _ := w.stored("nvdimm", uniqueID)
		w.ok("secure-erase", "--dimm", "nmem1")
		if got, want := w.security("nmem1"), fmt.Sprintf("erase %d", k3.ID()); got != want {
			t.Errorf("security: %q, want %q", got, want)
		}
		if _, err := os.Stat(w.blobPath("nvdimm", uniqueID)); !os.IsNotExist(err) || key(t, "nvdimm:"+uniqueID) != (keyring.Key{}) {
			t.Errorf("secure-erase left the blob (%v) or the key", err)
		}
		w.fails("DIMM nmem9", "freeze", "--dimm", "nmem9")
		w.clean()

		// A device that refuses the command (here: a security attribute
		// the command may not open): setup and update are undone.
		w.ok("setup-passphrase", "--dimm", "nmem2", "--key-handle", "user:nvdimm-kek")
		_, p := w.stored("nvdimm", "nmem2")
		before, _ = os.ReadFile(w.blobPath("nvdimm", "nmem2"))
		for _, d := range []string{"nmem1", "nmem2"} {
			if err := os.Chmod(filepath.Join(w.sysfs, "bus", "nd", "devices", d, "security"), 0o444); err != nil {
				t.Fatal(err)
			}
		}
		w.fails("security", "update-passphrase", "--dimm", "nmem2", "--key-handle", "user:nvdimm-kek2")
		if after, _ := os.ReadFile(w.blobPath("nvdimm", "nmem2")); !bytes.Equal(before, after) {
			t.Error("a refused update changed the blob")
		}
		if _, p2 := w.stored("nvdimm", "nmem2"); !bytes.Equal(p, p2) {
			t.Error("a refused update changed the passphrase")
		}
		if key(t, "nvdimm-old:nmem2") != (keyring.Key{}) {
			t.Error("a refused update left nvdimm-old:nmem2 in @u")
		}
		w.fails("security", "setup-passphrase", "--dimm", "nmem1", "--key-handle", "user:nvdimm-kek")
		if _, err := os.Stat(w.blobPath("nvdimm", uniqueID)); !os.IsNotExist(err) || key(t, "nvdimm:"+uniqueID) != (keyring.Key{}) {
			t.Errorf("a refused setup left the blob (%v) or the key", err)
		}
		w.clean()
	})
}

// A reboot: a fresh user namespace has an empty @u; load-keys brings back
// every passphrase from the blobs once the keks are loaded.
func TestReboot(t *testing.T) {
	env := parent(t)
	blobs := []string{"nvdimm_nmem0", "nvdimm-master_nmem0", "nvdimm_" + uniqueID}
	for _, boot := range []string{"1", "2"} {
		t.Run("boot"+boot, func(t *testing.T) {
			inChild(t, append(env, envBoot+"="+boot), func(t *testing.T) {
				w := enter(t, os.Getenv(envDir))
				if os.Getenv(envBoot) == "1" {
					w.addKeks()
					w.ok("setup-passphrase", "--dimm", "nmem0", "--key-handle", "user:nvdimm-kek")
					w.ok("setup-passphrase", "--dimm", "nmem0", "--key-handle", "user:nvdimm-kek", "--master")
					w.ok("setup-passphrase", "--dimm", "nmem1", "--key-handle", "user:nvdimm-kek")
					w.ok("update-passphrase", "--dimm", "nmem0", "--key-handle", "user:nvdimm-kek2")
					return
				}
				if l, _ := keyring.User().Links(); len(l) != 0 {
					t.Fatalf("@u after the reboot: %v", l)
				}
				w.fails("is not in the user keyring", "load-keys")
				w.addKeks()
				out := w.ok("load-keys")
				for _, b := range blobs {
					prefix, id, _ := strings.Cut(b, "_")
					w.stored(prefix, id)
					if !strings.Contains(out, "loaded "+prefix+":"+id) {
						t.Errorf("load-keys did not report %s:%s:\n%s", prefix, id, out)
					}
				}
				if l, _ := keyring.User().Links(); len(l) != len(blobs)+2 {
					t.Errorf("@u links %d keys, want %d", len(l), len(blobs)+2)
				}
				if out := w.ok("load-keys"); strings.Count(out, "already loaded") != len(blobs) {
					t.Errorf("second load-keys:\n%s", out)
				}
				w.ok("update-passphrase", "--dimm", "nmem0")
				w.stored("nvdimm", "nmem0")
				w.clean()
			})
		})
	}
}

// crashed runs the command with a crash after step, wants it killed, and
// checks that no passphrase is lost: the one the device has (the original,
// or the new one if the device was told) is in a stored blob, mode 0600.
func (w *world) crashed(step string, dimm, id, prefix string, orig []byte, sec0 string, args ...string) {
	w.t.Helper()
	out, err := w.run([]string{"KERNKEYS_NVDIMM_CRASH_AT=" + step}, args...)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		w.t.Fatalf("crash at %s: %v, want SIGKILL\n%s", step, err, out)
	}
	dev := orig
	if f := w.fields(dimm); w.security(dimm) != sec0 {
		k := serial(w.t, f[len(f)-1]).Key()
		b, err := encrypted.ReadBlob(k)
		if err != nil {
			w.t.Fatalf("the device's new key %v: %v", k, err)
		}
		text, _ := b.MarshalText()
		dev = w.open(text)
	}
	found := dev == nil // a setup the device never saw
	for _, p := range []string{prefix, prefix + "-old"} {
		text, err := os.ReadFile(w.blobPath(p, id))
		if os.IsNotExist(err) {
			continue
		}
		if fi, _ := os.Stat(w.blobPath(p, id)); fi.Mode().Perm() != 0o600 {
			w.t.Errorf("%s: mode %v", p, fi.Mode())
		}
		if bytes.Equal(w.open(text), dev) {
			found = true
		}
	}
	if !found {
		w.t.Fatalf("crash at %s: the device's passphrase is in no blob", step)
	}
}

// recovery is what update says when run again after a crash at step n.
func recovery(n int) string {
	switch {
	case n <= 4:
		return "rolled back an interrupted"
	case n <= 7:
		return "completed an interrupted"
	}
	return "updated the"
}

// Update killed after each step, then run again: directly (user passphrase,
// same kek), or after a reboot and load-keys (master passphrase, new kek).
// Setup is killed after each of its steps too.
func TestCrash(t *testing.T) {
	env := parent(t)
	for n := 1; n <= 8; n++ {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			inChild(t, env, func(t *testing.T) {
				w := enter(t, "")
				w.addKeks()
				step := strconv.Itoa(n)

				w.ok("setup-passphrase", "--dimm", "nmem0", "--key-handle", "user:nvdimm-kek")
				_, p0 := w.stored("nvdimm", "nmem0")
				w.crashed(step, "nmem0", "nmem0", "nvdimm", p0, w.security("nmem0"), "update-passphrase", "--dimm", "nmem0")
				if n < 8 {
					w.fails("unfinished user passphrase update", "remove-passphrase", "--dimm", "nmem0")
				}
				out := w.ok("update-passphrase", "--dimm", "nmem0")
				if want := recovery(n); !strings.Contains(out, want) {
					t.Errorf("after a crash at step %d, update said\n%s\nwant %q", n, out, want)
				}
				k, p := w.stored("nvdimm", "nmem0")
				if f := w.fields("nmem0"); len(f) != 3 || f[0] != "update" || serial(t, f[2]) != k.ID() {
					t.Errorf("security %q, want an update to %v", w.security("nmem0"), k)
				}
				if bytes.Equal(p, p0) {
					t.Error("the passphrase did not change")
				}
				if key(t, "nvdimm-old:nmem0") != (keyring.Key{}) {
					t.Error("nvdimm-old:nmem0 left in @u")
				}
				w.clean()

				w.ok("setup-passphrase", "--dimm", "nmem1", "--key-handle", "user:nvdimm-kek", "--master")
				_, m0 := w.stored("nvdimm-master", uniqueID)
				w.crashed(step, "nmem1", uniqueID, "nvdimm-master", m0, w.security("nmem1"), "update-passphrase", "--dimm", "nmem1", "--master", "--key-handle", "user:nvdimm-kek2")
				// Reboot: the passphrase keys are gone from @u.
				links, _ := keyring.User().Links()
				for _, l := range links {
					if d, err := l.Describe(); err == nil && d.Type == "encrypted" {
						keyring.User().Unlink(l)
					}
				}
				w.ok("load-keys")
				out = w.ok("update-passphrase", "--dimm", "nmem1", "--master", "--key-handle", "user:nvdimm-kek2")
				if want := recovery(n); !strings.Contains(out, want) {
					t.Errorf("after a crash at step %d and a reboot, update said\n%s\nwant %q", n, out, want)
				}
				mk, m := w.stored("nvdimm-master", uniqueID)
				if f := w.fields("nmem1"); len(f) != 3 || f[0] != "master_update" || serial(t, f[2]) != mk.ID() {
					t.Errorf("security %q, want a master_update to %v", w.security("nmem1"), mk)
				}
				if bytes.Equal(m, m0) || w.master("nvdimm-master", uniqueID) != "user:nvdimm-kek2" {
					t.Error("the master passphrase did not change to one under the new kek")
				}
				w.clean()

				if n <= 4 {
					w.crashed("setup:"+step, "nmem2", "nmem2", "nvdimm", nil, "", "setup-passphrase", "--dimm", "nmem2", "--key-handle", "user:nvdimm-kek")
					w.ok("setup-passphrase", "--dimm", "nmem2", "--key-handle", "user:nvdimm-kek")
					k, _ := w.stored("nvdimm", "nmem2")
					if got, want := w.security("nmem2"), fmt.Sprintf("update 0 %d", k.ID()); got != want {
						t.Errorf("security: %q, want %q", got, want)
					}
					w.clean()
				}
			})
		})
	}
}

// The kek as ndctl recommends it: a trusted key, sealed by the TPM. Boot 1
// makes it and a passphrase under it and stores the kek's blob, as an
// initramfs would; boot 2 loads the kek from that blob, then load-keys
// brings the passphrase back. Where the kernel has no trusted keys the kek
// cannot be made (ErrNotSupported) and the command says it is missing.
func TestTrustedKek(t *testing.T) {
	env := parent(t)
	for _, boot := range []string{"1", "2"} {
		t.Run("boot"+boot, func(t *testing.T) {
			inChild(t, append(env, envBoot+"="+boot), func(t *testing.T) {
				w := enter(t, os.Getenv(envDir))
				kekBlob := filepath.Join(os.Getenv(envDir), "tpm-kek.blob")
				if os.Getenv(envBoot) == "1" {
					_, err := trusted.New(keyring.User(), "tpm-kek", trusted.Options{KeyLen: 32, KeyHandle: 0x81000001})
					if errors.Is(err, keyring.ErrNotSupported) {
						w.fails("kek trusted:tpm-kek is not in the user keyring", "setup-passphrase", "--dimm", "nmem0", "--key-handle", "trusted:tpm-kek")
						return
					}
					if b, berr := trusted.KernelBackend(); berr != nil || b != trusted.TPM2 {
						t.Skipf("needs TPM 2.0 with a storage key at 0x81000001; trusted keys use %v (%v)", b, berr)
					}
					if err != nil {
						t.Fatal(err)
					}
					w.ok("setup-passphrase", "--dimm", "nmem0", "--key-handle", "trusted:tpm-kek")
					k, err := keyring.User().Search("trusted", "tpm-kek")
					if err != nil {
						t.Fatal(err)
					}
					blob, err := trusted.ReadBlob(k)
					if err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(kekBlob, blob, 0o600); err != nil {
						t.Fatal(err)
					}
					return
				}
				blob, err := os.ReadFile(kekBlob)
				if os.IsNotExist(err) {
					return // boot 1 found no trusted keys
				}
				if err != nil {
					t.Fatal(err)
				}
				w.fails("is not in the user keyring", "load-keys")
				// The parent it was sealed under: a blob made before Linux
				// 5.13 does not name it, and a later one names the same.
				if _, err := trusted.Load(keyring.User(), "tpm-kek", blob, trusted.Options{KeyHandle: 0x81000001}); err != nil {
					t.Fatal(err)
				}
				if out := w.ok("load-keys"); !strings.Contains(out, "loaded nvdimm:nmem0") {
					t.Errorf("load-keys did not load the passphrase under the trusted kek:\n%s", out)
				}
				if m := w.master("nvdimm", "nmem0"); m != "trusted:tpm-kek" {
					t.Errorf("the passphrase is under %s, want trusted:tpm-kek", m)
				}
				text, _ := os.ReadFile(w.blobPath("nvdimm", "nmem0"))
				b, err := encrypted.ReadBlob(key(t, "nvdimm:nmem0"))
				if err != nil {
					t.Fatal(err)
				}
				if kt, _ := b.MarshalText(); !bytes.Equal(kt, text) {
					t.Error("the loaded passphrase key does not hold the stored blob")
				}
			})
		})
	}
}
