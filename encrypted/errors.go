package encrypted

import (
	"fmt"

	"github.com/kernkeys/kernkeys/internal/fielderr"
	"github.com/kernkeys/kernkeys/keyring"
)

// ErrInvalid is matched by every error that reports input the kernel
// would reject with EINVAL: a malformed payload or blob, a size rule, a
// bad master key descriptor, or an HMAC mismatch. It is keyring.ErrInvalid,
// so one errors.Is check serves both packages.
var ErrInvalid = keyring.ErrInvalid

// ErrBadHMAC is matched by an error from [Open] or [Rewrap] when the
// blob's HMAC does not verify: the master key is wrong, or the blob, its
// format word, its master descriptor or its datalen was changed. The
// kernel reports the same condition as EINVAL, so it matches [ErrInvalid]
// too.
var ErrBadHMAC = fmt.Errorf("HMAC mismatch: %w", ErrInvalid)

// Error describes input that this package rejected (it is the same type
// as mktme.Error and trusted.Error). Its message names the operation and
// the offending field and never contains key material, plaintext or
// payload bytes. Pkg is "encrypted"; Field is one of "format", "master",
// "master key", "datalen", "description", "iv", "hex", "ciphertext",
// "hmac", "blob" or "payload"; Err is ErrInvalid, or ErrBadHMAC for a
// failed HMAC check.
type Error = fielderr.Error

// invalid returns an *Error that matches ErrInvalid.
func invalid(op, field, msg string) error {
	return &Error{Pkg: "encrypted", Op: op, Field: field, Msg: msg, Err: ErrInvalid}
}
