package keyring

import (
	"syscall"
	"time"

	"github.com/kernkeys/kernkeys/internal/keyctl"
)

// The request-key helper side: a program run by /sbin/request-key (see
// request-key(8)) to construct a key that request_key(2) asked for. It is
// handed the key's ID and assumes the authority to instantiate it; until it
// instantiates, negates or rejects the key, or exits, the requester waits.
// Package requestkey builds the whole handler program on these calls.

// AssumeAuthority makes the calling thread act with the authority to
// instantiate k, which must be a key under construction whose authorisation
// key the thread can find, and returns the authorisation key's ID
// (KEYCTL_ASSUME_AUTHORITY, keyctl_assume_authority(3)). The zero Key gives
// the authority up. The authority belongs to the calling thread: lock it.
//
// Errors: ErrNotFound (no authorisation key for k: it is not under
// construction for a request this thread can see).
func AssumeAuthority(k Key) (Key, error) {
	if k.id != 0 {
		if err := k.check("assume_authority", "k"); err != nil {
			return Key{}, err
		}
	}
	id, e := keyctl.AssumeAuthority(int32(k.id))
	if e != 0 {
		return Key{}, fail("assume_authority", k.id, e)
	}
	return Key{ID(id)}, nil
}

// Instantiate gives the key under construction k its payload and links it
// into dest, if that is not the zero Keyring (KEYCTL_INSTANTIATE,
// keyctl_instantiate(3)). The caller must have assumed authority over k.
//
// Errors: ErrPermission (no authority), ErrInvalid (payload rejected by the
// type, or over 1 MiB - 1), ErrQuota.
func (k Key) Instantiate(payload []byte, dest Keyring) error {
	if err := k.checkConstruct("instantiate", dest); err != nil {
		return err
	}
	if len(payload) > MaxPayload {
		return invalid("instantiate", k.id, "payload", "payload over 1 MiB - 1")
	}
	if e := keyctl.Instantiate(int32(k.id), payload, int32(dest.id)); e != 0 {
		return fail("instantiate", k.id, e)
	}
	return nil
}

// InstantiateIOV is Instantiate with the payload gathered from parts
// (KEYCTL_INSTANTIATE_IOV, keyctl_instantiate_iov(3)).
func (k Key) InstantiateIOV(parts [][]byte, dest Keyring) error {
	if err := k.checkConstruct("instantiate_iov", dest); err != nil {
		return err
	}
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	if n > MaxPayload {
		return invalid("instantiate_iov", k.id, "parts", "payload over 1 MiB - 1")
	}
	if e := keyctl.InstantiateIOV(int32(k.id), parts, int32(dest.id)); e != 0 {
		return fail("instantiate_iov", k.id, e)
	}
	return nil
}

// Negate instantiates k as a negative key for timeout (rounded up to whole
// seconds; 0 for ever): requests for it fail with ErrNotFound
// (KEYCTL_NEGATE, keyctl_negate(3)).
//
// Errors: as for Instantiate.
func (k Key) Negate(timeout time.Duration, dest Keyring) error {
	if err := k.checkConstruct("negate", dest); err != nil {
		return err
	}
	secs, err := seconds("negate", k.id, "timeout", timeout)
	if err != nil {
		return err
	}
	if e := keyctl.Negate(int32(k.id), secs, int32(dest.id)); e != 0 {
		return fail("negate", k.id, e)
	}
	return nil
}

// Reject instantiates k as a negative key for timeout: requests for it fail
// with reason, typically EKEYREJECTED, ENOKEY, EKEYREVOKED or EKEYEXPIRED
// (KEYCTL_REJECT, keyctl_reject(3)).
//
// Errors: as for Instantiate.
func (k Key) Reject(timeout time.Duration, reason syscall.Errno, dest Keyring) error {
	if err := k.checkConstruct("reject", dest); err != nil {
		return err
	}
	secs, err := seconds("reject", k.id, "timeout", timeout)
	if err != nil {
		return err
	}
	if reason == 0 || reason > 4095 {
		return invalid("reject", k.id, "reason", "reason is not an errno")
	}
	if e := keyctl.Reject(int32(k.id), secs, uint32(reason), int32(dest.id)); e != 0 {
		return fail("reject", k.id, e)
	}
	return nil
}

func (k Key) checkConstruct(op string, dest Keyring) error {
	if err := k.check(op, "k"); err != nil {
		return err
	}
	if dest.id != 0 {
		return dest.check(op, "dest")
	}
	return nil
}

// RequestKeyring selects the calling thread's default keyring for keys that
// request_key constructs (KEY_REQKEY_DEFL_*).
type RequestKeyring int32

// The choices of SetDefaultRequestKeyring.
const (
	RequestKeyringNoChange    RequestKeyring = -1 // only report the current one
	RequestKeyringDefault     RequestKeyring = 0  // thread, process, session, user-session, user: the first that exists
	RequestKeyringThread      RequestKeyring = 1
	RequestKeyringProcess     RequestKeyring = 2
	RequestKeyringSession     RequestKeyring = 3
	RequestKeyringUser        RequestKeyring = 4
	RequestKeyringUserSession RequestKeyring = 5
	RequestKeyringRequestor   RequestKeyring = 7
)

// SetDefaultRequestKeyring sets the calling thread's default request-key
// destination and returns the previous one (KEYCTL_SET_REQKEY_KEYRING,
// keyctl_set_reqkey_keyring(3)). The setting belongs to the calling thread.
//
// Errors: ErrInvalid (an unknown choice, or the group keyring, which Linux
// does not implement).
func SetDefaultRequestKeyring(which RequestKeyring) (RequestKeyring, error) {
	if which < RequestKeyringNoChange || which > RequestKeyringRequestor || which == 6 {
		return 0, invalid("set_reqkey_keyring", 0, "which", "unknown default request-key keyring "+ID(which).String())
	}
	old, e := keyctl.SetReqKeyKeyring(int32(which))
	if e != 0 {
		return 0, fail("set_reqkey_keyring", 0, e)
	}
	return RequestKeyring(old), nil
}
