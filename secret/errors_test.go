//go:build linux

package secret_test

import (
	"errors"
	"os"
	"syscall"
	"testing"

	"github.com/kernkeys/kernkeys/internal/keyctl"
	"github.com/kernkeys/kernkeys/internal/keytest"
	"github.com/kernkeys/kernkeys/keyring"
	"github.com/kernkeys/kernkeys/secret"
)

// checkErr checks that err is a *keyring.Error of op and matches exactly
// the targets in want among those listed here.
func checkErr(t *testing.T, what, op string, err error, want ...error) *keyring.Error {
	t.Helper()
	var ke *keyring.Error
	if !errors.As(err, &ke) {
		t.Errorf("%s: %v (%T) is not a *keyring.Error", what, err, err)
		return nil
	}
	if op != "" && ke.Op != op {
		t.Errorf("%s: Op %q, want %q", what, ke.Op, op)
	}
	for _, target := range []error{secret.ErrLockLimit, keyring.ErrQuota, keyring.ErrInvalid, keyring.ErrNotSupported, keyring.ErrPermission, keyring.ErrNotFound, os.ErrPermission, syscall.EINVAL, syscall.ENOMEM, syscall.EPERM, syscall.EOPNOTSUPP} {
		wanted := false
		for _, w := range want {
			wanted = wanted || w == target
		}
		if errors.Is(err, target) != wanted {
			t.Errorf("%s: errors.Is(%v, %v) = %v, want %v", what, err, target, !wanted, wanted)
		}
	}
	return ke
}

// Every error path of New and ReadKey that a test can reach (Close's are
// in close_test.go): *keyring.Error with the documented relations. The
// lock limit needs a process without CAP_IPC_LOCK: a non-root uid in a
// user namespace.
func TestErrorsSecret(t *testing.T) {
	if keytest.IsChild(t) {
		s := keytest.Session(t)
		k, err := s.Add("user", "secret:errors", []byte("a payload"))
		if err != nil {
			t.Fatal(err)
		}
		if e := keyctl.SetMemlockLimit(0); e != 0 {
			t.Fatalf("setrlimit: %v", e)
		}
		_, err = secret.New(1)
		checkErr(t, "New under a 0 limit", "secret.New", err, secret.ErrLockLimit, keyring.ErrQuota, keyring.ErrPermission, os.ErrPermission, syscall.EPERM)
		_, err = secret.ReadKey(k)
		checkErr(t, "ReadKey under a 0 limit", "secret.ReadKey", err, secret.ErrLockLimit, keyring.ErrQuota, keyring.ErrPermission, os.ErrPermission, syscall.EPERM)
		if e := keyctl.SetMemlockLimit(4096); e != 0 {
			t.Fatalf("setrlimit: %v", e)
		}
		_, err = secret.New(1 << 20)
		checkErr(t, "New over the limit", "secret.New", err, secret.ErrLockLimit, keyring.ErrQuota, syscall.ENOMEM)
		return
	}
	for _, n := range []int{0, -1} {
		_, err := secret.New(n)
		if ke := checkErr(t, "New(n <= 0)", "secret.New", err, keyring.ErrInvalid, syscall.EINVAL); ke != nil && (!ke.Refused || ke.Field != "n") {
			t.Errorf("New(%d): %#v, want refused on field n", n, ke)
		}
	}
	s := keytest.Session(t)
	logon, err := s.Add("logon", "secret:errors", []byte("unreadable"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = secret.ReadKey(logon)
	checkErr(t, "ReadKey of a logon key", "read", err, keyring.ErrNotSupported, syscall.EOPNOTSUPP)
	keytest.RunChild(t, keytest.ChildOptions{UserNS: true})
}
