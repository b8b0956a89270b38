package keyctl_test

import (
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/kernkeys/kernkeys/internal/keyctl"
	"github.com/kernkeys/kernkeys/internal/keytest"
	"golang.org/x/sys/unix"
)

func cstr(s string) *byte {
	p, err := unix.BytePtrFromString(s)
	if err != nil {
		panic(err)
	}
	return p
}

// What the kernel itself answers for every input the keyring package
// refuses before the system call with ErrInvalid: the package's rules
// mirror these. Measured on 6.18.
func TestKernelRefusals(t *testing.T) {
	s := keytest.Session(t)
	runtime.LockOSThread()
	ring := int32(s.ID())
	user, x := cstr("user"), []byte("x")
	for _, c := range []struct {
		name string
		call func() syscall.Errno
		want syscall.Errno
	}{
		{"type starting with .", func() syscall.Errno { _, e := keyctl.AddKey(cstr(".user"), cstr("d"), x, ring); return e }, unix.EPERM},
		{"keyring name starting with .", func() syscall.Errno { _, e := keyctl.AddKey(cstr("keyring"), cstr(".r"), nil, ring); return e }, unix.EPERM},
		{"session name starting with .", func() syscall.Errno { _, e := keyctl.JoinSessionKeyring(cstr(".s")); return e }, unix.EPERM},
		{"type of 32 bytes", func() syscall.Errno {
			_, e := keyctl.AddKey(cstr(strings.Repeat("t", 32)), cstr("d"), x, ring)
			return e
		}, unix.EINVAL},
		{"description of 4096 bytes", func() syscall.Errno {
			_, e := keyctl.AddKey(user, cstr(strings.Repeat("d", 4096)), x, ring)
			return e
		}, unix.EINVAL},
		{"empty description", func() syscall.Errno { _, e := keyctl.AddKey(user, cstr(""), x, ring); return e }, unix.EINVAL},
		{"empty user payload", func() syscall.Errno { _, e := keyctl.AddKey(user, cstr("d"), nil, ring); return e }, unix.EINVAL},
		{"user payload of 32768", func() syscall.Errno { _, e := keyctl.AddKey(user, cstr("d"), make([]byte, 32768), ring); return e }, unix.EINVAL},
		{"payload of 1 MiB", func() syscall.Errno {
			_, e := keyctl.AddKey(cstr("big_key"), cstr("d"), make([]byte, 1<<20), ring)
			return e
		}, unix.EINVAL},
		{"keyring with payload", func() syscall.Errno { _, e := keyctl.AddKey(cstr("keyring"), cstr("r"), x, ring); return e }, unix.EINVAL},
		{"destination 0", func() syscall.Errno { _, e := keyctl.AddKey(user, cstr("d"), x, 0); return e }, unix.EINVAL},
		{"special ID -9", func() syscall.Errno { _, e := keyctl.Describe(-9, nil); return e }, unix.EINVAL},
		{"undefined perm bits", func() syscall.Errno { return keyctl.SetPerm(ring, 0xc0000000) }, unix.EINVAL},
		{"empty search type", func() syscall.Errno { _, e := keyctl.Search(ring, cstr(""), cstr("d"), 0); return e }, unix.EINVAL},
		{"update over a page", func() syscall.Errno { return keyctl.Update(ring, make([]byte, 4097)) }, unix.EINVAL},
		{"move with unknown flags", func() syscall.Errno { return keyctl.Move(ring, ring, ring, 2) }, unix.EINVAL},
		{"unknown keyctl command", func() syscall.Errno {
			_, _, e := unix.Syscall(unix.SYS_KEYCTL, 33, 0, 0)
			return e
		}, unix.EOPNOTSUPP},
		// keyring.Available's probes: answers no permission check precedes.
		{"UnknownOp", keyctl.UnknownOp, unix.EOPNOTSUPP},
		{"add_key of an empty type", func() syscall.Errno { _, e := keyctl.AddKey(cstr(""), cstr(""), nil, 0); return e }, unix.EINVAL},
		{"request_key of an empty type", func() syscall.Errno { _, e := keyctl.RequestKey(cstr(""), cstr(""), nil, 0); return e }, unix.EINVAL},
	} {
		if got := c.call(); got != c.want {
			t.Errorf("%s: kernel says %v, want %v", c.name, got, c.want)
		}
	}
}

// x/sys/unix passes the CAPABILITIES buffer in the wrong argument; this
// layer gets the kernel's two bytes.
func TestCapabilitiesRaw(t *testing.T) {
	buf := make([]byte, 4)
	n, e := keyctl.Capabilities(buf)
	if e != 0 || n != 2 || buf[0]&0x01 == 0 {
		t.Errorf("Capabilities = %d, %v, % x", n, e, buf)
	}
}

// A request_key miss with a NULL callout triggers no upcall.
func TestRequestKeyNullCallout(t *testing.T) {
	keytest.Session(t)
	_, e := keyctl.RequestKey(cstr("user"), cstr("kernkeys-no-such-key"), nil, 0)
	if e != unix.ENOKEY {
		t.Errorf("request_key with NULL callout: %v, want ENOKEY", e)
	}
}
