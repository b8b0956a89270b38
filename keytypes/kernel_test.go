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
	k, err := keytypes.New(s, "kk:user", keytypes.Options{Type: keytypes.TypeUser, Payload: payload})
	if os.Getuid() != 0 {
		// An ordinary user's byte quota is 20000: the largest user key
		// does not fit.
		if !errors.Is(err, keyring.ErrQuota) {
			t.Fatalf("a 32767-byte user key as uid %d: %v, want ErrQuota", os.Getuid(), err)
		}
		payload = payload[:10000]
		k, err = keytypes.New(s, "kk:user", keytypes.Options{Type: keytypes.TypeUser, Payload: payload})
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
	k, err := keytypes.New(s, "svc:volume", keytypes.Options{Type: keytypes.TypeLogon, Payload: []byte("volume key")})
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
	k, err := keytypes.New(s, "kk:big", keytypes.Options{Type: keytypes.TypeBigKey, Payload: payload})
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
	k, err := keytypes.New(s, "", keytypes.Options{Type: keytypes.TypeAsymmetric, Payload: cert})
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
	if _, err := keytypes.New(s, "", keytypes.Options{Type: keytypes.TypeAsymmetric, Payload: []byte{0x30, 0x03, 0x02, 0x01, 0x01}}); err == nil {
		t.Error("the kernel accepted a SEQUENCE that is no certificate")
	}
}

func TestKeyringType(t *testing.T) {
	s := keytest.Session(t)
	k, err := keytypes.New(s, "inner", keytypes.Options{Type: keytypes.TypeKeyring})
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := k.Describe(); d.Type != "keyring" || d.Description != "inner" {
		t.Errorf("keyring %+v", d)
	}
}

// What the kernel refuses comes back as keyring's error, not refused
// before the call: add_key into the zero keyring is the kernel's EINVAL.
func TestErrorsKeytypesKernel(t *testing.T) {
	keytest.Session(t)
	_, err := keytypes.New(keyring.Keyring{}, "kk:zero", keytypes.Options{Payload: []byte("x")})
	var ke *keyring.Error
	if !errors.As(err, &ke) || ke.Refused || ke.Op != "add_key" || !errors.Is(err, keyring.ErrInvalid) {
		t.Errorf("New into the zero keyring: %v, want the kernel's EINVAL from add_key", err)
	}
}
