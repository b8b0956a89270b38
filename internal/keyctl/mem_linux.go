//go:build linux

package keyctl

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// Memory for secrets, outside the Go heap: package secret maps it, locks
// it and keeps it out of core dumps. One thin function per system call.

// errno turns an error from x/sys/unix into its errno.
func errno(err error) syscall.Errno {
	if err == nil {
		return 0
	}
	if e, ok := err.(syscall.Errno); ok {
		return e
	}
	return syscall.EINVAL
}

// Mmap maps n bytes of private, anonymous, read-write memory (mmap(2)).
// The memory is zeroed and is not part of the Go heap: the garbage
// collector never moves or copies it. Release it with Munmap.
func Mmap(n int) ([]byte, syscall.Errno) {
	b, err := unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	return b, errno(err)
}

// Munmap unmaps memory that Mmap returned (munmap(2)).
func Munmap(b []byte) syscall.Errno { return errno(unix.Munmap(b)) }

// Mlock locks b's pages into RAM (mlock(2)): they are never swapped out.
// Without CAP_IPC_LOCK the process's RLIMIT_MEMLOCK caps what it may lock
// (ENOMEM beyond it; EPERM when the limit is 0).
func Mlock(b []byte) syscall.Errno { return errno(unix.Mlock(b)) }

// Munlock unlocks b's pages (munlock(2)).
func Munlock(b []byte) syscall.Errno { return errno(unix.Munlock(b)) }

// MadviseDontDump excludes b's pages from core dumps (madvise(2),
// MADV_DONTDUMP, Linux 3.4).
func MadviseDontDump(b []byte) syscall.Errno { return errno(unix.Madvise(b, unix.MADV_DONTDUMP)) }

// MemlockLimit returns the soft RLIMIT_MEMLOCK in bytes (getrlimit(2)),
// or -1 for no limit.
func MemlockLimit() (int64, syscall.Errno) {
	var r unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_MEMLOCK, &r); err != nil {
		return 0, errno(err)
	}
	if r.Cur == unix.RLIM_INFINITY {
		return -1, 0
	}
	return int64(r.Cur), 0
}

// SetMemlockLimit sets the soft RLIMIT_MEMLOCK to n bytes (setrlimit(2)),
// keeping the hard limit. Tests use it to meet the limit.
func SetMemlockLimit(n int64) syscall.Errno {
	var r unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_MEMLOCK, &r); err != nil {
		return errno(err)
	}
	r.Cur = uint64(n)
	return errno(unix.Setrlimit(unix.RLIMIT_MEMLOCK, &r))
}
