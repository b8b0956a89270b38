package keyring

import (
	"sync/atomic"
	"syscall"

	"github.com/kernkeys/kernkeys/internal/keyctl"
)

// Capabilities is what the running kernel's key service can do, as
// KEYCTL_CAPABILITIES (Linux 5.3) reports it or, on older kernels, as
// [KernelCapabilities] probes it.
type Capabilities struct {
	Query              bool // KEYCTL_CAPABILITIES itself
	PersistentKeyrings bool // CONFIG_PERSISTENT_KEYRINGS
	DiffieHellman      bool // CONFIG_KEY_DH_OPERATIONS
	PublicKey          bool // CONFIG_ASYMMETRIC_KEY_TYPE: pkey operations
	BigKey             bool // CONFIG_BIG_KEYS
	Invalidate         bool
	RestrictKeyring    bool
	Move               bool
	NamespacedNames    bool // keyring names are per user namespace
	NamespacedTags     bool // keys are tagged by network namespace
	Notifications      bool // CONFIG_KEY_NOTIFICATIONS: Watch
	// Raw holds the bytes as the kernel returned them; nil when the
	// kernel has no KEYCTL_CAPABILITIES and the other fields were probed.
	Raw []byte
}

// ParseCapabilities decodes the kernel's capability bytes.
func ParseCapabilities(raw []byte) Capabilities {
	var b [2]byte
	copy(b[:], raw)
	return Capabilities{
		Query:              b[0]&0x01 != 0,
		PersistentKeyrings: b[0]&0x02 != 0,
		DiffieHellman:      b[0]&0x04 != 0,
		PublicKey:          b[0]&0x08 != 0,
		BigKey:             b[0]&0x10 != 0,
		Invalidate:         b[0]&0x20 != 0,
		RestrictKeyring:    b[0]&0x40 != 0,
		Move:               b[0]&0x80 != 0,
		NamespacedNames:    b[1]&0x01 != 0,
		NamespacedTags:     b[1]&0x02 != 0,
		Notifications:      b[1]&0x04 != 0,
		Raw:                append([]byte(nil), raw...),
	}
}

// KernelCapabilities reports what the running kernel's key service
// supports (KEYCTL_CAPABILITIES, keyctl_capabilities(3)).
//
// A kernel before 5.3 has no KEYCTL_CAPABILITIES; there every field is
// probed with a call that the kernel refuses without side effects, and
// Query is false and Raw nil. Each probe tells a kernel that has the
// operation (it refuses the arguments: EINVAL) from one that does not (an
// unknown operation or a stub compiled without the option: EOPNOTSUPP):
//
//	Invalidate          KEYCTL_INVALIDATE of key 0            (Linux 3.5)
//	PersistentKeyrings  KEYCTL_GET_PERSISTENT into keyring 0  (Linux 3.13)
//	BigKey              add_key("big_key") of an empty payload into @u:
//	                    EINVAL, or ENODEV without the type    (Linux 3.13)
//	DiffieHellman       KEYCTL_DH_COMPUTE with no parameters  (Linux 4.7)
//	RestrictKeyring     KEYCTL_RESTRICT_KEYRING of key 0      (Linux 4.12)
//	PublicKey           KEYCTL_PKEY_QUERY of key 0            (Linux 4.20)
//	Move                KEYCTL_MOVE with an unknown flag      (Linux 5.3)
//	Notifications       KEYCTL_WATCH_KEY with watch ID -2     (Linux 5.8)
//
// The kernel refuses each of these arguments before it touches a key;
// only the BigKey probe looks up a keyring (add_key finds the keyring
// before the type): the caller's user keyring, which the kernel creates
// if nothing has used it yet (a login's pam_keyinit usually has).
// NamespacedNames and NamespacedTags have no call that shows them; they
// came with KEYCTL_CAPABILITIES in 5.3, so a kernel without it has
// neither. The releases of MOVE, CAPABILITIES (both merged for 5.3-rc1)
// and the PKEY operations (4.20-rc1) were checked against their merges
// into Linux, the answers against the 6.1 source and, through the tests,
// the 6.18 host and 6.1 VM kernels; the other releases are keyctl(2)'s.
// Probing rather than parsing the version keeps backports honest.
//
// The answer is cached once every probe has given one of its two
// conclusive answers; any other answer (a refused lookup of @u, say) is
// returned as the error, uncached, and the next call probes again.
//
// Errors: ErrUnavailable (the key system calls are blocked, see
// [Available]); the error of a probe whose answer was inconclusive.
func KernelCapabilities() (Capabilities, error) {
	if c := kernelCaps.Load(); c != nil {
		return c.clone(), nil
	}
	buf := make([]byte, 8)
	n, e := keyctl.Capabilities(buf)
	var c Capabilities
	switch e {
	case 0:
		c = ParseCapabilities(buf[:min(n, len(buf))])
	case syscall.EOPNOTSUPP:
		var err error
		if c, err = probeCapabilities(); err != nil {
			return Capabilities{}, err
		}
	default:
		return Capabilities{}, fail("capabilities", 0, e)
	}
	kernelCaps.Store(&c)
	return c.clone(), nil
}

// kernelCaps caches KernelCapabilities' conclusive answer.
var kernelCaps atomic.Pointer[Capabilities]

func (c *Capabilities) clone() Capabilities {
	d := *c
	d.Raw = append([]byte(nil), c.Raw...)
	return d
}

// featureProbe is one of probeCapabilities' calls: has is the answer of a
// kernel with the feature, hasnt the answer of one without it.
type featureProbe struct {
	op         string // the operation, as fail names it
	field      *bool
	call       func() syscall.Errno
	has, hasnt syscall.Errno
}

// probeCapabilities finds out what KEYCTL_CAPABILITIES would have said on
// a kernel that lacks it; see KernelCapabilities.
func probeCapabilities() (Capabilities, error) {
	var c Capabilities
	bigKey, empty := [...]byte{'b', 'i', 'g', '_', 'k', 'e', 'y', 0}, byte(0)
	probes := [...]featureProbe{
		{"invalidate", &c.Invalidate, func() syscall.Errno { return keyctl.Invalidate(0) }, syscall.EINVAL, syscall.EOPNOTSUPP},
		{"get_persistent", &c.PersistentKeyrings, func() syscall.Errno { _, e := keyctl.GetPersistent(-1, 0); return e }, syscall.EINVAL, syscall.EOPNOTSUPP},
		{"add_key", &c.BigKey, func() syscall.Errno {
			_, e := keyctl.AddKey(&bigKey[0], &empty, nil, int32(idUser))
			return e
		}, syscall.EINVAL, syscall.ENODEV},
		{"dh_compute", &c.DiffieHellman, func() syscall.Errno { _, e := keyctl.DHCompute(nil, nil, nil); return e }, syscall.EINVAL, syscall.EOPNOTSUPP},
		{"restrict_keyring", &c.RestrictKeyring, func() syscall.Errno { return keyctl.RestrictKeyring(0, nil, nil) }, syscall.EINVAL, syscall.EOPNOTSUPP},
		{"pkey_query", &c.PublicKey, func() syscall.Errno {
			var q keyctl.PkeyQueryResult
			return keyctl.PkeyQuery(0, &empty, &q)
		}, syscall.EINVAL, syscall.EOPNOTSUPP},
		{"move", &c.Move, func() syscall.Errno { return keyctl.Move(0, 0, 0, keyctl.MoveExcl<<1) }, syscall.EINVAL, syscall.EOPNOTSUPP},
		{"watch_key", &c.Notifications, func() syscall.Errno { return keyctl.WatchKey(0, -1, -2) }, syscall.EINVAL, syscall.EOPNOTSUPP},
	}
	for _, p := range probes {
		switch e := p.call(); e {
		case p.has:
			*p.field = true
		case p.hasnt:
		default:
			err := fail(p.op, 0, e).(*Error)
			if err.Err == nil {
				err.Reason = "feature probe: neither the answer of a kernel with the feature nor of one without it"
			}
			return Capabilities{}, err
		}
	}
	return c, nil
}
