package asymmetric

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strconv"
	"syscall"

	"github.com/kernkeys/kernkeys/internal/kerr"
	"github.com/kernkeys/kernkeys/internal/keyctl"
	"github.com/kernkeys/kernkeys/keyring"
)

// Key is an asymmetric key held by the kernel, with its public key. It is
// a crypto.Signer and a crypto.Decrypter: Sign and Decrypt run in the
// kernel (KEYCTL_PKEY_SIGN, KEYCTL_PKEY_DECRYPT) and the private key never
// enters the process. A Key is a value over a keyring.Key: it holds no
// resource, and is safe for concurrent use.
type Key struct {
	key keyring.Key
	pub crypto.PublicKey // *rsa.PublicKey or *ecdsa.PublicKey
	ops keyring.PkeyOps
}

var (
	_ crypto.Signer    = (*Key)(nil)
	_ crypto.Decrypter = (*Key)(nil)
)

// New returns the Key for k, an "asymmetric" key in the kernel, whose
// public key is pub: an *rsa.PublicKey or an *ecdsa.PublicKey, usually
// the certificate's (x509.Certificate.PublicKey). The kernel never gives
// an asymmetric key's public key back (the type has no read), so the
// caller supplies it, and New checks it against the kernel's key: the
// algorithm and size (KEYCTL_PKEY_QUERY) and, for RSA, the modulus and
// exponent (the kernel encrypts a random value, enc=raw, and New compares
// it with the same computation over pub). For ECDSA it can check only the
// algorithm and the curve's size.
//
// Errors: keyring.ErrInvalid with Refused set and Field "pub" (nil, an
// unsupported type, or a public key that is not the kernel key's);
// keyring.ErrInvalid from the kernel (k is not an RSA or ECDSA key as pub
// says, or no key); keyring.ErrNotSupported (k is not an asymmetric key,
// or the kernel lacks the algorithm: ENOPKG for ECDSA's x962 encoding
// before Linux 5.13, whatever k's algorithm); keyring.ErrPermission (no
// SEARCH on k).
func New(k keyring.Key, pub crypto.PublicKey) (*Key, error) {
	const op = "asymmetric.New"
	var probe, alg string
	var bits int
	switch p := pub.(type) {
	case *rsa.PublicKey:
		if p == nil || p.N == nil {
			return nil, kerr.Refuse(op, "pub", "the RSA public key is nil")
		}
		probe, alg, bits = "enc=pkcs1", "RSA", p.Size()*8
	case *ecdsa.PublicKey:
		if p == nil || p.Curve == nil {
			return nil, kerr.Refuse(op, "pub", "the ECDSA public key is nil")
		}
		probe, alg, bits = "enc=x962 hash=sha256", "ECDSA", curveBytes(p)*8
	case nil:
		return nil, kerr.Refuse(op, "pub", "no public key: the kernel does not give out an asymmetric key's public key, pass the certificate's")
	default:
		return nil, kerr.Refuse(op, "pub", fmt.Sprintf("a %T: the kernel's keys are RSA or ECDSA here", pub))
	}
	q, err := k.PkeyQuery(probe)
	if err != nil {
		var e *keyring.Error
		if errors.As(err, &e) && e.Errno == syscall.EINVAL {
			return nil, kerr.WithReason(e, "the kernel key takes no "+probe+": it is not an "+alg+" key")
		}
		if errors.As(err, &e) && e.Errno == keyctl.ENOPKG {
			// 5.10's software_key_determine_akcipher knows the
			// encodings pkcs1 and raw only, whatever the key.
			return nil, kerr.WithReason(e, "the kernel's public-key code has no "+probe+" ("+alg+"): ECDSA keys need Linux 5.13 or later")
		}
		return nil, err
	}
	if int(q.KeySize) != bits {
		return nil, kerr.Refuse(op, "pub", "the kernel key has "+strconv.Itoa(int(q.KeySize))+" bits, the "+alg+" public key "+strconv.Itoa(bits))
	}
	key := &Key{key: k, pub: pub, ops: q.Supported}
	if p, ok := pub.(*rsa.PublicKey); ok {
		if err := key.checkModulus(p); err != nil {
			return nil, err
		}
	}
	return key, nil
}

// checkModulus has the kernel encrypt a random value with raw RSA and
// compares the result with m^e mod n over p.
func (k *Key) checkModulus(p *rsa.PublicKey) error {
	m := make([]byte, p.Size()-1) // below 2^(8(size-1)) <= n
	if _, err := rand.Read(m); err != nil {
		return kerr.Errno("asymmetric.New", syscall.EIO, "no random bytes: "+err.Error())
	}
	out := make([]byte, p.Size())
	n, err := k.key.Encrypt("enc=raw", m, out)
	if err != nil {
		return err
	}
	want := new(big.Int).Exp(new(big.Int).SetBytes(m), big.NewInt(int64(p.E)), p.N)
	if new(big.Int).SetBytes(out[:n]).Cmp(want) != 0 {
		return kerr.Refuse("asymmetric.New", "pub", "the RSA public key is not the kernel key's (a raw encryption differs)")
	}
	return nil
}

// Public returns the public key given to New: an *rsa.PublicKey or an
// *ecdsa.PublicKey.
func (k *Key) Public() crypto.PublicKey { return k.pub }

// Key returns the kernel key.
func (k *Key) Key() keyring.Key { return k.key }

// Private reports whether the kernel holds the private key (loaded from
// PKCS#8) and so signs and decrypts; a key from a certificate only
// verifies and encrypts.
func (k *Key) Private() bool { return k.ops&keyring.PkeySign != 0 }

// Sign signs digest, which the caller hashed with opts.HashFunc(), with
// the kernel's private key, as crypto.Signer asks.
//
// RSA: opts other than *rsa.PSSOptions give a PKCS#1 v1.5 signature (the
// kernel's enc=pkcs1 with the hash's DigestInfo; a zero hash or
// crypto.MD5SHA1 signs digest as given, as TLS 1.0 did). *rsa.PSSOptions
// gives RSASSA-PSS: the kernel has no PSS encoding (6.1, 6.18), so Sign
// encodes the digest (EMSA-PSS, RFC 8017 9.1.1) here and has the kernel
// apply the private key to it (KEYCTL_PKEY_DECRYPT, enc=raw); this is
// what lets a TLS 1.3 server sign with an RSA key. ECDSA: an ASN.1
// signature (enc=x962), where a kernel has ECDSA private keys (no kernel
// up to 6.1 does: its PKCS#8 parser takes RSA keys only).
//
// rand is used only for the PSS salt (crypto/rand when nil).
//
// Errors: keyring.ErrInvalid with Refused set for a hash the kernel does
// not sign with (Field "opts": SHA-1 and SHA-2 are), a digest of the
// wrong length (Field "digest"), PSS options over an ECDSA key, or a key
// without a private part; the errors of keyring.Key.Sign and Decrypt.
func (k *Key) Sign(rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	const op = "asymmetric.Sign"
	if !k.Private() {
		return nil, kerr.Refuse(op, "", "the kernel holds only the public key (a certificate, not a PKCS#8 private key)")
	}
	if pss, ok := opts.(*rsa.PSSOptions); ok {
		if p, ok := k.pub.(*rsa.PublicKey); ok {
			return k.signPSS(rand, p, digest, pss)
		}
	}
	info, err := k.signInfo(op, digest, opts)
	if err != nil {
		return nil, err
	}
	out := make([]byte, k.sigSize())
	n, err := k.key.Sign(info, digest, out)
	if err != nil {
		return nil, err
	}
	return out[:n], nil
}

// Verify checks sig over digest in the kernel (KEYCTL_PKEY_VERIFY), with
// the encoding and hash opts select as for Sign. A certificate's key
// verifies too.
//
// Errors: keyring.ErrNotSupported for *rsa.PSSOptions (the kernel's
// pkey_verify has no PSS encoding: use rsa.VerifyPSS with Public());
// keyring.ErrRejected or EBADMSG for a signature that does not match, as
// the kernel reports it; the refusals of Sign; the errors of
// keyring.Key.Verify.
func (k *Key) Verify(digest, sig []byte, opts crypto.SignerOpts) error {
	const op = "asymmetric.Verify"
	if _, ok := opts.(*rsa.PSSOptions); ok {
		return kerr.Errno(op, syscall.EOPNOTSUPP, "RSA-PSS: the kernel's pkey_verify takes enc=pkcs1 and enc=raw for RSA (crypto/asymmetric_keys/public_key.c)")
	}
	info, err := k.signInfo(op, digest, opts)
	if err != nil {
		return err
	}
	return k.key.Verify(info, digest, sig)
}

// Decrypt decrypts msg with the kernel's private RSA key, as
// crypto.Decrypter asks. opts nil or *rsa.PKCS1v15DecryptOptions: PKCS#1
// v1.5 (enc=pkcs1). With SessionKeyLen set, a ciphertext whose padding
// the kernel rejects or whose plaintext has another length
// gives SessionKeyLen random bytes from rand (crypto/rand when nil)
// instead of an error, as rsa.DecryptPKCS1v15SessionKey does; the
// kernel's timing is not constant, so TLS RSA key exchange stays as weak
// as it is everywhere. Go 1.26 deprecates PKCS#1 v1.5 encryption as
// dangerous; it is the only padding the kernel decrypts, and crypto/tls
// asks for it only for RSA key exchange, off by default.
//
// Errors: keyring.ErrNotSupported for *rsa.OAEPOptions (the kernel has no
// OAEP decoding) and for ECDSA keys; keyring.ErrInvalid with Refused set
// for a ciphertext that is not the modulus's size (Field "msg"), other
// opts (Field "opts"), or a key without a private part; the errors of
// keyring.Key.Decrypt.
func (k *Key) Decrypt(random io.Reader, msg []byte, opts crypto.DecrypterOpts) ([]byte, error) {
	const op = "asymmetric.Decrypt"
	p, ok := k.pub.(*rsa.PublicKey)
	if !ok {
		return nil, kerr.Errno(op, syscall.EOPNOTSUPP, "an ECDSA key does not decrypt")
	}
	var sessionKeyLen int
	switch o := opts.(type) {
	case nil:
	case *rsa.PKCS1v15DecryptOptions: //lint:ignore SA1019 the one padding the kernel decrypts, and what crypto/tls passes
		sessionKeyLen = o.SessionKeyLen
	case *rsa.OAEPOptions:
		return nil, kerr.Errno(op, syscall.EOPNOTSUPP, "RSA-OAEP: the kernel decrypts with enc=pkcs1 (PKCS#1 v1.5) and enc=raw only (crypto/asymmetric_keys/public_key.c)")
	default:
		return nil, kerr.Refuse(op, "opts", fmt.Sprintf("%T: want nil or *rsa.PKCS1v15DecryptOptions", opts))
	}
	if !k.Private() {
		return nil, kerr.Refuse(op, "", "the kernel holds only the public key (a certificate, not a PKCS#8 private key)")
	}
	if len(msg) != p.Size() {
		return nil, kerr.Refuse(op, "msg", "the ciphertext has "+strconv.Itoa(len(msg))+" bytes, the key's modulus "+strconv.Itoa(p.Size()))
	}
	if sessionKeyLen > 0 {
		return k.decryptSessionKey(random, msg, sessionKeyLen)
	}
	out := make([]byte, p.Size())
	n, err := k.key.Decrypt("enc=pkcs1", msg, out)
	if err != nil {
		return nil, err
	}
	return out[:n], nil
}

func (k *Key) decryptSessionKey(random io.Reader, msg []byte, size int) ([]byte, error) {
	if random == nil {
		random = rand.Reader
	}
	key := make([]byte, size)
	if _, err := io.ReadFull(random, key); err != nil {
		return nil, kerr.Errno("asymmetric.Decrypt", syscall.EIO, "no random bytes: "+err.Error())
	}
	out := make([]byte, len(msg))
	n, err := k.key.Decrypt("enc=pkcs1", msg, out)
	// Bad padding is EINVAL (crypto/rsa-pkcs1pad.c); EBADMSG a
	// ciphertext not below the modulus (crypto/rsa.c).
	if err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.EBADMSG) {
		return nil, err
	}
	if err == nil && n == size {
		copy(key, out[:n])
	}
	keyring.Wipe(out)
	return key, nil
}

// Encrypt encrypts msg to the key with RSA PKCS#1 v1.5 in the kernel
// (KEYCTL_PKEY_ENCRYPT, enc=pkcs1): what rsa.EncryptPKCS1v15 does with
// Public(). A certificate's key encrypts too.
//
// Errors: keyring.ErrNotSupported for ECDSA keys; keyring.ErrInvalid with
// Refused set for a message over the modulus's size less 11 bytes (Field
// "msg"); the errors of keyring.Key.Encrypt.
func (k *Key) Encrypt(msg []byte) ([]byte, error) {
	const op = "asymmetric.Encrypt"
	p, ok := k.pub.(*rsa.PublicKey)
	if !ok {
		return nil, kerr.Errno(op, syscall.EOPNOTSUPP, "an ECDSA key does not encrypt")
	}
	if len(msg) > p.Size()-11 {
		return nil, kerr.Refuse(op, "msg", "the message has "+strconv.Itoa(len(msg))+" bytes, over the "+strconv.Itoa(p.Size()-11)+" PKCS#1 v1.5 leaves")
	}
	out := make([]byte, p.Size())
	n, err := k.key.Encrypt("enc=pkcs1", msg, out)
	if err != nil {
		return nil, err
	}
	return out[:n], nil
}

// sigSize is the kernel's max_sig_size for the key (public_key.c
// software_key_query).
func (k *Key) sigSize() int {
	switch p := k.pub.(type) {
	case *rsa.PublicKey:
		return p.Size()
	case *ecdsa.PublicKey:
		return 2*(curveBytes(p)+3) + 2
	}
	return 0
}

// curveBytes is the size of an ECDSA key as the kernel counts it (6.1
// crypto/ecdsa.c ecdsa_max_size): whole 64-bit digits.
func curveBytes(p *ecdsa.PublicKey) int {
	return (p.Curve.Params().BitSize + 63) / 64 * 8
}

// signInfo is the kernel's info string for a PKCS#1 v1.5 or ECDSA
// signature with opts, after checking digest's length.
func (k *Key) signInfo(op string, digest []byte, opts crypto.SignerOpts) (string, error) {
	h := crypto.Hash(0)
	if opts != nil {
		h = opts.HashFunc()
	}
	enc := "enc=x962"
	switch p := k.pub.(type) {
	case *ecdsa.PublicKey:
		if _, pss := opts.(*rsa.PSSOptions); pss {
			return "", kerr.Refuse(op, "opts", "RSA-PSS options for an ECDSA key")
		}
	case *rsa.PublicKey:
		enc = "enc=pkcs1"
		if h == 0 || h == crypto.MD5SHA1 {
			// No DigestInfo: the kernel pads digest as it is.
			if h == crypto.MD5SHA1 && len(digest) != h.Size() || len(digest) > p.Size()-11 {
				return "", kerr.Refuse(op, "digest", "the digest has "+strconv.Itoa(len(digest))+" bytes, not a "+h.String()+" digest the key can sign")
			}
			return enc, nil
		}
	}
	name, err := checkDigest(op, h, digest)
	if err != nil {
		return "", err
	}
	return enc + " hash=" + name, nil
}

// checkDigest checks that digest is an h digest of a hash the kernel signs
// with (crypto/rsa-pkcs1pad.c's DigestInfo table; public_key.c for ECDSA)
// and returns the kernel's name of h.
func checkDigest(op string, h crypto.Hash, digest []byte) (string, error) {
	var name string
	switch h {
	case crypto.SHA1:
		name = "sha1"
	case crypto.SHA224:
		name = "sha224"
	case crypto.SHA256:
		name = "sha256"
	case crypto.SHA384:
		name = "sha384"
	case crypto.SHA512:
		name = "sha512"
	default:
		return "", kerr.Refuse(op, "opts", "hash "+h.String()+": the kernel signs with SHA-1, SHA-224, SHA-256, SHA-384 and SHA-512")
	}
	if len(digest) != h.Size() {
		return "", kerr.Refuse(op, "digest", "the digest has "+strconv.Itoa(len(digest))+" bytes, a "+h.String()+" digest "+strconv.Itoa(h.Size()))
	}
	return name, nil
}
