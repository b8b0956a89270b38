package encrypted

import (
	"os"

	"github.com/kernkeys/kernkeys/internal/atomicfile"
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
	if err := atomicfile.Write(name, text, nil); err != nil {
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
