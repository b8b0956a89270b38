package keyring

import (
	"errors"
	"os"
	"strings"
	"syscall"

	"github.com/kernkeys/kernkeys/internal/keyctl"
)

// Sentinel errors. Every error the package returns is an *Error; match it
// with errors.Is against these, or against the errno itself
// (errors.Is(err, unix.ENOKEY) works too).
var (
	// ErrNotFound: ENOKEY, the key does not exist, is not reachable, or a
	// request_key had nobody to construct it; and ENOENT, a keyring does
	// not link the key (unlink, move).
	ErrNotFound = errors.New("key not found")
	// ErrExpired: EKEYEXPIRED.
	ErrExpired = errors.New("key has expired")
	// ErrRevoked: EKEYREVOKED.
	ErrRevoked = errors.New("key has been revoked")
	// ErrRejected: EKEYREJECTED, a negative key made by Reject.
	ErrRejected = errors.New("key was rejected")
	// ErrPermission: EACCES or EPERM. The errors also match os.ErrPermission.
	ErrPermission = errors.New("permission denied")
	// ErrQuota: EDQUOT, the owner's key count or byte quota is exhausted;
	// the error's Reason says which limit and how full ([QuotaOf]).
	ErrQuota = errors.New("key quota exceeded")
	// ErrNotSupported: the running kernel lacks the feature (EOPNOTSUPP,
	// ENODEV for an unknown key type, ENOSYS, ENOPKG for an algorithm or
	// encoding its crypto code lacks), or this GOOS has no keys.
	ErrNotSupported = errors.New("not supported")
	// ErrInvalid: EINVAL, the kernel's or this package's for input it
	// refuses before any system call (Error.Refused tells them apart).
	ErrInvalid = errors.New("invalid argument")
	// ErrUnavailable: the system call never reached the kernel's key
	// service: a seccomp filter refused it (EPERM under Docker's default
	// profile), or the kernel or sandbox does not implement it (ENOSYS),
	// or this GOOS has no keys. See [Available]. The error also matches
	// its errno's sentinel (ErrPermission, ErrNotSupported).
	ErrUnavailable = errors.New("key service unavailable")
)

// Error is the one error type of the module: every error kernkeys returns
// is an *Error or wraps one. It carries the operation, the key it was
// applied to, the kernel's errno, and for input refused before any system
// call, which argument was wrong. It unwraps to the errno and, where a
// package knows a narrower cause, to that package's sentinel (Err).
type Error struct {
	// Op names the operation: in the kernel's words for a system call
	// ("add_key", "request_key", or the keyctl command: "describe",
	// "read", ...), or the package and function for work done in
	// userspace ("encrypted.Seal", "trusted.ParseBlob", "secret.New").
	Op string
	// ID is the key or keyring operated on; 0 when there is none.
	ID ID
	// Errno is the kernel's answer, or the errno of the system call that
	// failed. Input refused before any system call carries EINVAL.
	Errno syscall.Errno
	// Refused is true when the input was refused before any system call:
	// the kernel never saw it. Errno is then EINVAL (or, where a package
	// refuses a whole operation that the kernel is known to refuse, that
	// errno: mktme's EPERM), Reason says what was wrong and Field, where
	// there is one, names the argument. The kernel's own answers, EINVAL
	// included, have Refused false.
	Refused bool
	// Field names the argument or option at fault in refused input, in the
	// words of the function's documentation ("desc", "Options.KeyLen",
	// "blob.HMAC"); empty when the operation as a whole was refused.
	Field string
	// Reason says what was wrong with refused input, or names the missing
	// kernel feature or a cause the errno alone does not tell. It never
	// contains key material.
	Reason string
	// Err is a narrower sentinel that the error also matches with
	// errors.Is, such as ErrUnavailable, encrypted.ErrBadHMAC,
	// trusted.ErrUnseal or secret.ErrLockLimit; nil when the errno says
	// it all.
	Err error
}

func (e *Error) Error() string {
	s := e.Op
	if !strings.Contains(s, ".") {
		s = "keyring: " + s
	}
	if e.ID != 0 {
		s += " " + e.ID.String()
	}
	if e.Field != "" {
		s += ": " + e.Field
	}
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s + ": " + e.Errno.Error()
}

// Unwrap returns the errno and, when set, Err.
func (e *Error) Unwrap() []error {
	if e.Err != nil {
		return []error{e.Errno, e.Err}
	}
	return []error{e.Errno}
}

// Is matches the package's sentinels and os.ErrPermission.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Errno == keyctl.ENOKEY || e.Errno == syscall.ENOENT
	case ErrExpired:
		return e.Errno == keyctl.EKEYEXPIRED
	case ErrRevoked:
		return e.Errno == keyctl.EKEYREVOKED
	case ErrRejected:
		return e.Errno == keyctl.EKEYREJECTED
	case ErrPermission, os.ErrPermission:
		return e.Errno == syscall.EACCES || e.Errno == syscall.EPERM
	case ErrQuota:
		return e.Errno == keyctl.EDQUOT
	case ErrNotSupported:
		return isUnsupported(e.Errno)
	case ErrInvalid:
		return e.Errno == syscall.EINVAL
	}
	return false
}

func isUnsupported(e syscall.Errno) bool {
	return e == syscall.EOPNOTSUPP || e == syscall.ENODEV || e == syscall.ENOSYS || e == keyctl.ENOPKG
}

// feature names what a keyctl command needs when the kernel answers that it
// does not support it.
func feature(op string) string {
	switch op {
	case "dh_compute":
		return "Diffie-Hellman operations (CONFIG_KEY_DH_OPERATIONS)"
	case "pkey_query", "pkey_encrypt", "pkey_verify":
		return "public-key operations (CONFIG_ASYMMETRIC_KEY_TYPE, on a key type that has them)"
	case "pkey_decrypt", "pkey_sign":
		return "private-key operations (CONFIG_ASYMMETRIC_KEY_TYPE with a private key, e.g. CONFIG_PKCS8_PRIVATE_KEY_PARSER)"
	case "watch_key":
		return "key notifications (CONFIG_KEY_NOTIFICATIONS)"
	case "watch_queue":
		return "watch queues (CONFIG_WATCH_QUEUE)"
	case "get_persistent":
		return "persistent keyrings (CONFIG_PERSISTENT_KEYRINGS)"
	case "restrict_keyring":
		return "keyring restrictions (Linux 4.12)"
	case "move":
		return "KEYCTL_MOVE (Linux 5.3)"
	case "capabilities":
		return "KEYCTL_CAPABILITIES (Linux 5.3)"
	case "invalidate":
		return "KEYCTL_INVALIDATE (Linux 3.5)"
	}
	return ""
}

// fail is the choke point that turns an errno into the package's error.
func fail(op string, id ID, errno syscall.Errno) error {
	e := &Error{Op: op, ID: id, Errno: errno}
	if call := serviceCall(op); call >= 0 && (errno == syscall.EPERM || errno == syscall.ENOSYS) {
		if u := serviceErr(call); u != nil {
			e.Reason, e.Err = u.Reason, ErrUnavailable
			return e
		}
	}
	if errno == keyctl.ENOPKG {
		e.Reason = "the kernel has no code for an algorithm, encoding or hash this needs (a crypto option not built, or its module not loaded)"
	} else if isUnsupported(errno) {
		e.Reason = feature(op)
	} else if errno == keyctl.EDQUOT {
		e.Reason = quotaReason()
	}
	return e
}

// failType is fail for add_key and request_key, whose ENODEV means the key
// type is not in the running kernel.
func failType(op string, id ID, typ string, errno syscall.Errno) error {
	err := fail(op, id, errno)
	if errno == syscall.ENODEV {
		err.(*Error).Reason = "key type " + quote(typ) + " is not available in the running kernel"
	}
	return err
}

// invalid reports input refused before any system call: the one place
// that builds such errors. field names the argument at fault in the words
// of the function's signature ("desc", "payload", "RequestOptions.CalloutInfo").
func invalid(op string, id ID, field, reason string) error {
	return &Error{Op: op, ID: id, Errno: syscall.EINVAL, Refused: true, Field: field, Reason: reason}
}
