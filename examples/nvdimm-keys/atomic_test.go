//go:build linux

package main

import (
	"os"
	"path/filepath"
	"testing"
)

// writeFileAtomic replaces the file whole, mode 0600, leaves no temporary
// file, and runs its hook after the data is synced and before the rename:
// the old contents are still in place when the crash tests kill it there.
func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "nvdimm_nmem0_host.blob")
	if err := os.WriteFile(name, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	hooked := false
	err := writeFileAtomic(name, []byte("new"), func() {
		hooked = true
		if b, err := os.ReadFile(name); err != nil || string(b) != "old" {
			t.Errorf("before the rename, %s holds %q (%v); want the old contents", name, b, err)
		}
		tmp, _ := filepath.Glob(filepath.Join(dir, ".nvdimm_nmem0_host.blob.tmp*"))
		if len(tmp) != 1 {
			t.Errorf("before the rename, temporary files %v; want one that begin would remove", tmp)
		}
	})
	if err != nil || !hooked {
		t.Fatalf("writeFileAtomic = %v, hook ran %v", err, hooked)
	}
	b, err := os.ReadFile(name)
	if err != nil || string(b) != "new" {
		t.Fatalf("%s holds %q (%v), want the new contents", name, b, err)
	}
	fi, err := os.Stat(name)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v (%v), want 0600", fi.Mode(), err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("the directory holds %d entries, want only the file", len(entries))
	}
	if err := writeFileAtomic(filepath.Join(dir, "missing", "x"), nil, nil); err == nil {
		t.Error("writeFileAtomic into a missing directory succeeded")
	}
}
