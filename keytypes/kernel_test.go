//go:build linux

package keytypes_test

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/kernkeys/kernkeys/internal/keytest"
	"github.com/kernkeys/kernkeys/keyring"
	"github.com/kernkeys/kernkeys/keytypes"
)

// build(t)(keytypes.X(...)) returns the spec, failing the test on error.
func build(t *testing.T) func(keytypes.Spec, error) keytypes.Spec {
	return func(s keytypes.Spec, err error) keytypes.Spec {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
}

func caps(t *testing.T) keyring.Capabilities {
	c, err := keyring.KernelCapabilities()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestUserKey(t *testing.T) {
	s := keytest.Session(t)
	payload := bytes.Repeat([]byte{0xa5}, keytypes.MaxUserPayload)
	k, err := build(t)(keytypes.User("kk:user", payload)).Add(s)
	if os.Getuid() != 0 {
		// An ordinary user's byte quota is 20000: the largest user key
		// does not fit.
		if !errors.Is(err, keyring.ErrQuota) {
			t.Fatalf("a 32767-byte user key as uid %d: %v, want ErrQuota", os.Getuid(), err)
		}
		payload = payload[:10000]
		k, err = build(t)(keytypes.User("kk:user", payload)).Add(s)
	}
	if err != nil {
		t.Fatal(err)
	}
	got, err := k.Read()
	if err != nil || !bytes.Equal(got, payload) {
		t.Errorf("read back %d bytes, %v", len(got), err)
	}
	d, _ := k.Describe()
	if d.Perm != 0x3f010000 {
		t.Errorf("user key perm %v", d.Perm)
	}
}

func TestLogonKey(t *testing.T) {
	s := keytest.Session(t)
	k, err := build(t)(keytypes.Logon("svc:volume", []byte("volume key"))).Add(s)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := k.Describe()
	if d.Type != "logon" || d.Perm != 0x3d010000 {
		t.Errorf("logon key %+v; the kernel grants no possessor read", d)
	}
	_, err = k.Read()
	if !errors.Is(err, keyring.ErrNotSupported) || !errors.Is(err, syscall.EOPNOTSUPP) || !strings.Contains(err.Error(), "logon") {
		t.Errorf("reading a logon key: %v, want ErrNotSupported saying why", err)
	}
	// The kernel agrees with the description rule.
	if _, err := s.Add("logon", "nocolon", []byte("x")); !errors.Is(err, keyring.ErrInvalid) {
		t.Errorf("kernel on logon without a prefix: %v", err)
	}
}

func TestBigKey(t *testing.T) {
	s := keytest.Session(t)
	payload := make([]byte, keytypes.MaxBigKeyPayload)
	rand.Read(payload)
	k, err := build(t)(keytypes.BigKey("kk:big", payload)).Add(s)
	if !caps(t).BigKey {
		if !errors.Is(err, keyring.ErrNotSupported) || !strings.Contains(err.Error(), `"big_key"`) {
			t.Errorf("big_key on a kernel without it: %v, want ErrNotSupported naming the type", err)
		}
		return
	}
	// big_key charges a fixed 16 bytes of quota: an ordinary user may
	// store a megabyte too.
	if err != nil {
		t.Fatal(err)
	}
	got, err := k.Read()
	if err != nil || !bytes.Equal(got, payload) {
		t.Errorf("big_key read back %d bytes, %v", len(got), err)
	}
}

func TestAsymmetricKey(t *testing.T) {
	s := keytest.Session(t)
	priv, cert := keytest.SelfSigned(t, "keytypes test")
	k, err := build(t)(keytypes.Asymmetric("", cert)).Add(s)
	if !caps(t).PublicKey {
		if !errors.Is(err, keyring.ErrNotSupported) {
			t.Errorf("asymmetric on a kernel without it: %v", err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	const info = "enc=pkcs1 hash=sha256"
	q, err := k.PkeyQuery(info)
	if err != nil || q.KeySize != 2048 {
		t.Fatalf("PkeyQuery = %+v, %v", q, err)
	}
	out := make([]byte, q.MaxEncSize)
	n, err := k.Encrypt(info, []byte("to the private key"), out)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := rsa.DecryptPKCS1v15(rand.Reader, priv, out[:n]); err != nil || string(got) != "to the private key" {
		t.Errorf("decrypted %q, %v", got, err)
	}
	digest := sha256.Sum256([]byte("signed"))
	sig, _ := rsa.SignPKCS1v15(rand.Reader, priv, crypto.SHA256, digest[:])
	if err := k.Verify(info, digest[:], sig); err != nil {
		t.Errorf("Verify: %v", err)
	}
	// A well-formed SEQUENCE that is no certificate: the kernel's parsers refuse it.
	if _, err := build(t)(keytypes.Asymmetric("", []byte{0x30, 0x03, 0x02, 0x01, 0x01})).Add(s); err == nil {
		t.Error("the kernel accepted a SEQUENCE that is no certificate")
	}
}

func TestKeyringSpec(t *testing.T) {
	s := keytest.Session(t)
	k, err := build(t)(keytypes.Keyring("inner")).Add(s)
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := k.Describe(); d.Type != "keyring" || d.Description != "inner" {
		t.Errorf("keyring %+v", d)
	}
}
