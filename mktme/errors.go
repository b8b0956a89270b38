package mktme

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/kernkeys/kernkeys/internal/fielderr"
	"github.com/kernkeys/kernkeys/keyring"
)

// ErrInvalid is matched by every error that reports a payload or options
// value that the RFC's kernel would refuse with EINVAL, or that its
// documentation forbids. It is keyring.ErrInvalid, so one errors.Is check
// serves every kernkeys package.
var ErrInvalid = keyring.ErrInvalid

// ErrForbidden is matched by the error of an operation that MKTME keys do
// not allow and that [Key] refuses without a system call: Update,
// SetTimeout, Invalidate and Unlink. The error also matches what the RFC v1
// kernel would have answered: keyring.ErrNotSupported for Update (the type
// has no update method, EOPNOTSUPP) and keyring.ErrPermission for the
// others (KEY_FLAG_KEEP, EPERM).
var ErrForbidden = errors.New("operation not allowed on an MKTME key")

// ErrPoolExhausted is matched by the error of [Add] when the kernel has no
// free hardware KeyID for a new key: the platform has only 3 to 63 of them.
// RFC v1 reports it as EDQUOT and RFC v2 as ENOKEY; the error unwraps to
// that errno too. Revoke an MKTME key to give its KeyID back.
var ErrPoolExhausted = errors.New("no free MKTME KeyID: the platform's pool of hardware encryption keys is exhausted")

// Error describes options or a payload that this package rejected (it is
// the same type as encrypted.Error and trusted.Error). Its message names
// the operation and the offending field and never contains key material
// or payload bytes. Pkg is "mktme"; Op is "Parse", "ParseV1", "Validate",
// "MarshalText", "AppendText" or "Add"; Field is "payload" (its size, a
// NUL, no option at all), "option" (a token that is not a known option),
// "options" (nil Options given to Add), or an option name: "type" and
// "key" (RFC v2), "userkey" and "entropy" (RFC v1), "algorithm" and
// "tweak" (both); Err is ErrInvalid.
type Error = fielderr.Error

// invalid returns an *Error that matches ErrInvalid.
func invalid(op, field, msg string) error {
	return &Error{Pkg: "mktme", Op: op, Field: field, Msg: msg, Err: ErrInvalid}
}

// neverMerged is the reason given when the running kernel has no "mktme"
// key type: ENODEV from add_key.
const neverMerged = `key type "mktme" is not in the running kernel: ` +
	"Intel's Multi-Key Total Memory Encryption key type was proposed in RFCs " +
	"(2018-2019) and never merged into mainline Linux"

// noCapability is the reason given when the calling thread has neither
// CAP_SYS_RESOURCE nor CAP_SYS_ADMIN.
const noCapability = "creating an MKTME key needs CAP_SYS_RESOURCE or CAP_SYS_ADMIN " +
	"in the initial user namespace, and the calling thread has neither " +
	"(checked before the system call; the RFC kernel refuses with EACCES)"

// forbidden returns the error of an operation that MKTME keys refuse.
func forbidden(op string, id keyring.ID, errno syscall.Errno, reason string) error {
	return fmt.Errorf("mktme: %w: %w", ErrForbidden, &keyring.Error{Op: op, ID: id, Errno: errno, Reason: reason + " (refused before any system call)", Refused: true})
}
