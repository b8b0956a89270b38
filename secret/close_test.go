//go:build linux

package secret

import (
	"errors"
	"os"
	"syscall"
	"testing"

	"github.com/kernkeys/kernkeys/internal/keyctl"
	"github.com/kernkeys/kernkeys/keyring"
)

// Close wipes the whole mapping, not only Bytes, before it unmaps it: the
// unmapping call sees nothing but zeros. Without the wipe, or with the
// wipe after the unmap, this fails.
func TestCloseWipesBeforeUnmap(t *testing.T) {
	b, err := New(100)
	if err != nil {
		t.Fatal(err)
	}
	mem := b.mem
	for i := range mem {
		mem[i] = 0xa5 // the slack after Bytes too
	}
	calls := 0
	err = b.close(func(m []byte) syscall.Errno {
		calls++
		if len(m) != os.Getpagesize() || &m[0] != &mem[0] {
			t.Errorf("unmapping %d bytes at %p, want the page at %p", len(m), &m[0], &mem[0])
		}
		for i, c := range m {
			if c != 0 {
				t.Errorf("byte %d of the mapping is %#x when it is unmapped", i, c)
				break
			}
		}
		return keyctl.Munmap(m)
	})
	if err != nil || calls != 1 {
		t.Fatalf("close = %v after %d unmaps", err, calls)
	}
	if b.Bytes() != nil || b.Len() != 0 {
		t.Errorf("a closed Buffer has %d bytes", b.Len())
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// Close's errors are *keyring.Error of secret.Close with the errno of the
// failed call, and the memory is wiped and the Buffer closed anyway.
func TestErrorsSecretClose(t *testing.T) {
	b, err := New(100)
	if err != nil {
		t.Fatal(err)
	}
	mapped := b.mem
	err = b.close(func(m []byte) syscall.Errno {
		keyctl.Munmap(m)
		return syscall.EINVAL
	})
	var ke *keyring.Error
	if !errors.As(err, &ke) || ke.Op != "secret.Close" || ke.Errno != syscall.EINVAL || ke.Reason != "munmap of 100 bytes" || !errors.Is(err, keyring.ErrInvalid) || ke.Refused {
		t.Errorf("Close with a failing munmap: %#v", err)
	}
	if b.Len() != 0 || mapped == nil || b.Bytes() != nil {
		t.Error("the Buffer is not closed after a failed Close")
	}
}
