//go:build linux

package keyring_test

import (
	"errors"
	"io/fs"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kernkeys/kernkeys/internal/keytest"
	"github.com/kernkeys/kernkeys/keyring"
)

// Every documented errors.Is relation of *Error, both ways.
func TestErrorIs(t *testing.T) {
	sentinels := []error{keyring.ErrNotFound, keyring.ErrExpired, keyring.ErrRevoked, keyring.ErrRejected,
		keyring.ErrPermission, keyring.ErrQuota, keyring.ErrNotSupported, keyring.ErrInvalid, keyring.ErrUnavailable}
	for _, c := range []struct {
		errno syscall.Errno
		match []error // sentinels it matches; every other one must not match
		also  []error // other targets it matches
	}{
		{syscall.ENOKEY, []error{keyring.ErrNotFound}, nil},
		{syscall.ENOENT, []error{keyring.ErrNotFound}, []error{fs.ErrNotExist}},
		{syscall.EKEYEXPIRED, []error{keyring.ErrExpired}, nil},
		{syscall.EKEYREVOKED, []error{keyring.ErrRevoked}, nil},
		{syscall.EKEYREJECTED, []error{keyring.ErrRejected}, nil},
		{syscall.EACCES, []error{keyring.ErrPermission}, []error{os.ErrPermission, fs.ErrPermission}},
		{syscall.EPERM, []error{keyring.ErrPermission}, []error{os.ErrPermission}},
		{syscall.EDQUOT, []error{keyring.ErrQuota}, nil},
		{syscall.EOPNOTSUPP, []error{keyring.ErrNotSupported}, []error{errors.ErrUnsupported}},
		{syscall.ENODEV, []error{keyring.ErrNotSupported}, nil},
		{syscall.ENOSYS, []error{keyring.ErrNotSupported}, []error{errors.ErrUnsupported}},
		{syscall.ENOPKG, []error{keyring.ErrNotSupported}, nil},
		{syscall.EINVAL, []error{keyring.ErrInvalid}, nil},
		{syscall.ENOTDIR, nil, nil},
		{syscall.EDEADLK, nil, nil},
		{syscall.EEXIST, nil, []error{fs.ErrExist}},
	} {
		err := error(&keyring.Error{Op: "op", ID: 5, Errno: c.errno})
		if !errors.Is(err, c.errno) {
			t.Errorf("%v: does not unwrap to its errno", c.errno)
		}
		for _, s := range sentinels {
			want := false
			for _, m := range c.match {
				want = want || m == s
			}
			if got := errors.Is(err, s); got != want {
				t.Errorf("errors.Is(%v error, %v) = %v, want %v", c.errno, s, got, want)
			}
		}
		for _, a := range c.also {
			if !errors.Is(err, a) {
				t.Errorf("errors.Is(%v error, %v) = false", c.errno, a)
			}
		}
	}
	e := &keyring.Error{Op: "describe", ID: 42, Errno: syscall.EACCES}
	if got, want := e.Error(), "keyring: describe 42: permission denied"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

// Bad input is refused with ErrInvalid before any system call, marked
// Refused; nothing panics. (The kernel would answer EINVAL or, for names
// starting with '.', EPERM: the library's answer is ErrInvalid either way.)
func TestInvalidInput(t *testing.T) {
	s := keytest.Session(t)
	k := must(s.Add("user", "valid", []byte("x")))(t)
	long := strings.Repeat("d", 4096)
	var zero keyring.Keyring
	for name, call := range map[string]func() error{
		"empty type":            func() error { _, err := s.Add("", "d", []byte("x")); return err },
		"empty description":     func() error { _, err := s.Add("user", "", []byte("x")); return err },
		"NUL in type":           func() error { _, err := s.Add("us\x00er", "d", []byte("x")); return err },
		"NUL in description":    func() error { _, err := s.Add("user", "d\x00", []byte("x")); return err },
		"type of 32 bytes":      func() error { _, err := s.Add(strings.Repeat("t", 32), "d", []byte("x")); return err },
		"description of 4096":   func() error { _, err := s.Add("user", long, []byte("x")); return err },
		"type starting with .":  func() error { _, err := s.Add(".user", "d", []byte("x")); return err },
		"keyring name with .":   func() error { _, err := s.AddKeyring(".ring"); return err },
		"session name with .":   func() error { _, err := keyring.JoinSession(".session"); return err },
		"empty session name":    func() error { _, err := keyring.JoinSession(""); return err },
		"empty user payload":    func() error { _, err := s.Add("user", "d", nil); return err },
		"user payload of 32768": func() error { _, err := s.Add("user", "d", make([]byte, 32768)); return err },
		"payload of 1 MiB":      func() error { _, err := s.Add("big_key", "d", make([]byte, 1<<20)); return err },
		"keyring with payload":  func() error { _, err := s.Add("keyring", "r", []byte("x")); return err },
		"undefined perm bits":   func() error { return k.SetPerm(0xc0000000) },
		"empty search type":     func() error { _, err := s.Search("", "valid"); return err },
		"empty search desc":     func() error { _, err := s.Search("user", ""); return err },
		"request with NUL":      func() error { _, err := keyring.Request("user", "a\x00b", keyring.RequestOptions{}); return err },
		"callout with NUL": func() error {
			_, err := keyring.Request("user", "x", keyring.RequestOptions{CalloutInfo: []byte{'a', 0}})
			return err
		},
		"update over a page":       func() error { return k.Update(make([]byte, os.Getpagesize()+1)) },
		"negative timeout":         func() error { return k.SetTimeout(-time.Nanosecond) },
		"negative uid":             func() error { return k.Chown(-5, keyring.Unchanged) },
		"restriction without type": func() error { return s.Restrict("", "builtin_trusted") },
		"persistent uid -2":        func() error { _, err := keyring.Persistent(-2, s); return err },
		"bad default reqkey":       func() error { _, err := keyring.SetDefaultRequestKeyring(6); return err },
		"reject with errno 0":      func() error { return k.Reject(0, 0, zero) },
		"watch queue size 0":       func() error { _, err := keyring.NewWatchQueue(0); return err },
		"pkey info with NUL":       func() error { _, err := k.PkeyQuery("enc=\x00"); return err },
		"kdf output 0": func() error {
			_, err := keyring.DHComputeKDF(keyring.DHParams{Private: k, Prime: k, Base: k}, keyring.KDF{Hash: "sha256"}, 0)
			return err
		},
	} {
		err := call()
		var ke *keyring.Error
		if !errors.Is(err, keyring.ErrInvalid) || !errors.Is(err, syscall.EINVAL) || !errors.As(err, &ke) || ke.Reason == "" || !ke.Refused || ke.Field == "" {
			t.Errorf("%s: got %#v, want ErrInvalid, refused, with a reason and the field at fault", name, err)
		}
	}
	// Nothing was created by any of them.
	if l := must(s.Links())(t); len(l) != 1 {
		t.Errorf("session links %v after refused calls", l)
	}
}

// The zero Key and negative IDs that are not special reach the kernel,
// which answers them itself: EINVAL from the lookup, ENOKEY where read and
// dh_compute turn a failed lookup into it or where it looks up a missing
// keyring first, success where chown has nothing to change and looks
// nothing up. None of these is Refused; a refused input is.
func TestKernelAnswersBadIDs(t *testing.T) {
	s := keytest.Session(t)
	k := must(s.Add("user", "valid", []byte("x")))(t)
	var zero keyring.Keyring
	bad := keyring.ID(-9).Keyring()
	dh := syscall.ENOKEY
	if c, err := keyring.KernelCapabilities(); err == nil && !c.DiffieHellman {
		dh = syscall.EOPNOTSUPP
	}
	for _, c := range []struct {
		name string
		call func() error
		want syscall.Errno // 0: success
	}{
		{"read zero", func() error { _, err := keyring.Key{}.Read(); return err }, syscall.ENOKEY},
		{"read -100", func() error { _, err := keyring.ID(-100).Key().Read(); return err }, syscall.ENOKEY},
		{"describe -9", func() error { _, err := bad.Describe(); return err }, syscall.EINVAL},
		{"resolve zero", func() error { _, err := zero.Resolve(); return err }, syscall.EINVAL},
		{"add to zero", func() error { _, err := zero.Add("user", "d", []byte("x")); return err }, syscall.EINVAL},
		{"search zero", func() error { _, err := zero.Search("user", "valid"); return err }, syscall.EINVAL},
		{"search into -9", func() error { _, err := s.SearchAndLink("user", "valid", bad); return err }, syscall.EINVAL},
		{"link zero into missing", func() error { return keyring.ID(0x7ffffff0).Keyring().Link(keyring.Key{}) }, syscall.ENOKEY},
		{"unlink zero", func() error { return s.Unlink(keyring.Key{}) }, syscall.EINVAL},
		{"move from zero", func() error { return zero.Move(k, s) }, syscall.EINVAL},
		{"setperm zero", func() error { return keyring.Key{}.SetPerm(0x3f3f0000) }, syscall.EINVAL},
		{"chown zero, nothing to change", func() error { return keyring.Key{}.Chown(keyring.Unchanged, keyring.Unchanged) }, 0},
		{"chown zero", func() error { return keyring.Key{}.Chown(keyring.Unchanged, 0) }, syscall.EINVAL},
		{"timeout -9", func() error { return bad.SetTimeout(time.Second) }, syscall.EINVAL},
		{"revoke zero", keyring.Key{}.Revoke, syscall.EINVAL},
		{"restrict zero", func() error { return zero.Restrict("", "") }, syscall.EINVAL},
		{"request into -9", func() error {
			_, err := keyring.Request("user", "absent", keyring.RequestOptions{Destination: bad})
			return err
		}, syscall.EINVAL},
		{"pkey_query zero", func() error { _, err := keyring.Key{}.PkeyQuery(""); return err }, syscall.EINVAL},
		{"dh zero keys", func() error { _, err := keyring.DHCompute(keyring.DHParams{Private: k}); return err }, dh},
	} {
		err := c.call()
		var ke *keyring.Error
		switch {
		case c.want == 0 && err != nil:
			t.Errorf("%s: %v, want success", c.name, err)
		case c.want == 0:
		case !errors.Is(err, c.want) || !errors.As(err, &ke) || ke.Refused:
			t.Errorf("%s: got %#v, want the kernel's %v, not refused", c.name, err, c.want)
		}
	}
	// A kernel EINVAL and a refusal both match ErrInvalid and EINVAL; only
	// the refusal is Refused.
	_, kernel := bad.Describe()
	_, refused := s.Add("", "d", []byte("x"))
	for _, err := range []error{kernel, refused} {
		if !errors.Is(err, keyring.ErrInvalid) || !errors.Is(err, syscall.EINVAL) {
			t.Errorf("%v does not match ErrInvalid and EINVAL", err)
		}
	}
	var ke, re *keyring.Error
	if !errors.As(kernel, &ke) || ke.Refused || !errors.As(refused, &re) || !re.Refused {
		t.Errorf("Refused: kernel EINVAL %#v, refusal %#v", kernel, refused)
	}
	if l := must(s.Links())(t); len(l) != 1 {
		t.Errorf("session links %v after the calls", l)
	}
}

// The rows of KERNEL-FACTS.md's errno table that need no second user; the
// rest are in userns_test.go. Rows already pinned elsewhere: revoked
// (TestRevoke), expired (TestSetTimeoutExpires), invalidated
// (TestInvalidate), ENOTDIR (TestSearch), EDEADLK (TestLinkUnlinkMove),
// NULL restriction (TestRestrict), request_key miss (TestRequest), update
// on a keyring (TestUpdate).
//
// Each subtest runs on its own thread, so each takes its own session.
func TestKernelErrnos(t *testing.T) {
	t.Run("logon read", func(t *testing.T) {
		s := keytest.Session(t)
		k := must(s.Add("logon", "svc:secret", []byte("x")))(t)
		_, err := k.Read()
		wantErr(t, err, keyring.ErrNotSupported, syscall.EOPNOTSUPP)
		if !strings.Contains(err.Error(), "logon") {
			t.Errorf("error %q does not say why", err)
		}
	})
	t.Run("unknown type", func(t *testing.T) {
		s := keytest.Session(t)
		_, err := s.Add("no_such_type", "d", []byte("x"))
		wantErr(t, err, keyring.ErrNotSupported, syscall.ENODEV)
		if !strings.Contains(err.Error(), `"no_such_type"`) {
			t.Errorf("error %q does not name the type", err)
		}
	})
	t.Run("encrypted key without its master", func(t *testing.T) {
		s := keytest.Session(t)
		k := must(s.Add("encrypted", "ek", []byte("new user:kernkeys-absent-master 32")))(t)
		_, err := k.Read()
		wantErr(t, err, keyring.ErrNotFound, syscall.ENOKEY)
	})
	t.Run("payload the type rejects", func(t *testing.T) {
		s := keytest.Session(t)
		_, err := s.Add("encrypted", "ek", []byte("garbage"))
		wantErr(t, err, keyring.ErrInvalid, syscall.EINVAL)
	})
	t.Run("group keyring", func(t *testing.T) {
		_, err := keyring.Group().Resolve()
		wantErr(t, err, keyring.ErrInvalid, syscall.EINVAL)
	})
	t.Run("missing serial", func(t *testing.T) {
		s := keytest.Session(t)
		k := must(s.Add("user", "gone", []byte("x")))(t)
		check(t, s.Unlink(k))
		keytest.WaitGone(t, k)
		_, err := k.Describe()
		wantErr(t, err, keyring.ErrNotFound, syscall.ENOKEY)
	})
	t.Run("no permission", func(t *testing.T) {
		s := keytest.Session(t)
		k := must(s.Add("user", "noread", []byte("x")))(t)
		check(t, k.SetPerm(keyring.PermView.Possessor()))
		_, err := k.Read()
		wantErr(t, err, keyring.ErrPermission, os.ErrPermission, syscall.EACCES)
	})
}
