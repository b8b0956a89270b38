package keyring

import (
	"strconv"
	"strings"
)

// Perm is a key's permission mask (key_perm_t): four classes, possessor,
// user, group and other, from the most significant byte down, each with six
// rights. Combine rights and move them into a class:
//
//	keyring.PermAll.Possessor() | (keyring.PermView | keyring.PermRead).User()
//
// The kernel evaluates exactly one of user, group and other, then ORs in the
// possessor byte if the caller possesses the key (see keyrings(7)).
type Perm uint32

// Rights, in the lowest byte (the "other" class); move them with
// Possessor, User, Group or Other.
const (
	PermView    Perm = 0x01 // see the key's attributes (describe)
	PermRead    Perm = 0x02 // read the payload, list a keyring
	PermWrite   Perm = 0x04 // update the payload, add to or remove from a keyring
	PermSearch  Perm = 0x08 // find the key, search a keyring
	PermLink    Perm = 0x10 // link the key into a keyring
	PermSetattr Perm = 0x20 // change owner, permissions and timeout
	PermAll     Perm = 0x3f
)

// Possessor moves the rights in p's lowest byte to the possessor class.
func (p Perm) Possessor() Perm { return (p & PermAll) << 24 }

// User moves the rights in p's lowest byte to the user class.
func (p Perm) User() Perm { return (p & PermAll) << 16 }

// Group moves the rights in p's lowest byte to the group class.
func (p Perm) Group() Perm { return (p & PermAll) << 8 }

// Other keeps only the rights in p's lowest byte: the other class.
func (p Perm) Other() Perm { return p & PermAll }

// Class returns the rights of class c (0 possessor, 1 user, 2 group,
// 3 other) in the lowest byte.
func (p Perm) Class(c int) Perm { return p >> (24 - 8*uint(c&3)) & PermAll }

// Valid reports whether p sets no bit outside the four classes, as SETPERM
// requires.
func (p Perm) Valid() bool { return p&^0x3f3f3f3f == 0 }

const rightLetters = "alswrv" // setattr link search write read view

// String renders p as keyutils does: 24 characters, possessor, user, group
// and other, each "alswrv" with '-' for a missing right, e.g.
// "alswrv-----v------------" for 0x3f010000. Bits outside the classes are
// not shown; Valid reports them.
func (p Perm) String() string {
	var b [24]byte
	for c := 0; c < 4; c++ {
		r := p.Class(c)
		for i := 0; i < 6; i++ {
			b[c*6+i] = '-'
			if r&(PermSetattr>>uint(i)) != 0 {
				b[c*6+i] = rightLetters[i]
			}
		}
	}
	return string(b[:])
}

// ParsePerm parses either the 24-character form that String returns, or a
// number as keyctl setperm takes it (C's strtoul with base 0: "0x3f010000",
// octal with a leading 0, or decimal). The result must be Valid.
func ParsePerm(s string) (Perm, error) {
	if len(s) == 24 && strings.Trim(s, "alswrv-") == "" {
		var p Perm
		for i := 0; i < 24; i++ {
			want := rightLetters[i%6]
			switch s[i] {
			case want:
				p |= (PermSetattr >> uint(i%6)) << (24 - 8*uint(i/6))
			case '-':
			default:
				return 0, invalid("parse permissions", 0, "s", "unexpected "+quote(s[i:i+1])+" at position "+strconv.Itoa(i+1))
			}
		}
		return p, nil
	}
	n, err := strconv.ParseUint(s, 0, 32)
	if err != nil || !cBase0(s) {
		return 0, invalid("parse permissions", 0, "s", quote(s)+" is neither a number nor an alswrv mask")
	}
	p := Perm(n)
	if !p.Valid() {
		return 0, invalid("parse permissions", 0, "s", "mask sets bits outside 0x3f3f3f3f")
	}
	return p, nil
}

// cBase0 reports whether a number strconv accepted with base 0 is also in
// C's strtol/strtoul base-0 syntax: Go adds 0o and 0b prefixes and
// underscores, which C does not know.
func cBase0(s string) bool {
	u := strings.TrimLeft(s, "+-")
	if len(u) > 1 && u[0] == '0' && strings.ContainsRune("oObB", rune(u[1])) {
		return false
	}
	return !strings.Contains(s, "_")
}
