//go:build linux

// Command nvdimm-keys is the key-management half of ndctl's NVDIMM security
// commands (ndctl-setup-passphrase(1), ndctl-update-passphrase(1),
// ndctl-remove-passphrase(1), ndctl-sanitize-dimm(1), ndctl-load-keys(1)),
// built on the kernkeys keyring, encrypted and trusted packages.
//
//	nvdimm-keys setup-passphrase  --dimm NMEM --key-handle TYPE:DESC [--master]
//	nvdimm-keys update-passphrase --dimm NMEM [--key-handle TYPE:DESC] [--master]
//	nvdimm-keys remove-passphrase --dimm NMEM
//	nvdimm-keys secure-erase      --dimm NMEM [--master | --overwrite]
//	nvdimm-keys wait-overwrite    --dimm NMEM
//	nvdimm-keys freeze            --dimm NMEM
//	nvdimm-keys load-keys         [--dimm NMEM]
//
// Common flags: --key-dir DIR (default /etc/ndctl/keys), --sysfs-root DIR
// (default /sys).
//
// # Keys, blobs and the device
//
// A DIMM's passphrase is an enc32 encrypted key that the kernel makes at
// random ("new enc32 <kek> 32") and that userspace only ever sees as a blob,
// sealed under the kek (key-encryption key) named by --key-handle: a
// "user" or "trusted" key that must already be in the user keyring (@u);
// a missing kek is an error before anything changes. The passphrase keys
// are linked into @u too, described
//
//	nvdimm:<id>         the user passphrase
//	nvdimm-old:<id>     the previous user passphrase, during an update
//	nvdimm-master:<id>  the master passphrase
//	nvdimm-master-old:<id>
//
// and their blobs are stored in the key directory as
// <prefix>_<id>_<hostname>.blob, with the same four prefixes. <id> is the
// DIMM's unique id, read from <sysfs-root>/bus/nd/devices/<dimm>/nfit/id
// when that file exists, and the DIMM's name (nmem0) otherwise. The device
// side is the DIMM's security attribute,
// <sysfs-root>/bus/nd/devices/<dimm>/security, to which the command writes
// key serials as the kernel's libnvdimm expects: "update <old> <new>" (0
// for no old key), "master_update <old> <new>", "disable <id>", "erase
// <id>", "master_erase <id>", "overwrite <id>" and "freeze". The kernel
// reads the passphrases out of those keys.
//
// Every command runs on one OS thread in a private session keyring that
// links @u, as a login session does, so the kernel finds the kek and the
// passphrase keys whatever session the caller has. Commands for a key
// directory are serialised with flock(2) on the directory. Blobs are written
// atomically: a temporary file in the same directory, fsync, rename, mode
// 0600, then an fsync of the directory; stale temporary files of the DIMM
// are removed at the next command.
//
// # Crash safety
//
// Beyond ndctl, setup and update can be interrupted at any point and are
// finished or undone by running the same command again; no passphrase blob
// is ever lost. The presence of files in the key directory is the journal.
// For the user passphrase (the master one is the same with its prefixes):
//
// update-passphrase steps:
//
//  1. rename nvdimm_ to nvdimm-old_ (and fsync the directory);
//  2. load that blob as nvdimm-old:<id>, unlink nvdimm:<id> from @u;
//  3. add a new nvdimm:<id> under the new kek (--key-handle, or the old
//     blob's kek);
//  4. write its blob to a synced temporary file;
//  5. rename it to nvdimm_ (fsync the directory);
//  6. write "update <old> <new>" to the security attribute;
//  7. unlink nvdimm-old:<id> from @u;
//  8. remove nvdimm-old_ (fsync the directory).
//
// Recovery rule, applied by update-passphrase when nvdimm-old_ exists:
// without nvdimm_ (a crash in steps 1 to 4, before the device was told
// anything) the update is rolled back: the half-made nvdimm:<id> key is
// unlinked, nvdimm-old_ is renamed back to nvdimm_ and the requested update
// then runs from the start. With nvdimm_ (steps 5 to 7) it is completed:
// both blobs are loaded (if not in @u, as after a reboot), "update <old>
// <new>" is sent again and, if the device refuses it because it already
// took the new passphrase, "update <new> <new>" proves that it did; then
// steps 7 and 8. Only if the device accepts neither is the command an error,
// and both blobs stay. A completed update counts as the requested one unless
// --key-handle names another kek, which then gets a further update. Other
// commands refuse to act on a DIMM with an unfinished update.
//
// setup-passphrase steps: 1. create the marker .nvdimm_<id>_<host>.setup;
// 2. add nvdimm:<id>; 3. write its blob; 4. write "update 0 <new>";
// 5. remove the marker. Recovery: a marker without the blob means the device
// was told nothing: the half-made key is unlinked and setup starts again; a
// marker with the blob means "update 0 <new>" is sent again (or "update
// <new> <new>" proves the device has it) and the marker removed.
//
// For tests, KERNKEYS_NVDIMM_CRASH_AT=N (or update:N, setup:N) makes the
// command kill itself with SIGKILL right after step N of update-passphrase
// (or setup-passphrase).
//
// remove-passphrase writes "disable <id>", then unlinks the key and removes
// its blob (a repeated disable that the device refuses is accepted when the
// security attribute reads "disabled"). secure-erase writes "erase <id>" and
// then discards the user passphrase as remove does; with --master it writes
// "master_erase <id>", keeps the master passphrase and discards the user
// one, which the erase disabled (ndctl keeps its stale blob); with
// --overwrite it writes "overwrite <id>" (0 without a passphrase) and keeps
// the key. wait-overwrite waits until the DIMM's overwrite ends. Erase and
// overwrite need the DIMM's regions disabled first (the kernel answers
// EBUSY); the other commands do not.
//
// The kernel reads a passphrase only from an "encrypted" key of 32
// decrypted bytes that the writer of the security attribute possesses
// (lookup_user_key with KEY_NEED_SEARCH: the key's user permissions lack
// search, so it must be reachable from the writer's session, as @u is
// from a login session). At probe the kernel unlocks a locked DIMM with
// request_key("encrypted", "nvdimm:<id>") from the probing task (modprobe,
// or whoever writes the driver's bind file): that task too must reach @u.
// load-keys loads every blob of this host in the key directory into @u (the
// kek must be loaded first), leaving keys that are already there with the
// same blob, and names DIMMs with an unfinished update.
//
// The plaintext passphrases never reach userspace; nothing secret is
// printed.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kernkeys/kernkeys/encrypted"
	"github.com/kernkeys/kernkeys/keyring"
)

func main() {
	// Master keys, and the keys the device reads, are found from the calling
	// thread's keyrings: the whole command runs on one thread.
	runtime.LockOSThread()
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "nvdimm-keys:", err)
		var usage usageError
		if errors.As(err, &usage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

type usageError string

func (e usageError) Error() string { return string(e) }

const usage = `usage:
  nvdimm-keys setup-passphrase  --dimm NMEM --key-handle user:DESC|trusted:DESC [--master]
  nvdimm-keys update-passphrase --dimm NMEM [--key-handle user:DESC|trusted:DESC] [--master]
  nvdimm-keys remove-passphrase --dimm NMEM
  nvdimm-keys secure-erase      --dimm NMEM [--master | --overwrite]
  nvdimm-keys wait-overwrite    --dimm NMEM
  nvdimm-keys freeze            --dimm NMEM
  nvdimm-keys load-keys         [--dimm NMEM]
common flags:
  --key-dir DIR      passphrase blobs (default /etc/ndctl/keys)
  --sysfs-root DIR   where bus/nd/devices/<dimm>/security is (default /sys)
The kek named by --key-handle must be in the user keyring (@u); passphrase
keys are linked into @u as nvdimm:<id>, nvdimm-master:<id> (and -old during
an update) and stored as <prefix>_<id>_<hostname>.blob in the key directory.`

func run(args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(stdout, usage)
		if len(args) == 0 {
			return usageError("no command")
		}
		return nil
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dimmName := fs.String("dimm", "", "the DIMM, such as nmem0")
	handle := fs.String("key-handle", "", "the kek: user:DESC or trusted:DESC, in @u")
	keyDir := fs.String("key-dir", "/etc/ndctl/keys", "the passphrase blob directory")
	sysfs := fs.String("sysfs-root", "/sys", "the sysfs root")
	master := fs.Bool("master", false, "manage the master passphrase")
	overwrite := fs.Bool("overwrite", false, "secure-erase: overwrite instead of crypto erase")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stdout, usage)
			return nil
		}
		return usageError(err.Error() + "\n" + usage)
	}
	if fs.NArg() != 0 {
		return usageError("unexpected arguments " + strings.Join(fs.Args(), " ") + "\n" + usage)
	}
	var kek *encrypted.Master
	if *handle != "" {
		m, err := encrypted.ParseMaster(*handle)
		if err != nil {
			return usageError(fmt.Sprintf("--key-handle %q: want user:DESC or trusted:DESC", *handle))
		}
		kek = &m
	}
	c := &command{out: stdout, keyDir: *keyDir, kind: userPass}
	if *master {
		c.kind = masterPass
	}
	c.crashCmd, c.crashAt = parseCrash(os.Getenv("KERNKEYS_NVDIMM_CRASH_AT"))
	host, err := os.Hostname()
	if err != nil {
		return err
	}
	c.host = host
	cmd := args[0]
	switch cmd {
	case "setup-passphrase", "update-passphrase", "remove-passphrase", "secure-erase", "wait-overwrite", "freeze", "load-keys":
	default:
		return usageError("unknown command " + strconv.Quote(cmd) + "\n" + usage)
	}
	if *dimmName == "" && cmd != "load-keys" {
		return usageError(cmd + " needs --dimm\n" + usage)
	}
	if *dimmName != "" {
		if c.dimm, err = openDimm(*sysfs, *dimmName); err != nil {
			return err
		}
	}
	if cmd == "setup-passphrase" && kek == nil {
		return usageError("setup-passphrase needs --key-handle\n" + usage)
	}
	if *overwrite && (*master || cmd != "secure-erase") {
		return usageError("--overwrite goes with secure-erase, without --master\n" + usage)
	}
	if err := c.begin(); err != nil {
		return err
	}
	defer c.end()
	switch cmd {
	case "setup-passphrase":
		return c.setup(*kek)
	case "update-passphrase":
		return c.update(kek)
	case "remove-passphrase":
		if *master {
			// 6.1 has no command for it; later kernels have
			// "disable_master", for CXL memory devices only (NFIT DIMMs
			// answer EOPNOTSUPP).
			return errors.New("the kernel has no command to remove a master passphrase of an NFIT DIMM")
		}
		return c.remove()
	case "secure-erase":
		return c.erase(*overwrite)
	case "wait-overwrite":
		state, err := c.dimm.waitOverwrite()
		if err == nil {
			fmt.Fprintf(c.out, "%s: no overwrite under way; security: %s\n", c.dimm.name, state)
		}
		return err
	case "freeze":
		return c.dimm.write("freeze")
	default:
		return c.loadKeys()
	}
}

// passKind is the user or the master passphrase.
type passKind int

const (
	userPass passKind = iota
	masterPass
)

// prefix is the key description and blob file prefix of the current (old:
// the previous) passphrase.
func (k passKind) prefix(old bool) string {
	p := "nvdimm"
	if k == masterPass {
		p = "nvdimm-master"
	}
	if old {
		p += "-old"
	}
	return p
}

func (k passKind) String() string {
	if k == masterPass {
		return "master"
	}
	return "user"
}

// updateCmd is the security attribute's command that sets the passphrase.
func (k passKind) updateCmd() string {
	if k == masterPass {
		return "master_update"
	}
	return "update"
}

// dimm is one DIMM's device side.
type dimm struct {
	name string // nmem0
	id   string // what key descriptions and blob names carry
	dir  string // <sysfs-root>/bus/nd/devices/<name>
}

var validID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

func openDimm(sysfs, name string) (*dimm, error) {
	if !validID.MatchString(name) {
		return nil, usageError(fmt.Sprintf("--dimm %q: not a DIMM name", name))
	}
	d := &dimm{name: name, id: name, dir: filepath.Join(sysfs, "bus", "nd", "devices", name)}
	if _, err := os.Stat(d.dir); err != nil {
		return nil, fmt.Errorf("DIMM %s: %w", name, err)
	}
	if b, err := os.ReadFile(filepath.Join(d.dir, "nfit", "id")); err == nil {
		id := strings.TrimSpace(string(b))
		if !validID.MatchString(id) {
			return nil, fmt.Errorf("DIMM %s: unusable unique id %q in nfit/id", name, id)
		}
		d.id = id
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("DIMM %s: %w", name, err)
	}
	return d, nil
}

// write sends one command to the DIMM's security attribute, as ndctl's
// sysfs_write_attr does.
func (d *dimm) write(cmd string) error {
	f, err := os.OpenFile(filepath.Join(d.dir, "security"), os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return fmt.Errorf("DIMM %s security: %w", d.name, err)
	}
	_, err = f.WriteString(cmd + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("DIMM %s security %q: %w%s", d.name, strings.Fields(cmd)[0], err, refusal(err))
	}
	return nil
}

// refusal explains the errors with which the kernel refuses a security
// command (drivers/nvdimm/security.c, and for Intel DIMMs and nfit_test
// drivers/acpi/nfit/intel.c).
func refusal(err error) string {
	switch {
	case errors.Is(err, syscall.EINVAL):
		return " (the DIMM refused the passphrase)"
	case errors.Is(err, syscall.ENOKEY):
		return " (the kernel found no 32-byte encrypted key of that serial that the writer possesses)"
	case errors.Is(err, syscall.EIO):
		return " (the DIMM's security is frozen, or in a state that refuses the command)"
	case errors.Is(err, syscall.EBUSY):
		return " (an overwrite is under way, or an enabled region uses the DIMM: disable its regions first)"
	case errors.Is(err, syscall.ENXIO):
		return " (the DIMM's security state refuses the command)"
	case errors.Is(err, syscall.EOPNOTSUPP):
		return " (the DIMM does not support the command in its state)"
	}
	return ""
}

// waitOverwrite waits for the DIMM's overwrite to end and returns the
// security state it ends in. During an overwrite the security attribute
// reads "overwrite" (on 6.1 nfit_test's fails with ENOTTY instead), and
// the kernel polls the DIMM every 10 seconds or so.
func (d *dimm) waitOverwrite() (string, error) {
	for {
		b, err := os.ReadFile(filepath.Join(d.dir, "security"))
		state := strings.TrimSpace(string(b))
		switch {
		case err == nil && state != "overwrite":
			return state, nil
		case err != nil && !errors.Is(err, syscall.ENOTTY):
			return "", fmt.Errorf("DIMM %s security: %w", d.name, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// state reads the security attribute: "disabled", "unlocked", "locked",
// "frozen" or "overwrite" on a real DIMM.
func (d *dimm) state() string {
	b, _ := os.ReadFile(filepath.Join(d.dir, "security"))
	return strings.TrimSpace(string(b))
}

// command is one run of the program.
type command struct {
	out      io.Writer
	keyDir   string
	host     string
	kind     passKind
	dimm     *dimm
	lock     *os.File
	crashCmd string
	crashAt  int
}

func parseCrash(s string) (string, int) {
	cmd, n, ok := strings.Cut(s, ":")
	if !ok {
		cmd, n = "update", s
	}
	i, err := strconv.Atoi(n)
	if err != nil {
		return "", 0
	}
	return cmd, i
}

// crash kills the process after step n of cmd when the environment asks
// for it: the crash tests' hook. SIGKILL runs no deferred function.
func (c *command) crash(cmd string, n int) {
	if c.crashCmd == cmd && c.crashAt == n {
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}
}

// begin joins a private session keyring that links @u, locks the key
// directory and removes the DIMM's stale temporary files.
func (c *command) begin() error {
	s, err := keyring.JoinAnonymousSession()
	if err != nil {
		return fmt.Errorf("joining a session keyring: %w", err)
	}
	if err := s.Link(keyring.User().Key); err != nil {
		return fmt.Errorf("linking the user keyring into the session: %w", err)
	}
	if err := os.MkdirAll(c.keyDir, 0o700); err != nil {
		return err
	}
	c.lock, err = os.Open(c.keyDir)
	if err != nil {
		return err
	}
	if err := syscall.Flock(int(c.lock.Fd()), syscall.LOCK_EX); err != nil {
		c.lock.Close()
		return fmt.Errorf("locking %s: %w", c.keyDir, err)
	}
	if c.dimm == nil {
		return nil
	}
	var names []string
	for _, k := range []passKind{userPass, masterPass} {
		names = append(names, c.blobName(k, false), c.blobName(k, true), c.markerName(k))
	}
	for _, n := range names {
		stale, _ := filepath.Glob(filepath.Join(c.keyDir, "."+n+".tmp*"))
		for _, s := range stale {
			if err := os.Remove(s); err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *command) end() { c.lock.Close() } // closing releases the flock

func (c *command) desc(old bool) string { return c.kind.prefix(old) + ":" + c.dimm.id }

func (c *command) blobName(k passKind, old bool) string {
	return k.prefix(old) + "_" + c.dimm.id + "_" + c.host + ".blob"
}

func (c *command) blobPath(old bool) string {
	return filepath.Join(c.keyDir, c.blobName(c.kind, old))
}

func (c *command) markerName(k passKind) string {
	return "." + k.prefix(false) + "_" + c.dimm.id + "_" + c.host + ".setup"
}

func (c *command) markerPath() string { return filepath.Join(c.keyDir, c.markerName(c.kind)) }

func exists(name string) (bool, error) {
	_, err := os.Lstat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// pending refuses to act on a DIMM whose update or setup did not finish.
func (c *command) pending() error {
	for _, k := range []passKind{userPass, masterPass} {
		if ok, err := exists(filepath.Join(c.keyDir, c.blobName(k, true))); err != nil || ok {
			return errors.Join(err, fmt.Errorf("DIMM %s has an unfinished %s passphrase update: run update-passphrase%s again", c.dimm.name, k, masterFlag(k)))
		}
		if ok, err := exists(filepath.Join(c.keyDir, c.markerName(k))); err != nil || ok {
			return errors.Join(err, fmt.Errorf("DIMM %s has an unfinished %s passphrase setup: run setup-passphrase%s again", c.dimm.name, k, masterFlag(k)))
		}
	}
	return nil
}

func masterFlag(k passKind) string {
	if k == masterPass {
		return " --master"
	}
	return ""
}

// checkKek fails clearly when the kek m is not in the user keyring.
func checkKek(m encrypted.Master) error {
	_, err := keyring.User().Search(m.Kind.String(), m.Name)
	if errors.Is(err, keyring.ErrNotFound) {
		return fmt.Errorf("kek %s is not in the user keyring (@u): load it first: %w", m, err)
	}
	if err != nil {
		return fmt.Errorf("kek %s: %w", m, err)
	}
	return nil
}

func findKey(desc string) (keyring.Key, error) {
	return keyring.User().Search("encrypted", desc)
}

// unlinkKey unlinks the key described desc from @u, if it is there.
func unlinkKey(desc string) error {
	k, err := findKey(desc)
	if errors.Is(err, keyring.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return keyring.User().Unlink(k)
}

func readBlobFile(name string) (*encrypted.Blob, []byte, error) {
	text, err := os.ReadFile(name)
	if err != nil {
		return nil, nil, err
	}
	b, err := encrypted.ParseBlob(text)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	return b, text, nil
}

// ensureKey makes sure @u links a key described desc that holds the blob
// in the file name, loading it when it is missing or holds another blob.
// It reports whether it loaded the key.
func ensureKey(desc, name string) (keyring.Key, *encrypted.Blob, bool, error) {
	b, text, err := readBlobFile(name)
	if err != nil {
		return keyring.Key{}, nil, false, err
	}
	if err := checkKek(b.Master); err != nil {
		return keyring.Key{}, nil, false, fmt.Errorf("%s: %w", filepath.Base(name), err)
	}
	k, err := findKey(desc)
	switch {
	case err == nil:
		if kb, err := encrypted.ReadBlob(k); err == nil {
			if kt, err := kb.MarshalText(); err == nil && bytes.Equal(kt, text) {
				return k, b, false, nil
			}
		}
		if err := keyring.User().Unlink(k); err != nil {
			return keyring.Key{}, nil, false, err
		}
	case !errors.Is(err, keyring.ErrNotFound):
		return keyring.Key{}, nil, false, err
	}
	k, err = encrypted.Load(keyring.User(), desc, b)
	if err != nil {
		return keyring.Key{}, nil, false, fmt.Errorf("loading %s as %s: %w", filepath.Base(name), desc, err)
	}
	return k, b, true, nil
}

// newKey adds a new random enc32 passphrase key described desc under kek
// to @u and returns it with its blob.
func newKey(desc string, kek encrypted.Master) (keyring.Key, *encrypted.Blob, error) {
	k, err := encrypted.New(keyring.User(), desc, encrypted.Options{Format: encrypted.Enc32, Master: kek, Length: 32})
	if err != nil {
		return keyring.Key{}, nil, fmt.Errorf("adding %s: %w", desc, err)
	}
	b, err := encrypted.ReadBlob(k)
	if err != nil {
		keyring.User().Unlink(k)
		return keyring.Key{}, nil, fmt.Errorf("reading %s: %w", desc, err)
	}
	return k, b, nil
}

// sendUpdate tells the device to change the passphrase from old (0: none)
// to new. If it refuses, "update new new" succeeds only when the device
// already has the new passphrase, which is then success too: the case of a
// repeated command after a crash.
func (c *command) sendUpdate(old, new keyring.ID) error {
	err := c.dimm.write(fmt.Sprintf("%s %d %d", c.kind.updateCmd(), old, new))
	if err == nil {
		return nil
	}
	if c.dimm.write(fmt.Sprintf("%s %d %d", c.kind.updateCmd(), new, new)) == nil {
		return nil
	}
	return err
}

func (c *command) syncDir() error {
	d, err := os.Open(c.keyDir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func (c *command) rename(from, to string) error {
	if err := os.Rename(from, to); err != nil {
		return err
	}
	return c.syncDir()
}

func (c *command) removeFile(name string) error {
	if err := os.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return c.syncDir()
}

func (c *command) setup(kek encrypted.Master) error {
	cur, marker := c.blobPath(false), c.markerPath()
	if ok, err := exists(c.blobPath(true)); err != nil || ok {
		return errors.Join(err, fmt.Errorf("DIMM %s has an unfinished %s passphrase update: run update-passphrase%s again", c.dimm.name, c.kind, masterFlag(c.kind)))
	}
	haveMarker, err := exists(marker)
	if err != nil {
		return err
	}
	haveBlob, err := exists(cur)
	if err != nil {
		return err
	}
	switch {
	case haveMarker && haveBlob: // steps 3 and 4 done or under way: finish
		k, _, _, err := ensureKey(c.desc(false), cur)
		if err != nil {
			return err
		}
		if err := c.sendUpdate(0, k.ID()); err != nil {
			return err
		}
		if err := c.removeFile(marker); err != nil {
			return err
		}
		fmt.Fprintf(c.out, "completed an interrupted %s passphrase setup of %s\n", c.kind, c.dimm.name)
		return nil
	case haveMarker: // the device was told nothing: start again
		if err := unlinkKey(c.desc(false)); err != nil {
			return err
		}
	case haveBlob:
		return fmt.Errorf("DIMM %s already has a %s passphrase (%s exists): use update-passphrase", c.dimm.name, c.kind, cur)
	default:
		if _, err := findKey(c.desc(false)); err == nil {
			return fmt.Errorf("%s is already in the user keyring but %s does not exist: unlink the key or restore the blob", c.desc(false), cur)
		}
	}
	if err := checkKek(kek); err != nil {
		return err
	}
	if !haveMarker {
		if err := writeFileAtomic(marker, nil, nil); err != nil {
			return err
		}
	}
	c.crash("setup", 1)
	k, b, err := newKey(c.desc(false), kek)
	if err != nil {
		return err
	}
	c.crash("setup", 2)
	if err := writeBlob(cur, b, nil); err != nil {
		keyring.User().Unlink(k)
		return err
	}
	c.crash("setup", 3)
	if err := c.dimm.write(fmt.Sprintf("%s 0 %d", c.kind.updateCmd(), k.ID())); err != nil {
		// The device refused: undo, the blob before the marker.
		keyring.User().Unlink(k)
		return errors.Join(err, c.removeFile(cur), c.removeFile(marker))
	}
	c.crash("setup", 4)
	if err := c.removeFile(marker); err != nil {
		return err
	}
	fmt.Fprintf(c.out, "set up the %s passphrase of %s: %s under %s, blob %s\n", c.kind, c.dimm.name, c.desc(false), kek, cur)
	return nil
}

func (c *command) update(kek *encrypted.Master) error {
	cur, old := c.blobPath(false), c.blobPath(true)
	if ok, err := exists(c.markerPath()); err != nil || ok {
		return errors.Join(err, fmt.Errorf("DIMM %s has an unfinished %s passphrase setup: run setup-passphrase%s again", c.dimm.name, c.kind, masterFlag(c.kind)))
	}
	haveOld, err := exists(old)
	if err != nil {
		return err
	}
	haveCur, err := exists(cur)
	if err != nil {
		return err
	}
	if haveOld && !haveCur {
		// Steps 1 to 4: the device still has the old passphrase. Roll back.
		if err := errors.Join(unlinkKey(c.desc(false)), unlinkKey(c.desc(true))); err != nil {
			return err
		}
		if err := c.rename(old, cur); err != nil {
			return err
		}
		fmt.Fprintf(c.out, "rolled back an interrupted %s passphrase update of %s\n", c.kind, c.dimm.name)
		haveOld, haveCur = false, true
	}
	if haveOld {
		// Steps 5 to 7: the device may have either passphrase. Complete.
		nb, err := c.finishUpdate()
		if err != nil {
			return err
		}
		fmt.Fprintf(c.out, "completed an interrupted %s passphrase update of %s\n", c.kind, c.dimm.name)
		if kek == nil || *kek == nb.Master {
			return nil
		}
	}
	if !haveCur {
		return fmt.Errorf("DIMM %s has no %s passphrase: %s does not exist (setup-passphrase%s first)", c.dimm.name, c.kind, cur, masterFlag(c.kind))
	}
	curKey, cb, _, err := ensureKey(c.desc(false), cur)
	if err != nil {
		return err
	}
	to := cb.Master
	if kek != nil {
		to = *kek
	}
	if err := checkKek(to); err != nil {
		return err
	}
	// 1
	if err := c.rename(cur, old); err != nil {
		return err
	}
	c.crash("update", 1)
	// 2
	oldKey, _, _, err := ensureKey(c.desc(true), old)
	if err == nil {
		err = keyring.User().Unlink(curKey)
	}
	if err != nil {
		return errors.Join(err, c.rename(old, cur))
	}
	c.crash("update", 2)
	// 3
	newK, nb, err := newKey(c.desc(false), to)
	if err != nil {
		return err // the next run rolls back
	}
	c.crash("update", 3)
	// 4, 5
	if err := writeBlob(cur, nb, func() { c.crash("update", 4) }); err != nil {
		return err
	}
	c.crash("update", 5)
	// 6
	if err := c.dimm.write(fmt.Sprintf("%s %d %d", c.kind.updateCmd(), oldKey.ID(), newK.ID())); err != nil {
		// Refused: undo, new blob first, so that a crash here still
		// leaves a state the next run rolls back.
		keyring.User().Unlink(newK)
		rerr := c.removeFile(cur)
		if rerr == nil {
			rerr = c.rename(old, cur)
		}
		if rerr == nil {
			_, _, _, rerr = ensureKey(c.desc(false), cur)
		}
		return errors.Join(err, rerr, unlinkKey(c.desc(true)))
	}
	c.crash("update", 6)
	// 7
	if err := keyring.User().Unlink(oldKey); err != nil {
		return err
	}
	c.crash("update", 7)
	// 8
	if err := c.removeFile(old); err != nil {
		return err
	}
	c.crash("update", 8)
	fmt.Fprintf(c.out, "updated the %s passphrase of %s: %s under %s, blob %s\n", c.kind, c.dimm.name, c.desc(false), to, cur)
	return nil
}

// finishUpdate completes an update whose new blob is stored: steps 6 to 8
// again, with the keys loaded from the blobs if need be.
func (c *command) finishUpdate() (*encrypted.Blob, error) {
	cur, old := c.blobPath(false), c.blobPath(true)
	oldKey, _, _, err := ensureKey(c.desc(true), old)
	if err != nil {
		return nil, err
	}
	newK, nb, _, err := ensureKey(c.desc(false), cur)
	if err != nil {
		return nil, err
	}
	if err := c.sendUpdate(oldKey.ID(), newK.ID()); err != nil {
		return nil, fmt.Errorf("the device takes neither passphrase; %s and %s are kept: %w", filepath.Base(old), filepath.Base(cur), err)
	}
	if err := keyring.User().Unlink(oldKey); err != nil {
		return nil, err
	}
	if err := c.removeFile(old); err != nil {
		return nil, err
	}
	return nb, nil
}

// discard unlinks the passphrase key and removes its blob.
func (c *command) discard() error {
	if err := unlinkKey(c.desc(false)); err != nil {
		return err
	}
	return c.removeFile(c.blobPath(false))
}

func (c *command) currentKey() (keyring.Key, error) {
	if err := c.pending(); err != nil {
		return keyring.Key{}, err
	}
	cur := c.blobPath(false)
	if ok, err := exists(cur); err != nil || !ok {
		return keyring.Key{}, errors.Join(err, fmt.Errorf("DIMM %s has no %s passphrase: %s does not exist", c.dimm.name, c.kind, cur))
	}
	k, _, _, err := ensureKey(c.desc(false), cur)
	return k, err
}

func (c *command) remove() error {
	k, err := c.currentKey()
	if err != nil {
		return err
	}
	if err := c.dimm.write(fmt.Sprintf("disable %d", k.ID())); err != nil && c.dimm.state() != "disabled" {
		return err
	}
	if err := c.discard(); err != nil {
		return err
	}
	fmt.Fprintf(c.out, "removed the user passphrase of %s\n", c.dimm.name)
	return nil
}

func (c *command) erase(overwrite bool) error {
	if overwrite {
		if err := c.pending(); err != nil {
			return err
		}
		id := keyring.ID(0)
		if ok, err := exists(c.blobPath(false)); err != nil {
			return err
		} else if ok {
			k, err := c.currentKey()
			if err != nil {
				return err
			}
			id = k.ID()
		}
		if err := c.dimm.write(fmt.Sprintf("overwrite %d", id)); err != nil {
			return err
		}
		fmt.Fprintf(c.out, "started an overwrite of %s\n", c.dimm.name)
		return nil
	}
	k, err := c.currentKey()
	if err != nil {
		return err
	}
	if c.kind == masterPass {
		if err := c.dimm.write(fmt.Sprintf("master_erase %d", k.ID())); err != nil {
			return err
		}
		// The erase disabled the user passphrase: its blob is stale.
		user := *c
		user.kind = userPass
		if err := user.discard(); err != nil {
			return err
		}
		fmt.Fprintf(c.out, "erased %s with the master passphrase; its user passphrase is removed\n", c.dimm.name)
		return nil
	}
	if err := c.dimm.write(fmt.Sprintf("erase %d", k.ID())); err != nil {
		return err
	}
	if err := c.discard(); err != nil {
		return err
	}
	fmt.Fprintf(c.out, "erased %s; its user passphrase is removed\n", c.dimm.name)
	return nil
}

// loadKeys loads every passphrase blob of this host into @u.
func (c *command) loadKeys() error {
	entries, err := os.ReadDir(c.keyDir)
	if err != nil {
		return err
	}
	suffix := "_" + c.host + ".blob"
	// Longest prefixes first: "nvdimm_" must not take "nvdimm-old_...".
	prefixes := []string{"nvdimm-master-old", "nvdimm-master", "nvdimm-old", "nvdimm"}
	var errs []error
	var unfinished []string
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || !strings.HasSuffix(name, suffix) {
			continue
		}
		for _, p := range prefixes {
			id, ok := strings.CutPrefix(strings.TrimSuffix(name, suffix), p+"_")
			if !ok {
				continue
			}
			if id == "" || (c.dimm != nil && id != c.dimm.id) {
				break
			}
			desc := p + ":" + id
			_, _, loaded, err := ensureKey(desc, filepath.Join(c.keyDir, name))
			switch {
			case err != nil:
				errs = append(errs, err)
			case loaded:
				fmt.Fprintf(c.out, "loaded %s from %s\n", desc, name)
			default:
				fmt.Fprintf(c.out, "%s is already loaded\n", desc)
			}
			if strings.HasSuffix(p, "-old") {
				unfinished = append(unfinished, id)
			}
			break
		}
	}
	slices.Sort(unfinished)
	for _, id := range slices.Compact(unfinished) {
		fmt.Fprintf(c.out, "DIMM id %s has an unfinished passphrase update: run update-passphrase on it again\n", id)
	}
	return errors.Join(errs...)
}

// writeBlob writes b to name atomically (writeFileAtomic: mode 0600,
// synced, renamed, so a crash leaves the old file or the new one and
// perhaps a temporary file, which the next command removes). beforeRename,
// if not nil, runs between the sync and the rename: the crash tests' hook.
func writeBlob(name string, b *encrypted.Blob, beforeRename func()) error {
	text, err := b.MarshalText()
	if err != nil {
		return err
	}
	return writeFileAtomic(name, text, beforeRename)
}

// writeFileAtomic writes data to name privately and atomically: into a
// temporary file ".<name>.tmp*" in the same directory (the pattern begin
// removes), created with mode 0600, synced, then renamed over name, and
// the directory synced. A crash leaves the old file or the new one (and
// perhaps the temporary file beside it). beforeRename, if not nil, runs
// after the sync and before the rename.
func writeFileAtomic(name string, data []byte, beforeRename func()) (err error) {
	dir := filepath.Dir(name)
	f, err := os.CreateTemp(dir, "."+filepath.Base(name)+".tmp*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = f.Chmod(0o600); err != nil {
		return err
	}
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if beforeRename != nil {
		beforeRename()
	}
	if err = os.Rename(f.Name(), name); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
