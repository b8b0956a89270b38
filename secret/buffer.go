package secret

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"

	"github.com/kernkeys/kernkeys/internal/keyctl"
	"github.com/kernkeys/kernkeys/internal/redact"
	"github.com/kernkeys/kernkeys/keyring"
)

// ErrLockLimit is matched by the error of [New] when the process may not
// lock more memory: RLIMIT_MEMLOCK would be exceeded (ENOMEM), or is 0
// (EPERM), and the process lacks CAP_IPC_LOCK. The error also matches
// keyring.ErrQuota.
var ErrLockLimit = errors.New("locked memory limit (RLIMIT_MEMLOCK) reached")

// Error reports a failed system call on secret memory.
type Error struct {
	// Op is the system call: "mmap", "mlock", "madvise", "munlock" or
	// "munmap".
	Op string
	// Size is the size in bytes that was asked for.
	Size int
	// Errno is the kernel's answer; EINVAL for a size refused before any
	// system call.
	Errno syscall.Errno
	// Reason explains the failure; it never contains secret bytes.
	Reason string
}

func (e *Error) Error() string {
	s := "secret: " + e.Op + " of " + strconv.Itoa(e.Size) + " bytes"
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s + ": " + e.Errno.Error()
}

// Unwrap returns the errno.
func (e *Error) Unwrap() error { return e.Errno }

// Is matches ErrLockLimit and keyring.ErrQuota (mlock refused by
// RLIMIT_MEMLOCK), keyring.ErrInvalid and keyring.ErrNotSupported.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrLockLimit, keyring.ErrQuota:
		return e.lockLimit()
	case keyring.ErrInvalid:
		return e.Errno == syscall.EINVAL
	case keyring.ErrNotSupported:
		return e.Errno == syscall.ENOSYS
	}
	return false
}

func (e *Error) lockLimit() bool {
	return e.Op == "mlock" && (e.Errno == syscall.ENOMEM || e.Errno == syscall.EPERM)
}

func fail(op string, size int, errno syscall.Errno) *Error {
	e := &Error{Op: op, Size: size, Errno: errno}
	switch {
	case errno == syscall.ENOSYS && !keyctl.Supported:
		e.Reason = "locked secret memory is implemented on Linux only"
	case e.lockLimit():
		e.Reason = "over RLIMIT_MEMLOCK"
		if limit, le := keyctl.MemlockLimit(); le == 0 && limit >= 0 {
			e.Reason += " (" + strconv.FormatInt(limit, 10) + " bytes)"
		}
		e.Reason += "; raise it (ulimit -l, LimitMEMLOCK= in systemd) or grant CAP_IPC_LOCK"
	}
	return e
}

// Buffer is a secret held in locked memory outside the Go heap. The zero
// value and a nil *Buffer are closed Buffers. A Buffer must not be copied
// after New (copies would share the memory), and its methods must not be
// called concurrently with Close.
type Buffer struct {
	mem []byte // the whole mapping, a whole number of pages; nil once closed
	n   int    // the length of Bytes
}

// New maps n bytes of zeroed memory outside the Go heap, locks it into RAM
// (mlock(2)) and excludes it from core dumps (madvise(2) MADV_DONTDUMP).
// The mapping is rounded up to whole pages; Bytes has length n.
//
// Errors: ErrLockLimit (and keyring.ErrQuota) when RLIMIT_MEMLOCK does not
// allow n more bytes, keyring.ErrInvalid for n <= 0,
// keyring.ErrNotSupported outside Linux. On error nothing stays mapped.
func New(n int) (*Buffer, error) {
	if n <= 0 {
		return nil, &Error{Op: "mmap", Size: n, Errno: syscall.EINVAL, Reason: "size must be positive"}
	}
	page := os.Getpagesize()
	size := (n + page - 1) / page * page
	mem, e := keyctl.Mmap(size)
	if e != 0 {
		return nil, fail("mmap", n, e)
	}
	op := "mlock"
	if e = keyctl.Mlock(mem); e == 0 {
		op = "madvise"
		e = keyctl.MadviseDontDump(mem)
	}
	if e != 0 {
		_ = keyctl.Munmap(mem) // unlocks too; the memory was never written
		return nil, fail(op, n, e)
	}
	return &Buffer{mem: mem, n: n}, nil
}

// Bytes returns the secret's n bytes, in locked memory; nil once b is
// closed. Do not use the slice after Close: the memory is unmapped, and
// touching it faults.
func (b *Buffer) Bytes() []byte {
	if b == nil || b.mem == nil {
		return nil
	}
	return b.mem[:b.n:b.n]
}

// Len returns len(b.Bytes()).
func (b *Buffer) Len() int {
	if b == nil || b.mem == nil {
		return 0
	}
	return b.n
}

// Close wipes the whole mapping, unlocks and unmaps it. Closing a closed
// Buffer does nothing and returns nil.
func (b *Buffer) Close() error { return b.close(keyctl.Munmap) }

// close is Close with the unmapping call as a parameter, so that a test
// can see the memory just before it goes.
func (b *Buffer) close(unmap func([]byte) syscall.Errno) error {
	if b == nil || b.mem == nil {
		return nil
	}
	mem, n := b.mem, b.n
	b.mem, b.n = nil, 0
	keyring.Wipe(mem)
	if e := keyctl.Munlock(mem); e != 0 {
		_ = unmap(mem)
		return fail("munlock", n, e)
	}
	if e := unmap(mem); e != 0 {
		return fail("munmap", n, e)
	}
	return nil
}

// String describes b by its size, never its contents: "secret.Buffer(32
// bytes)" or "secret.Buffer(closed)".
func (b Buffer) String() string {
	if b.mem == nil {
		return "secret.Buffer(closed)"
	}
	return "secret.Buffer(" + strconv.Itoa(b.n) + " bytes)"
}

// GoString is String: %#v must not print the contents either.
func (b Buffer) GoString() string { return b.String() }

// Format prints String for every verb, so that no fmt verb (%x, %d, %v
// of a struct holding a Buffer ...) prints the contents. String, GoString
// and Format have value receivers so that a Buffer value is covered too.
func (b Buffer) Format(f fmt.State, verb rune) { redact.Format(f, verb, b) }

// ReadKey reads k's payload (KEYCTL_READ) straight into a new Buffer, so
// that the payload never passes through the Go heap. It asks the kernel
// for the size first and retries while the payload grows; the Buffers it
// outgrows are closed, which wipes them. The caller must Close the result.
//
// Errors: those of keyring.Key.ReadInto, and of New.
func ReadKey(k keyring.Key) (*Buffer, error) {
	n, err := k.ReadInto(nil)
	for err == nil {
		var b *Buffer
		if b, err = New(max(n, 1)); err != nil {
			return nil, err
		}
		var got int
		got, err = k.ReadInto(b.mem)
		if err == nil && got <= len(b.mem) {
			b.n = got
			return b, nil
		}
		_ = b.Close()
		n = got
	}
	return nil, err
}
