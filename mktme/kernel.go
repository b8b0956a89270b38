package mktme

import (
	"errors"
	"syscall"
	"time"

	"github.com/kernkeys/kernkeys/internal/kerr"
	"github.com/kernkeys/kernkeys/keyring"
)

// TypeName is the key type of the RFCs, as given to add_key(2).
const TypeName = "mktme"

// Update is refused: MKTME keys cannot be updated; revoke k and create a
// new key. The RFC v1 kernel blocked every operation that could reprogram
// a key in use (its documentation: "MKTME does not support the keyctl
// option of UPDATE"); RFC v2 relaxed this, and this package keeps the
// stricter v1 rule for every version. No system call is made: the error
// matches ErrForbidden and keyring.ErrNotSupported (EOPNOTSUPP, what RFC
// v1, which has no update method, answers). k.Update reaches the kernel's
// own answer deliberately.
func Update(k keyring.Key, o Options) error {
	return forbidden("update", k.ID(), syscall.EOPNOTSUPP, "MKTME keys cannot be updated: revoke the key and add a new one")
}

// SetTimeout is refused: an MKTME key must not expire while memory may be
// encrypted with it (the RFC v1 documentation: "MKTME does not allow a key
// to be invalidated, unlinked, or timed out"). No system call is made: the
// error matches ErrForbidden and keyring.ErrPermission (EPERM, what
// KEY_FLAG_KEEP gives in RFC v1).
func SetTimeout(k keyring.Key, d time.Duration) error {
	return forbidden("set_timeout", k.ID(), syscall.EPERM, "MKTME keys cannot be timed out: revoke the key instead")
}

// Invalidate is refused: revoke the key instead (k.Revoke). No system call
// is made: the error matches ErrForbidden and keyring.ErrPermission
// (EPERM, as KEY_FLAG_KEEP gives in RFC v1).
func Invalidate(k keyring.Key) error {
	return forbidden("invalidate", k.ID(), syscall.EPERM, "MKTME keys cannot be invalidated: revoke the key instead")
}

// Unlink is refused: unlinking an MKTME key could drop its KeyID from the
// pool while memory uses it. Revoke k first; then from.Unlink(k) unlinks
// it. No system call is made: the error matches ErrForbidden and
// keyring.ErrPermission (EPERM).
func Unlink(k keyring.Key, from keyring.Keyring) error {
	return forbidden("unlink", k.ID(), syscall.EPERM, "MKTME keys cannot be unlinked: revoke the key first")
}

// New creates an MKTME key described desc from the options o and links it
// into dest (add_key(2) with the type "mktme"). The zero Options is a
// CPU-generated key in the RFC v2 grammar. The steps, in order:
//
//  1. o is validated and marshalled; invalid options fail with a
//     *keyring.Error matching keyring.ErrInvalid (Refused, Field naming
//     the option).
//  2. The calling thread's capabilities are checked ([HasCapability]):
//     without CAP_SYS_RESOURCE or CAP_SYS_ADMIN in the initial user
//     namespace, New fails with a *keyring.Error (EACCES, Refused)
//     matching keyring.ErrPermission and os.ErrPermission, before any
//     system call. Where the capabilities cannot be read, the kernel
//     decides.
//  3. add_key is called. The payload buffer is wiped afterwards.
//
// Errors from the kernel:
//
//   - keyring.ErrNotSupported (ENODEV): the running kernel has no "mktme"
//     key type. The type was never merged into mainline Linux, so this is
//     the answer of every mainline kernel; the message says so.
//   - ErrPoolExhausted: no free hardware KeyID (EDQUOT for V1, ENOKEY for
//     V2, which the error also matches).
//   - keyring.ErrPermission: the kernel refused the capability anyway
//     (EACCES), or dest is not writable.
//   - keyring.ErrInvalid: the kernel refused the payload; a 2019 kernel
//     also refuses every key when the platform's ACPI HMAT check fails.
//   - the other errors of keyring.Keyring.Add.
//
// If dest already links an MKTME key described desc, add_key updates that
// key instead of creating one: RFC v1 has no update, so its kernel creates
// a new key that displaces the old; RFC v2 re-programs the old key and
// returns its ID, or fails with EBUSY while memory uses it. Use a fresh
// description.
//
// The key returned is a keyring.Key: retire it with k.Revoke, and leave
// update, timeout, invalidate and unlink to this package's functions of
// those names, which refuse them.
func New(dest keyring.Keyring, desc string, o Options) (keyring.Key, error) {
	pl := o.payload()
	p, err := pl.appendText("New", nil)
	if err != nil {
		return keyring.Key{}, err
	}
	defer keyring.Wipe(p)
	if ok, err := HasCapability(); err == nil && !ok {
		return keyring.Key{}, refusedAs("add_key", dest.ID(), syscall.EACCES, noCapability)
	}
	k, err := dest.Add(TypeName, desc, p)
	if err != nil {
		return keyring.Key{}, mapAddError(pl.version(), err, func() bool {
			_, derr := dest.Describe()
			return !errors.Is(derr, keyring.ErrNotFound)
		})
	}
	return k, nil
}

// mapAddError turns the kernel's answer to add_key("mktme") into this
// package's errors. version is the RFC grammar of the payload; destExists
// tells whether the destination keyring exists, to tell ENOKEY for a
// missing keyring from ENOKEY for an exhausted KeyID pool (RFC v2).
func mapAddError(version int, err error, destExists func() bool) error {
	var ke *keyring.Error
	if !errors.As(err, &ke) {
		return err
	}
	switch {
	case errors.Is(ke.Errno, syscall.ENODEV):
		return kerr.WithReason(ke, neverMerged)
	case errors.Is(ke.Errno, syscall.EACCES):
		return kerr.WithReason(ke, "the kernel requires CAP_SYS_RESOURCE or CAP_SYS_ADMIN in the initial user namespace for MKTME keys, or dest is not writable")
	case version == 1 && errors.Is(ke.Errno, syscall.EDQUOT):
		return kerr.WithErr(ke, "RFC v1 reports a full KeyID pool as EDQUOT, which is also the errno of the key quota", ErrPoolExhausted)
	case version == 2 && errors.Is(ke.Errno, enokey) && destExists():
		return kerr.WithErr(ke, "RFC v2 reports a full KeyID pool, or a failure to program the key, as ENOKEY", ErrPoolExhausted)
	case errors.Is(ke.Errno, syscall.EBUSY):
		return kerr.WithReason(ke, "dest already links an MKTME key with this description, which add_key tried to update while memory uses it")
	}
	return err
}

// Probe reports whether the running kernel has the "mktme" key type: nil
// if it has, an error matching keyring.ErrNotSupported that says the type
// was never merged if it has not, and any other error if it could not
// tell.
//
// KEYCTL_CAPABILITIES has no bit for key types, so Probe makes a cheap
// call with a deliberately invalid argument: add_key("mktme") with an
// empty payload, which every RFC version refuses (EINVAL, or EACCES
// without the capability), in a private session keyring on a thread of
// its own ([keyring.InNewSession]). It needs no capability and leaves no
// key behind. It does not cache its answer.
func Probe() error {
	return keyring.InNewSession(func(s keyring.Keyring) error {
		_, err := s.Add(TypeName, "kernkeys:mktme-probe", nil)
		var ke *keyring.Error
		switch {
		case err == nil:
			return nil // no RFC version accepts this; the key dies with the session
		case errors.Is(err, syscall.ENODEV) && errors.As(err, &ke):
			e := kerr.WithReason(ke, neverMerged)
			e.ID = 0 // the probe's session is gone
			return e
		case errors.Is(err, keyring.ErrInvalid), errors.Is(err, keyring.ErrPermission):
			return nil
		}
		return err
	})
}
