package encrypted

import (
	"encoding/hex"
	"os"
	"strconv"
)

// Options are the parameters of a new encrypted key, one whose data the
// kernel generates: [New] and [NewPayload]. Only Master is required; the
// zero values of the others are the usual key.
type Options struct {
	// Master names the master key the key's data is encrypted under; the
	// zero Master is refused. The kernel does not look it up at "new",
	// only when the key is read or loaded.
	Master Master
	// Format is the key's format. Zero is Default.
	Format Format
	// Length is the number of bytes of key data, within the format's
	// size rule (see [Format]). Zero means 32, or 64 for Ecryptfs, the one
	// size that format holds.
	Length int
}

// length returns o.Length with its zero value resolved.
func (o Options) length() int {
	switch {
	case o.Length != 0:
		return o.Length
	case o.Format == Ecryptfs:
		return ecryptfsDataLen
	}
	return enc32DataLen
}

// NewPayload returns the add_key payload that makes a new encrypted key of
// format o.Format holding o.Length random bytes, encrypted under o.Master:
//
//	new <format> <type>:<name> <length>
//
// The format word is always written, even for Default. The kernel does not
// look up the master key at "new" (only when the key is read), so a
// missing master key is not an error here. For an Ecryptfs key the key's
// description must also pass [ValidateDescription]. [New] makes the key
// with it. Errors match [keyring.ErrInvalid].
func NewPayload(o Options) ([]byte, error) {
	return newPayload("NewPayload", o.Format, o.Master, o.length(), nil)
}

// NewPayloadWithData returns the add_key payload that makes a new
// encrypted key of format o.Format holding data, encrypted under o.Master:
//
//	new <format> <type>:<name> <len(data)> <hex(data)>
//
// o.Length must be zero or len(data).
//
// The kernel accepts it only when its module parameter
// encrypted_keys.user_decrypted_data is on (CONFIG_USER_DECRYPTED_DATA=y,
// Linux 5.19 and later); otherwise it fails with EINVAL. Kernels before
// the fix "KEYS: encrypted: fix key instantiation with user-provided data"
// stored the hex text itself instead of the bytes. A kernel before 5.19
// does not know the data at all and ignores it: the add succeeds and the
// key holds random data, not data (seen on Linux 5.10 in the VM). [Import]
// probes for that before it sends the data; a caller adding this payload
// itself must know its kernel. Where the option is off, [Seal] with
// [LoadPayload] imports the same data. The kernel does not
// look for the master key when it makes the key, only when the key's blob
// is read: a "new" with a missing master succeeds, and the first read
// fails with ENOKEY (seen on Linux 6.1 in the VM; [Import] reads the blob
// at once, so it reports the missing master).
//
// The payload contains data in hex: the caller owns it and should wipe it
// with keyring.Wipe after use. Errors match [keyring.ErrInvalid].
func NewPayloadWithData(data []byte, o Options) ([]byte, error) {
	const op = "NewPayloadWithData"
	if o.Length != 0 && o.Length != len(data) {
		return nil, invalid(op, "Options.Length", "is "+strconv.Itoa(o.Length)+" but the data has "+strconv.Itoa(len(data))+" bytes; leave it zero")
	}
	return newPayload(op, o.Format, o.Master, len(data), data)
}

func newPayload(op string, f Format, m Master, n int, data []byte) ([]byte, error) {
	if err := f.checkDataLen(op, n); err != nil {
		return nil, err
	}
	if err := m.check(op); err != nil {
		return nil, err
	}
	length := strconv.Itoa(n)
	size := len("new ") + len(f.String()) + 1 + len(m.Kind.String()) + 1 + len(m.Name) + 1 + len(length)
	if len(data) > 0 {
		size += 1 + hex.EncodedLen(len(data))
	}
	if size > maxPayload {
		return nil, invalid(op, "payload", "is longer than 32767 bytes")
	}
	p := make([]byte, 0, size)
	p = append(p, "new "...)
	p = append(p, f.String()...)
	p = append(p, ' ')
	p = append(p, m.String()...)
	p = append(p, ' ')
	p = append(p, length...)
	if len(data) > 0 {
		p = append(p, ' ')
		p = hex.AppendEncode(p, data)
	}
	return p, nil
}

// LoadPayload returns the add_key payload that loads b:
//
//	load <blob>
//
// The kernel looks up b.Master, verifies the HMAC and decrypts; it fails
// with ENOKEY if the master key is not reachable from the caller's
// keyrings. For an Ecryptfs blob the key's description must pass
// [ValidateDescription]. [Load] makes the key with it. Errors match
// [keyring.ErrInvalid].
func LoadPayload(b *Blob) ([]byte, error) {
	return loadPayload("LoadPayload", b)
}

func loadPayload(op string, b *Blob) ([]byte, error) {
	p, err := b.appendText(op, append([]byte(nil), loadKeyword...))
	if err != nil {
		return nil, err
	}
	if len(p) > maxPayload {
		return nil, invalid(op, "payload", "is longer than 32767 bytes")
	}
	return p, nil
}

// UpdateOptions are the parameters of the kernel's "update": [Update] and
// [UpdatePayload]. Both masters are required.
type UpdateOptions struct {
	// From is the key's current master. Its Kind must equal To's: the
	// kernel's update cannot change the master's type.
	From Master
	// To is the master the key moves to.
	To Master
}

// UpdatePayload returns the KEYCTL_UPDATE payload that moves an encrypted
// key from master o.From to master o.To:
//
//	update <type>:<name>
//
// The kernel keeps the key's data, format, datalen and IV; it looks up
// neither master key (see [Rewrap] for the same change done in userspace).
// It refuses to change the master's type, so o.From.Kind must equal
// o.To.Kind. The payload may not exceed the page size. [Update] updates
// the key with it. Errors match [keyring.ErrInvalid].
func UpdatePayload(o UpdateOptions) ([]byte, error) {
	return updatePayload("UpdatePayload", o)
}

func updatePayload(op string, o UpdateOptions) ([]byte, error) {
	if err := o.From.check(op); err != nil {
		return nil, err
	}
	if err := o.To.check(op); err != nil {
		return nil, err
	}
	if o.From.Kind != o.To.Kind {
		return nil, invalid(op, "master", "the kernel's update cannot change the master key type between user and trusted")
	}
	p := append([]byte("update "), o.To.String()...)
	if len(p) > min(os.Getpagesize(), maxPayload) {
		return nil, invalid(op, "payload", "is longer than the page size")
	}
	return p, nil
}
