package encrypted

import (
	"encoding/hex"
	"os"
	"strconv"
)

// NewPayload returns the add_key payload that makes a new encrypted key of
// format f holding length random bytes, encrypted under m:
//
//	new <format> <type>:<name> <length>
//
// The format word is always written, even for Default. The kernel does not
// look up the master key at "new" (only when the key is read), so a
// missing master key is not an error here. For an Ecryptfs key the key's
// description must also pass [ValidateDescription]. Errors match
// [ErrInvalid].
func NewPayload(f Format, m Master, length int) ([]byte, error) {
	return newPayload("NewPayload", f, m, length, nil)
}

// NewPayloadWithData returns the add_key payload that makes a new
// encrypted key of format f holding data, encrypted under m:
//
//	new <format> <type>:<name> <len(data)> <hex(data)>
//
// The kernel accepts it only when its module parameter
// encrypted_keys.user_decrypted_data is on (CONFIG_USER_DECRYPTED_DATA=y,
// Linux 5.18 and later); otherwise it fails with EINVAL. Kernels before
// the fix "KEYS: encrypted: fix key instantiation with user-provided data"
// stored the hex text itself instead of the bytes. Where the option is
// off, [Seal] with [LoadPayload] imports the same data. The kernel does not
// look for the master key when it makes the key, only when the key's blob
// is read: a "new" with a missing master succeeds, and the first read
// fails with ENOKEY (seen on Linux 6.1 in the VM; [Import] reads the blob
// at once, so it reports the missing master).
//
// The payload contains data in hex: the caller owns it and should [Wipe]
// it after use. Errors match [ErrInvalid].
func NewPayloadWithData(f Format, m Master, data []byte) ([]byte, error) {
	return newPayload("NewPayloadWithData", f, m, len(data), data)
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
// [ValidateDescription]. Errors match [ErrInvalid].
func LoadPayload(b *Blob) ([]byte, error) {
	const op = "LoadPayload"
	p, err := b.appendText(op, append([]byte(nil), loadKeyword...))
	if err != nil {
		return nil, err
	}
	if len(p) > maxPayload {
		return nil, invalid(op, "payload", "is longer than 32767 bytes")
	}
	return p, nil
}

// UpdatePayload returns the KEYCTL_UPDATE payload that moves an encrypted
// key from master from to master to:
//
//	update <type>:<name>
//
// The kernel keeps the key's data, format, datalen and IV; it looks up
// neither master key (see [Rewrap] for the same change done in userspace).
// It refuses to change the master's type, so from.Kind must equal to.Kind.
// The payload may not exceed the page size. Errors match [ErrInvalid].
func UpdatePayload(from, to Master) ([]byte, error) {
	const op = "UpdatePayload"
	if err := from.check(op); err != nil {
		return nil, err
	}
	if err := to.check(op); err != nil {
		return nil, err
	}
	if from.Kind != to.Kind {
		return nil, invalid(op, "master", "the kernel's update cannot change the master key type between user and trusted")
	}
	p := append([]byte("update "), to.String()...)
	if len(p) > min(os.Getpagesize(), maxPayload) {
		return nil, invalid(op, "payload", "is longer than the page size")
	}
	return p, nil
}
