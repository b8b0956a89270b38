package keyring

import (
	"bufio"
	"errors"
	"os"
	"strconv"
	"strings"
)

// Node is one key met by Walk.
type Node struct {
	Key Key
	// Depth is 0 for the keyring Walk started from, 1 for its links, ...
	Depth int
	// Description is valid when Err is nil.
	Description Description
	// Err reports that the key could not be described, or, for a keyring,
	// listed; Walk does not descend into it.
	Err error
}

// IsKeyring reports whether the node is a keyring Walk will descend into.
func (n Node) IsKeyring() bool { return n.Err == nil && n.Description.Type == "keyring" }

// Walk calls fn for r and then, depth first in link order, for every key
// below it: what `keyctl show` prints. A keyring already on the path from r
// is reported but not entered again. An error from fn stops the walk and is
// returned.
func (r Keyring) Walk(fn func(Node) error) error {
	return walk(r.Key, 0, nil, fn)
}

func walk(k Key, depth int, path []ID, fn func(Node) error) error {
	n := Node{Key: k, Depth: depth}
	n.Description, n.Err = k.Describe()
	var links []Key
	if n.IsKeyring() {
		for _, p := range path {
			if p == k.id {
				return fn(n)
			}
		}
		links, n.Err = Keyring{k}.Links()
	}
	if err := fn(n); err != nil {
		return err
	}
	path = append(path, k.id)
	for _, c := range links {
		if err := walk(c, depth+1, path, fn); err != nil {
			return err
		}
	}
	return nil
}

// ProcKey is one line of /proc/keys: the keys the caller may view.
type ProcKey struct {
	ID ID
	// Flags are seven characters: Instantiated, Revoked, Dead, Quota,
	// User-construct, Negative, invalidated, '-' where unset.
	Flags string
	Usage int
	// Timeout is "perm", "expd", or the time left, such as "5m" or "2d".
	Timeout  string
	Perm     Perm
	UID, GID uint32
	// Type is the key type, truncated to 9 characters.
	Type string
	// Summary is the type's description of the key, typically
	// "description: payload summary".
	Summary string
}

// ParseProcKey parses one line of /proc/keys, formatted by the kernel as
// "%08x %c%c%c%c%c%c%c %5d %4s %08x %5d %5d %-9.9s <summary>".
func ParseProcKey(line string) (ProcKey, error) {
	bad := func(what string) (ProcKey, error) {
		return ProcKey{}, invalid("parse /proc/keys", 0, what, "bad "+what)
	}
	var f [7]string
	rest := line
	for i := range f {
		rest = strings.TrimLeft(rest, " ")
		j := strings.IndexByte(rest, ' ')
		if j < 0 {
			return bad("line: too few fields")
		}
		f[i], rest = rest[:j], rest[j+1:]
	}
	// The type is a fixed field of nine characters and a space.
	if len(rest) < 10 || rest[9] != ' ' || rest[0] == ' ' {
		return bad("key type field")
	}
	id, err := strconv.ParseUint(f[0], 16, 32)
	if err != nil || id == 0 || id > 1<<31-1 {
		return bad("serial")
	}
	if len(f[1]) != 7 {
		return bad("flags")
	}
	usage, err := strconv.Atoi(f[2])
	if err != nil {
		return bad("usage")
	}
	perm, err := strconv.ParseUint(f[4], 16, 32)
	if err != nil {
		return bad("permissions")
	}
	uid, ok1 := parseID(f[5])
	gid, ok2 := parseID(f[6])
	if !ok1 || !ok2 {
		return bad("uid or gid")
	}
	return ProcKey{
		ID: ID(id), Flags: f[1], Usage: usage, Timeout: f[3], Perm: Perm(perm),
		UID: uid, GID: gid, Type: strings.TrimRight(rest[:9], " "), Summary: rest[10:],
	}, nil
}

// ProcKeys reads /proc/keys (CONFIG_KEYS; /proc/keys is always built since
// Linux 4.9 with CONFIG_PROC_FS).
func ProcKeys() ([]ProcKey, error) {
	f, err := os.Open("/proc/keys")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var keys []ProcKey
	s := bufio.NewScanner(f)
	for s.Scan() {
		k, err := ParseProcKey(s.Text())
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, s.Err()
}

// Find returns a key of type typ and description desc that the caller can
// reach, as keyutils' find_key_by_type_and_desc() (and keyctl's
// "%type:desc" key specs) do: first request_key without an upcall, which
// searches the calling thread's keyrings; then every key in /proc/keys the
// caller may view, matching type and description exactly.
//
// A key unlinked a moment ago can still be found through /proc/keys: the
// keyring drops its reference only after an RCU grace period, and until
// the garbage collector destroys the key nothing distinguishes it from a
// live key the caller does not possess (reading it fails with
// ErrPermission). keyutils' lookup has the same window.
//
// Errors: ErrNotFound, ErrInvalid (refused before any call).
func Find(typ, desc string) (Key, error) {
	return find(typ, desc)
}

// FindAndLink is Find that then links the key found into dest, as
// find_key_by_type_and_desc() does with a destination keyring. Errors as
// for Find and [Keyring.Link].
func FindAndLink(typ, desc string, dest Keyring) (Key, error) {
	k, err := find(typ, desc)
	if err != nil {
		return Key{}, err
	}
	if err := dest.Link(k); err != nil {
		return Key{}, err
	}
	return k, nil
}

func find(typ, desc string) (Key, error) {
	k, err := Request(typ, desc, RequestOptions{})
	if err == nil || !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrPermission) &&
		!errors.Is(err, ErrExpired) && !errors.Is(err, ErrRevoked) {
		return k, err
	}
	keys, perr := ProcKeys()
	if perr != nil {
		return Key{}, err
	}
	for _, p := range keys {
		if !strings.HasPrefix(typ, p.Type) || !strings.HasPrefix(p.Summary, desc) {
			continue
		}
		d, derr := p.ID.Key().Describe()
		if derr == nil && d.Type == typ && d.Description == desc {
			return p.ID.Key(), nil
		}
	}
	return Key{}, err
}
