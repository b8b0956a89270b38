// Package atomicfile writes a file so that a crash leaves either the old
// contents or the new, never a mix: the one way kernkeys stores blobs
// (encrypted.Blob.WriteFile) and the way examples/nvdimm-keys keeps its
// journal.
package atomicfile

import (
	"os"
	"path/filepath"
)

// Write writes data to name privately and atomically: into a temporary
// file ".<name>.tmp*" in the same directory, created with mode 0600,
// synced, then renamed over name, and the directory synced. A crash leaves
// the old file or the new one (and perhaps the temporary file beside it).
// beforeRename, if not nil, runs after the sync and before the rename: a
// hook for tests that crash there.
func Write(name string, data []byte, beforeRename func()) (err error) {
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
