//go:build !linux

package mktme

import (
	"syscall"

	"github.com/kernkeys/kernkeys/keyring"
)

// enokey is Linux's ENOKEY; this GOOS never returns it.
const enokey = syscall.Errno(126)

// HasCapability reports whether the calling thread may create MKTME keys.
// This GOOS has no Linux capabilities: the error matches
// keyring.ErrNotSupported.
func HasCapability() (bool, error) {
	return false, &keyring.Error{Op: "capget", Errno: syscall.ENOSYS, Reason: "Linux capabilities are not available on this system"}
}
