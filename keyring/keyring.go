package keyring

import (
	"bytes"
	"slices"
	"strconv"
	"syscall"
	"unsafe"

	"github.com/kernkeys/kernkeys/internal/keyctl"
)

// maxUserPayload is the largest user or logon payload (user_defined.c).
const maxUserPayload = 32767

// checkPayload refuses what add_key would for well-known types.
func checkPayload(op string, id ID, typ string, payload []byte) error {
	switch {
	case typ == "keyring" && len(payload) != 0:
		return invalid(op, id, "payload", "a keyring takes no payload")
	case (typ == "user" || typ == "logon") && len(payload) == 0:
		return invalid(op, id, "payload", typ+" key payload is empty")
	case (typ == "user" || typ == "logon") && len(payload) > maxUserPayload:
		return invalid(op, id, "payload", typ+" key payload of "+strconv.Itoa(len(payload))+" bytes is over "+strconv.Itoa(maxUserPayload))
	case len(payload) > MaxPayload:
		return invalid(op, id, "payload", "payload of "+strconv.Itoa(len(payload))+" bytes is over "+strconv.Itoa(MaxPayload))
	}
	return nil
}

// Add creates a key of type typ and description desc with the given payload
// and links it into r (add_key(2)). If r already links a key of the same
// type and description, that key is updated instead and its ID returned.
// The payload is copied by the kernel; the caller still owns and should Wipe
// it.
//
// An empty description is refused, except for "asymmetric" keys, which the
// kernel names after their certificate.
//
// Errors: ErrInvalid (refused before the call: empty or over-long type or
// description, a NUL in either, a type starting with '.', a payload the type
// cannot take; from the kernel: a zero r or an unknown negative ID, which
// it looks up after the type and description), ErrNotSupported (the key
// type is not in the running kernel, or the payload needs an algorithm the
// kernel lacks: ENOPKG for an Ed25519 certificate), ErrQuota, ErrPermission
// (no WRITE on r), ErrNotFound (r does not exist).
func (r Keyring) Add(typ, desc string, payload []byte) (Key, error) {
	if err := r.checkAdd(typ, desc, payload); err != nil {
		return Key{}, err
	}
	var t, d cstring
	var dp *byte
	if desc != "" {
		dp = d.set(desc)
	}
	id, e := keyctl.AddKey(t.set(typ), dp, payload, int32(r.id))
	if e != 0 {
		return Key{}, failType("add_key", r.id, typ, e)
	}
	return Key{ID(id)}, nil
}

func (r Keyring) checkAdd(typ, desc string, payload []byte) error {
	if err := checkType("add_key", r.id, "typ", typ); err != nil {
		return err
	}
	switch {
	case typ == "keyring":
		if err := checkName("add_key", r.id, "desc", desc); err != nil {
			return err
		}
	case typ == "asymmetric" && desc == "":
		// The kernel names the key from its certificate.
	default:
		if err := checkDesc("add_key", r.id, "desc", "description", desc); err != nil {
			return err
		}
	}
	return checkPayload("add_key", r.id, typ, payload)
}

// AddKeyring creates a keyring named name and links it into r (add_key(2)
// with type "keyring"). An existing keyring of that name in r is replaced
// by the new, empty one. Errors as for Add.
func (r Keyring) AddKeyring(name string) (Keyring, error) {
	k, err := r.Add("keyring", name, nil)
	return Keyring{k}, err
}

// Search looks for a key of type typ and description desc in r and,
// recursively, in the keyrings it links to that the caller may search
// (KEYCTL_SEARCH, keyctl_search(3)). Search does not allocate for
// descriptions under 128 bytes.
//
// Errors: ErrNotFound, ErrExpired or ErrRevoked (the match is expired or
// revoked), ErrPermission, ErrInvalid (a bad type or description, refused
// before the call; a zero r, or an unknown negative ID as r: the kernel's
// answer, after the type and description), ENOTDIR (r is not a keyring).
func (r Keyring) Search(typ, desc string) (Key, error) {
	return r.search(typ, desc, 0)
}

// SearchAndLink is Search that also links the key found into dest, in the
// same system call (KEYCTL_SEARCH with a destination keyring). Errors as
// for Search; dest gives ErrPermission without WRITE, and ErrInvalid or
// ENOTDIR as r does.
func (r Keyring) SearchAndLink(typ, desc string, dest Keyring) (Key, error) {
	return r.search(typ, desc, dest.id)
}

func (r Keyring) search(typ, desc string, dest ID) (Key, error) {
	if err := checkType("search", r.id, "typ", typ); err != nil {
		return Key{}, err
	}
	if err := checkDesc("search", r.id, "desc", "description", desc); err != nil {
		return Key{}, err
	}
	var t, d cstring
	id, e := keyctl.Search(int32(r.id), t.set(typ), d.set(desc), int32(dest))
	if e != 0 {
		return Key{}, fail("search", r.id, e)
	}
	return Key{ID(id)}, nil
}

// Link links k into r (KEYCTL_LINK, keyctl_link(3)), displacing a key of the
// same type and description.
//
// Errors: ErrPermission (no LINK on k or no WRITE on r), EDEADLK (the link
// would make a cycle), ENFILE (r is full), ErrQuota, ErrNotFound, ENOTDIR,
// ErrInvalid (the kernel's, for a zero or unknown negative ID; it looks r
// up first, then k).
func (r Keyring) Link(k Key) error { return r.link("link", k, keyctl.Link) }

// Unlink removes r's link to k (KEYCTL_UNLINK, keyctl_unlink(3)). It needs
// WRITE on r only.
//
// Errors: ErrNotFound (r does not link k, or either does not exist),
// ErrPermission, ENOTDIR, ErrInvalid (as for Link).
func (r Keyring) Unlink(k Key) error { return r.link("unlink", k, keyctl.Unlink) }

// link issues KEYCTL_LINK or KEYCTL_UNLINK.
func (r Keyring) link(op string, k Key, call func(id, ring int32) syscall.Errno) error {
	if e := call(int32(k.id), int32(r.id)); e != 0 {
		return fail(op, k.id, e)
	}
	return nil
}

// Move moves k's link from r to the keyring to (KEYCTL_MOVE, keyctl_move(3),
// Linux 5.3), displacing a key of the same type and description in to.
//
// Errors: ErrNotFound (r does not link k), ErrPermission, EDEADLK,
// ErrNotSupported (kernel before 5.3), ErrInvalid (the kernel's, for a
// zero or unknown negative ID; it looks up k, then r, then to).
func (r Keyring) Move(k Key, to Keyring) error { return r.move(k, to, 0) }

// MoveExclusive is Move, but fails with EEXIST (errors.Is(err, fs.ErrExist))
// instead of displacing a matching key in to (KEYCTL_MOVE_EXCL).
func (r Keyring) MoveExclusive(k Key, to Keyring) error { return r.move(k, to, keyctl.MoveExcl) }

func (r Keyring) move(k Key, to Keyring, flags uint32) error {
	if e := keyctl.Move(int32(k.id), int32(r.id), int32(to.id), flags); e != 0 {
		return fail("move", k.id, e)
	}
	return nil
}

// Clear unlinks every key from r (KEYCTL_CLEAR, keyctl_clear(3)).
//
// Errors: ErrPermission (no WRITE), ErrNotFound, ENOTDIR, ErrInvalid (the
// kernel's, for the zero Keyring or an unknown negative ID).
func (r Keyring) Clear() error { return r.simple("clear", keyctl.Clear) }

// Links returns the keys r links to, in the kernel's order (KEYCTL_READ on a
// keyring). It needs READ on r, or possession with SEARCH.
//
// Errors: as for ReadInto; ENOTDIR when r is not a keyring.
func (r Keyring) Links() ([]Key, error) {
	// Only a keyring's payload is a list of serials: another type's is
	// never read. The check reads the type from KEYCTL_DESCRIBE into the
	// stack, unparsed, so only the result is allocated.
	if r.id.IsSpecial() && r.id != idRequestKeyAuth {
		// @t, @p, @s, @u, @us, @g and the requestor's are keyrings
		// whenever the kernel finds them; @a is an authorisation key.
		return r.readLinks()
	}
	var d [128]byte
	n, err := r.DescribeInto(d[:])
	if err != nil {
		return nil, err
	}
	desc := d[:min(n, len(d))]
	if n > len(d) {
		if desc, err = fill(make([]byte, n), r.DescribeInto); err != nil {
			return nil, err
		}
	}
	if t, _, _ := bytes.Cut(desc, []byte(";")); string(t) != "keyring" {
		return nil, &Error{Op: "read", ID: r.id, Errno: syscall.ENOTDIR, Reason: "a " + quote(string(t)) + " key is not a keyring"}
	}
	return r.readLinks()
}

// readLinks reads the links of r, a keyring.
func (r Keyring) readLinks() ([]Key, error) {
	// A list of up to listScratch serials is read in one call into the
	// stack (serials are not secret) and copied into a result of its
	// size; a longer one straight into the result, sized by that first
	// call, as often as it keeps growing.
	var scratch [listScratch]Key
	n, err := r.ReadInto(keyBytes(scratch[:]))
	if err != nil {
		return nil, err
	}
	if n <= 4*len(scratch) {
		return slices.Clone(scratch[:n/4]), nil
	}
	for {
		keys := make([]Key, n/4)
		if n, err = r.ReadInto(keyBytes(keys)); err != nil {
			return nil, err
		}
		if n <= 4*len(keys) {
			return keys[:n/4], nil
		}
	}
}

// listScratch is how many serials Links reads without a second call: a
// page's worth, the most the kernel reads in one pass (keyctl_read_key
// reads a larger buffer twice).
const listScratch = 1024

// A Key is exactly an ID, an int32: keyBytes depends on it.
var _ = [1]struct{}{}[unsafe.Sizeof(Key{})-4]

// keyBytes is the memory of keys as the kernel fills it: a Key is an ID,
// an int32 in native byte order, as KEYCTL_READ of a keyring writes them.
func keyBytes(keys []Key) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(keys))), 4*len(keys))
}

// Restrict restricts which keys may be linked into r (KEYCTL_RESTRICT_KEYRING,
// keyctl_restrict_keyring(3), Linux 4.12). typ names the key type that
// checks links ("asymmetric" is the one in mainline) and restriction is its
// rule, such as "builtin_trusted" or "key_or_keyring:<serial>". With both
// empty, r accepts no new links at all. A restriction cannot be removed.
// The asymmetric type's "builtin_trusted" refuses other key types with
// EOPNOTSUPP, but on a kernel without CONFIG_SYSTEM_TRUSTED_KEYRING it is
// restrict_link_reject and refuses every link with EPERM (seen on the VM
// kernel).
//
// Errors: ErrInvalid (a restriction without a type, or a bad type, refused
// before the call; a rule the type does not know; the zero Keyring or an
// unknown negative ID, the kernel's answer), EEXIST (already restricted), ErrPermission (no SETATTR),
// ErrNotSupported.
func (r Keyring) Restrict(typ, restriction string) error {
	if typ == "" {
		if restriction != "" {
			return invalid("restrict_keyring", r.id, "typ", "a restriction needs a key type")
		}
		if e := keyctl.RestrictKeyring(int32(r.id), nil, nil); e != 0 {
			return fail("restrict_keyring", r.id, e)
		}
		return nil
	}
	if err := checkType("restrict_keyring", r.id, "typ", typ); err != nil {
		return err
	}
	var t, rs cstring
	var rp *byte
	if restriction != "" {
		if err := checkDesc("restrict_keyring", r.id, "restriction", "restriction", restriction); err != nil {
			return err
		}
		rp = rs.set(restriction)
	}
	if e := keyctl.RestrictKeyring(int32(r.id), t.set(typ), rp); e != 0 {
		return fail("restrict_keyring", r.id, e)
	}
	return nil
}

// RequestOptions are the optional arguments of Request. The zero value
// requests without an upcall and links the result nowhere new.
type RequestOptions struct {
	// CalloutInfo, when not nil, lets the kernel construct a missing key by
	// running /sbin/request-key with this text as the callout information.
	// When nil, a missing key is ErrNotFound and nothing is left behind.
	CalloutInfo []byte
	// Destination receives a link to the key. The zero Keyring means the
	// thread's default request-key keyring (SetDefaultRequestKeyring), which
	// the kernel uses only for a key it constructs.
	Destination Keyring
}

// Request finds a key of type typ and description desc in the calling
// thread's keyrings (thread, process, session), or has it constructed
// (request_key(2), request_key(3)).
//
// Errors: ErrNotFound (no such key and no upcall, the upcall failed, or the
// type is not in the kernel: request_key answers ENOKEY for an unknown type
// where add_key answers ENODEV), ErrRejected or ErrExpired (a negative key
// is cached), ErrInvalid (a bad type, description or callout information,
// refused before the call; an unknown negative ID as the destination, the
// kernel's answer), ErrPermission.
// ENOENT (which matches ErrNotFound) with CalloutInfo set means the kernel
// could not run /sbin/request-key: keyutils is not installed, or the
// kernel refuses the upcall to this process. Some hardened kernels run it
// only for requesters holding CAP_SYS_ADMIN (seen on a Firecracker build of
// Linux 6.18); there, ordinary users get ENOENT and the helper never runs.
func Request(typ, desc string, o RequestOptions) (Key, error) {
	if err := checkType("request_key", 0, "typ", typ); err != nil {
		return Key{}, err
	}
	if err := checkDesc("request_key", 0, "desc", "description", desc); err != nil {
		return Key{}, err
	}
	var t, d, c cstring
	var cp *byte
	if o.CalloutInfo != nil {
		switch {
		case len(o.CalloutInfo) > MaxDescription:
			return Key{}, invalid("request_key", 0, "RequestOptions.CalloutInfo", "callout information is longer than "+strconv.Itoa(MaxDescription)+" bytes")
		case bytes.IndexByte(o.CalloutInfo, 0) >= 0:
			return Key{}, invalid("request_key", 0, "RequestOptions.CalloutInfo", "callout information contains a NUL byte")
		}
		cp = c.set(string(o.CalloutInfo))
	}
	id, e := keyctl.RequestKey(t.set(typ), d.set(desc), cp, int32(o.Destination.id))
	if e != 0 {
		return Key{}, failType("request_key", o.Destination.id, typ, e)
	}
	return Key{ID(id)}, nil
}

// Persistent returns the persistent keyring of uid (-1: the caller's) and
// links it into dest (KEYCTL_GET_PERSISTENT, keyctl_get_persistent(3)). It
// outlives sessions and expires after /proc/sys/kernel/keys/persistent_keyring_expiry
// seconds without use. Another uid's needs CAP_SETUID.
//
// Errors: ErrPermission, ErrNotSupported (no CONFIG_PERSISTENT_KEYRINGS),
// ErrInvalid (a uid outside -1..2^32-2, refused before the call; the zero
// Keyring or an unknown negative ID as dest, the kernel's answer after it
// has checked uid: there must be a destination).
func Persistent(uid int, dest Keyring) (Keyring, error) {
	if uid < -1 || int64(uid) >= 1<<32-1 {
		return Keyring{}, invalid("get_persistent", dest.id, "uid", "uid out of range")
	}
	id, e := keyctl.GetPersistent(int32(uid), int32(dest.id))
	if e != 0 {
		return Keyring{}, fail("get_persistent", dest.id, e)
	}
	return ID(id).Keyring(), nil
}
