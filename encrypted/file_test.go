package encrypted

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteFile(t *testing.T) {
	b, err := Seal(make([]byte, 32), SealOptions{MasterKey: testKMK, Master: userKMK, IV: testIV})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	name := filepath.Join(dir, "key.blob")
	// An existing file, readable by all, is replaced by a private one.
	if err := os.WriteFile(name, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := b.WriteFile(name); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(name)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("blob file: %v, mode %v; want 0600", err, fi.Mode())
	}
	got, _ := os.ReadFile(name)
	if want, _ := b.MarshalText(); !bytes.Equal(got, want) {
		t.Errorf("file holds %q, want the blob's text", got)
	}
	back, err := ReadFile(name)
	if err != nil || mustMarshal(t, back) != mustMarshal(t, b) {
		t.Errorf("ReadFile: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the directory holds %d entries, want only the blob", len(entries))
	}

	// A failed write leaves nothing behind.
	if err := b.WriteFile(filepath.Join(dir, "missing", "key.blob")); err == nil {
		t.Error("writing into a missing directory succeeded")
	}
	if _, err := ReadFile(filepath.Join(dir, "absent.blob")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadFile of an absent file: %v", err)
	}
	if err := os.WriteFile(name, []byte("not a blob"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(name); err == nil {
		t.Error("ReadFile parsed garbage")
	}
}
