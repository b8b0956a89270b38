package keyring

import (
	"strings"

	"github.com/kernkeys/kernkeys/internal/keyctl"
)

// Public-key operations on asymmetric keys (Linux 4.20, keyctl_pkey_*(3)).
// info is the kernel's parameter string, space-separated "enc=<encoding>"
// and "hash=<algorithm>", for example "enc=pkcs1 hash=sha256"; it may be
// empty. An X.509 certificate gives a public key (query, encrypt, verify); a
// PKCS#8 private key (CONFIG_PKCS8_PRIVATE_KEY_PARSER) also decrypts and
// signs.

// PkeyOps is the set of operations a key supports.
type PkeyOps uint32

// The operations (KEYCTL_SUPPORTS_*).
const (
	PkeyEncrypt PkeyOps = 0x01
	PkeyDecrypt PkeyOps = 0x02
	PkeySign    PkeyOps = 0x04
	PkeyVerify  PkeyOps = 0x08
)

// PkeyInfo is what PkeyQuery reports.
type PkeyInfo struct {
	Supported PkeyOps
	// KeySize is the key's size in bits.
	KeySize uint32
	// The largest input and output sizes in bytes.
	MaxDataSize, MaxSigSize, MaxEncSize, MaxDecSize uint16
}

// PkeyQuery reports which operations k supports with info and their sizes
// (KEYCTL_PKEY_QUERY).
//
// Errors: ErrNotSupported (not an asymmetric key, or no
// CONFIG_ASYMMETRIC_KEY_TYPE; ENOPKG: the kernel lacks info's encoding or
// hash, as 5.10 lacks x962), ErrInvalid (info not understood; the zero
// Key or an unknown negative ID, the kernel's answer after it has parsed
// info), ErrPermission (no SEARCH).
func (k Key) PkeyQuery(info string) (PkeyInfo, error) {
	var c cstring
	p, err := k.checkPkey("pkey_query", info, &c)
	if err != nil {
		return PkeyInfo{}, err
	}
	var q keyctl.PkeyQueryResult
	if e := keyctl.PkeyQuery(int32(k.id), p, &q); e != 0 {
		return PkeyInfo{}, fail("pkey_query", k.id, e)
	}
	return PkeyInfo{
		Supported: PkeyOps(q.SupportedOps), KeySize: q.KeySize,
		MaxDataSize: q.MaxDataSize, MaxSigSize: q.MaxSigSize, MaxEncSize: q.MaxEncSize, MaxDecSize: q.MaxDecSize,
	}, nil
}

// Encrypt encrypts data with k into out, which must hold MaxEncSize bytes,
// and returns the length written (KEYCTL_PKEY_ENCRYPT).
func (k Key) Encrypt(info string, data, out []byte) (int, error) {
	return k.pkey("pkey_encrypt", keyctl.PkeyEncrypt, info, data, out)
}

// Decrypt decrypts data with k's private key into out (MaxDecSize bytes)
// and returns the length written (KEYCTL_PKEY_DECRYPT). On a key without a
// private part the kernel answers ErrInvalid (EINVAL, observed on 6.18);
// PkeyQuery's Supported says which operations a key has.
func (k Key) Decrypt(info string, data, out []byte) (int, error) {
	return k.pkey("pkey_decrypt", keyctl.PkeyDecrypt, info, data, out)
}

// Sign signs digest, a hash already computed with the algorithm info names,
// with k's private key into out (MaxSigSize bytes) and returns the length
// written (KEYCTL_PKEY_SIGN). Without a private key: as for Decrypt.
func (k Key) Sign(info string, digest, out []byte) (int, error) {
	return k.pkey("pkey_sign", keyctl.PkeySign, info, digest, out)
}

// Verify checks sig over digest with k (KEYCTL_PKEY_VERIFY). A signature
// that does not match is an error matching EKEYREJECTED (ErrRejected) or
// EBADMSG, as the kernel reports it.
func (k Key) Verify(info string, digest, sig []byte) error {
	_, err := k.pkey("pkey_verify", keyctl.PkeyVerify, info, digest, sig)
	return err
}

func (k Key) pkey(op string, code int, info string, in, out []byte) (int, error) {
	var c cstring
	p, err := k.checkPkey(op, info, &c)
	if err != nil {
		return 0, err
	}
	n, e := keyctl.PkeyOp(code, int32(k.id), p, in, out)
	if e != 0 {
		return 0, fail(op, k.id, e)
	}
	return n, nil
}

// checkPkey validates info and returns it as a C string held in c. The
// kernel looks k up after parsing info and answers a bad ID itself.
func (k Key) checkPkey(op, info string, c *cstring) (*byte, error) {
	if strings.IndexByte(info, 0) >= 0 || len(info) > MaxDescription {
		return nil, invalid(op, k.id, "info", "info contains a NUL byte or is too long")
	}
	return c.set(info), nil
}
