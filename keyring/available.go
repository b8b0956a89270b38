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
// costs nothing on the success path; an EPERM or ENOSYS costs one probe
// of the system call that failed (none once it is known refused).
//
// A refused call is remembered: a seccomp filter is never removed and a
// kernel does not gain CONFIG_KEYS. A call that reaches the service is
// probed again next time, since the process may install a filter later.
// Seccomp filters belong to threads; container runtimes and systemd
// install them before the program starts, on every thread, and that is
// the case the probe describes. On systems other than Linux the error is
// ENOSYS and also matches ErrNotSupported.
func Available() error {
	if e := serviceErr(0, 1, 2); e != nil {
		return e
	}
	return nil
}

// serviceCalls names the key system calls; serviceCall and serviceErr
// refer to them by index.
var serviceCalls = [...]string{"add_key", "keyctl", "request_key"}

// refusedCalls caches, for each of serviceCalls, the errno that answered
// instead of the key service, once one has: a filter is never removed.
var refusedCalls [len(serviceCalls)]atomic.Uint32

// probeCall returns 0 when serviceCalls[i] reaches the key service, else
// the errno that answered instead.
func probeCall(i int) syscall.Errno {
	if e := refusedCalls[i].Load(); e != 0 {
		return syscall.Errno(e)
	}
	var empty byte // "": the kernel refuses an empty key type with EINVAL
	var e syscall.Errno
	switch i {
	case 0:
		if _, e = keyctl.AddKey(&empty, &empty, nil, 0); e == syscall.EINVAL {
			e = 0
		}
	case 1:
		if e = keyctl.UnknownOp(); e == syscall.EOPNOTSUPP {
			e = 0
		}
	case 2:
		if _, e = keyctl.RequestKey(&empty, &empty, nil, 0); e == syscall.EINVAL {
			e = 0
		}
	}
	if e != 0 {
		refusedCalls[i].Store(uint32(e))
	}
	return e
}

// serviceCall is the key system call behind an operation name of fail,
// as an index into serviceCalls; -1 on Linux for the watch queue's pipe2,
// ioctl and close, which are not key system calls (elsewhere nothing
// reaches a key service, and keyctl's answer stands for them).
func serviceCall(op string) int {
	switch op {
	case "add_key":
		return 0
	case "request_key":
		return 2
	case "watch_queue", "watch_queue_set_filter", "close":
		if keyctl.Supported {
			return -1
		}
	}
	return 1
}

// serviceErr probes the given calls (indices into serviceCalls) and
// returns nil when all reach the key service, else the error that names
// those refused. fail asks it for the one call behind an EPERM or ENOSYS,
// the errnos a filter or sandbox answers with, so that it never issues a
// key system call the program did not.
func serviceErr(calls ...int) *Error {
	var refused []string
	var first syscall.Errno
	var nosys, other int
	for _, i := range calls {
		e := probeCall(i)
		if e == 0 {
			continue
		}
		if first == 0 {
			first = e
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
	e := &Error{Op: refused[0], Errno: first, Err: ErrUnavailable}
	switch {
	case !keyctl.Supported:
		e.Reason = "the Linux key retention service is not available on this system"
		return e
	case other == 0:
		e.Reason = " not implemented: a kernel without CONFIG_KEYS, a seccomp profile (LXC's) or a sandbox (gVisor)"
	case nosys == 0:
		e.Reason = " refused before reaching the kernel's key service: a seccomp filter (Docker's default profile refuses all three with EPERM)"
	default:
		e.Reason = " refused before reaching the kernel's key service: a seccomp filter or a sandbox"
	}
	e.Reason = strings.Join(refused, ", ") + e.Reason
	return e
}
