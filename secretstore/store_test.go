package secretstore

import (
	"errors"
	"strings"
	"syscall"
	"testing"

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
