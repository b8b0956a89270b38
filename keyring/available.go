package keyring

import (
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/kernkeys/kernkeys/internal/keyctl"
)

// Available reports whether the calling process can reach the kernel's key
// retention service: nil when add_key(2), keyctl(2) and request_key(2) all
// reach it, else an error that matches [ErrUnavailable].
//
// Each system call is probed with arguments that the kernel refuses before
// it looks at any key or checks any permission: keyctl with an operation
// number no kernel defines (a kernel answers EOPNOTSUPP), add_key and
// request_key with an empty key type (EINVAL). Any other answer did not
// come from the key service:
//
//   - EPERM (or another errno): a seccomp filter refused the call, as
//     Docker's default profile does for all three;
//   - ENOSYS: the kernel was built without CONFIG_KEYS, or a seccomp
//     profile answers so (LXC's default does for all three), or a sandbox
//     that implements system calls itself (gVisor) lacks the call.
//
// Profiles may refuse some of the three: containers/common's (Podman's)
// allows keyctl but not add_key or request_key.
//
// The error names the first refused call in Op, its errno in Errno, and
// every refused call in Reason. Errors that operations return for a refused
// call match ErrUnavailable too, so that a caller need not call Available
// first: an EPERM from keyctl means "no permission on this key" when the
// service is reachable and "no key service here" when it is not. Matching
// costs nothing on the success path; on an EPERM or ENOSYS it costs the
// three probe calls.
//
// The answer "unavailable" is cached once all three calls are refused: a
// seccomp filter is never removed and a kernel does not gain CONFIG_KEYS.
// The answer "available" is not, since the process may install a filter
// later. Seccomp filters belong to threads; container runtimes and
// systemd install them before the program starts, on every thread, and
// that is the case the probe describes. On other systems than Linux the
// error is ENOSYS and also matches ErrNotSupported.
func Available() error {
	if e := serviceErr(-1); e != nil {
		c := *e // the cached error stays the caller's to change
		return &c
	}
	return nil
}

// unavailable caches the error of a process in which all of add_key, keyctl
// and request_key are refused.
var unavailable atomic.Pointer[Error]

// serviceCalls names the key system calls in the order probeService
// probes them.
var serviceCalls = [...]string{"add_key", "keyctl", "request_key"}

// serviceProbe holds, for each of serviceCalls, 0 when the call reached
// the key service, else the errno that answered instead.
type serviceProbe [len(serviceCalls)]syscall.Errno

func probeService() serviceProbe {
	var empty byte // "": the kernel refuses an empty key type with EINVAL
	var p serviceProbe
	if _, e := keyctl.AddKey(&empty, &empty, nil, 0); e != syscall.EINVAL {
		p[0] = e
	}
	if e := keyctl.Unknown(); e != syscall.EOPNOTSUPP {
		p[1] = e
	}
	if _, e := keyctl.RequestKey(&empty, &empty, nil, 0); e != syscall.EINVAL {
		p[2] = e
	}
	return p
}

func (p serviceProbe) blocked() int {
	n := 0
	for _, e := range p {
		if e != 0 {
			n++
		}
	}
	return n
}

// err returns nil when every call reached the service, else the error
// that names the refused calls.
func (p serviceProbe) err() *Error {
	var refused []string
	var first, nosys, other int
	for i, e := range p {
		if e == 0 {
			continue
		}
		if len(refused) == 0 {
			first = i
		}
		refused = append(refused, serviceCalls[i])
		if e == syscall.ENOSYS {
			nosys++
		} else {
			other++
		}
	}
	if len(refused) == 0 {
		return nil
	}
	var why string
	switch {
	case !keyctl.Supported:
		return &Error{Op: serviceCalls[first], Errno: p[first], Reason: "the Linux key retention service is not available on this system", Err: ErrUnavailable}
	case other == 0:
		why = " not implemented: a kernel without CONFIG_KEYS, a seccomp profile (LXC's) or a sandbox (gVisor)"
	case nosys == 0:
		why = " refused before reaching the kernel's key service: a seccomp filter (Docker's default profile refuses all three with EPERM)"
	default:
		why = " refused before reaching the kernel's key service: a seccomp filter or a sandbox"
	}
	return &Error{Op: serviceCalls[first], Errno: p[first], Reason: strings.Join(refused, ", ") + why, Err: ErrUnavailable}
}

// serviceCall is the system call behind an operation name of fail.
func serviceCall(op string) int {
	switch op {
	case "add_key":
		return 0
	case "request_key":
		return 2
	}
	return 1
}

// serviceErr returns the error naming the refused key system calls, or
// nil when every call reaches the key service; with call >= 0 (an index
// into serviceCalls), nil also when that call reaches it. fail asks only
// for EPERM and ENOSYS, the errnos a filter or sandbox answers with.
func serviceErr(call int) *Error {
	if e := unavailable.Load(); e != nil {
		return e
	}
	p := probeService()
	err := p.err()
	if p.blocked() == len(p) {
		unavailable.Store(err)
	}
	if call >= 0 && p[call] == 0 {
		return nil
	}
	return err
}
