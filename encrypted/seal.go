package encrypted

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"strconv"

	"github.com/kernkeys/kernkeys/internal/kerr"

	"github.com/kernkeys/kernkeys/keyring"
)

// Labels of the kernel's key derivation (get_derived_key()).
const (
	encLabel  = "ENC_KEY"
	authLabel = "AUTH_KEY"
)

// maxMasterKey is the largest master key: the payload limit of a user key.
const maxMasterKey = 32767

// SealOptions are the parameters of [Seal]: the master key, and the blob
// to make. MasterKey and Master are required; the zero values of the
// others seal Default-format data under a random IV.
type SealOptions struct {
	// MasterKey is the master key's payload: the whole payload of the
	// user key that Master names (or the unsealed bytes of a trusted key,
	// which the kernel never shows to userspace). It belongs to the
	// caller; Seal does not keep it.
	MasterKey []byte
	// Master names the master key in the blob.
	Master Master
	// Format is the blob's format. Zero is Default.
	Format Format
	// DataLen is the datalen token to write, verbatim; it is covered by the
	// HMAC. Empty means the decimal length of the plaintext. Other
	// spellings that kstrtol accepts ("032", "+32", "32\n") exist only to
	// reproduce blobs that the kernel made from such payloads.
	DataLen string
	// IV is the 16-byte AES-CBC IV. Nil means 16 bytes from crypto/rand,
	// as the kernel's "new" does. A fixed IV is for known-answer tests and
	// for reproducing a blob; never reuse one for different data.
	IV []byte
}

// Seal encrypts plaintext under o.MasterKey into the blob that the kernel
// would make for the same key, IV and parameters: the result, marshalled
// with [Blob.MarshalText] and given to the kernel with [Load] (or
// [LoadPayload]), loads as an encrypted key holding plaintext, and reads
// back as the same bytes. This is how key material made elsewhere becomes
// an encrypted key when the kernel does not accept user-provided data (see
// [NewPayloadWithData]).
//
// The encryption key is SHA-256("ENC_KEY\0" || MasterKey || 0x00), the
// HMAC key is SHA-256("AUTH_KEY\0" || MasterKey), both zero-padded to 32
// bytes before hashing when MasterKey is shorter than 23 bytes; the data
// is zero-padded to a multiple of 16 bytes and encrypted with AES-256-CBC,
// and the HMAC is HMAC-SHA256 over the format, master, datalen, IV and
// ciphertext.
//
// The length of plaintext must suit o.Format: 20 to 4096 bytes for
// Default, 32 for Enc32, 64 for Ecryptfs. For Ecryptfs the plaintext is the
// 64-byte eCryptfs key itself; the kernel builds the auth token around it
// at load (see [EcryptfsAuthTok]).
//
// Seal does not keep plaintext or o.MasterKey, and wipes its own copies of
// derived keys. Errors match [keyring.ErrInvalid].
func Seal(plaintext []byte, o SealOptions) (*Blob, error) {
	return seal("Seal", plaintext, o)
}

func seal(op string, plaintext []byte, p SealOptions) (*Blob, error) {
	masterKey := p.MasterKey
	b := &Blob{Format: p.Format, Master: p.Master, DataLen: p.DataLen}
	if b.DataLen == "" {
		b.DataLen = strconv.Itoa(len(plaintext))
	}
	if err := b.Master.check(op); err != nil {
		return nil, err
	}
	n, err := b.dataLen(op)
	if err != nil {
		return nil, err
	}
	if n != len(plaintext) {
		return nil, invalid(op, "datalen", "declares "+strconv.Itoa(n)+" bytes but the plaintext has "+strconv.Itoa(len(plaintext)))
	}
	if err := checkMasterKey(op, masterKey); err != nil {
		return nil, err
	}
	switch {
	case p.IV == nil:
		rand.Read(b.IV[:]) // never fails: it would crash the program first
	case len(p.IV) != ivSize:
		return nil, invalid(op, "iv", "must be 16 bytes, not "+strconv.Itoa(len(p.IV)))
	default:
		copy(b.IV[:], p.IV)
	}

	// The padded plaintext is encrypted in place: no other copy exists.
	b.Ciphertext = make([]byte, roundUp(n))
	copy(b.Ciphertext, plaintext)
	encKey := deriveKey(encLabel, masterKey)
	defer keyring.Wipe(encKey[:])
	block, _ := aes.NewCipher(encKey[:]) // a 32-byte key is always valid
	cipher.NewCBCEncrypter(block, b.IV[:]).CryptBlocks(b.Ciphertext, b.Ciphertext)

	authKey := deriveKey(authLabel, masterKey)
	defer keyring.Wipe(authKey[:])
	copy(b.HMAC[:], b.mac(authKey[:]))
	return b, nil
}

// Open verifies the blob's HMAC under masterKey and, only if it matches,
// decrypts and returns the key's decrypted data: what the kernel holds
// after loading the blob. The HMAC comparison takes constant time. As in
// the kernel, the padding after the data is discarded unchecked.
//
// For an Ecryptfs blob the result is the 64-byte eCryptfs key, the
// session_key_encryption_key inside the auth token (see
// [EcryptfsAuthTok]); KEYCTL_READ of the key returns the blob, never the
// auth token.
//
// The caller owns the result and should wipe it with [keyring.Wipe] after
// use. Errors match [keyring.ErrInvalid]; a wrong master key or a changed
// blob also matches [ErrBadHMAC]. On error nothing is decrypted and the result is nil.
func Open(b *Blob, masterKey []byte) ([]byte, error) {
	return open("Open", b, masterKey)
}

func open(op string, b *Blob, masterKey []byte) ([]byte, error) {
	n, err := b.check(op)
	if err != nil {
		return nil, err
	}
	if err := checkMasterKey(op, masterKey); err != nil {
		return nil, err
	}
	authKey := deriveKey(authLabel, masterKey)
	defer keyring.Wipe(authKey[:])
	if !hmac.Equal(b.mac(authKey[:]), b.HMAC[:]) {
		return nil, kerr.Refusef("encrypted."+op, "hmac", "does not verify: wrong master key, or the blob was changed", ErrBadHMAC)
	}

	encKey := deriveKey(encLabel, masterKey)
	defer keyring.Wipe(encKey[:])
	block, _ := aes.NewCipher(encKey[:]) // a 32-byte key is always valid
	out := make([]byte, len(b.Ciphertext))
	cipher.NewCBCDecrypter(block, b.IV[:]).CryptBlocks(out, b.Ciphertext)
	keyring.Wipe(out[n:])
	return out[:n:n], nil
}

// RewrapOptions are the parameters of [Rewrap]: both master keys, and
// the name of the new one. All three are required.
type RewrapOptions struct {
	// OldMasterKey is the payload of the blob's current master key.
	OldMasterKey []byte
	// NewMasterKey is the payload of the master key that NewMaster names.
	NewMasterKey []byte
	// NewMaster names the master key of the result.
	NewMaster Master
}

// Rewrap re-encrypts a blob from its current master key to o.NewMaster,
// as the kernel's "update" followed by a read does: same format, same
// datalen token and the same IV (the kernel keeps the IV across update),
// so the result is byte-for-byte the blob the kernel would return. A
// Legacy blob comes out in the modern form, as the kernel reads it back.
// Use it to migrate stored blobs between masters when both master keys
// are at hand, without loading them into the kernel.
//
// Unlike the kernel's update, Rewrap can move between UserMaster and
// TrustedMaster masters; the result then needs "load", since "update"
// cannot change the master's type.
//
// The HMAC of b is verified under o.OldMasterKey before anything is
// decrypted; the plaintext is wiped before Rewrap returns. Rewrap does not
// keep the master keys. Errors match [keyring.ErrInvalid], and
// [ErrBadHMAC] for a wrong OldMasterKey.
func Rewrap(b *Blob, o RewrapOptions) (*Blob, error) {
	const op = "Rewrap"
	if err := o.NewMaster.check(op); err != nil {
		return nil, err
	}
	if err := checkMasterKey(op, o.NewMasterKey); err != nil {
		return nil, err
	}
	plaintext, err := open(op, b, o.OldMasterKey)
	if err != nil {
		return nil, err
	}
	defer keyring.Wipe(plaintext)
	return seal(op, plaintext, SealOptions{
		MasterKey: o.NewMasterKey,
		Master:    o.NewMaster,
		Format:    b.Format,
		DataLen:   b.DataLen,
		IV:        b.IV[:],
	})
}

// mac returns the kernel's HMAC of b under authKey.
func (b *Blob) mac(authKey []byte) []byte {
	h := hmac.New(sha256.New, authKey)
	h.Write(b.macInput(nil))
	return h.Sum(nil)
}

func checkMasterKey(op string, masterKey []byte) error {
	switch {
	case len(masterKey) == 0:
		return invalid(op, "master key", "is empty")
	case len(masterKey) > maxMasterKey:
		return invalid(op, "master key", "is longer than 32767 bytes, the largest user key")
	}
	return nil
}

// deriveKey returns SHA-256 of kdfInput(label, masterKey).
func deriveKey(label string, masterKey []byte) [sha256.Size]byte {
	buf := kdfInput(label, masterKey)
	defer keyring.Wipe(buf)
	return sha256.Sum256(buf)
}

// kdfInput returns the buffer that get_derived_key() hashes: label, a NUL,
// masterKey, in a zeroed buffer of max(len("AUTH_KEY")+1+len(masterKey), 32)
// bytes. For encLabel that leaves one extra 0x00 after masterKey, and a
// master key shorter than 23 bytes is zero-padded to 32.
func kdfInput(label string, masterKey []byte) []byte {
	buf := make([]byte, max(len(authLabel)+1+len(masterKey), sha256.Size))
	copy(buf, label)
	copy(buf[len(label)+1:], masterKey)
	return buf
}
