package encrypted

import (
	"strconv"
	"strings"
)

// MasterKind is the key type of a master key. The kernel accepts only
// user and trusted keys as masters; an encrypted or logon key cannot be one.
type MasterKind uint8

const (
	// UserMaster is a "user" key: its whole payload (1 to 32767 bytes) is
	// the master key.
	UserMaster MasterKind = iota + 1
	// TrustedMaster is a "trusted" key (CONFIG_TRUSTED_KEYS): its unsealed
	// key bytes are the master key. The kernel never shows them to
	// userspace.
	TrustedMaster
)

// String returns "user" or "trusted", the prefix used in descriptors.
func (k MasterKind) String() string {
	switch k {
	case UserMaster:
		return "user"
	case TrustedMaster:
		return "trusted"
	}
	return "MasterKind(" + strconv.Itoa(int(k)) + ")"
}

// Master names the master key of an encrypted key: the key that the kernel
// looks up, by type and description, to derive the encryption and
// authentication keys. The zero value is not valid.
type Master struct {
	Kind MasterKind
	// Name is the master key's description, such as "kmk". It must be
	// non-empty and must not contain a space, a tab or a NUL byte, which
	// the payload grammar cannot carry.
	Name string
}

// ParseMaster parses a master key descriptor of the form "user:NAME" or
// "trusted:NAME", the "key-type:master-key-name" of the kernel's payload
// grammar and the handle that ndctl's --key_handle takes. The prefix is
// case-sensitive, as in the kernel's valid_master_desc(). Errors match
// [keyring.ErrInvalid].
func ParseMaster(s string) (Master, error) {
	return parseMaster("ParseMaster", s)
}

func parseMaster(op, s string) (Master, error) {
	kind, name, ok := strings.Cut(s, ":")
	if !ok {
		return Master{}, invalid(op, "master", "must be user:NAME or trusted:NAME")
	}
	var m Master
	switch kind {
	case "user":
		m.Kind = UserMaster
	case "trusted":
		m.Kind = TrustedMaster
	case "encrypted", "logon":
		return Master{}, invalid(op, "master", kind+" keys cannot be master keys: the kernel accepts only user:NAME and trusted:NAME")
	default:
		return Master{}, invalid(op, "master", "must be user:NAME or trusted:NAME (the prefix is case-sensitive)")
	}
	m.Name = name
	if err := m.check(op); err != nil {
		return Master{}, err
	}
	return m, nil
}

// String returns the descriptor, such as "user:kmk".
func (m Master) String() string {
	return m.Kind.String() + ":" + m.Name
}

// check reports whether the kernel would accept m as a master descriptor.
func (m Master) check(op string) error {
	if m.Kind != UserMaster && m.Kind != TrustedMaster {
		return invalid(op, "master", "type must be UserMaster or TrustedMaster")
	}
	if m.Name == "" {
		return invalid(op, "master", "name is empty")
	}
	if strings.ContainsAny(m.Name, " \t\x00") {
		return invalid(op, "master", "name contains a space, a tab or a NUL byte")
	}
	return nil
}
