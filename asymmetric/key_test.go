//go:build linux

package asymmetric_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/kernkeys/kernkeys/asymmetric"
	"github.com/kernkeys/kernkeys/internal/keytest"
	"github.com/kernkeys/kernkeys/keyring"
	"github.com/kernkeys/kernkeys/keytypes"
)

// needPublicKeys skips where the kernel has no asymmetric keys.
func needPublicKeys(t *testing.T) {
	t.Helper()
	c, err := keyring.KernelCapabilities()
	if err != nil {
		t.Fatal(err)
	}
	if !c.PublicKey {
		t.Skip("the kernel has no public-key operations (CONFIG_ASYMMETRIC_KEY_TYPE)")
	}
}

// load adds der as an asymmetric key described desc to s.
func load(t *testing.T, s keyring.Keyring, desc string, der []byte) keyring.Key {
	t.Helper()
	k, err := keytypes.New(s, desc, keytypes.Options{Type: keytypes.TypeAsymmetric, Payload: der})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// loadPrivate adds priv to s as a PKCS#8 private key and returns the Key,
// skipping where the kernel has no PKCS#8 parser.
func loadPrivate(t *testing.T, s keyring.Keyring, priv crypto.Signer) *asymmetric.Key {
	t.Helper()
	needPublicKeys(t)
	if !keytest.KernelConfig(t, "CONFIG_PKCS8_PRIVATE_KEY_PARSER") {
		t.Skip("the kernel has no PKCS#8 private-key parser (CONFIG_PKCS8_PRIVATE_KEY_PARSER)")
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	defer keyring.Wipe(der)
	k, err := asymmetric.New(load(t, s, "kernkeys test key", der), priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func wantErr(t *testing.T, what string, err error, targets ...error) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want %v", what, targets)
		return
	}
	for _, target := range targets {
		if !errors.Is(err, target) {
			t.Errorf("%s: %v does not match %v", what, err, target)
		}
	}
}

func wantRefused(t *testing.T, what string, err error, field string) {
	t.Helper()
	var e *keyring.Error
	if !errors.As(err, &e) || !e.Refused || e.Field != field || !errors.Is(err, keyring.ErrInvalid) {
		t.Errorf("%s: %v, want a refusal of %q", what, err, field)
	}
}

func rsaKey(t *testing.T, bits int) *rsa.PrivateKey {
	t.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	return priv
}

// A certificate's RSA key verifies and encrypts in the kernel; it neither
// signs nor decrypts, and says so before any system call.
func TestCertificateRSA(t *testing.T) {
	needPublicKeys(t)
	s := keytest.Session(t)
	priv := rsaKey(t, 2048)
	cert := keytest.Certificate(t, "kernkeys.test", priv)
	k, err := asymmetric.New(load(t, s, "", cert.Raw), cert.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if k.Private() {
		t.Error("a certificate's key reports a private part")
	}
	if !k.Public().(*rsa.PublicKey).Equal(&priv.PublicKey) {
		t.Error("Public is not the certificate's key")
	}
	for _, h := range []crypto.Hash{crypto.SHA1, crypto.SHA256, crypto.SHA384, crypto.SHA512} {
		d := digest(h, "verified by the kernel")
		sig, err := rsa.SignPKCS1v15(rand.Reader, priv, h, d)
		if err != nil {
			t.Fatal(err)
		}
		if err := k.Verify(d, sig, h); err != nil {
			t.Errorf("Verify %v: %v", h, err)
		}
		sig[10] ^= 1
		if err := k.Verify(d, sig, h); err == nil {
			t.Errorf("Verify %v accepted a damaged signature", h)
		}
	}
	msg := []byte("to the private key")
	ct, err := k.Encrypt(msg)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := rsa.DecryptPKCS1v15(rand.Reader, priv, ct); err != nil || !bytes.Equal(got, msg) {
		t.Errorf("the kernel's ciphertext decrypts to %q, %v", got, err)
	}
	wantRefused(t, "Encrypt too long", func() error { _, err := k.Encrypt(make([]byte, 246)); return err }(), "msg")

	d := digest(crypto.SHA256, "x")
	_, err = k.Sign(rand.Reader, d, crypto.SHA256)
	wantRefused(t, "Sign without a private key", err, "")
	_, err = k.Decrypt(rand.Reader, ct, nil)
	wantRefused(t, "Decrypt without a private key", err, "")
	err = k.Verify(d, make([]byte, 256), &rsa.PSSOptions{Hash: crypto.SHA256})
	wantErr(t, "Verify PSS", err, keyring.ErrNotSupported)
	wantRefused(t, "Verify MD5", k.Verify(make([]byte, 16), make([]byte, 256), crypto.MD5), "opts")
	wantRefused(t, "Verify short digest", k.Verify(d[:31], make([]byte, 256), crypto.SHA256), "digest")
}

// New checks the public key it is given against the kernel's key.
func TestNewChecksPublicKey(t *testing.T) {
	needPublicKeys(t)
	s := keytest.Session(t)
	priv := rsaKey(t, 2048)
	kk := load(t, s, "", keytest.Certificate(t, "kernkeys.test", priv).Raw)

	_, err := asymmetric.New(kk, &rsaKey(t, 2048).PublicKey)
	wantRefused(t, "another key of the same size", err, "pub")
	_, err = asymmetric.New(kk, &rsaKey(t, 1024).PublicKey)
	wantRefused(t, "a key of another size", err, "pub")
	e := priv.PublicKey
	e.E = 3
	_, err = asymmetric.New(kk, &e)
	wantRefused(t, "another exponent", err, "pub")
	_, err = asymmetric.New(kk, nil)
	wantRefused(t, "nil", err, "pub")
	_, err = asymmetric.New(kk, (*rsa.PublicKey)(nil))
	wantRefused(t, "a nil *rsa.PublicKey", err, "pub")
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	_, err = asymmetric.New(kk, pub)
	wantRefused(t, "ed25519", err, "pub")

	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, err = asymmetric.New(kk, &ec.PublicKey)
	var ke *keyring.Error
	if keytest.KernelBefore(t, 5, 13) {
		// No x962 encoding at all (5.10's software_key_determine_akcipher):
		// ENOPKG, whatever the key's algorithm.
		if !errors.As(err, &ke) || ke.Refused || ke.Errno != syscall.ENOPKG || !errors.Is(err, keyring.ErrNotSupported) || errors.Is(err, keyring.ErrInvalid) {
			t.Errorf("an ECDSA public key on a kernel without ECDSA: %v, want the kernel's ENOPKG, matching ErrNotSupported", err)
		}
	} else if !errors.As(err, &ke) || ke.Refused || !errors.Is(err, keyring.ErrInvalid) {
		t.Errorf("an ECDSA public key for an RSA kernel key: %v, want the kernel's EINVAL", err)
	}
	user, err := s.Add("user", "not asymmetric", []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = asymmetric.New(user, &priv.PublicKey)
	wantErr(t, "a user key", err, keyring.ErrNotSupported)
}

// An ECDSA certificate's key verifies ASN.1 signatures in the kernel.
func TestCertificateECDSA(t *testing.T) {
	needPublicKeys(t)
	if !keytest.KernelConfig(t, "CONFIG_CRYPTO_ECDSA") {
		t.Skip("the kernel has no ECDSA (CONFIG_CRYPTO_ECDSA)")
	}
	s := keytest.Session(t)
	for _, curve := range []elliptic.Curve{elliptic.P256(), elliptic.P384()} {
		priv, err := ecdsa.GenerateKey(curve, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		cert := keytest.Certificate(t, "kernkeys.test", priv)
		k, err := asymmetric.New(load(t, s, "", cert.Raw), cert.PublicKey)
		if err != nil {
			t.Fatalf("%s: %v", curve.Params().Name, err)
		}
		for _, h := range []crypto.Hash{crypto.SHA1, crypto.SHA256, crypto.SHA384, crypto.SHA512} {
			d := digest(h, "verified by the kernel")
			sig, err := ecdsa.SignASN1(rand.Reader, priv, d)
			if err != nil {
				t.Fatal(err)
			}
			if err := k.Verify(d, sig, h); err != nil {
				t.Errorf("%s Verify %v: %v", curve.Params().Name, h, err)
			}
			other := digest(h, "something else")
			if err := k.Verify(other, sig, h); err == nil {
				t.Errorf("%s Verify %v accepted a signature over another digest", curve.Params().Name, h)
			}
		}
		_, err = k.Encrypt([]byte("x"))
		wantErr(t, "ECDSA Encrypt", err, keyring.ErrNotSupported)
		_, err = k.Decrypt(rand.Reader, []byte("x"), nil)
		wantErr(t, "ECDSA Decrypt", err, keyring.ErrNotSupported)
		err = k.Verify(digest(crypto.SHA256, "x"), []byte{0x30, 0}, &rsa.PSSOptions{Hash: crypto.SHA256})
		wantErr(t, "ECDSA with PSS options", err, keyring.ErrNotSupported)
	}
}

// A PKCS#8 RSA key signs (PKCS#1 v1.5 and PSS) and decrypts in the kernel;
// crypto/rsa verifies and encrypts against it.
func TestPrivateRSA(t *testing.T) {
	s := keytest.Session(t)
	priv := rsaKey(t, 2048)
	k := loadPrivate(t, s, priv)
	if !k.Private() {
		t.Fatal("a PKCS#8 key reports no private part")
	}
	for _, h := range []crypto.Hash{crypto.SHA1, crypto.SHA256, crypto.SHA384, crypto.SHA512} {
		d := digest(h, "signed in the kernel")
		sig, err := k.Sign(rand.Reader, d, h)
		if err != nil {
			t.Fatalf("Sign %v: %v", h, err)
		}
		if err := rsa.VerifyPKCS1v15(&priv.PublicKey, h, d, sig); err != nil {
			t.Errorf("PKCS#1 v1.5 %v: %v", h, err)
		}
		if err := k.Verify(d, sig, h); err != nil {
			t.Errorf("the kernel's Verify of its own %v signature: %v", h, err)
		}
		for _, salt := range []int{rsa.PSSSaltLengthEqualsHash, rsa.PSSSaltLengthAuto, 0x11} {
			opts := &rsa.PSSOptions{Hash: h, SaltLength: salt}
			sig, err := k.Sign(rand.Reader, d, opts)
			if err != nil {
				t.Fatalf("Sign PSS %v salt %d: %v", h, salt, err)
			}
			if err := rsa.VerifyPSS(&priv.PublicKey, h, d, sig, opts); err != nil {
				t.Errorf("PSS %v salt %d: %v", h, salt, err)
			}
		}
	}
	// TLS 1.0's MD5+SHA-1 and an unhashed input: PKCS#1 v1.5 without a
	// DigestInfo, as rsa.SignPKCS1v15 with hash 0.
	raw := make([]byte, crypto.MD5SHA1.Size())
	sig, err := k.Sign(rand.Reader, raw, crypto.MD5SHA1)
	if err != nil {
		t.Fatal(err)
	}
	if err := rsa.VerifyPKCS1v15(&priv.PublicKey, 0, raw, sig); err != nil {
		t.Errorf("MD5SHA1: %v", err)
	}
	_, err = k.Sign(rand.Reader, digest(crypto.SHA256, "x"), &rsa.PSSOptions{Hash: crypto.SHA256, SaltLength: 300})
	wantRefused(t, "a PSS salt longer than the key", err, "opts")

	msg := []byte("decrypted in the kernel")
	ct, err := rsa.EncryptPKCS1v15(rand.Reader, &priv.PublicKey, msg)
	if err != nil {
		t.Fatal(err)
	}
	for _, opts := range []crypto.DecrypterOpts{nil, &rsa.PKCS1v15DecryptOptions{}, &rsa.PKCS1v15DecryptOptions{SessionKeyLen: len(msg)}} {
		if got, err := k.Decrypt(rand.Reader, ct, opts); err != nil || !bytes.Equal(got, msg) {
			t.Errorf("Decrypt %#v: %q, %v", opts, got, err)
		}
	}
	// A session key of another length, or a ciphertext that is no
	// PKCS#1 v1.5 message: random bytes of the asked length, no error.
	for _, c := range [][]byte{ct, make([]byte, len(ct))} {
		got, err := k.Decrypt(rand.Reader, c, &rsa.PKCS1v15DecryptOptions{SessionKeyLen: 48})
		if err != nil || len(got) != 48 || bytes.Contains(got, msg) {
			t.Errorf("session key decryption: %d bytes, %v", len(got), err)
		}
	}
	_, err = k.Decrypt(rand.Reader, make([]byte, len(ct)), nil)
	wantErr(t, "Decrypt of zeros", err, keyring.ErrInvalid)
	_, err = k.Decrypt(rand.Reader, ct, &rsa.OAEPOptions{Hash: crypto.SHA256})
	wantErr(t, "Decrypt OAEP", err, keyring.ErrNotSupported)
	_, err = k.Decrypt(rand.Reader, ct[1:], nil)
	wantRefused(t, "Decrypt of a short ciphertext", err, "msg")
}

// The kernel's PKCS#8 parser takes RSA keys; an ECDSA private key either
// loads and signs, or the kernel refuses it (ENOPKG, 6.1).
func TestPrivateECDSA(t *testing.T) {
	needPublicKeys(t)
	if !keytest.KernelConfig(t, "CONFIG_PKCS8_PRIVATE_KEY_PARSER") {
		t.Skip("the kernel has no PKCS#8 private-key parser (CONFIG_PKCS8_PRIVATE_KEY_PARSER)")
	}
	s := keytest.Session(t)
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	kk, err := keytypes.New(s, "kernkeys test key", keytypes.Options{Type: keytypes.TypeAsymmetric, Payload: der})
	if errors.Is(err, syscall.ENOPKG) {
		t.Skip("the kernel's PKCS#8 parser takes no ECDSA keys (ENOPKG)")
	}
	if err != nil {
		t.Fatal(err)
	}
	k, err := asymmetric.New(kk, &priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	d := digest(crypto.SHA256, "signed in the kernel")
	sig, err := k.Sign(rand.Reader, d, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if !ecdsa.VerifyASN1(&priv.PublicKey, d, sig) {
		t.Error("the kernel's ECDSA signature does not verify")
	}
}

// A crypto/tls server whose certificate's private key lives only in the
// kernel completes handshakes with a crypto/tls client: TLS 1.3 (RSA-PSS
// signatures), TLS 1.2 with ECDHE (a signature) and with RSA key exchange
// (a decryption).
func TestTLSHandshake(t *testing.T) {
	s := keytest.Session(t)
	priv := rsaKey(t, 2048)
	cert := keytest.Certificate(t, "kernkeys.test", priv)
	k := loadPrivate(t, s, priv)
	priv = nil // from here on, only the kernel has it

	roots := x509.NewCertPool()
	roots.AddCert(cert)
	for _, c := range []struct {
		name    string
		version uint16
		suites  []uint16
	}{
		{"TLS 1.3", tls.VersionTLS13, nil},
		{"TLS 1.2 ECDHE", tls.VersionTLS12, []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}},
		{"TLS 1.2 RSA key exchange", tls.VersionTLS12, []uint16{tls.TLS_RSA_WITH_AES_128_GCM_SHA256}},
	} {
		// No t.Run: the handshake signs on this goroutine, whose locked
		// thread holds the test's session keyring.
		if err := handshake(k, cert, roots, c.version, c.suites); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}

	// On another thread, which does not hold the test's session, a
	// signature needs the user's SEARCH right on the key.
	onOtherThread := func(f func() error) error {
		err := make(chan error)
		go func() { err <- f() }()
		return <-err
	}
	sign := func() error {
		_, err := k.Sign(rand.Reader, digest(crypto.SHA256, "x"), &rsa.PSSOptions{Hash: crypto.SHA256})
		return err
	}
	if err := onOtherThread(sign); !errors.Is(err, keyring.ErrPermission) {
		t.Errorf("Sign on a thread without the key: %v, want ErrPermission", err)
	}
	possessor := (keyring.PermView | keyring.PermSearch | keyring.PermLink | keyring.PermSetattr).Possessor()
	if err := k.Key().SetPerm(possessor | (keyring.PermView | keyring.PermSearch).User()); err != nil {
		t.Fatal(err)
	}
	if err := onOtherThread(func() error { return handshake(k, cert, roots, tls.VersionTLS13, nil) }); err != nil {
		t.Errorf("a handshake on another thread, with the user's SEARCH right: %v", err)
	}
}

// handshake serves a TLS connection with key and cert on the calling
// goroutine to a client that trusts roots, and checks that a message
// arrives.
func handshake(key crypto.Signer, cert *x509.Certificate, roots *x509.CertPool, version uint16, suites []uint16) error {
	sc, cc := net.Pipe()
	defer cc.Close()
	server := tls.Server(sc, &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{cert.Raw}, PrivateKey: key}},
		MinVersion:   version, MaxVersion: version, CipherSuites: suites,
	})
	defer server.Close()
	client := tls.Client(cc, &tls.Config{
		RootCAs: roots, ServerName: "kernkeys.test",
		MinVersion: version, MaxVersion: version, CipherSuites: suites,
	})
	type result struct {
		msg []byte
		err error
	}
	got := make(chan result, 1)
	go func() {
		b, err := io.ReadAll(client)
		got <- result{b, err}
	}()
	if err := server.Handshake(); err != nil {
		cc.Close()
		<-got
		return fmt.Errorf("server handshake: %w", err)
	}
	if v := server.ConnectionState().Version; v != version {
		return fmt.Errorf("negotiated version %x", v)
	}
	const msg = "hello over a kernel key"
	if _, err := server.Write([]byte(msg)); err != nil {
		return err
	}
	server.Close()
	r := <-got
	if r.err != nil || string(r.msg) != msg {
		return fmt.Errorf("the client read %q, %v", r.msg, r.err)
	}
	return nil
}

func digest(h crypto.Hash, s string) []byte {
	switch h {
	case crypto.SHA1:
		d := sha1.Sum([]byte(s))
		return d[:]
	case crypto.SHA384:
		d := sha512.Sum384([]byte(s))
		return d[:]
	case crypto.SHA512:
		d := sha512.Sum512([]byte(s))
		return d[:]
	}
	d := sha256.Sum256([]byte(s))
	return d[:]
}
