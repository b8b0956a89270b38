//go:build linux

package main

import (
	"bytes"
	"crypto/rand"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kernkeys/kernkeys/encrypted"
	"github.com/kernkeys/kernkeys/internal/keytest"
)

func openBlob(t *testing.T, name string, mk []byte) []byte {
	t.Helper()
	text, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	b, err := encrypted.ParseBlob(text)
	if err != nil {
		t.Fatal(err)
	}
	pt, err := encrypted.Open(b, mk)
	if err != nil {
		t.Fatal(err)
	}
	return pt
}

// The three commands end to end, in the test's session: the binary is
// started from the test's locked thread and inherits its session.
func TestMigrateCommand(t *testing.T) {
	bin := keytest.Build(t, ".")
	s := keytest.Session(t)
	kmk, kmk2 := make([]byte, 32), []byte("second master")
	rand.Read(kmk)
	for name, mk := range map[string][]byte{"kmk": kmk, "kmk2": kmk2} {
		if _, err := s.Add("user", name, mk); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	material := make([]byte, 64)
	rand.Read(material)
	run := func(stdin []byte, args ...string) (string, error) {
		cmd := exec.Command(bin, args...)
		cmd.Stdin = bytes.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	blob := filepath.Join(dir, "key.blob")
	out, err := run(material, "import", "--key-file", "-", "--format", "ecryptfs", "--master", "user:kmk",
		"--desc", "0123456789abcdef", "--keyring", "@s", "--out", blob)
	if err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	if bytes.Contains([]byte(out), material) {
		t.Error("import printed key material")
	}
	if fi, err := os.Stat(blob); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("blob file: %v, mode %v", err, fi.Mode())
	}
	if got := openBlob(t, blob, kmk); !bytes.Equal(got, material) {
		t.Error("the imported blob does not hold the key material")
	}
	if matches, _ := filepath.Glob(filepath.Join(dir, ".*tmp*")); len(matches) != 0 {
		t.Errorf("temporary files left: %v", matches)
	}

	moved := filepath.Join(dir, "moved.blob")
	if out, err := run(nil, "move", "--in", blob, "--master", "user:kmk2", "--desc", "0123456789abcdef", "--keyring", "@s", "--out", moved); err == nil || !strings.Contains(out, "already exists") {
		t.Errorf("move onto an existing description: %v\n%s", err, out)
	}
	if out, err := run(nil, "move", "--in", blob, "--master", "user:kmk2", "--desc", "fedcba9876543210", "--keyring", "@s", "--out", moved); err != nil {
		t.Fatalf("move: %v\n%s", err, out)
	}
	if got := openBlob(t, moved, kmk2); !bytes.Equal(got, material) {
		t.Error("the moved blob does not hold the key material")
	}

	oldKey, newKey := filepath.Join(dir, "kmk2"), filepath.Join(dir, "kmk")
	os.WriteFile(oldKey, kmk2, 0o600)
	os.WriteFile(newKey, kmk, 0o600)
	back := filepath.Join(dir, "back.blob")
	if out, err := run(nil, "rewrap", "--in", moved, "--old-key-file", oldKey, "--new-key-file", newKey, "--master", "user:kmk", "--out", back); err != nil {
		t.Fatalf("rewrap: %v\n%s", err, out)
	}
	if a, b := must(os.ReadFile(back)), must(os.ReadFile(blob)); !bytes.Equal(a, b) {
		t.Error("rewrapping back to kmk does not give the original blob")
	}

	// Usage errors exit 2; a wrong master key exits 1 and writes nothing.
	var exit *exec.ExitError
	if _, err := run(nil, "import", "--master", "user:kmk", "--out", blob); !errors.As(err, &exit) || exit.ExitCode() != 2 {
		t.Errorf("import without --key-file: %v, want exit 2", err)
	}
	bad := filepath.Join(dir, "bad.blob")
	out, err = run(nil, "rewrap", "--in", moved, "--old-key-file", newKey, "--new-key-file", newKey, "--master", "user:kmk", "--out", bad)
	if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(out, "does not verify") {
		t.Errorf("rewrap with the wrong key: %v\n%s", err, out)
	}
	if _, err := os.Stat(bad); !os.IsNotExist(err) {
		t.Errorf("a failed rewrap wrote %s", bad)
	}
	if out, err := run(nil, "--help"); err != nil || !strings.Contains(out, "migrate import") {
		t.Errorf("--help: %v\n%s", err, out)
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
