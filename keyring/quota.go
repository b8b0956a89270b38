package keyring

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/kernkeys/kernkeys/internal/keyctl"
)

// Quota is a user's key quota: what the kernel charges to the user and
// the limits (/proc/key-users). Keys count from allocation until the
// garbage collector destroys them, revoked, expired and unlinked keys not
// yet collected included; each key charges its description's length plus
// one and its payload's size to Bytes (key_alloc and key_payload_reserve
// in security/keys/key.c), and a keyring four bytes for each link.
type Quota struct {
	// UID is the user, as the caller's user namespace numbers it.
	UID uint32
	// Keys is the number of keys charged; MaxKeys the limit.
	Keys, MaxKeys int
	// Bytes is the number of bytes charged; MaxBytes the limit.
	Bytes, MaxBytes int
}

// String gives the usage, as "uid 1000: 200/200 keys, 3400/20000 bytes".
func (q Quota) String() string {
	return "uid " + strconv.FormatUint(uint64(q.UID), 10) + ": " +
		strconv.Itoa(q.Keys) + "/" + strconv.Itoa(q.MaxKeys) + " keys, " +
		strconv.Itoa(q.Bytes) + "/" + strconv.Itoa(q.MaxBytes) + " bytes"
}

// QuotaOf returns uid's key quota, uid as the caller's user namespace
// numbers it: its line of /proc/key-users, or, for a user with no key,
// nothing charged and the limits of /proc/sys/kernel/keys/ (maxkeys and
// maxbytes; root_maxkeys and root_maxbytes for the initial namespace's
// root, as key_alloc applies them). The limits are global sysctls
// (kernel.keys.*), not per namespace: a uid's quota is the same seen from
// every namespace that maps it.
//
// A call that runs over the quota fails with an error matching ErrQuota
// whose Reason is made from QuotaOf for the calling user: which limit is
// reached and how full both are.
//
// Errors: ErrNotSupported on a system without the key retention service
// (no /proc/key-users: CONFIG_KEYS off, or not Linux); the errno of a
// failed read of /proc otherwise.
func QuotaOf(uid uint32) (Quota, error) {
	const op = "keyring.QuotaOf"
	if !keyctl.Supported {
		return Quota{}, fail(op, 0, syscall.ENOSYS)
	}
	data, err := os.ReadFile("/proc/key-users")
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return Quota{}, &Error{Op: op, Errno: syscall.ENOSYS, Reason: "no /proc/key-users: the kernel has no key retention service (CONFIG_KEYS)"}
		}
		return Quota{}, readError(op, "/proc/key-users", err)
	}
	q, found, ok := parseKeyUsers(data, uid)
	if !ok {
		return Quota{}, &Error{Op: op, Errno: syscall.EIO, Reason: "/proc/key-users has a line this package cannot parse"}
	}
	if found {
		return q, nil
	}
	prefix := "/proc/sys/kernel/keys/"
	if uid == 0 && initialNamespace() {
		prefix += "root_"
	}
	if q.MaxKeys, err = readInt(prefix + "maxkeys"); err == nil {
		q.MaxBytes, err = readInt(prefix + "maxbytes")
	}
	if err != nil {
		return Quota{}, readError(op, prefix+"max*", err)
	}
	return q, nil
}

// parseKeyUsers finds uid's line in the contents of /proc/key-users
// ("%5u: %5d %d/%d %d/%d %d/%d": uid, usage, nkeys/nikeys,
// qnkeys/maxkeys, qnbytes/maxbytes; proc_key_users_show in
// security/keys/proc.c). ok is false for a line it cannot parse.
func parseKeyUsers(data []byte, uid uint32) (q Quota, found, ok bool) {
	q.UID = uid
	want := strconv.FormatUint(uint64(uid), 10) + ":"
	for line := range bytes.Lines(data) {
		f := strings.Fields(string(line))
		if len(f) != 5 {
			return q, false, false
		}
		if f[0] != want {
			continue
		}
		var ok1, ok2 bool
		q.Keys, q.MaxKeys, ok1 = fraction(f[3])
		q.Bytes, q.MaxBytes, ok2 = fraction(f[4])
		return q, true, ok1 && ok2
	}
	return q, false, true
}

// fraction parses "n/max".
func fraction(s string) (n, max int, ok bool) {
	a, b, ok := strings.Cut(s, "/")
	if !ok {
		return 0, 0, false
	}
	n, err1 := strconv.Atoi(a)
	max, err2 := strconv.Atoi(b)
	return n, max, err1 == nil && err2 == nil
}

// initialNamespace reports whether the caller is in the initial user
// namespace, whose uid 0 is the kernel's GLOBAL_ROOT_UID.
func initialNamespace() bool {
	b, err := os.ReadFile("/proc/self/uid_map")
	return err == nil && strings.Join(strings.Fields(string(b)), " ") == "0 0 4294967295"
}

func readInt(name string) (int, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

func readError(op, name string, err error) error {
	e := &Error{Op: op, Errno: syscall.EIO, Reason: "reading " + name}
	if !errors.As(err, &e.Errno) {
		e.Reason += ": " + err.Error()
	}
	return e
}

// quotaReason says, for an EDQUOT, which of the calling user's limits is
// reached and how full both are; empty when /proc cannot tell. The kernel
// charges the caller for the keys it makes (add_key, request_key, a new
// session keyring) and the owner for a key's growth (update, instantiate,
// a link into the owner's keyring, chown), so the reason, made from the
// caller's quota, says so where the count limit is not the one reached.
func quotaReason() string {
	q, err := QuotaOf(uint32(os.Geteuid()))
	if err != nil {
		return ""
	}
	sysctl := "kernel.keys."
	if q.UID == 0 && initialNamespace() {
		sysctl += "root_"
	}
	uid := "uid " + strconv.FormatUint(uint64(q.UID), 10)
	keys := strconv.Itoa(q.Keys) + " of " + strconv.Itoa(q.MaxKeys) + " keys"
	bytes := strconv.Itoa(q.Bytes) + " of " + strconv.Itoa(q.MaxBytes) + " bytes"
	if q.Keys >= q.MaxKeys {
		return "key count limit: " + uid + " has " + keys + " (" + sysctl + "maxkeys), " + bytes
	}
	left := strconv.Itoa(max(q.MaxBytes-q.Bytes, 0))
	return "byte limit: " + uid + " has " + bytes + " (" + sysctl + "maxbytes), " + left + " left, too few for the request; " + keys +
		"; where another user owns the key or keyring, that user's quota is the one charged"
}
