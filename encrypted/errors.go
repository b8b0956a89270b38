package encrypted

import (
	"errors"
	"syscall"

	"github.com/kernkeys/kernkeys/internal/kerr"
	"github.com/kernkeys/kernkeys/keyring"
)

// ErrBadHMAC is matched by an error whose blob does not verify under its
// master key: the master key is wrong, or the blob, its format word, its
// master descriptor or its datalen was changed. [Open] and [Rewrap] find
// it in userspace; [Load], [Migrate] and [Import] report the kernel's
// refusal of a blob that passed this package's checks with it. The kernel
// reports the condition as EINVAL, so the error matches
// keyring.ErrInvalid too.
var ErrBadHMAC = errors.New("encrypted: HMAC mismatch")

// invalid returns the error for input that op refuses before any system
// call: a *keyring.Error with Refused set, matching keyring.ErrInvalid.
func invalid(op, field, reason string) error {
	return kerr.Refuse("encrypted."+op, field, reason)
}

// fileError returns the error of a failed file operation as a
// *keyring.Error that unwraps to the errno (so errors.Is(err,
// fs.ErrNotExist) works).
func fileError(op, reason string, err error) error {
	var ke *keyring.Error
	if errors.As(err, &ke) {
		return err
	}
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		errno = syscall.EIO
		reason += ": " + err.Error()
	}
	return kerr.Errno("encrypted."+op, errno, reason)
}
