package trusted

import (
	"errors"

	"github.com/kernkeys/kernkeys/internal/fielderr"
	"github.com/kernkeys/kernkeys/keyring"
)

// ErrInvalid is matched by every error that reports a payload, options or
// blob that the kernel would refuse with EINVAL, or that this package
// refuses because the kernel would silently ignore or truncate part of it.
// It is keyring.ErrInvalid, so one errors.Is check serves every kernkeys
// package.
var ErrInvalid = keyring.ErrInvalid

// ErrUnseal is matched by the error of [Load] when the trust source
// refused to unseal the blob: the kernel logs "TPM error (...)" and
// answers EPERM. The blob was changed, was sealed by another TPM or under
// another parent key, or its password (blobauth=), parent password
// (keyauth=), policy session (policyhandle=) or PCR binding does not match.
// The error also matches keyring.ErrPermission and unwraps to
// the *keyring.Error with the errno.
var ErrUnseal = errors.New("the trust source refused to unseal the blob")

// Error describes a payload, options or a blob that this package rejected
// (it is the same type as encrypted.Error and mktme.Error). Its message
// names the operation and the offending field and never contains key
// material, passwords or payload bytes. Pkg is "trusted"; Op is the
// function, such as "NewPayload" or "ParseBlob"; Field is "backend",
// "command", "keylen", "blob", "payload", an option name such as
// "keyhandle" or "policydigest", or an ASN.1 field of the TPM 2.0 blob such
// as "parent" or "pubkey"; Err is ErrInvalid.
type Error = fielderr.Error

// invalid returns an *Error that matches ErrInvalid.
func invalid(op, field, msg string) error {
	return &Error{Pkg: "trusted", Op: op, Field: field, Msg: msg, Err: ErrInvalid}
}
