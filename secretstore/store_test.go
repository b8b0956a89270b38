package secretstore

import (
	"errors"
	"strings"
	"syscall"
	"testing"

	"github.com/kernkeys/kernkeys/internal/keyctl"
	"github.com/kernkeys/kernkeys/keyring"
)

// The host kernel has persistent keyrings, so the error of one that lacks
// them is checked here, from the errno KEYCTL_GET_PERSISTENT returns
// without CONFIG_PERSISTENT_KEYRINGS (security/keys/internal.h: the
// stub answers EOPNOTSUPP).
func TestNoPersistentKeyrings(t *testing.T) {
	kernel := &keyring.Error{Op: "get_persistent", ID: -1, Errno: syscall.EOPNOTSUPP}
	err := noPersistent(kernel)
	if !errors.Is(err, keyring.ErrNotSupported) || !errors.Is(err, syscall.EOPNOTSUPP) {
		t.Errorf("error %q does not match ErrNotSupported and EOPNOTSUPP", err)
	}
	for _, want := range []string{"persistent keyrings", "CONFIG_PERSISTENT_KEYRINGS", "User or Session"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	for _, other := range []error{nil, &keyring.Error{Op: "get_persistent", Errno: syscall.EACCES}, &keyring.Error{Op: "get_persistent", Errno: syscall.EDQUOT}} {
		if got := noPersistent(other); got != other {
			t.Errorf("noPersistent(%v) = %v, want it unchanged", other, got)
		}
	}
}

// A secret that is missing, expired, or deleted and not yet collected is
// not found, whatever the errno; the errno's own sentinel still matches.
func TestNotFound(t *testing.T) {
	s := &Store{scope: User}
	for _, c := range []struct {
		errno syscall.Errno
		also  error
	}{
		{keyctl.ENOKEY, keyring.ErrNotFound},
		{keyctl.EKEYEXPIRED, keyring.ErrExpired},
		{keyctl.EKEYREVOKED, keyring.ErrRevoked},
	} {
		err := notFound(&keyring.Error{Op: "search", ID: -4, Errno: c.errno}, s, "n")
		if !errors.Is(err, keyring.ErrNotFound) || !errors.Is(err, c.also) || !errors.Is(err, c.errno) {
			t.Errorf("errno %v: error %q does not match ErrNotFound, %v and the errno", c.errno, err, c.also)
		}
		if !strings.Contains(err.Error(), `no secret "n" in the user keyring`) {
			t.Errorf("error %q does not name the secret and the scope", err)
		}
	}
}
