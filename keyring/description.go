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
	uid, err1 := parseID(f[1])
	gid, err2 := parseID(f[2])
	perm, err3 := strconv.ParseUint(f[3], 16, 32)
	switch {
	case f[0] == "":
		return Description{}, invalid("parse description", 0, "type", "empty key type")
	case err1 != nil:
		return Description{}, invalid("parse description", 0, "uid", "bad uid "+quote(f[1]))
	case err2 != nil:
		return Description{}, invalid("parse description", 0, "gid", "bad gid "+quote(f[2]))
	case err3 != nil || len(f[3]) != 8:
		return Description{}, invalid("parse description", 0, "perm", "bad permissions "+quote(f[3]))
	}
	return Description{Type: f[0], UID: uid, GID: gid, Perm: Perm(perm), Description: rest}, nil
}

// parseID accepts the kernel's %d rendering of a uid_t or gid_t, which is
// negative for IDs at or above 2^31.
func parseID(s string) (uint32, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < -1<<31 || n > 1<<32-1 {
		return 0, strconv.ErrSyntax
	}
	return uint32(n), nil
}
