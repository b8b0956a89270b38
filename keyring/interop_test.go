//go:build linux

package keyring_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/kernkeys/kernkeys/internal/keytest"
	"github.com/kernkeys/kernkeys/keyring"
)

// keyctl runs keyutils' keyctl(1) from the test's locked thread, so it
// shares the test's session, and returns its standard output.
func keyctl(t *testing.T, stdin []byte, args ...string) string {
	t.Helper()
	path, err := exec.LookPath("keyctl")
	if err != nil {
		t.Skip("keyutils' keyctl is not installed (apt-get install keyutils); CI installs it")
	}
	cmd := exec.Command(path, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("keyctl %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return string(out)
}

// A key made by the library is described and read identically by keyctl.
func TestInteropLibraryToKeyctl(t *testing.T) {
	s := keytest.Session(t)
	payload := []byte("made by kernkeys\x00\xff")
	k := must(s.Add("user", "kk:interop;desc", payload))(t)
	check(t, k.SetPerm(keyring.PermAll.Possessor()|(keyring.PermView|keyring.PermRead).User()|keyring.PermSearch.Other()))
	d := must(k.Describe())(t)
	id := k.ID().String()

	if got := keyctl(t, nil, "rdescribe", id); got != d.String()+"\n" {
		t.Errorf("keyctl rdescribe = %q, library %q", got, d.String())
	}
	want := fmt.Sprintf("%9s: %s %5d %5d %s: %s\n", id, d.Perm, d.UID, d.GID, d.Type, d.Description)
	if got := keyctl(t, nil, "describe", id); got != want {
		t.Errorf("keyctl describe = %q, want %q", got, want)
	}
	if got := keyctl(t, nil, "pipe", id); got != string(payload) {
		t.Errorf("keyctl pipe = %q, want %q", got, payload)
	}
	if got := keyctl(t, nil, "search", "@s", "user", "kk:interop;desc"); got != id+"\n" {
		t.Errorf("keyctl search = %q, want %q", got, id)
	}
	if got := keyctl(t, nil, "rlist", s.ID().String()); got != id+"\n" {
		t.Errorf("keyctl rlist = %q, want %q", got, id)
	}
}

// A key and a keyring made by keyctl are found, described and read by the
// library.
func TestInteropKeyctlToLibrary(t *testing.T) {
	s := keytest.Session(t)
	ring := strings.TrimSpace(keyctl(t, nil, "newring", "cli-ring", "@s"))
	id := strings.TrimSpace(keyctl(t, []byte("from the cli"), "padd", "user", "cli-key", ring))
	keyctl(t, nil, "setperm", id, "0x3f0b0000")
	keyctl(t, nil, "timeout", id, "3600")

	n, err := strconv.Atoi(id)
	check(t, err)
	k := keyring.ID(n).Key()
	if got := must(s.Search("user", "cli-key"))(t); got != k {
		t.Errorf("Search = %v, keyctl made %v", got, k)
	}
	if got := must(k.Read())(t); string(got) != "from the cli" {
		t.Errorf("Read = %q", got)
	}
	d := must(k.Describe())(t)
	if d.Type != "user" || d.Description != "cli-key" || d.Perm != 0x3f0b0000 || d.UID != uint32(os.Getuid()) {
		t.Errorf("Describe = %+v", d)
	}
	if got := keyctl(t, nil, "rdescribe", id); got != d.String()+"\n" {
		t.Errorf("keyctl rdescribe = %q, library %q", got, d.String())
	}
	r := must(keyring.Find("keyring", "cli-ring"))(t)
	if r.ID().String() != ring {
		t.Errorf("Find(keyring, cli-ring) = %v, keyctl made %s", r, ring)
	}
	if l := must(r.ID().Keyring().Links())(t); len(l) != 1 || l[0] != k {
		t.Errorf("Links = %v, want [%v]", l, k)
	}
}
