package keyring

import (
	"math"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/kernkeys/kernkeys/internal/keyctl"
)

// check refuses handles that cannot name a key: the zero value and negative
// IDs that are not special.
//
// Most operations do not call it. Where the kernel looks the key up with
// lookup_user_key (security/keys/keyctl.c), it answers 0 and unknown
// negative IDs itself, after the arguments it checks first: EINVAL from
// get_keyring_id, describe, update, revoke, invalidate, clear, link,
// unlink, move, search, setperm, chown, set_timeout, get_security,
// restrict_keyring, get_persistent, add_key, request_key's destination,
// watch_key and the pkey operations; ENOKEY from read and dh_compute, which
// turn every failed lookup into it. Refusing first gave other answers than
// the kernel's: EINVAL for read, and for link or unlink into a missing
// keyring, which the kernel looks up first (ENOKEY); EINVAL where chown
// with nothing to change succeeds without a lookup; EINVAL where
// get_persistent checks the uid first (EPERM). The IDs go to the kernel
// as they are (measured on Linux 6.18: TestKernelAnswersBadIDs, and
// against keyutils' keyctl, examples/keyctl's TestRefusedInputs).
//
// check is kept for arguments where 0 or a special ID means something
// else to the kernel: AssumeAuthority's key (0 gives the authority up, and
// the kernel refuses every negative ID) and the key and destination of
// Instantiate, Negate and Reject (a destination of 0 links nowhere and a
// special one names the requestor's keyring, not the caller's). The zero
// Keyring as the destination of Search and Request means "none" and is
// passed on as 0, which the kernel reads the same way.
func (k Key) check(op, field string) error {
	switch {
	case k.id == 0:
		return invalid(op, 0, field, "zero key ID")
	case k.id < idRequestor:
		return invalid(op, k.id, field, "unknown special key ID")
	}
	return nil
}

// Resolve returns the serial number of the key k names, turning a special ID
// into the real keyring of the calling thread. It never creates a keyring
// (KEYCTL_GET_KEYRING_ID with create=0), but note that the kernel installs
// the user-session keyring as the session of a thread that has none.
// Resolve a special ID on a locked thread when the serial must match that
// thread's keyring.
//
// Errors: ErrNotFound when the special keyring does not exist yet (@t, @p)
// or k names no key; ErrInvalid, the kernel's answer, for @g, the zero Key
// and negative IDs that are not special.
func (k Key) Resolve() (ID, error) {
	return k.resolve(false)
}

// ResolveOrCreate is Resolve, creating the thread, process, session or user
// keyring if the calling thread does not have it yet (create=1). Creating
// @s this way joins a new session on the calling thread only.
func (r Keyring) ResolveOrCreate() (ID, error) {
	return r.resolve(true)
}

func (k Key) resolve(create bool) (ID, error) {
	id, e := keyctl.GetKeyringID(int32(k.id), create)
	if e != 0 {
		return 0, fail("get_keyring_id", k.id, e)
	}
	return ID(id), nil
}

// DescribeInto writes the key's raw description, "type;uid;gid;perm;desc"
// and a terminating NUL, into buf (KEYCTL_DESCRIBE, keyctl_describe(3)). It
// returns the full size including the NUL; when that exceeds len(buf)
// nothing was copied: grow buf and call again. It does not allocate.
//
// Errors: ErrNotFound, ErrPermission (no VIEW), ErrRevoked, ErrExpired,
// ErrInvalid (the kernel's answer to the zero Key and to negative IDs that
// are not special, as for every operation whose key the kernel looks up:
// the package passes them on instead of guessing).
func (k Key) DescribeInto(buf []byte) (int, error) {
	n, e := keyctl.Describe(int32(k.id), buf)
	if e != 0 {
		return 0, fail("describe", k.id, e)
	}
	return n, nil
}

// Describe returns the key's parsed description (KEYCTL_DESCRIBE). Errors as
// for DescribeInto.
func (k Key) Describe() (Description, error) {
	var buf [256]byte
	n, err := k.DescribeInto(buf[:])
	if err != nil {
		return Description{}, err
	}
	b := buf[:min(n, len(buf))]
	if n > len(buf) {
		if b, err = fill(make([]byte, n), k.DescribeInto); err != nil {
			return Description{}, err
		}
	}
	return ParseDescription(string(b))
}

// fill calls get with buf, and with larger buffers while the size it
// reports grows (a payload may change between calls), and returns the
// filled part. Buffers it outgrows are wiped: get may be a payload read.
func fill(buf []byte, get func([]byte) (int, error)) ([]byte, error) {
	for {
		n, err := get(buf)
		if err != nil {
			return nil, err
		}
		if n <= len(buf) {
			return buf[:n], nil
		}
		Wipe(buf)
		buf = make([]byte, n)
	}
}

// ReadInto copies the key's payload into buf (KEYCTL_READ, keyctl_read(3))
// and returns the payload's full size; when that exceeds len(buf) nothing
// was copied (the kernel copies only a payload that fits): grow buf and call
// again. For a keyring the
// payload is its list of links as 32-bit serials (see Keyring.Links). It does
// not allocate.
//
// Errors: ErrNotFound (also for the zero Key and negative IDs that are not
// special: the kernel answers every failed lookup in KEYCTL_READ with
// ENOKEY), ErrPermission (neither READ nor possession with SEARCH),
// ErrNotSupported (the type cannot be read, such as logon keys),
// ErrRevoked, ErrExpired.
func (k Key) ReadInto(buf []byte) (int, error) {
	n, e := keyctl.Read(int32(k.id), buf)
	if e != 0 {
		err := fail("read", k.id, e)
		if e == syscall.EOPNOTSUPP {
			err.(*Error).Reason = "the key's type does not allow reading its payload (logon keys never can)"
		}
		return 0, err
	}
	return n, nil
}

// Read returns a new copy of the key's payload, retrying until the size is
// stable. The caller owns the buffer and should Wipe it after use. Errors as
// for ReadInto.
func (k Key) Read() ([]byte, error) {
	// A payload of up to RawReadMax bytes is read in one raw call into a
	// scratch buffer, copied into an allocation of its exact size, and the
	// scratch wiped. The scratch is on the heap, from a pool, not on the
	// stack: the runtime may copy a goroutine's stack (to grow it in a call
	// such as make's mallocgc, or to shrink it in a collection) and frees
	// the old stack without wiping it, so a payload read onto the stack can
	// outlive any wipe of the buffer (TestNoCopyLeftInMemory caught that
	// with a stack buffer, copied out with append or with make and copy).
	// A heap object never moves. Reading straight into a new 256-byte
	// buffer instead would allocate 8 times the bytes of a 32-byte key.
	sp := readScratch.Get().(*[keyctl.RawReadMax]byte)
	n, err := k.ReadInto(sp[:])
	if err != nil {
		Wipe(sp[:])
		readScratch.Put(sp)
		return nil, err
	}
	if n <= len(sp) {
		p := make([]byte, n)
		copy(p, sp[:n])
		Wipe(sp[:n]) // the kernel wrote only the payload's n bytes
		readScratch.Put(sp)
		return p, nil
	}
	// Too big for the scratch: a current kernel copied nothing, but older
	// ones copied what fitted.
	Wipe(sp[:])
	readScratch.Put(sp)
	return fill(make([]byte, n), k.ReadInto)
}

// readScratch holds Read's scratch buffers, always wiped when put back.
var readScratch = sync.Pool{New: func() any { return new([keyctl.RawReadMax]byte) }}

// Update replaces the key's payload (KEYCTL_UPDATE, keyctl_update(3)). The
// kernel takes at most one page (os.Getpagesize()) through this call.
//
// Errors: ErrPermission (no WRITE), ErrNotSupported (the type has no update,
// e.g. keyrings), ErrInvalid (payload rejected by the type; an over-long
// payload is refused before the call, as the kernel checks it before the
// key; the zero Key: the kernel's answer), ErrQuota, ErrRevoked,
// ErrExpired, ErrNotFound.
func (k Key) Update(payload []byte) error {
	if len(payload) > os.Getpagesize() {
		return invalid("update", k.id, "payload", "payload of "+strconv.Itoa(len(payload))+" bytes is over the kernel's limit of one page for update")
	}
	if e := keyctl.Update(int32(k.id), payload); e != 0 {
		return fail("update", k.id, e)
	}
	return nil
}

// Revoke revokes the key (KEYCTL_REVOKE, keyctl_revoke(3)): from now on
// every operation on it but unlink fails with ErrRevoked, and it is garbage
// collected after key_gc_delay.
//
// Errors: ErrPermission (neither WRITE nor SETATTR), ErrNotFound,
// ErrInvalid (the kernel's, for the zero Key or an unknown negative ID).
func (k Key) Revoke() error { return k.simple("revoke", keyctl.Revoke) }

// Invalidate marks the key invalid and schedules its immediate removal from
// every keyring (KEYCTL_INVALIDATE, keyctl_invalidate(3), Linux 3.5).
// Describe and lookups fail with ErrNotFound at once; until the garbage
// collector has freed the key, a Read fails with ErrPermission instead (it
// still finds the key, which no longer counts as possessed) and a Search
// may meet the dead link (ErrRevoked).
//
// Errors: ErrPermission (no SEARCH), ErrNotFound, ErrInvalid (the
// kernel's, for the zero Key or an unknown negative ID).
func (k Key) Invalidate() error { return k.simple("invalidate", keyctl.Invalidate) }

func (k Key) simple(op string, call func(int32) syscall.Errno) error {
	if e := call(int32(k.id)); e != 0 {
		return fail(op, k.id, e)
	}
	return nil
}

// SetPerm sets the key's permission mask (KEYCTL_SETPERM,
// keyctl_setperm(3)).
//
// Errors: ErrInvalid (bits outside the four classes, refused before the
// call as the kernel refuses them before it looks at the key; the zero Key
// or an unknown negative ID, the kernel's answer), ErrPermission (no
// SETATTR, or not the owner), ErrNotFound.
func (k Key) SetPerm(p Perm) error {
	if !p.Valid() {
		return invalid("setperm", k.id, "p", "mask sets bits outside 0x3f3f3f3f")
	}
	if e := keyctl.SetPerm(int32(k.id), uint32(p)); e != 0 {
		return fail("setperm", k.id, e)
	}
	return nil
}

// Unchanged, as a uid or gid, leaves that ID as it is in Chown.
const Unchanged = -1

// Chown changes the key's owner and group (KEYCTL_CHOWN, keyctl_chown(3));
// Unchanged leaves either as it is. Changing the owner needs CAP_SYS_ADMIN;
// changing the group needs ownership and membership of the new group. The
// new owner's quota is charged. With both Unchanged the kernel changes
// nothing and looks no key up: it succeeds, even on the zero Key.
//
// Errors: ErrPermission, ErrQuota, ErrInvalid (an ID outside 0..2^32-2,
// refused before the call; the zero Key or an unknown negative ID, the
// kernel's answer), ErrNotFound.
func (k Key) Chown(uid, gid int) error {
	if uid < Unchanged || gid < Unchanged || uid >= math.MaxUint32 || gid >= math.MaxUint32 {
		return invalid("chown", k.id, "uid, gid", "uid or gid out of range")
	}
	if e := keyctl.Chown(int32(k.id), int32(uid), int32(gid)); e != 0 {
		return fail("chown", k.id, e)
	}
	return nil
}

// Chgrp changes only the key's group: Chown(Unchanged, gid).
func (k Key) Chgrp(gid int) error { return k.Chown(Unchanged, gid) }

// SetTimeout makes the key expire d from now (KEYCTL_SET_TIMEOUT,
// keyctl_set_timeout(3)); 0 removes the timeout. The kernel counts whole
// seconds, so d is rounded up: a positive d never means "no timeout".
//
// Errors: ErrInvalid (negative d, or beyond 2^32-1 seconds, refused before
// the call; the zero Key or an unknown negative ID, the kernel's answer),
// ErrPermission (no SETATTR), ErrRevoked, ErrNotFound.
func (k Key) SetTimeout(d time.Duration) error {
	secs, err := seconds("set_timeout", k.id, "d", d)
	if err != nil {
		return err
	}
	if e := keyctl.SetTimeout(int32(k.id), secs); e != 0 {
		return fail("set_timeout", k.id, e)
	}
	return nil
}

// seconds converts a timeout to the kernel's whole seconds, rounding up.
func seconds(op string, id ID, field string, d time.Duration) (uint32, error) {
	if d < 0 {
		return 0, invalid(op, id, field, "negative timeout")
	}
	s := (d + time.Second - 1) / time.Second
	if s > math.MaxUint32 {
		return 0, invalid(op, id, field, "timeout beyond 2^32-1 seconds")
	}
	return uint32(s), nil
}

// SecurityInto writes the key's LSM security label and a NUL into buf
// (KEYCTL_GET_SECURITY, keyctl_get_security(3)) and returns the full size,
// like DescribeInto. Without an LSM that labels keys the label is empty (a
// size of 1).
func (k Key) SecurityInto(buf []byte) (int, error) {
	n, e := keyctl.GetSecurity(int32(k.id), buf)
	if e != 0 {
		return 0, fail("get_security", k.id, e)
	}
	return n, nil
}

// Security returns the key's LSM security label, "" when none.
//
// Errors: ErrNotFound, ErrPermission (no VIEW), ErrInvalid (the kernel's,
// for the zero Key or an unknown negative ID).
func (k Key) Security() (string, error) {
	var buf [64]byte
	b, err := fill(buf[:], k.SecurityInto)
	if err != nil {
		return "", err
	}
	if n := len(b); n > 0 && b[n-1] == 0 {
		b = b[:n-1]
	}
	return string(b), nil
}

// Wipe overwrites b with zeros. Use it on payload buffers once done with
// them; strings cannot be wiped, so keep secrets out of them.
func Wipe(b []byte) {
	clear(b)
}
