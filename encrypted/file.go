package encrypted

import (
	"os"
	"path/filepath"
)

// WriteFile writes the blob's text to the file name, atomically and
// privately: into a temporary file in the same directory, created with
// mode 0600, synced, then renamed over name, and the directory synced. A
// crash leaves the old file or the new one, never a mix (and perhaps a
// temporary file ".<name>.tmp*" beside it). This is how a blob should be
// stored: losing it loses the key it holds.
//
// A failed write is a *keyring.Error that unwraps to the errno, so
// errors.Is(err, fs.ErrNotExist) and the like work.
func (b *Blob) WriteFile(name string) error {
	text, err := b.MarshalText()
	if err != nil {
		return err
	}
	if err := writeFileAtomic(name, text); err != nil {
		return fileError("Blob.WriteFile", "writing "+name, err)
	}
	return nil
}

// ReadFile reads and parses the blob stored in the file name. A failed read
// is a *keyring.Error that unwraps to the errno (errors.Is(err,
// fs.ErrNotExist) for a missing file).
func ReadFile(name string) (*Blob, error) {
	text, err := os.ReadFile(name)
	if err != nil {
		return nil, fileError("ReadFile", "reading "+name, err)
	}
	return ParseBlob(text)
}

// writeFileAtomic writes data to name as WriteFile describes: a temporary
// file ".<name>.tmp*" in the same directory, mode 0600, synced, renamed
// over name, then the directory synced.
func writeFileAtomic(name string, data []byte) (err error) {
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
