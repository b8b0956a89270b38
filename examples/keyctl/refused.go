//go:build linux

package main

// The kernel's answers to input the keyring package refuses.
//
// The keyring package checks its arguments before it makes a system call
// and refuses some with ErrInvalid (EINVAL) that the kernel would answer
// otherwise, because the kernel checks other arguments first: an empty
// description for add_key, request_key and KEYCTL_SEARCH, key 0 or a bad
// destination for instantiate, negate and reject, key 0 for watch,
// watch_add and watch_rm, a zero or oversized output length or an empty
// hash name for dh_compute_kdf. keyutils' keyctl
// hands such input to the kernel, so this file, and only this file, works
// out what the kernel would have said. It runs only after the package has
// refused (refused reports that), so it never overrides a kernel's answer:
// it repeats, in the kernel's order (security/keys/keyctl.c, key.c,
// request_key.c, dh.c), the checks the kernel makes before it reaches the
// refused argument, using calls that look up the same keys and change
// nothing, and then gives the errno the kernel gives for the argument
// itself. Those answers are pinned by internal/keyctl's TestKernelRefusals
// (an empty description or a zero destination is EINVAL on their own) and
// measured against C keyctl by TestCompat ("kernel order" cases).
//
// Residual differences, which need the raw system call to close: a
// destination keyring is looked up with KEYCTL_GET_KEYRING_ID, which needs
// SEARCH permission where add_key and request_key need WRITE; and a key
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
// any system call: EINVAL with a reason. The kernel's own errors carry a
// reason only for missing features, which are never EINVAL.
func refused(err error) bool {
	var e *keyring.Error
	return errors.As(err, &e) && e.Errno == syscall.EINVAL && e.Reason != ""
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

// addAnswer is add_key's answer to what Keyring.Add refused: the type
// (checked first by both), then the destination, the type's presence, the
// destination's type, and last the description or payload, which are
// EINVAL.
func addAnswer(typ string, payload []byte, dest keyring.ID) error {
	if len(typ) == 0 || len(typ) > 31 || len(payload) > 1<<20-1 {
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
// (-1 for the others) are checked first (EINVAL), then the caller's
// authority over the key, which key 0 never has (EPERM); only then is the
// destination looked up.
func constructAnswer(k, dest keyring.ID, payload int, reason int64) error {
	if payload > 1<<20-1 || reason == 0 || reason >= 4095 {
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

// dhAnswer is KEYCTL_DH_COMPUTE's answer to what DHCompute refused (kdf
// nil: a bad key) or DHComputeKDF refused; nil means the kernel would
// succeed with no data. Without CONFIG_KEY_DH_OPERATIONS every call is
// EOPNOTSUPP; with it the length (over 1024: EMSGSIZE), the hash (a name
// the crypto API cannot know: ENOENT; 128 bytes or more: EINVAL), the
// prime, base and private keys (dh_data_from_key turns any lookup failure,
// 0 included, into ENOKEY) are checked in that order, and a zero length
// then succeeds with no data.
func dhAnswer(p keyring.DHParams, kdf *keyring.KDF, n int) error {
	switch {
	case !dhSupported():
		return syscall.EOPNOTSUPP
	case kdf == nil:
		return syscall.ENOKEY
	}
	switch {
	case n > 1024 || len(kdf.OtherInfo) > 64:
		return syscall.EMSGSIZE
	case len(kdf.Hash) >= 128:
		return syscall.EINVAL
	case kdf.Hash == "" || len(kdf.Hash) > 31 || strings.HasPrefix(kdf.Hash, "."):
		return syscall.ENOENT
	}
	for _, k := range []keyring.Key{p.Prime, p.Base, p.Private} {
		if k.ID() == 0 || k.ID() < keyring.RequestorKeyring {
			return syscall.ENOKEY
		}
	}
	// n is 0: ask for one byte to meet the kernel's other checks.
	b, err := keyring.DHComputeKDF(p, *kdf, 1)
	keyring.Wipe(b)
	return err
}

// watchAnswer is KEYCTL_WATCH_KEY's answer to a key Watch or Unwatch
// refused (0 or an unknown special ID): without CONFIG_KEY_NOTIFICATIONS
// every call is EOPNOTSUPP; with it lookup_user_key says EINVAL, as the
// package did.
func watchAnswer(err error) error {
	if c, e := keyring.KernelCapabilities(); e == nil && !c.Notifications {
		return syscall.EOPNOTSUPP
	}
	return err
}
