//go:build linux

package secret_test

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"github.com/kernkeys/kernkeys/internal/keyctl"
	"github.com/kernkeys/kernkeys/internal/keytest"
	"github.com/kernkeys/kernkeys/keyring"
	"github.com/kernkeys/kernkeys/secret"
)

func newBuffer(t *testing.T, n int) *secret.Buffer {
	t.Helper()
	b, err := secret.New(n)
	if err != nil {
		t.Fatalf("New(%d): %v", n, err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return b
}

// mapping returns the /proc/self/smaps entry of the mapping that starts
// at p's first byte: its Locked: size in kB and its VmFlags; ok is false
// when there is none.
func mapping(t *testing.T, p []byte) (lockedKB int, flags []string, ok bool) {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	start := strconv.FormatUint(uint64(uintptr(unsafe.Pointer(unsafe.SliceData(p)))), 16) + "-"
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch fs := strings.Fields(line); {
		case len(fs) > 0 && strings.Contains(fs[0], "-") && !strings.HasSuffix(fs[0], ":"):
			in = strings.HasPrefix(line, start)
		case in && fs[0] == "Locked:":
			lockedKB, _ = strconv.Atoi(fs[1])
			ok = true
		case in && fs[0] == "VmFlags:":
			flags = fs[1:]
		}
	}
	return lockedKB, flags, ok
}

// A Buffer is a mapping of its own, every page locked in RAM ("lo",
// Locked:) and marked not to dump ("dd"); after Close it is gone.
func TestNewLockedAndDontDump(t *testing.T) {
	b, err := secret.New(5000)
	if err != nil {
		t.Fatal(err)
	}
	p := b.Bytes()
	if len(p) != 5000 || cap(p) != 5000 || b.Len() != 5000 {
		t.Fatalf("Bytes has len %d cap %d", len(p), cap(p))
	}
	if !bytes.Equal(p, make([]byte, 5000)) {
		t.Error("new memory is not zero")
	}
	copy(p, "written")
	locked, flags, ok := mapping(t, p)
	pages := (5000 + os.Getpagesize() - 1) / os.Getpagesize()
	switch {
	case !ok:
		t.Fatal("no mapping starts at Bytes: the memory is not a mapping of its own")
	case locked != pages*os.Getpagesize()/1024:
		t.Errorf("Locked: %d kB, want %d", locked, pages*os.Getpagesize()/1024)
	}
	for _, want := range []string{"lo", "dd"} {
		if !strings.Contains(" "+strings.Join(flags, " ")+" ", " "+want+" ") {
			t.Errorf("VmFlags %v lacks %q", flags, want)
		}
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := mapping(t, p); ok {
		t.Error("the mapping outlived Close")
	}
	if b.Bytes() != nil || b.Close() != nil {
		t.Error("a closed Buffer still has bytes, or a second Close fails")
	}
	var zero secret.Buffer
	var nilBuf *secret.Buffer
	if zero.Bytes() != nil || zero.Close() != nil || nilBuf.Len() != 0 || nilBuf.Close() != nil {
		t.Error("the zero and nil Buffers are not closed Buffers")
	}
}

func TestNewInvalid(t *testing.T) {
	for _, n := range []int{0, -1} {
		_, err := secret.New(n)
		if !errors.Is(err, keyring.ErrInvalid) || !errors.Is(err, syscall.EINVAL) {
			t.Errorf("New(%d) = %v, want ErrInvalid", n, err)
		}
	}
}

// vmLck returns VmLck from /proc/self/status, in kB.
func vmLck(t *testing.T) int {
	t.Helper()
	v := keytest.ProcStatus(t, "VmLck")
	n, err := strconv.Atoi(strings.TrimSuffix(v, " kB"))
	if err != nil {
		t.Fatalf("VmLck %q: %v", v, err)
	}
	return n
}

// Over RLIMIT_MEMLOCK, New fails with ErrLockLimit (and keyring.ErrQuota)
// saying the limit, and locks nothing. Root's CAP_IPC_LOCK ignores the
// limit, so this runs as a non-root uid in a user namespace.
func TestLockLimit(t *testing.T) {
	if !keytest.IsChild(t) {
		keytest.RunChild(t, keytest.ChildOptions{UserNS: true})
		return
	}
	for _, c := range []struct {
		limit int64
		errno syscall.Errno
	}{{64 << 10, syscall.ENOMEM}, {0, syscall.EPERM}} {
		if e := keyctl.SetMemlockLimit(c.limit); e != 0 {
			t.Fatalf("setrlimit: %v", e)
		}
		before := vmLck(t)
		b, err := secret.New(1 << 20)
		if err == nil {
			b.Close()
			t.Fatalf("New(1 MiB) under a %d-byte limit succeeded", c.limit)
		}
		for _, target := range []error{secret.ErrLockLimit, keyring.ErrQuota, c.errno} {
			if !errors.Is(err, target) {
				t.Errorf("limit %d: %v does not match %v", c.limit, err, target)
			}
		}
		var e *keyring.Error
		if !errors.As(err, &e) || e.Op != "secret.New" || !strings.HasPrefix(e.Reason, "mlock of 1048576 bytes") || e.Errno != c.errno || e.Refused {
			t.Errorf("error %#v", err)
		}
		if msg := err.Error(); !strings.Contains(msg, "RLIMIT_MEMLOCK ("+strconv.FormatInt(c.limit, 10)+" bytes)") {
			t.Errorf("message %q does not give the limit", msg)
		}
		if after := vmLck(t); after != before {
			t.Errorf("VmLck went from %d to %d kB after a refused New", before, after)
		}
	}
}

// ReadKey reads a payload of any size straight into locked memory, a
// payload larger than a page too; an unreadable key is an error and
// leaves nothing locked.
func TestReadKey(t *testing.T) {
	s := keytest.Session(t)
	for _, n := range []int{1, 32, os.Getpagesize() + 1000} {
		payload := newBuffer(t, n)
		if _, err := rand.Read(payload.Bytes()); err != nil {
			t.Fatal(err)
		}
		k, err := s.Add("user", "secret-read:"+strconv.Itoa(n), payload.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		got, err := secret.ReadKey(k)
		if err != nil {
			t.Fatalf("ReadKey of %d bytes: %v", n, err)
		}
		if !bytes.Equal(got.Bytes(), payload.Bytes()) {
			t.Errorf("ReadKey of %d bytes read other bytes", n)
		}
		if locked, _, ok := mapping(t, got.Bytes()); !ok || locked == 0 {
			t.Errorf("ReadKey's Buffer is not locked (Locked: %d kB)", locked)
		}
		got.Close()
	}
	empty, err := s.AddKeyring("empty")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := secret.ReadKey(empty.Key); err != nil || got.Len() != 0 {
		t.Errorf("ReadKey of an empty keyring = %v, %v", got, err)
	} else {
		got.Close()
	}
	before := vmLck(t)
	k, err := s.Add("logon", "secret:logon", []byte("unreadable"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := secret.ReadKey(k); !errors.Is(err, keyring.ErrNotSupported) || got != nil {
		t.Errorf("ReadKey of a logon key = %v, %v; want ErrNotSupported", got, err)
	}
	if after := vmLck(t); after != before {
		t.Errorf("VmLck went from %d to %d kB after a failed ReadKey", before, after)
	}
}

func ExampleReadKey() {
	err := keyring.InNewSession(func(s keyring.Keyring) error {
		k, err := s.Add("user", "example:secret", []byte("example payload"))
		if err != nil {
			return err
		}
		b, err := secret.ReadKey(k) // the payload never passes through the Go heap
		if err != nil {
			return err
		}
		defer b.Close() // wipes, unlocks and unmaps
		fmt.Println(b, "in locked memory")
		return nil
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output: secret.Buffer(15 bytes) in locked memory
}
