package secret

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"

	"github.com/kernkeys/kernkeys/internal/kerr"
	"github.com/kernkeys/kernkeys/internal/keyctl"
	"github.com/kernkeys/kernkeys/internal/redact"
	"github.com/kernkeys/kernkeys/keyring"
)

// ErrLockLimit is matched by the error of [New] (and [ReadKey]) when the
// process may not lock more memory: RLIMIT_MEMLOCK would be exceeded
// (ENOMEM), or is 0 (EPERM), and the process lacks CAP_IPC_LOCK. The
// error also matches keyring.ErrQuota, which ErrLockLimit wraps.
var ErrLockLimit = fmt.Errorf("locked memory limit (RLIMIT_MEMLOCK) reached: %w", keyring.ErrQuota)

// fail returns the error of op for the failed system call call on a
// Buffer of size bytes, as a *keyring.Error.
func fail(op, call string, size int, errno syscall.Errno) error {
	reason := call + " of " + strconv.Itoa(size) + " bytes"
	switch {
	case errno == syscall.ENOSYS && !keyctl.Supported:
		reason += ": locked secret memory is implemented on Linux only"
	case call == "mlock" && (errors.Is(errno, syscall.ENOMEM) || errors.Is(errno, syscall.EPERM)):
		reason += ": over RLIMIT_MEMLOCK"
		if limit, le := keyctl.MemlockLimit(); le == 0 && limit >= 0 {
			reason += " (" + strconv.FormatInt(limit, 10) + " bytes)"
		}
		reason += "; raise it (ulimit -l, LimitMEMLOCK= in systemd) or grant CAP_IPC_LOCK"
		return kerr.WithErr(kerr.Errno(op, errno, ""), reason, ErrLockLimit)
	}
	return kerr.Errno(op, errno, reason)
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
// Errors are *keyring.Error with Op "secret.New", the errno of the failed
// system call, and a Reason naming that call (mmap, mlock or madvise) and
// the size: ErrLockLimit (and keyring.ErrQuota) when RLIMIT_MEMLOCK does
// not allow n more bytes; keyring.ErrInvalid for n <= 0, refused before
// any system call (Field "n"); keyring.ErrNotSupported outside Linux. On
// error nothing stays mapped.
func New(n int) (*Buffer, error) { return newBuffer("secret.New", n) }

// newBuffer is New for op.
func newBuffer(op string, n int) (*Buffer, error) {
	if n <= 0 {
		return nil, kerr.Refuse(op, "n", "size must be positive, not "+strconv.Itoa(n))
	}
	page := os.Getpagesize()
	size := (n + page - 1) / page * page
	mem, e := keyctl.Mmap(size)
	if e != 0 {
		return nil, fail(op, "mmap", n, e)
	}
	call := "mlock"
	if e = keyctl.Mlock(mem); e == 0 {
		call = "madvise"
		e = keyctl.MadviseDontDump(mem)
	}
	if e != 0 {
		_ = keyctl.Munmap(mem) // unlocks too; the memory was never written
		return nil, fail(op, call, n, e)
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
// Buffer does nothing and returns nil. Errors are *keyring.Error with Op
// "secret.Close" and the errno of munlock or munmap; the memory is wiped
// either way.
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
		return fail("secret.Close", "munlock", n, e)
	}
	if e := unmap(mem); e != 0 {
		return fail("secret.Close", "munmap", n, e)
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
// Errors: those of keyring.Key.ReadInto, and those of New with Op
// "secret.ReadKey".
func ReadKey(k keyring.Key) (*Buffer, error) {
	n, err := k.ReadInto(nil)
	for err == nil {
		var b *Buffer
		if b, err = newBuffer("secret.ReadKey", max(n, 1)); err != nil {
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
