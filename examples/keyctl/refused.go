//go:build linux

package main

// The kernel's answers to input the keyring package refuses.
//
// The keyring package checks some arguments before it makes a system call
// and refuses them with ErrInvalid (EINVAL, Error.Refused set) that the
// kernel would answer otherwise, because the kernel checks other arguments
// first or answers another errno: an empty or over-long description for
// add_key, request_key and KEYCTL_SEARCH, a bad type or an over-long
// restriction for KEYCTL_RESTRICT_KEYRING, a name starting with '.' for
// KEYCTL_JOIN_SESSION_KEYRING, key 0 or a bad destination for
// instantiate, negate and reject, a zero or oversized output length or an
// empty hash name for dh_compute_kdf. (Key IDs elsewhere, 0 and unknown
// negative ones included, go to the kernel, which answers them itself.)
// Some input the package cannot express at all: an empty type or an empty
// restriction for restrict_keyring, which to it mean "none". keyutils'
// keyctl hands all of it to the kernel, so this file, and only this file,
// works out what the kernel would have said. It runs only after the
// package has refused (refused reports that), so it never overrides a
// kernel's answer: it repeats, in the kernel's order (security/keys/
// keyctl.c, key.c, keyring.c, request_key.c, dh.c), the checks the kernel
// makes before it reaches the refused argument, using calls that look up
// the same keys and change nothing, and then gives the errno the kernel
// gives for the argument itself. Those answers are pinned by
// internal/keyctl's TestKernelRefusals (an empty description or a zero
// destination is EINVAL on their own) and measured against C keyctl by
// TestRefusedInputs.
//
// Residual differences, which need the raw system call to close: a
// destination keyring is looked up with KEYCTL_GET_KEYRING_ID, which needs
// SEARCH permission where add_key and request_key need WRITE (and
// restrict_keyring SETATTR on the keyring it restricts); and a key
// type counts as registered when it is built in or has a key in /proc/keys
// (the kernel does not list its types), so add_key's ENODEV is assumed for
// a loadable type no key uses yet.

import (
	"errors"
	"strconv"
	"strings"
	"syscall"

	"github.com/kernkeys/kernkeys/keyring"
)

// refused reports whether err is the keyring package refusing input before
// any system call, which it marks as Refused.
func refused(err error) bool {
	var e *keyring.Error
	return errors.As(err, &e) && e.Refused
}

// lookupErr is lookup_user_key's answer for a key argument, asked with
// KEYCTL_GET_KEYRING_ID, which looks the key up the same way (creating
// @t, @p and @s as add_key and request_key do for a destination when
// create is set) and changes nothing else.
func lookupErr(id keyring.ID, create bool) error {
	var err error
	if create {
		_, err = id.Keyring().ResolveOrCreate()
	} else {
		_, err = id.Key().Resolve()
	}
	return err
}

// typeRegistered reports whether the kernel knows key type typ: the types
// every kernel with keys has, and any type with a key in /proc/keys.
func typeRegistered(typ string) bool {
	switch typ {
	case "user", "logon", "keyring":
		return true
	case "big_key", "asymmetric":
		c, err := keyring.KernelCapabilities()
		return err == nil && (typ == "big_key" && c.BigKey || typ == "asymmetric" && c.PublicKey)
	}
	keys, err := keyring.ProcKeys()
	if err != nil {
		return false
	}
	for _, k := range keys {
		if k.Type == typ {
			return true
		}
	}
	return false
}

// notKeyring reports whether id names a key that is not a keyring; false
// when the caller may not see its type.
func notKeyring(id keyring.ID) bool {
	d, err := id.Key().Describe()
	return err == nil && d.Type != "keyring"
}

// addAnswer is add_key's answer to what Keyring.Add refused: the payload's
// size, the type and the description's length (checked first by both),
// then the destination, the type's presence, the destination's type, and
// last the description or payload, which are EINVAL.
func addAnswer(typ, desc string, payload []byte, dest keyring.ID) error {
	if len(typ) == 0 || len(typ) > 31 || len(desc) > 4095 || len(payload) > 1<<20-1 {
		return syscall.EINVAL
	}
	if err := lookupErr(dest, true); err != nil {
		return err
	}
	switch {
	case !typeRegistered(typ):
		return syscall.ENODEV
	case typ == "encrypted" || typ == "trusted":
		// No preparse: a missing description is refused before the
		// destination's type is looked at.
		return syscall.EINVAL
	case notKeyring(dest):
		return syscall.ENOTDIR
	}
	return syscall.EINVAL
}

// requestAnswer is request_key's answer to an empty description: the
// destination, the type, the type's match rules, then a miss (ENOKEY) or,
// with callout information, a construction the kernel refuses (EPERM for
// a keyring, EINVAL otherwise).
func requestAnswer(typ string, callout []byte, dest keyring.ID) error {
	if dest != 0 {
		if err := lookupErr(dest, true); err != nil {
			return err
		}
	}
	switch {
	case !typeRegistered(typ):
		return syscall.ENOKEY
	case typ == "asymmetric": // its match_preparse refuses an empty spec
		return syscall.EINVAL
	case callout == nil:
		return syscall.ENOKEY
	case typ == "keyring":
		return syscall.EPERM
	}
	return syscall.EINVAL
}

// searchAnswer is KEYCTL_SEARCH's answer to an empty description: the
// keyring searched, the destination, the type, its match rules, whether
// the keyring is one, then a miss.
func searchAnswer(ring keyring.ID, typ string, dest keyring.ID) error {
	if err := lookupErr(ring, false); err != nil {
		return err
	}
	if dest != 0 {
		if err := lookupErr(dest, true); err != nil {
			return err
		}
	}
	switch {
	case !typeRegistered(typ):
		return syscall.ENOKEY
	case typ == "asymmetric":
		return syscall.EINVAL
	case notKeyring(ring):
		return syscall.ENOTDIR
	}
	return syscall.ENOKEY
}

// constructAnswer is the answer of instantiate, negate and reject to a
// refused key or destination: the payload size and reject's reason
// (-1 for the others: not an errno, or one of the kernel's ERESTART*
// codes) are checked first (EINVAL), then the caller's authority over the
// key, which key 0 never has (EPERM); only then is the destination looked
// up.
func constructAnswer(k, dest keyring.ID, payload int, reason int64) error {
	switch {
	case payload > 1<<20-1, reason == 0, reason >= 4095,
		reason >= 512 && reason <= 516 && reason != 515: // ERESTARTSYS .. ERESTART_RESTARTBLOCK
		return syscall.EINVAL
	}
	if k == 0 || !haveAuthority(k) {
		return syscall.EPERM
	}
	return lookupErr(dest, true)
}

// haveAuthority reports whether the calling thread has assumed the
// authority to instantiate k: its @a is the request_key_auth key whose
// description is k's serial in hex.
func haveAuthority(k keyring.ID) bool {
	d, err := keyring.RequestKeyAuth().Describe()
	return err == nil && d.Description == strconv.FormatUint(uint64(uint32(k)), 16)
}

// dhSupported reports whether the kernel has KEYCTL_DH_COMPUTE: without
// CONFIG_KEY_DH_OPERATIONS it answers every call, whatever the arguments,
// with EOPNOTSUPP.
func dhSupported() bool {
	c, err := keyring.KernelCapabilities()
	return err == nil && c.DiffieHellman
}

// dhAnswer is KEYCTL_DH_COMPUTE's answer to what DHComputeKDF refused; nil
// means the kernel would succeed with no data. Without
// CONFIG_KEY_DH_OPERATIONS every call is EOPNOTSUPP; with it the length
// (over 1024: EMSGSIZE), the hash (a name the crypto API cannot know:
// ENOENT; 128 bytes or more: EINVAL), then the prime, base and private
// keys are checked in that order, and a zero length then succeeds with no
// data.
func dhAnswer(p keyring.DHParams, kdf keyring.KDF, n int) error {
	switch {
	case !dhSupported():
		return syscall.EOPNOTSUPP
	case n > 1024 || len(kdf.OtherInfo) > 64:
		return syscall.EMSGSIZE
	case len(kdf.Hash) >= 128:
		return syscall.EINVAL
	case kdf.Hash == "" || len(kdf.Hash) > 31 || strings.HasPrefix(kdf.Hash, "."):
		return syscall.ENOENT
	}
	// n is 0: ask for one byte, and the kernel checks the keys (ENOKEY
	// for any it cannot look up, 0 included) and the rest.
	b, err := keyring.DHComputeKDF(p, kdf, 1)
	keyring.Wipe(b)
	return err
}

// restrictAnswer is KEYCTL_RESTRICT_KEYRING's answer to a type or
// restriction that Restrict refused or cannot express (an empty one, which
// to it means "none"): the keyring first, then a type without a
// restriction (EINVAL), the type's name (empty or over 31 bytes: EINVAL; a
// leading '.': EPERM), the restriction's length (over 4095: EINVAL); then
// keyring_restrict: the keyring's type (ENOTDIR), the type's presence
// (ENOKEY) and whether it has restrictions at all (only asymmetric does:
// ENOENT), whose parser refuses an empty rule (EINVAL).
func restrictAnswer(ring keyring.ID, typ string, restriction *string) error {
	if err := lookupErr(ring, false); err != nil {
		return err
	}
	switch {
	case restriction == nil, typ == "", len(typ) > 31:
		return syscall.EINVAL
	case typ[0] == '.':
		return syscall.EPERM
	case len(*restriction) > 4095:
		return syscall.EINVAL
	case notKeyring(ring):
		return syscall.ENOTDIR
	case !typeRegistered(typ):
		return syscall.ENOKEY
	case typ != "asymmetric":
		return syscall.ENOENT
	}
	return syscall.EINVAL
}

// sessionAnswer is KEYCTL_JOIN_SESSION_KEYRING's answer to a name
// JoinSession refused: EPERM for a leading '.' in a name the kernel could
// copy (under 4096 bytes), EINVAL otherwise, as the package said.
func sessionAnswer(name string, err error) error {
	if len(name) < 4096 && strings.HasPrefix(name, ".") {
		return syscall.EPERM
	}
	return err
}
