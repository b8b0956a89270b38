//go:build linux

package trusted

import (
	"errors"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"

	"github.com/kernkeys/kernkeys/internal/keytest"
	"github.com/kernkeys/kernkeys/keyring"
)

// TestErrorsTrusted walks the package's error paths that need no TPM:
// every error is a *keyring.Error; input refused before any system call
// has Refused, Op "trusted.<Func>" and the Field at fault, and matches
// keyring.ErrInvalid and EINVAL; kernel answers keep their errno and add
// what this package knows (ErrUnseal for a blob the trust source refuses).
func TestErrorsTrusted(t *testing.T) {
	blob := kernelBlob(t)
	call := func(f func() error) error { return f() }
	for _, c := range []struct {
		name, op, field string
		err             error
	}{
		{"NewPayload keylen", "trusted.NewPayload", "keylen", call(func() error { _, err := NewPayload(TPM1, Options{KeyLen: 31}); return err })},
		{"NewPayload backend", "trusted.NewPayload", "backend", call(func() error { _, err := NewPayload(0, Options{}); return err })},
		{"LoadPayload empty blob", "trusted.LoadPayload", "blob", call(func() error { _, err := LoadPayload(TPM1, nil, Options{}); return err })},
		{"LoadPayload other parent", "trusted.LoadPayload", "keyhandle", call(func() error { _, err := LoadPayload(TPM2, blob, Options{KeyHandle: 2}); return err })},
		{"UpdatePayload tee", "trusted.UpdatePayload", "command", call(func() error { _, err := UpdatePayload(TEE, Options{}); return err })},
		{"UpdatePayload tpm2 keyhandle", "trusted.UpdatePayload", "keyhandle", call(func() error { _, err := UpdatePayload(TPM2, Options{}); return err })},
		{"ParsePayload option", "trusted.ParsePayload", "options", call(func() error { _, err := ParsePayload(TPM2, []byte("new 32 keyhandle=1 foo=bar")); return err })},
		{"Payload.Validate", "trusted.Payload.Validate", "backend", Payload{}.Validate()},
		{"Payload.MarshalText", "trusted.Payload.MarshalText", "command", call(func() error { _, err := Payload{Backend: TPM1}.MarshalText(); return err })},
		{"Payload.AppendText", "trusted.Payload.AppendText", "keylen", call(func() error {
			_, err := Payload{Backend: TPM1, Command: CommandNew, Options: Options{KeyLen: 200}}.AppendText(nil)
			return err
		})},
		{"ParseBlob", "trusted.ParseBlob", "TPMKey", call(func() error { _, err := ParseBlob(nil); return err })},
		{"TPMKey.MarshalBinary", "trusted.TPMKey.MarshalBinary", "pubkey", call(func() error { _, err := (&TPMKey{Public: []byte{0, 5}}).MarshalBinary(); return err })},
		{"TPMKey.PublicArea", "trusted.TPMKey.PublicArea", "pubkey", call(func() error { _, err := (&TPMKey{Public: mustHex("0008 0008 000b 00000040")}).PublicArea(); return err })},
		{"Blob.UnmarshalText odd", "trusted.Blob.UnmarshalText", "blob", new(Blob).UnmarshalText([]byte("abc"))},
		{"Blob.UnmarshalText not hex", "trusted.Blob.UnmarshalText", "blob", new(Blob).UnmarshalText([]byte("zz"))},
		{"Blob.UnmarshalBinary too long", "trusted.Blob.UnmarshalBinary", "blob", new(Blob).UnmarshalBinary(make([]byte, MaxBlob+1))},
	} {
		t.Run(c.name, func(t *testing.T) { wantRefused(t, c.err, c.op, c.field) })
	}

	t.Run("ReadBlob", func(t *testing.T) {
		s := keytest.Session(t)
		k, err := s.Add("user", "not-a-blob", []byte("s3cr3tpw"))
		if err != nil {
			t.Fatal(err)
		}
		_, err = ReadBlob(k)
		var ke *keyring.Error
		if !errors.As(err, &ke) || ke.Op != "trusted.ReadBlob" || ke.ID != k.ID() || ke.Refused ||
			!errors.Is(err, keyring.ErrInvalid) || !errors.Is(err, syscall.EINVAL) {
			t.Errorf("ReadBlob of a user key: %#v; want a *keyring.Error of trusted.ReadBlob, not Refused, matching keyring.ErrInvalid", err)
		}
		if strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("ReadBlob's error quotes the key's payload: %q", err)
		}
		if err := k.Revoke(); err != nil {
			t.Fatal(err)
		}
		_, err = ReadBlob(k)
		if !errors.As(err, &ke) || !errors.Is(err, keyring.ErrRevoked) {
			t.Errorf("ReadBlob of a revoked key: %v; want keyring.ErrRevoked", err)
		}
	})

	t.Run("KernelBackend without a device", func(t *testing.T) {
		_, _, err := detectBackend(fstest.MapFS{})
		var ke *keyring.Error
		if !errors.As(err, &ke) || ke.Op != "trusted.KernelBackend" || ke.Refused || !errors.Is(err, syscall.ENXIO) {
			t.Fatalf("detectBackend(empty) = %v; want a *keyring.Error with ENXIO", err)
		}
		for _, s := range []error{keyring.ErrNotSupported, keyring.ErrNotFound, keyring.ErrInvalid, keyring.ErrPermission} {
			if errors.Is(err, s) {
				t.Errorf("detectBackend(empty) = %v matches %v: it is \"could not tell\"", err, s)
			}
		}
	})

	t.Run("kernel answers", testExplainAdd)

	t.Run("New, Load, Update", func(t *testing.T) {
		s := keytest.Session(t)
		u, err := s.Add("user", "not-trusted", []byte("x"))
		if err != nil {
			t.Fatal(err)
		}
		_, nerr := New(s, "kmk", Options{})
		_, lerr := Load(s, "kmk", nil, Options{})
		uerr := Update(u, Options{})
		if !kernelHasTrusted(t) {
			for name, err := range map[string]error{"New": nerr, "Load": lerr, "Update": uerr} {
				var ke *keyring.Error
				if !errors.As(err, &ke) || ke.Refused || !errors.Is(err, keyring.ErrNotSupported) {
					t.Errorf("%s without trusted keys: %v; want a *keyring.Error matching keyring.ErrNotSupported", name, err)
				}
			}
			return
		}
		if b, err := KernelBackend(); err != nil || b != TPM2 {
			t.Skipf("the refusals below are TPM 2.0's; the kernel's trusted keys use %v (%v)", b, err)
		}
		wantRefused(t, nerr, "trusted.New", "keyhandle")
		wantRefused(t, lerr, "trusted.Load", "blob")
		wantRefused(t, uerr, "trusted.Update", "keyhandle")
	})
}

func wantRefused(t *testing.T, err error, op, field string) {
	t.Helper()
	var ke *keyring.Error
	switch {
	case !errors.As(err, &ke):
		t.Fatalf("%v (%T) is not a *keyring.Error", err, err)
	case ke.Op != op || ke.Field != field || !ke.Refused || ke.ID != 0:
		t.Errorf("%v: Op %q, Field %q, Refused %v, ID %v; want %q, %q, true, 0", err, ke.Op, ke.Field, ke.Refused, ke.ID, op, field)
	case !errors.Is(err, keyring.ErrInvalid) || !errors.Is(err, syscall.EINVAL):
		t.Errorf("%v does not match keyring.ErrInvalid and EINVAL", err)
	case errors.Is(err, ErrUnseal) || errors.Is(err, keyring.ErrPermission):
		t.Errorf("%v matches ErrUnseal or keyring.ErrPermission", err)
	}
}

// testExplainAdd gives the kernel's answers to add_key, as keyring returns
// them, to what New and Load do with them: ErrUnseal only for EPERM at
// load without pcrlock=, and every errno and sentinel kept.
func testExplainAdd(t *testing.T) {
	blob := kernelBlob(t)
	load := Payload{Backend: TPM2, Command: CommandLoad, Blob: blob}
	lock := load
	lock.Options.PCRLock = 16
	create := Payload{Backend: TPM2, Command: CommandNew, Options: Options{KeyHandle: spk}}
	no := func() bool { return false }
	yes := func() bool { return true }
	for _, c := range []struct {
		name   string
		errno  syscall.Errno
		p      Payload
		exists func() bool
		unseal bool
		is     error  // a sentinel the error must match
		reason string // part of the message
	}{
		{"EPERM at load", syscall.EPERM, load, no, true, keyring.ErrPermission, "refused to unseal"},
		{"EACCES at load", syscall.EACCES, load, no, false, keyring.ErrPermission, ""},
		{"EPERM at load with pcrlock", syscall.EPERM, lock, no, false, keyring.ErrPermission, "CAP_SYS_ADMIN"},
		{"EPERM at new", syscall.EPERM, create, no, false, keyring.ErrPermission, "refused to seal"},
		{"EPERM, key exists", syscall.EPERM, create, yes, false, keyring.ErrPermission, "already links"},
		{"EINVAL, key exists", syscall.EINVAL, load, yes, false, keyring.ErrInvalid, "already links"},
		{"EINVAL", syscall.EINVAL, load, no, false, keyring.ErrInvalid, "blob is not one this backend can read"},
		{"ENODEV", syscall.ENODEV, create, no, false, keyring.ErrNotSupported, "CONFIG_TRUSTED_KEYS"},
		{"E2BIG at new", syscall.E2BIG, create, no, false, syscall.E2BIG, "512-byte"},
		{"EDQUOT", syscall.EDQUOT, create, no, false, keyring.ErrQuota, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			ke := &keyring.Error{Op: "add_key", ID: 42, Errno: c.errno}
			err := explainAdd(ke, TPM2, c.p, "kmk", c.exists)
			var got *keyring.Error
			if !errors.As(err, &got) || got.Op != "add_key" || got.ID != 42 || got.Refused || !errors.Is(err, c.errno) {
				t.Fatalf("explainAdd = %#v; want add_key's *keyring.Error with its ID and errno", err)
			}
			if !errors.Is(err, c.is) {
				t.Errorf("%v does not match %v", err, c.is)
			}
			if errors.Is(err, ErrUnseal) != c.unseal || (got.Err == ErrUnseal) != c.unseal {
				t.Errorf("%v: matches ErrUnseal %v, want %v", err, errors.Is(err, ErrUnseal), c.unseal)
			}
			if !strings.Contains(err.Error(), c.reason) {
				t.Errorf("%q does not say %q", err, c.reason)
			}
			if ke.Reason != "" || ke.Err != nil {
				t.Error("explainAdd changed keyring's error instead of a copy")
			}
		})
	}
}
