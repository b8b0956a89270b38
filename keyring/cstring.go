package keyring

import (
	"strconv"
	"strings"
)

// cstring holds a NUL-terminated copy of a string for one system call. Short
// strings are copied into the inline array, so a cstring declared in a
// caller's frame costs no allocation.
type cstring struct {
	inline [128]byte
	heap   []byte
}

// set copies s and returns a pointer to the NUL-terminated copy.
func (c *cstring) set(s string) *byte {
	var b []byte
	if len(s) < len(c.inline) {
		b = c.inline[:len(s)+1]
	} else {
		c.heap = make([]byte, len(s)+1)
		b = c.heap
	}
	copy(b, s)
	b[len(s)] = 0
	return &b[0]
}

// checkType validates a key type name as add_key, request_key, search and
// restrict_keyring would, and refuses the dot-prefixed internal types.
func checkType(op string, id ID, field, typ string) error {
	switch {
	case typ == "":
		return invalid(op, id, field, "key type is empty")
	case len(typ) > MaxTypeName:
		return invalid(op, id, field, "key type is longer than "+strconv.Itoa(MaxTypeName)+" bytes")
	case strings.IndexByte(typ, 0) >= 0:
		return invalid(op, id, field, "key type contains a NUL byte")
	case typ[0] == '.':
		return invalid(op, id, field, "key type "+quote(typ)+" starts with '.' (reserved for the kernel)")
	}
	return nil
}

// checkDesc validates a description or keyring name.
func checkDesc(op string, id ID, field, what, desc string) error {
	switch {
	case desc == "":
		return invalid(op, id, field, what+" is empty")
	case len(desc) > MaxDescription:
		return invalid(op, id, field, what+" is longer than "+strconv.Itoa(MaxDescription)+" bytes")
	case strings.IndexByte(desc, 0) >= 0:
		return invalid(op, id, field, what+" contains a NUL byte")
	}
	return nil
}

// checkName validates a keyring or session keyring name: a description that
// must not start with '.'.
func checkName(op string, id ID, field, name string) error {
	if err := checkDesc(op, id, field, "keyring name", name); err != nil {
		return err
	}
	if name[0] == '.' {
		return invalid(op, id, field, "keyring name starts with '.' (reserved for the kernel)")
	}
	return nil
}

// quote renders a key type or operation argument for an error message. It
// is never used on payloads.
func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return strconv.Quote(s)
}
