package trusted

import (
	"errors"

	"github.com/kernkeys/kernkeys/internal/kerr"
)

// ErrUnseal is matched by the error of [Load] when the trust source
// refused to unseal the blob: the kernel logs "TPM error (...)" and
// answers EPERM. The blob was changed, was sealed by another TPM or under
// another parent key, or its password (blobauth=), parent password
// (keyauth=), policy session (policyhandle=) or PCR binding does not match.
// The error is the *keyring.Error of add_key, with ErrUnseal as its Err:
// it also matches keyring.ErrPermission and syscall.EPERM.
var ErrUnseal = errors.New("the trust source refused to unseal the blob")

// invalid returns the error for input that op ("NewPayload",
// "ParseBlob", ...) refuses before any system call: a *keyring.Error with
// Op "trusted."+op, Refused set and Field naming the part at fault, which
// matches keyring.ErrInvalid.
func invalid(op, field, reason string) error {
	return kerr.Refuse("trusted."+op, field, reason)
}
