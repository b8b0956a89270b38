//go:build linux

package keyctl

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// futex(2) operations (include/uapi/linux/futex.h), which x/sys/unix does
// not define.
const (
	futexWaitPrivate = 0 | 128 // FUTEX_WAIT | FUTEX_PRIVATE_FLAG
	futexWakePrivate = 1 | 128 // FUTEX_WAKE | FUTEX_PRIVATE_FLAG
)

// FutexWait sleeps while *addr holds val (futex(2), FUTEX_WAIT_PRIVATE),
// until FutexWake, a signal (EINTR) or a spurious wake-up: the caller
// checks *addr again. It returns at once with EAGAIN when *addr is no
// longer val. A blocking call: the Go scheduler hands the thread's P on.
func FutexWait(addr *uint32, val uint32) syscall.Errno {
	_, _, e := unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)),
		futexWaitPrivate, uintptr(val), 0, 0, 0)
	return e
}

// FutexWake wakes one thread sleeping in FutexWait on addr (futex(2),
// FUTEX_WAKE_PRIVATE). A raw call: it never blocks.
func FutexWake(addr *uint32) syscall.Errno {
	_, _, e := unix.RawSyscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)),
		futexWakePrivate, 1, 0, 0, 0)
	return e
}
