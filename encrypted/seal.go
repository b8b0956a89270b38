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

// Params describes the blob that [Seal] makes. The zero value, with a
// Master filled in, seals Default-format data under a random IV.
type Params struct {
	Format Format
	Master Master
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

// Seal encrypts plaintext under masterKey into the blob that the kernel
// would make for the same key, IV and parameters: the result, marshalled
// with [Blob.MarshalText] and given to the kernel with [LoadPayload],
// loads as an encrypted key holding plaintext, and reads back as the same
// bytes. This is how key material made elsewhere becomes an encrypted key
// when the kernel does not accept user-provided data (see
// [NewPayloadWithData]).
//
// masterKey is the master key's payload: the whole payload of the user key
// that p.Master names (or the unsealed bytes of a trusted key, which the
// kernel never shows to userspace). The encryption key is
// SHA-256("ENC_KEY\0" || masterKey || 0x00), the HMAC key is
// SHA-256("AUTH_KEY\0" || masterKey), both zero-padded to 32 bytes before
// hashing when masterKey is shorter than 23 bytes; the data is zero-padded
// to a multiple of 16 bytes and encrypted with AES-256-CBC, and the HMAC
// is HMAC-SHA256 over the format, master, datalen, IV and ciphertext.
//
// The length of plaintext must suit p.Format: 20 to 4096 bytes for
// Default, 32 for Enc32, 64 for Ecryptfs. For Ecryptfs the plaintext is the
// 64-byte eCryptfs key itself; the kernel builds the auth token around it
// at load (see [EcryptfsAuthTok]).
//
// Seal does not keep plaintext or masterKey, and wipes its own copies of
// derived keys. Errors match [ErrInvalid], except a failure of crypto/rand,
// which is returned wrapped.
func Seal(plaintext, masterKey []byte, p Params) (*Blob, error) {
	return seal("Seal", plaintext, masterKey, p)
}

func seal(op string, plaintext, masterKey []byte, p Params) (*Blob, error) {
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
	defer Wipe(encKey[:])
	block, _ := aes.NewCipher(encKey[:]) // a 32-byte key is always valid
	cipher.NewCBCEncrypter(block, b.IV[:]).CryptBlocks(b.Ciphertext, b.Ciphertext)

	authKey := deriveKey(authLabel, masterKey)
	defer Wipe(authKey[:])
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
// The caller owns the result and should [Wipe] it after use. Errors match
// [ErrInvalid]; a wrong master key or a changed blob also matches
// [ErrBadHMAC]. On error nothing is decrypted and the result is nil.
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
	defer Wipe(authKey[:])
	if !hmac.Equal(b.mac(authKey[:]), b.HMAC[:]) {
		return nil, kerr.Refusef("encrypted."+op, "hmac", "does not verify: wrong master key, or the blob was changed", ErrBadHMAC)
	}

	encKey := deriveKey(encLabel, masterKey)
	defer Wipe(encKey[:])
	block, _ := aes.NewCipher(encKey[:]) // a 32-byte key is always valid
	out := make([]byte, len(b.Ciphertext))
	cipher.NewCBCDecrypter(block, b.IV[:]).CryptBlocks(out, b.Ciphertext)
	Wipe(out[n:])
	return out[:n:n], nil
}

// Rewrap re-encrypts a blob from its current master key to newMaster, as
// the kernel's "update newMaster" followed by a read does: same format,
// same datalen token and the same IV (the kernel keeps the IV across
// update), so the result is byte-for-byte the blob the kernel would
// return. A Legacy blob comes out in the modern form, as the kernel reads
// it back. Use it to migrate stored blobs between masters when both master
// keys are at hand, without loading them into the kernel.
//
// Unlike the kernel's update, Rewrap can move between User and Trusted
// masters; the result then needs "load", since "update" cannot change the
// master's type.
//
// The HMAC of b is verified under oldMasterKey before anything is
// decrypted; the plaintext is wiped before Rewrap returns. Errors match
// [ErrInvalid], and [ErrBadHMAC] for a wrong oldMasterKey.
func Rewrap(b *Blob, oldMasterKey, newMasterKey []byte, newMaster Master) (*Blob, error) {
	const op = "Rewrap"
	if err := newMaster.check(op); err != nil {
		return nil, err
	}
	if err := checkMasterKey(op, newMasterKey); err != nil {
		return nil, err
	}
	plaintext, err := open(op, b, oldMasterKey)
	if err != nil {
		return nil, err
	}
	defer Wipe(plaintext)
	return seal(op, plaintext, newMasterKey, Params{
		Format:  b.Format,
		Master:  newMaster,
		DataLen: b.DataLen,
		IV:      b.IV[:],
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
	defer Wipe(buf)
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

// Wipe overwrites b with zeros. Use it on plaintext and master keys once
// they are no longer needed. It cannot reach copies made elsewhere: the
// AES key schedule and HMAC state inside the standard library, or memory
// that the garbage collector moved; it narrows the exposure, it does not
// remove it.
func Wipe(b []byte) { keyring.Wipe(b) }
