package keyring

import "strconv"

// ID is a key's serial number, or one of the negative special IDs that name
// a keyring relative to the calling thread.
type ID int32

// The special IDs (KEY_SPEC_* in <linux/keyctl.h>). They are resolved by the
// kernel against the calling thread's credentials on every call; see the
// package documentation on threads. Each has one exported name, its handle
// ([Session], [User], ...); its ID is Session().ID(), and ParseID("@s")
// and String give keyutils' shorthand.
const (
	idThread         ID = -1 // @t
	idProcess        ID = -2 // @p
	idSession        ID = -3 // @s
	idUser           ID = -4 // @u
	idUserSession    ID = -5 // @us
	idGroup          ID = -6 // @g; not implemented by Linux
	idRequestKeyAuth ID = -7 // @a
	idRequestor      ID = -8 // the destination of the request_key being serviced
)

var specialNames = [...]string{"@t", "@p", "@s", "@u", "@us", "@g", "@a", "@r"}

// IsSpecial reports whether id is one of the special IDs.
func (id ID) IsSpecial() bool { return id >= idRequestor && id < 0 }

// String returns keyutils' shorthand for a special ID (@t, @p, @s, @u, @us,
// @g, @a; @r for the requestor keyring) and the decimal serial otherwise.
func (id ID) String() string {
	if id.IsSpecial() {
		return specialNames[-id-1]
	}
	return strconv.FormatInt(int64(id), 10)
}

// ParseID parses what String returns, the key specs keyutils' keyctl takes
// for keyrings: a special ID's shorthand (@t, @p, @s, @u, @us, @g, @a, @r)
// or a serial number, decimal, hex with 0x or octal with a leading 0 (as
// C's strtol with base 0). A number may also be a special ID (-3 is @s).
//
// Errors: ErrInvalid for anything else, zero, and negative numbers that
// are not special IDs.
func ParseID(s string) (ID, error) {
	for i, name := range specialNames {
		if s == name {
			return ID(-1 - i), nil
		}
	}
	n, err := strconv.ParseInt(s, 0, 32)
	if err != nil || !cBase0(s) || n == 0 || n < int64(idRequestor) {
		return 0, invalid("parse key ID", 0, "s", quote(s)+" is neither a serial number nor one of @t, @p, @s, @u, @us, @g, @a, @r")
	}
	return ID(n), nil
}

// Key returns a handle on the key id names.
func (id ID) Key() Key { return Key{id: id} }

// Keyring returns a handle on the keyring id names. Whether the key is in
// fact a keyring is the kernel's to say: keyring operations on another type
// fail with ENOTDIR.
func (id ID) Keyring() Keyring { return Keyring{Key{id: id}} }

// Key is a handle on a key. It is a value, not a file descriptor: it holds
// no reference and needs no Close; the key lives as long as links, timeouts,
// revocation and invalidation let it. The zero Key names no key: the
// kernel answers operations on it as on key 0, with ErrInvalid (ErrNotFound
// from Read).
type Key struct{ id ID }

// ID returns the key's serial number, or the special ID it was made from.
func (k Key) ID() ID { return k.id }

// String returns the key's ID as text.
func (k Key) String() string { return k.id.String() }

// Keyring is a handle on a keyring: a Key whose payload is a list of links.
// It has every method of Key. The zero Keyring names no keyring.
type Keyring struct{ Key }

// Thread returns the calling thread's keyring (@t).
func Thread() Keyring { return idThread.Keyring() }

// Process returns the calling thread's process keyring (@p). In Go it is in
// effect per OS thread: see the package documentation.
func Process() Keyring { return idProcess.Keyring() }

// Session returns the calling thread's session keyring (@s).
func Session() Keyring { return idSession.Keyring() }

// User returns the caller's user keyring (@u).
func User() Keyring { return idUser.Keyring() }

// UserSession returns the caller's default user session keyring (@us).
func UserSession() Keyring { return idUserSession.Keyring() }

// Group returns the group keyring (@g), which Linux does not implement:
// every operation on it fails with ErrInvalid.
func Group() Keyring { return idGroup.Keyring() }

// Requestor returns the keyring that a request_key being serviced by this
// thread will link its key into.
func Requestor() Keyring { return idRequestor.Keyring() }

// RequestKeyAuth returns the authorisation key assumed by this thread (@a).
func RequestKeyAuth() Key { return idRequestKeyAuth.Key() }
