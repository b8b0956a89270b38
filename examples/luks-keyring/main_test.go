//go:build linux

package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/kernkeys/kernkeys/encrypted"
	"github.com/kernkeys/kernkeys/internal/keytest"
	"github.com/kernkeys/kernkeys/keyring"
)

// binEnv passes the built program to a RunChild child, which must not
// build it itself (it runs as another uid).
const binEnv = "LUKS_KEYRING_BIN"

type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return "exit " + strconv.Itoa(r.code) + "\nstdout:\n" + r.stdout + "stderr:\n" + r.stderr
}

// runBin runs the program from the calling thread, so it inherits that
// thread's session keyring; with userns, in a new user namespace with its
// own, empty user keyring.
func runBin(t *testing.T, bin string, stdin []byte, userns bool, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if userns {
		cmd.SysProcAttr = keytest.UserNSAttr()
	}
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
	case userns && (errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EINVAL)):
		t.Skipf("user namespaces are unavailable here (%v)", err)
	default:
		t.Fatalf("running %v: %v", args, err)
	}
	return result{out.String(), errb.String(), cmd.ProcessState.ExitCode()}
}

// noSecret fails the test if r shows secret, raw or in hex.
func noSecret(t *testing.T, r result, secret []byte) {
	t.Helper()
	all := r.stdout + r.stderr
	if bytes.Contains([]byte(all), secret) || strings.Contains(strings.ToLower(all), hex.EncodeToString(secret)) {
		t.Errorf("the output shows key material:\n%v", r)
	}
}

func want(t *testing.T, r result, code int, texts ...string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit code %d, want %d\n%v", r.code, code, r)
	}
	for _, s := range texts {
		if !strings.Contains(r.stdout+r.stderr, s) {
			t.Errorf("output lacks %q\n%v", s, r)
		}
	}
}

func TestUsage(t *testing.T) {
	bin := keytest.Build(t, ".")
	want(t, runBin(t, bin, nil, false, "--help"), 0, "passphrase-add", "passphrase-read", "passphrase-remove",
		"volume-key", "possession-demo", "never-in-clear", "map", "table", "unmap")
	want(t, runBin(t, bin, nil, false), 2, "usage:")
	for _, args := range [][]string{
		{"frobnicate"},
		{"passphrase-add"},
		{"passphrase-read", "extra"},
		{"passphrase-remove", "--desc", "a:b", "--keyring", "@x"},
		{"volume-key", "--desc", "a:b", "--size", "0"},
		{"never-in-clear", "--master", "user:kmk", "--desc", "d"},
		{"never-in-clear", "--master", "logon:kmk", "--desc", "d", "--blob", "f"},
		{"map", "--name", "v", "--device", "/dev/null"},
		{"map", "--name", "v", "--device", "/dev/null", "--key-ref", "64:logon:a:b"},
		{"map", "--name", "v", "--device", "/dev/null", "--key-ref", ":0:logon:a:b"},
		{"map", "--name", "v", "--device", "/dev/null", "--key-ref", ":64:asymmetric:a"},
		{"map", "--name", "v", "--device", "/dev/null", "--key-ref", ":64:logon:"},
		{"map", "--name", "v", "--device", "/dev/null", "--key-ref", ":64:logon:a b"},
		{"map", "--name", "v", "--device", "/dev/null", "--key-ref", ":64:logon:a:b", "--blob", "f"},
		{"map", "--name", "v", "--device", "/dev/null", "--key-ref", ":64:encrypted:a", "--key-file", "f", "--blob", "g"},
		{"map", "--name", "v", "--device", "/dev/null", "--key-ref", ":64:logon:a:b", "--key-file", "f", "--keyhandle", "0x81000001"},
		{"map", "--name", "v", "--device", "/dev/null", "--key-ref", ":64:trusted:a", "--trusted-blob", "f", "--keyhandle", "srk"},
		{"map", "--name", "v", "--device", "/dev/null", "--key-ref", ":64:trusted:a", "--trusted-blob", "f", "--keyhandle", "0"},
		{"map", "--name", "v", "--device", "/dev/null", "--key-ref", ":64:trusted:a", "--trusted-blob", "f", "--keyhandle", "0x100000000"},
		{"table"},
		{"unmap", "extra"},
	} {
		if r := runBin(t, bin, nil, false, args...); r.code != 2 {
			t.Errorf("%v: exit %d, want 2\n%v", args, r.code, r)
		}
	}
}

// The keyslot passphrase, in a user namespace whose @u is the test's own:
// added, found and read as cryptsetup does, not found from a session that
// does not link @u, unlinked, revoked.
func TestPassphrase(t *testing.T) {
	if keytest.IsChild(t) {
		passphraseChild(t)
		return
	}
	bin := keytest.Build(t, ".")
	keytest.Session(t)
	keytest.RunChild(t, keytest.ChildOptions{UserNS: true, Env: []string{binEnv + "=" + bin}})
}

func passphraseChild(t *testing.T) {
	bin := os.Getenv(binEnv)
	s := keytest.Session(t)
	// A login session as pam_keyinit makes it: the session links @u.
	u := keyring.User()
	if err := s.Link(u.Key); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Unlink(u.Key) }) // before Session's own check
	pass := []byte("correct horse battery staple")
	const desc = "luks-keyring-test:pass"

	r := runBin(t, bin, pass, false, "passphrase-add", "--desc", desc)
	want(t, r, 0, "in @u", "request_key from this session finds it")
	noSecret(t, r, pass)

	r = runBin(t, bin, nil, false, "passphrase-read", "--desc", desc)
	want(t, r, 0, "holds 28 bytes", "not shown")
	noSecret(t, r, pass)

	r = runBin(t, bin, nil, false, "passphrase-read", "--desc", desc, "--print")
	want(t, r, 0, "holds 28 bytes")
	if r.stdout != string(pass) {
		t.Errorf("--print wrote %d bytes to stdout, not the passphrase", len(r.stdout))
	}
	noSecret(t, result{stderr: r.stderr}, pass)

	// The trap: from a session that does not link @u, request_key does
	// not find the key and reading it by serial is refused.
	err := keyring.InNewSession(func(keyring.Keyring) error {
		r := runBin(t, bin, nil, false, "passphrase-read", "--desc", desc)
		want(t, r, 1, "not possessed", "permission denied", "keyctl link @u @s")
		noSecret(t, r, pass)
		r = runBin(t, bin, []byte("other"), false, "passphrase-add", "--desc", desc+"2")
		want(t, r, 0, "does not link @u")
		r = runBin(t, bin, nil, false, "passphrase-remove", "--desc", desc+"2")
		want(t, r, 0, "unlinked")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	r = runBin(t, bin, nil, false, "passphrase-remove", "--desc", desc)
	want(t, r, 0, "unlinked user key", "from @u")
	r = runBin(t, bin, nil, false, "passphrase-read", "--desc", desc)
	want(t, r, 1, "no user key")

	want(t, runBin(t, bin, pass, false, "passphrase-add", "--desc", desc), 0)
	var k keyring.Key
	if k, err = u.Search("user", desc); err != nil {
		t.Fatal(err)
	}
	r = runBin(t, bin, nil, false, "passphrase-remove", "--desc", desc, "--revoke")
	want(t, r, 0, "revoked user key", "unlinked it from @u")
	if _, err := k.Describe(); !errors.Is(err, keyring.ErrRevoked) && !errors.Is(err, keyring.ErrNotFound) {
		t.Errorf("describe after --revoke: %v, want revoked or gone", err)
	}
	r = runBin(t, bin, nil, false, "passphrase-read", "--desc", desc)
	if r.code != 1 {
		t.Errorf("passphrase-read after --revoke:\n%v", r)
	}
	want(t, runBin(t, bin, nil, false, "passphrase-remove", "--desc", desc), 1, "searching @u")
}

// The possession rule, in a user namespace with its own @u: the program
// checks each step itself and exits 1 if one does not behave as described.
func TestPossessionDemo(t *testing.T) {
	bin := keytest.Build(t, ".")
	keytest.Session(t)
	r := runBin(t, bin, nil, true, "possession-demo")
	want(t, r, 0, "0x3f010000", "3. The trap", "required key not available", "permission denied",
		"Fix 1", "Fix 2", "Fix 3", "0x3f030000", "7. Removed the demo key from @u.")
}

// The volume key: a logon key in the thread keyring that cannot be read
// and dies with the thread. It touches only the program's own thread
// keyring.
func TestVolumeKey(t *testing.T) {
	bin := keytest.Build(t, ".")
	keytest.Session(t)
	const desc = "cryptsetup:5b1a7c3e-0d4f-4c8e-9a1b-2f6d8e0c4a17"
	r := runBin(t, bin, nil, false, "volume-key", "--desc", desc)
	want(t, r, 0, "dm-crypt key reference: :64:logon:"+desc, "keyring.ErrNotSupported", "operation not supported",
		"request_key from this thread finds it", "another thread of this process cannot find it", "is gone")

	vk := make([]byte, 32)
	rand.Read(vk)
	r = runBin(t, bin, vk, false, "volume-key", "--desc", desc, "--size", "32", "--key-file", "-")
	want(t, r, 0, ":32:logon:"+desc, "is gone")
	noSecret(t, r, vk)

	want(t, runBin(t, bin, vk[:31], false, "volume-key", "--desc", desc, "--size", "32", "--key-file", "-"), 1, "holds 31 bytes")
	want(t, runBin(t, bin, nil, false, "volume-key", "--desc", "no-prefix"), 1, "service prefix")
}

// The volume key as an encrypted key under a user master in the test's
// session: only the blob reaches the disk and the output.
func TestNeverInClear(t *testing.T) {
	bin := keytest.Build(t, ".")
	s := keytest.Session(t)
	probe, err := encrypted.NewPayload(encrypted.Options{Format: encrypted.Default, Master: encrypted.Master{Kind: encrypted.UserMaster, Name: "luks-keyring-probe"}, Length: 32})
	if err != nil {
		t.Fatal(err)
	}
	if k, err := s.Add("encrypted", "luks-keyring-probe", probe); errors.Is(err, keyring.ErrNotSupported) {
		t.Skipf("encrypted keys (CONFIG_ENCRYPTED_KEYS): %v", err)
	} else if err != nil {
		t.Fatal(err)
	} else if err := s.Unlink(k); err != nil {
		t.Fatal(err)
	}
	kmk := make([]byte, 32)
	rand.Read(kmk)
	if _, err := s.Add("user", "luks-keyring-kmk", kmk); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	blob := filepath.Join(dir, "vk.blob")

	r := runBin(t, bin, nil, false, "never-in-clear", "--master", "user:luks-keyring-kmk", "--desc", "luks:vk", "--blob", blob)
	want(t, r, 0, `"new default user:luks-keyring-kmk 64"`, "never entered this process", ":64:encrypted:luks:vk", "mode 0600")
	fi, err := os.Stat(blob)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("blob mode %v, want 0600", fi.Mode().Perm())
	}
	if m, _ := filepath.Glob(filepath.Join(dir, ".*tmp*")); len(m) != 0 {
		t.Errorf("temporary files left: %v", m)
	}
	text, err := os.ReadFile(blob)
	if err != nil {
		t.Fatal(err)
	}
	b, err := encrypted.ParseBlob(text)
	if err != nil {
		t.Fatal(err)
	}
	// The test holds the master key, so it can check what the program
	// could not see: the blob holds 64 bytes that the output never shows.
	vk, err := encrypted.Open(b, kmk)
	if err != nil {
		t.Fatal(err)
	}
	if len(vk) != 64 {
		t.Errorf("the blob holds %d bytes, want 64", len(vk))
	}
	noSecret(t, r, vk)
	noSecret(t, r, kmk)

	r = runBin(t, bin, nil, false, "never-in-clear", "--master", "user:luks-keyring-kmk", "--desc", "luks:vk", "--blob", blob, "--load")
	want(t, r, 0, "checked its HMAC", ":64:encrypted:luks:vk", "never the clear key")
	noSecret(t, r, vk)

	// Loaded into the test's session, the key outlives the program.
	r = runBin(t, bin, nil, false, "never-in-clear", "--master", "user:luks-keyring-kmk", "--desc", "luks:vk", "--blob", blob, "--load", "--keyring", "@s")
	want(t, r, 0, "in @s")
	k, err := s.Search("encrypted", "luks:vk")
	if err != nil {
		t.Fatalf("the loaded key is not in the session: %v", err)
	}
	if nb, err := encrypted.ReadBlob(k); err != nil {
		t.Error(err)
	} else if got, err := encrypted.Open(nb, kmk); err != nil || !bytes.Equal(got, vk) {
		t.Errorf("the loaded key does not hold the blob's data (%v)", err)
	}

	other := filepath.Join(dir, "other.blob")
	want(t, runBin(t, bin, nil, false, "never-in-clear", "--master", "user:luks-keyring-missing", "--desc", "luks:vk", "--blob", other),
		1, "not reachable")
	if _, err := os.Stat(other); !os.IsNotExist(err) {
		t.Errorf("a failed never-in-clear wrote %s", other)
	}
}
