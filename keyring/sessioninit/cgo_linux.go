//go:build linux && cgo

package sessioninit

// extern int kernkeys_sessioninit_serial;
// extern int kernkeys_sessioninit_errno;
import "C"

import (
	"syscall"

	"github.com/kernkeys/kernkeys/internal/cinit"
	"github.com/kernkeys/kernkeys/keyring"
)

// joined reports what the constructor did.
func joined() (keyring.Keyring, error) {
	return cinit.Result("join_session_keyring", what, int32(C.kernkeys_sessioninit_serial), syscall.Errno(C.kernkeys_sessioninit_errno))
}
