// Package kerr builds the module's one error type, *keyring.Error, for the
// packages built on keyring (encrypted, trusted, mktme, keytypes, secret):
// input they refuse before any system call, and kernel errors they know
// more about than the errno says. Which errno matches which sentinel is
// decided in one place, keyring.Error.Is; callers match errors with
// errors.Is against keyring's sentinels, never by comparing errnos.
package kerr

import (
	"syscall"

	"github.com/kernkeys/kernkeys/keyring"
)

// Refuse returns the error for input that op refuses before any system
// call: field names the argument or option at fault (empty when the whole
// operation is refused) and reason says what is wrong, without key
// material.
func Refuse(op, field, reason string) *keyring.Error {
	return &keyring.Error{Op: op, Errno: syscall.EINVAL, Refused: true, Field: field, Reason: reason}
}

// Refusef is Refuse for input that is wrong in a way a narrower sentinel
// names (encrypted.ErrBadHMAC): the error matches it too.
func Refusef(op, field, reason string, sentinel error) *keyring.Error {
	e := Refuse(op, field, reason)
	e.Err = sentinel
	return e
}

// WithReason returns a copy of e that gives reason instead of e's own.
func WithReason(e *keyring.Error, reason string) *keyring.Error {
	c := *e
	c.Reason = reason
	return &c
}

// WithErr returns a copy of e that gives reason and also matches sentinel.
func WithErr(e *keyring.Error, reason string, sentinel error) *keyring.Error {
	c := *e
	c.Reason = reason
	c.Err = sentinel
	return &c
}

// Errno returns the error of a failed system call made outside keyring
// (mmap, mlock, a sysfs write) as *keyring.Error.
func Errno(op string, errno syscall.Errno, reason string) *keyring.Error {
	return &keyring.Error{Op: op, Errno: errno, Reason: reason}
}
