// Package cinit turns what a C constructor recorded before the Go runtime
// started (packages keyring/sessioninit and keyring/processinit) into the
// keyring it made or the module's error. A constructor cannot return an
// error: it records the serial it got, or the errno of the keyctl(2) that
// failed, in C globals that the package reads.
package cinit

import (
	"syscall"

	"github.com/kernkeys/kernkeys/internal/kerr"
	"github.com/kernkeys/kernkeys/keyring"
)

// Result returns the keyring serial names, or, when the constructor's
// keyctl op failed with errno, the error saying what the constructor
// could not do.
func Result(op, what string, serial int32, errno syscall.Errno) (keyring.Keyring, error) {
	if errno != 0 {
		return keyring.Keyring{}, kerr.Errno(op, errno, "the constructor could not "+what+" before the Go runtime started")
	}
	return keyring.ID(serial).Keyring(), nil
}

// NoConstructor is the error of a package whose constructor is not in
// the program: built without cgo, or not for Linux.
func NoConstructor(op, what string) error {
	return kerr.Errno(op, syscall.ENOSYS, "no constructor ran to "+what+": it is C code, built only for Linux with cgo (CGO_ENABLED=1 and a C compiler); this program was built without it")
}
