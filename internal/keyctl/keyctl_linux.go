//go:build linux

package keyctl

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Errno values the keyring package maps to its sentinels.
const (
	ENOKEY       = unix.ENOKEY
	EKEYEXPIRED  = unix.EKEYEXPIRED
	EKEYREVOKED  = unix.EKEYREVOKED
	EKEYREJECTED = unix.EKEYREJECTED
	EDQUOT       = unix.EDQUOT
	ENOPKG       = unix.ENOPKG // the kernel lacks an algorithm or encoding
)

// Supported reports whether this GOOS has the key retention service.
const Supported = true

// Operation numbers from include/uapi/linux/keyctl.h.
const (
	opGetKeyringID     = unix.KEYCTL_GET_KEYRING_ID
	opJoinSession      = unix.KEYCTL_JOIN_SESSION_KEYRING
	opUpdate           = unix.KEYCTL_UPDATE
	opRevoke           = unix.KEYCTL_REVOKE
	opChown            = unix.KEYCTL_CHOWN
	opSetPerm          = unix.KEYCTL_SETPERM
	opDescribe         = unix.KEYCTL_DESCRIBE
	opClear            = unix.KEYCTL_CLEAR
	opLink             = unix.KEYCTL_LINK
	opUnlink           = unix.KEYCTL_UNLINK
	opSearch           = unix.KEYCTL_SEARCH
	opRead             = unix.KEYCTL_READ
	opInstantiate      = unix.KEYCTL_INSTANTIATE
	opNegate           = unix.KEYCTL_NEGATE
	opSetReqKeyKeyring = unix.KEYCTL_SET_REQKEY_KEYRING
	opSetTimeout       = unix.KEYCTL_SET_TIMEOUT
	opAssumeAuthority  = unix.KEYCTL_ASSUME_AUTHORITY
	opGetSecurity      = unix.KEYCTL_GET_SECURITY
	opSessionToParent  = unix.KEYCTL_SESSION_TO_PARENT
	opReject           = unix.KEYCTL_REJECT
	opInstantiateIOV   = unix.KEYCTL_INSTANTIATE_IOV
	opInvalidate       = unix.KEYCTL_INVALIDATE
	opGetPersistent    = unix.KEYCTL_GET_PERSISTENT
	opDHCompute        = unix.KEYCTL_DH_COMPUTE
	opPkeyQuery        = unix.KEYCTL_PKEY_QUERY
	opPkeyEncrypt      = unix.KEYCTL_PKEY_ENCRYPT
	opPkeyDecrypt      = unix.KEYCTL_PKEY_DECRYPT
	opPkeySign         = unix.KEYCTL_PKEY_SIGN
	opPkeyVerify       = unix.KEYCTL_PKEY_VERIFY
	opRestrictKeyring  = unix.KEYCTL_RESTRICT_KEYRING
	opMove             = unix.KEYCTL_MOVE
	opCapabilities     = unix.KEYCTL_CAPABILITIES
	opWatchKey         = unix.KEYCTL_WATCH_KEY
	// opUnknown is an operation number no kernel defines.
	opUnknown = 0x7fffffff
)

func result(r uintptr, e syscall.Errno) (int, syscall.Errno) {
	if e != 0 {
		return -1, e
	}
	return int(r), 0
}

func serial(r uintptr, e syscall.Errno) (int32, syscall.Errno) {
	if e != 0 {
		return 0, e
	}
	return int32(r), 0
}

// AddKey is add_key(2). A nil payload passes NULL with length 0.
func AddKey(typ, desc *byte, payload []byte, ring int32) (int32, syscall.Errno) {
	r, _, e := unix.Syscall6(unix.SYS_ADD_KEY, uintptr(unsafe.Pointer(typ)), uintptr(unsafe.Pointer(desc)),
		uintptr(unsafe.Pointer(unsafe.SliceData(payload))), uintptr(len(payload)), uintptr(ring), 0)
	return serial(r, e)
}

// RequestKey is request_key(2). A nil callout passes NULL (no upcall on a
// miss); dest 0 means the default request-key keyring.
func RequestKey(typ, desc, callout *byte, dest int32) (int32, syscall.Errno) {
	r, _, e := unix.Syscall6(unix.SYS_REQUEST_KEY, uintptr(unsafe.Pointer(typ)), uintptr(unsafe.Pointer(desc)),
		uintptr(unsafe.Pointer(callout)), uintptr(dest), 0, 0)
	return serial(r, e)
}

// GetKeyringID is KEYCTL_GET_KEYRING_ID. Without create it only looks the
// keyring up: a raw call (see the package documentation).
func GetKeyringID(id int32, create bool) (int32, syscall.Errno) {
	if create {
		r, _, e := unix.Syscall(unix.SYS_KEYCTL, opGetKeyringID, uintptr(id), 1)
		return serial(r, e)
	}
	r, _, e := unix.RawSyscall(unix.SYS_KEYCTL, opGetKeyringID, uintptr(id), 0)
	return serial(r, e)
}

// JoinSessionKeyring is KEYCTL_JOIN_SESSION_KEYRING; a nil name joins a new
// anonymous session keyring. It changes only the calling thread.
func JoinSessionKeyring(name *byte) (int32, syscall.Errno) {
	r, _, e := unix.Syscall(unix.SYS_KEYCTL, opJoinSession, uintptr(unsafe.Pointer(name)), 0)
	return serial(r, e)
}

// AllThreadsJoinSessionKeyring issues KEYCTL_JOIN_SESSION_KEYRING on every
// thread of the process through syscall.AllThreadsSyscall. Every thread must
// return the same result or the runtime aborts the process; it returns
// ENOTSUP when cgo is linked.
func AllThreadsJoinSessionKeyring(name *byte) (int32, syscall.Errno) {
	r, _, e := syscall.AllThreadsSyscall(unix.SYS_KEYCTL, opJoinSession, uintptr(unsafe.Pointer(name)), 0)
	return serial(r, e)
}

// Update is KEYCTL_UPDATE.
func Update(id int32, payload []byte) syscall.Errno {
	_, _, e := unix.Syscall6(unix.SYS_KEYCTL, opUpdate, uintptr(id),
		uintptr(unsafe.Pointer(unsafe.SliceData(payload))), uintptr(len(payload)), 0, 0)
	return e
}

// Revoke is KEYCTL_REVOKE.
func Revoke(id int32) syscall.Errno {
	_, _, e := unix.Syscall(unix.SYS_KEYCTL, opRevoke, uintptr(id), 0)
	return e
}

// Chown is KEYCTL_CHOWN; -1 leaves the uid or gid unchanged. A raw call.
func Chown(id int32, uid, gid int32) syscall.Errno {
	_, _, e := unix.RawSyscall6(unix.SYS_KEYCTL, opChown, uintptr(id), uintptr(uint32(uid)), uintptr(uint32(gid)), 0, 0)
	return e
}

// SetPerm is KEYCTL_SETPERM. A raw call.
func SetPerm(id int32, perm uint32) syscall.Errno {
	_, _, e := unix.RawSyscall(unix.SYS_KEYCTL, opSetPerm, uintptr(id), uintptr(perm))
	return e
}

// Describe is KEYCTL_DESCRIBE: it returns the description's full size
// including the NUL, copying only when buf is large enough. A raw call.
func Describe(id int32, buf []byte) (int, syscall.Errno) {
	r, _, e := unix.RawSyscall6(unix.SYS_KEYCTL, opDescribe, uintptr(id),
		uintptr(unsafe.Pointer(unsafe.SliceData(buf))), uintptr(len(buf)), 0, 0)
	return result(r, e)
}

// Clear is KEYCTL_CLEAR.
func Clear(ring int32) syscall.Errno {
	_, _, e := unix.Syscall(unix.SYS_KEYCTL, opClear, uintptr(ring), 0)
	return e
}

// Link is KEYCTL_LINK. Not a raw call: it waits for a key under
// construction, and a restricted keyring's check may load a crypto module
// (see the package documentation).
func Link(id, ring int32) syscall.Errno {
	_, _, e := unix.Syscall(unix.SYS_KEYCTL, opLink, uintptr(id), uintptr(ring))
	return e
}

// Unlink is KEYCTL_UNLINK. A raw call.
func Unlink(id, ring int32) syscall.Errno {
	_, _, e := unix.RawSyscall(unix.SYS_KEYCTL, opUnlink, uintptr(id), uintptr(ring))
	return e
}

// Search is KEYCTL_SEARCH; dest 0 links the result nowhere. A raw call:
// a search never constructs a key.
func Search(ring int32, typ, desc *byte, dest int32) (int32, syscall.Errno) {
	r, _, e := unix.RawSyscall6(unix.SYS_KEYCTL, opSearch, uintptr(ring), uintptr(unsafe.Pointer(typ)),
		uintptr(unsafe.Pointer(desc)), uintptr(dest), 0)
	return serial(r, e)
}

// Read is KEYCTL_READ: it returns the payload's full size, copying the
// payload only if it fits in buf. Reads into buffers of at most RawReadMax
// bytes are raw calls.
func Read(id int32, buf []byte) (int, syscall.Errno) {
	if len(buf) <= RawReadMax {
		r, _, e := unix.RawSyscall6(unix.SYS_KEYCTL, opRead, uintptr(id),
			uintptr(unsafe.Pointer(unsafe.SliceData(buf))), uintptr(len(buf)), 0, 0)
		return result(r, e)
	}
	r, _, e := unix.Syscall6(unix.SYS_KEYCTL, opRead, uintptr(id),
		uintptr(unsafe.Pointer(unsafe.SliceData(buf))), uintptr(len(buf)), 0, 0)
	return result(r, e)
}

// Instantiate is KEYCTL_INSTANTIATE.
func Instantiate(id int32, payload []byte, ring int32) syscall.Errno {
	_, _, e := unix.Syscall6(unix.SYS_KEYCTL, opInstantiate, uintptr(id),
		uintptr(unsafe.Pointer(unsafe.SliceData(payload))), uintptr(len(payload)), uintptr(ring), 0)
	return e
}

// InstantiateIOV is KEYCTL_INSTANTIATE_IOV.
func InstantiateIOV(id int32, parts [][]byte, ring int32) syscall.Errno {
	iov := make([]unix.Iovec, len(parts))
	for i, p := range parts {
		iov[i].Base = unsafe.SliceData(p)
		iov[i].SetLen(len(p))
	}
	_, _, e := unix.Syscall6(unix.SYS_KEYCTL, opInstantiateIOV, uintptr(id),
		uintptr(unsafe.Pointer(unsafe.SliceData(iov))), uintptr(len(iov)), uintptr(ring), 0)
	return e
}

// Negate is KEYCTL_NEGATE.
func Negate(id int32, timeout uint32, ring int32) syscall.Errno {
	_, _, e := unix.Syscall6(unix.SYS_KEYCTL, opNegate, uintptr(id), uintptr(timeout), uintptr(ring), 0, 0)
	return e
}

// Reject is KEYCTL_REJECT.
func Reject(id int32, timeout uint32, errno uint32, ring int32) syscall.Errno {
	_, _, e := unix.Syscall6(unix.SYS_KEYCTL, opReject, uintptr(id), uintptr(timeout), uintptr(errno), uintptr(ring), 0)
	return e
}

// SetReqKeyKeyring is KEYCTL_SET_REQKEY_KEYRING; it returns the old default.
func SetReqKeyKeyring(defl int32) (int, syscall.Errno) {
	r, _, e := unix.Syscall(unix.SYS_KEYCTL, opSetReqKeyKeyring, uintptr(defl), 0)
	return result(r, e)
}

// SetTimeout is KEYCTL_SET_TIMEOUT; 0 clears the timeout. A raw call.
func SetTimeout(id int32, seconds uint32) syscall.Errno {
	_, _, e := unix.RawSyscall(unix.SYS_KEYCTL, opSetTimeout, uintptr(id), uintptr(seconds))
	return e
}

// AssumeAuthority is KEYCTL_ASSUME_AUTHORITY; id 0 gives authority up.
func AssumeAuthority(id int32) (int32, syscall.Errno) {
	r, _, e := unix.Syscall(unix.SYS_KEYCTL, opAssumeAuthority, uintptr(id), 0)
	return serial(r, e)
}

// GetSecurity is KEYCTL_GET_SECURITY; like Describe it returns the full
// size. A raw call.
func GetSecurity(id int32, buf []byte) (int, syscall.Errno) {
	r, _, e := unix.RawSyscall6(unix.SYS_KEYCTL, opGetSecurity, uintptr(id),
		uintptr(unsafe.Pointer(unsafe.SliceData(buf))), uintptr(len(buf)), 0, 0)
	return result(r, e)
}

// SessionToParent is KEYCTL_SESSION_TO_PARENT.
func SessionToParent() syscall.Errno {
	_, _, e := unix.Syscall(unix.SYS_KEYCTL, opSessionToParent, 0, 0)
	return e
}

// Invalidate is KEYCTL_INVALIDATE.
func Invalidate(id int32) syscall.Errno {
	_, _, e := unix.Syscall(unix.SYS_KEYCTL, opInvalidate, uintptr(id), 0)
	return e
}

// GetPersistent is KEYCTL_GET_PERSISTENT; uid -1 means the caller's.
func GetPersistent(uid int32, dest int32) (int32, syscall.Errno) {
	r, _, e := unix.Syscall(unix.SYS_KEYCTL, opGetPersistent, uintptr(uint32(uid)), uintptr(dest))
	return serial(r, e)
}

// DHCompute is KEYCTL_DH_COMPUTE; kdf may be nil.
func DHCompute(p *DHParams, buf []byte, kdf *KDFParams) (int, syscall.Errno) {
	r, _, e := unix.Syscall6(unix.SYS_KEYCTL, opDHCompute, uintptr(unsafe.Pointer(p)),
		uintptr(unsafe.Pointer(unsafe.SliceData(buf))), uintptr(len(buf)), uintptr(unsafe.Pointer(kdf)), 0)
	return result(r, e)
}

// PkeyQuery is KEYCTL_PKEY_QUERY.
func PkeyQuery(id int32, info *byte, q *PkeyQueryResult) syscall.Errno {
	_, _, e := unix.Syscall6(unix.SYS_KEYCTL, opPkeyQuery, uintptr(id), 0,
		uintptr(unsafe.Pointer(info)), uintptr(unsafe.Pointer(q)), 0)
	return e
}

// PkeyOp is KEYCTL_PKEY_ENCRYPT, _DECRYPT, _SIGN or _VERIFY (op is one of
// the Pkey* constants); for verify, out is the signature.
func PkeyOp(op int, id int32, info *byte, in, out []byte) (int, syscall.Errno) {
	p := PkeyParams{KeyID: id, InLen: uint32(len(in)), OutLen: uint32(len(out))}
	r, _, e := unix.Syscall6(unix.SYS_KEYCTL, uintptr(op), uintptr(unsafe.Pointer(&p)), uintptr(unsafe.Pointer(info)),
		uintptr(unsafe.Pointer(unsafe.SliceData(in))), uintptr(unsafe.Pointer(unsafe.SliceData(out))), 0)
	return result(r, e)
}

// RestrictKeyring is KEYCTL_RESTRICT_KEYRING; a nil type forbids all links.
func RestrictKeyring(ring int32, typ, restriction *byte) syscall.Errno {
	_, _, e := unix.Syscall6(unix.SYS_KEYCTL, opRestrictKeyring, uintptr(ring), uintptr(unsafe.Pointer(typ)),
		uintptr(unsafe.Pointer(restriction)), 0, 0)
	return e
}

// Move is KEYCTL_MOVE.
func Move(id, from, to int32, flags uint32) syscall.Errno {
	_, _, e := unix.Syscall6(unix.SYS_KEYCTL, opMove, uintptr(id), uintptr(from), uintptr(to), uintptr(flags), 0)
	return e
}

// Capabilities is KEYCTL_CAPABILITIES: it returns the size of the kernel's
// capability array and copies as much of it as fits into buf.
func Capabilities(buf []byte) (int, syscall.Errno) {
	r, _, e := unix.Syscall(unix.SYS_KEYCTL, opCapabilities, uintptr(unsafe.Pointer(unsafe.SliceData(buf))), uintptr(len(buf)))
	return result(r, e)
}

// WatchKey is KEYCTL_WATCH_KEY; watchID -1 removes the watch.
func WatchKey(id int32, fd int, watchID int) syscall.Errno {
	_, _, e := unix.Syscall6(unix.SYS_KEYCTL, opWatchKey, uintptr(id), uintptr(fd), uintptr(watchID), 0, 0)
	return e
}

// UnknownOp issues keyctl(2) with an operation number no kernel defines. A
// kernel with the key service answers EOPNOTSUPP before it looks at any
// argument or checks any permission; any other answer came from something
// between the caller and the kernel's keyctl (a seccomp filter), or from a
// kernel without CONFIG_KEYS (ENOSYS). A raw call.
func UnknownOp() syscall.Errno {
	_, _, e := unix.RawSyscall(unix.SYS_KEYCTL, opUnknown, 0, 0)
	return e
}
