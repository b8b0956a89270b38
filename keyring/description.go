package keyring

import (
	"strconv"
	"strings"
)

// Description is what KEYCTL_DESCRIBE reports of a key.
type Description struct {
	Type string
	// UID and GID are as the caller's user namespace sees them; an
	// unmapped ID reads as the overflow ID (65534).
	UID, GID uint32
	Perm     Perm
	// Description is the key's description, or a keyring's name. It may
	// contain ';'.
	Description string
}

// String renders d in the kernel's format, "type;uid;gid;perm;description".
func (d Description) String() string {
	return d.Type + ";" + strconv.FormatUint(uint64(d.UID), 10) + ";" + strconv.FormatUint(uint64(d.GID), 10) + ";" +
		hex8(uint32(d.Perm)) + ";" + d.Description
}

func hex8(v uint32) string {
	s := strconv.FormatUint(uint64(v), 16)
	return strings.Repeat("0", 8-len(s)) + s
}

// ParseDescription parses the kernel's "type;uid;gid;perm;description"
// (a trailing NUL is ignored). The text is split into at most five fields,
// so the description keeps any ';' it contains. The strings of the result
// share s's memory.
func ParseDescription(s string) (Description, error) {
	s = strings.TrimSuffix(s, "\x00") // KEYCTL_DESCRIBE's terminator
	if strings.IndexByte(s, 0) >= 0 {
		// The kernel's fields are C strings: a NUL inside is not its text.
		return Description{}, invalid("parse description", 0, "s", "NUL inside the text")
	}
	var f [4]string
	rest := s
	for i := range f {
		j := strings.IndexByte(rest, ';')
		if j < 0 {
			return Description{}, invalid("parse description", 0, "s", "not type;uid;gid;perm;description")
		}
		f[i], rest = rest[:j], rest[j+1:]
	}
	uid, ok1 := parseID(f[1])
	gid, ok2 := parseID(f[2])
	perm, ok3 := parseHex8(f[3])
	switch {
	case f[0] == "":
		return Description{}, invalid("parse description", 0, "type", "empty key type")
	case !ok1:
		return Description{}, invalid("parse description", 0, "uid", "bad uid "+quote(f[1]))
	case !ok2:
		return Description{}, invalid("parse description", 0, "gid", "bad gid "+quote(f[2]))
	case !ok3:
		return Description{}, invalid("parse description", 0, "perm", "bad permissions "+quote(f[3]))
	}
	return Description{Type: f[0], UID: uid, GID: gid, Perm: Perm(perm), Description: rest}, nil
}

// parseID accepts the kernel's %d rendering of a uid_t or gid_t, which is
// negative for IDs at or above 2^31: an optional sign and decimal digits.
// Hand-written rather than strconv.ParseInt, which took a third of the
// time Describe adds to KEYCTL_DESCRIBE.
func parseID(s string) (uint32, bool) {
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg, s = s[0] == '-', s[1:]
	}
	if s == "" || len(s) > 10 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i] - '0'
		if c > 9 {
			return 0, false
		}
		n = n*10 + int64(c)
	}
	if neg {
		n = -n
	}
	if n < -1<<31 || n > 1<<32-1 {
		return 0, false
	}
	return uint32(n), true
}

// parseHex8 accepts the kernel's %08x rendering of a permission mask.
func parseHex8(s string) (uint32, bool) {
	if len(s) != 8 {
		return 0, false
	}
	var v uint32
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		v = v<<4 | uint32(c)
	}
	return v, true
}
