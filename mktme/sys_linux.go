//go:build linux

package mktme

import (
	"errors"
	"io/fs"
	"os"
	"syscall"

	"github.com/kernkeys/kernkeys/internal/kerr"
)

// enokey is ENOKEY, RFC v2's answer when no KeyID is free.
const enokey = syscall.ENOKEY

// HasCapability reports whether the calling thread may create MKTME keys:
// whether it holds CAP_SYS_RESOURCE or CAP_SYS_ADMIN (capabilities(7))
// in its effective set, in the initial user namespace, where the RFC's
// capable() checks look. It reads CapEff from /proc/thread-self/status
// (/proc/self/status before Linux 3.17) and the user namespace's map from
// /proc/self/uid_map; it makes no key system call.
//
// Capabilities belong to a thread. Go threads share them unless the
// program changed one thread's; lock the goroutine to its thread
// (runtime.LockOSThread) if it did.
//
// Errors: a *keyring.Error of "mktme.HasCapability" with the errno of
// reading /proc (not mounted: ENOENT, which matches fs.ErrNotExist; not
// readable: EACCES), or ENODATA for a status without a CapEff line; on
// other operating systems, an error matching keyring.ErrNotSupported.
func HasCapability() (bool, error) {
	path := "/proc/thread-self/status"
	status, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		path = "/proc/self/status"
		status, err = os.ReadFile(path)
	}
	if err != nil {
		errno := syscall.EIO
		errors.As(err, &errno)
		return false, kerr.Errno("mktme.HasCapability", errno, "reading "+path)
	}
	mask, ok := capEff(status)
	if !ok {
		return false, kerr.Errno("mktme.HasCapability", syscall.ENODATA, path+" has no CapEff line")
	}
	if !hasMKTMECapability(mask) {
		return false, nil
	}
	// Without a readable uid_map (no user namespaces), this is the initial
	// namespace.
	if m, err := os.ReadFile("/proc/self/uid_map"); err == nil && !initialUserNS(m) {
		return false, nil
	}
	return true, nil
}
