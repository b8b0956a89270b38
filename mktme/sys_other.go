//go:build !linux

package mktme

import (
	"syscall"

	"github.com/kernkeys/kernkeys/internal/kerr"
)

// enokey is Linux's ENOKEY; this GOOS never returns it.
const enokey = syscall.Errno(126)

// HasCapability reports whether the calling thread may create MKTME keys.
// This GOOS has no Linux capabilities: the error is a *keyring.Error
// matching keyring.ErrNotSupported.
func HasCapability() (bool, error) {
	return false, kerr.Errno("mktme.HasCapability", syscall.ENOSYS, "Linux capabilities are not available on this system")
}
