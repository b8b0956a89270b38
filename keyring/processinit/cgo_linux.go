//go:build linux && cgo

package processinit

// extern int kernkeys_processinit_serial;
// extern int kernkeys_processinit_errno;
import "C"

import (
	"syscall"

	"github.com/kernkeys/kernkeys/internal/cinit"
	"github.com/kernkeys/kernkeys/keyring"
)

// made reports what the constructor did.
func made() (keyring.Keyring, error) {
	return cinit.Result("get_keyring_id", what, int32(C.kernkeys_processinit_serial), syscall.Errno(C.kernkeys_processinit_errno))
}
