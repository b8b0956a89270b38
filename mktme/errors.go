package mktme

import (
	"errors"
	"syscall"

	"github.com/kernkeys/kernkeys/internal/kerr"
	"github.com/kernkeys/kernkeys/keyring"
)

// ErrForbidden is matched by the error of an operation that MKTME keys do
// not allow and that this package refuses without a system call: [Update],
// [SetTimeout], [Invalidate] and [Unlink]. The error also matches what the
// RFC v1 kernel would have answered: keyring.ErrNotSupported for Update
// (the type has no update method, EOPNOTSUPP) and keyring.ErrPermission
// for the others (KEY_FLAG_KEEP, EPERM).
var ErrForbidden = errors.New("operation not allowed on an MKTME key")

// ErrPoolExhausted is matched by the error of [New] when the kernel has no
// free hardware KeyID for a new key: the platform has only 3 to 63 of them.
// RFC v1 reports it as EDQUOT and RFC v2 as ENOKEY; the error unwraps to
// that errno too. Revoke an MKTME key to give its KeyID back.
var ErrPoolExhausted = errors.New("no free MKTME KeyID: the platform's pool of hardware encryption keys is exhausted")

// invalid returns the error of options or a payload that op ("Parse",
// "New", ...) refuses before any system call: a *keyring.Error matching
// keyring.ErrInvalid whose Field names the payload's option at fault, in
// the grammar's words.
func invalid(op, field, msg string) error {
	return kerr.Refuse("mktme."+op, field, msg)
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

// refusedAs returns the error of op on the key id refused before any
// system call with the errno the RFC kernel would have answered.
func refusedAs(op string, id keyring.ID, errno syscall.Errno, reason string) *keyring.Error {
	e := kerr.Errno(op, errno, reason)
	e.ID = id
	e.Refused = true
	return e
}

// forbidden returns the error of an operation that MKTME keys refuse.
func forbidden(op string, id keyring.ID, errno syscall.Errno, reason string) error {
	e := refusedAs(op, id, errno, "")
	return kerr.WithErr(e, reason+" (refused before any system call)", ErrForbidden)
}
