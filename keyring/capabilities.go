package keyring

import "github.com/kernkeys/kernkeys/internal/keyctl"

// Capabilities is what the running kernel's key service reports it can do
// (KEYCTL_CAPABILITIES, Linux 5.3).
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
	// Raw holds the bytes as the kernel returned them.
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

// KernelCapabilities asks the running kernel what its key service supports
// (KEYCTL_CAPABILITIES, keyctl_capabilities(3)).
//
// Errors: ErrNotSupported (a kernel before 5.3).
func KernelCapabilities() (Capabilities, error) {
	buf := make([]byte, 8)
	n, e := keyctl.Capabilities(buf)
	if e != 0 {
		return Capabilities{}, fail("capabilities", 0, e)
	}
	return ParseCapabilities(buf[:min(n, len(buf))]), nil
}
