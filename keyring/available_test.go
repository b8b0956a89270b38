//go:build linux

package keyring_test

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kernkeys/kernkeys/internal/keytest"
	"github.com/kernkeys/kernkeys/keyring"
	"golang.org/x/sys/unix"
)

// Here the key service is reachable, and the kernel's own EPERM (no
// authority to instantiate) is a permission error, not ErrUnavailable.
func TestAvailable(t *testing.T) {
	s := keytest.Session(t)
	check(t, keyring.Available())
	k := must(s.Add("user", "not-under-construction", []byte("x")))(t)
	err := k.Instantiate([]byte("y"), keyring.Keyring{})
	wantErr(t, err, keyring.ErrPermission, syscall.EPERM)
	if errors.Is(err, keyring.ErrUnavailable) {
		t.Errorf("the kernel's EPERM %q matches ErrUnavailable", err)
	}
}

// A seccomp filter in a child process refuses the key system calls as
// Docker's default profile does (EPERM) and as LXC's does (ENOSYS, which
// is also what a kernel without CONFIG_KEYS answers).
// Available says so, and so does every operation's error, which still
// matches its errno's sentinel.
func TestBlockedService(t *testing.T) {
	for _, c := range []struct {
		name   string
		errno  syscall.Errno
		errnos error // what the errno itself matches
	}{
		{"EPERM", syscall.EPERM, keyring.ErrPermission},
		{"ENOSYS", syscall.ENOSYS, keyring.ErrNotSupported},
	} {
		t.Run(c.name, func(t *testing.T) {
			if !keytest.IsChild(t) {
				keytest.Session(t)
				keytest.RunChild(t, keytest.ChildOptions{})
				return
			}
			keytest.Seccomp(t, keytest.BlockKeySyscalls(c.errno)...)
			err := keyring.Available()
			wantErr(t, err, keyring.ErrUnavailable, c.errno, c.errnos)
			var e *keyring.Error
			if !errors.As(err, &e) || e.Op != "add_key" || !strings.HasPrefix(e.Reason, "add_key, keyctl, request_key ") {
				t.Errorf("Available() = %#v, want add_key refused first and all three named", err)
			}
			_, err = keyring.Session().Add("user", "blocked", []byte("x"))
			wantErr(t, err, keyring.ErrUnavailable, c.errnos)
			_, err = keyring.Session().Describe()
			wantErr(t, err, keyring.ErrUnavailable, c.errnos)
			// An operation's error keeps its own Op and names its own
			// system call, the only one probed for it.
			if e := err.(*keyring.Error); e.Op != "describe" || !strings.HasPrefix(e.Reason, "keyctl ") {
				t.Errorf("describe's error %q: want Op describe and keyctl named", err)
			}
			_, err = keyring.Request("user", "blocked", keyring.RequestOptions{})
			wantErr(t, err, keyring.ErrUnavailable, c.errnos)
			_, err = keyring.KernelCapabilities()
			wantErr(t, err, keyring.ErrUnavailable, c.errnos)
		})
	}
}

// Only request_key is refused (profiles that allow some of the three
// exist): Available names it alone, add_key and keyctl work, and
// keyctl's own EPERM stays a plain permission error.
func TestBlockedRequestKey(t *testing.T) {
	if !keytest.IsChild(t) {
		keytest.Session(t) // its cleanup removes the child's key
		keytest.RunChild(t, keytest.ChildOptions{})
		return
	}
	keytest.Seccomp(t, keytest.SeccompRule{Syscall: unix.SYS_REQUEST_KEY, Errno: syscall.EPERM})
	err := keyring.Available()
	wantErr(t, err, keyring.ErrUnavailable, keyring.ErrPermission)
	if e := err.(*keyring.Error); e.Op != "request_key" || !strings.HasPrefix(e.Reason, "request_key refused") {
		t.Errorf("Available() = %q, want request_key alone", err)
	}
	_, err = keyring.Request("user", "blocked", keyring.RequestOptions{})
	wantErr(t, err, keyring.ErrUnavailable, keyring.ErrPermission)
	k := must(keyring.Session().Add("user", "reachable", []byte("x")))(t)
	err = k.Instantiate([]byte("y"), keyring.Keyring{})
	wantErr(t, err, keyring.ErrPermission)
	if errors.Is(err, keyring.ErrUnavailable) {
		t.Errorf("the kernel's EPERM %q matches ErrUnavailable", err)
	}
}

// keyctl's operation numbers (<linux/keyctl.h>) by the release that added
// them: a kernel of an older release answers EOPNOTSUPP for them.
var (
	since35  = []uint32{unix.KEYCTL_INVALIDATE}
	since313 = []uint32{unix.KEYCTL_GET_PERSISTENT}
	since47  = []uint32{unix.KEYCTL_DH_COMPUTE}
	since412 = []uint32{unix.KEYCTL_RESTRICT_KEYRING}
	since420 = []uint32{unix.KEYCTL_PKEY_QUERY, unix.KEYCTL_PKEY_ENCRYPT, unix.KEYCTL_PKEY_DECRYPT, unix.KEYCTL_PKEY_SIGN, unix.KEYCTL_PKEY_VERIFY}
	since53  = []uint32{unix.KEYCTL_MOVE, unix.KEYCTL_CAPABILITIES}
	since58  = []uint32{unix.KEYCTL_WATCH_KEY}
)

const capsEnv = "KERNKEYS_TEST_CAPS"

// KernelCapabilities on a kernel without KEYCTL_CAPABILITIES, emulated by
// a seccomp filter that answers EOPNOTSUPP, as an older kernel does, for
// the operations newer than the release. The probes must find what the
// running kernel reports, less what the filter took away and what came
// with 5.3 (Query, the namespace bits). The big_key type cannot be taken
// away by a filter: BigKey stays the running kernel's.
func TestCapabilitiesOlderKernel(t *testing.T) {
	for _, c := range []struct {
		release string
		missing [][]uint32
	}{
		{"5.2", [][]uint32{since53, since58}},
		{"4.19", [][]uint32{since420, since53, since58}},
		{"4.11", [][]uint32{since412, since420, since53, since58}},
		{"4.6", [][]uint32{since47, since412, since420, since53, since58}},
		{"3.12", [][]uint32{since313, since47, since412, since420, since53, since58}},
		{"3.4", [][]uint32{since35, since313, since47, since412, since420, since53, since58}},
	} {
		t.Run(c.release, func(t *testing.T) {
			if !keytest.IsChild(t) {
				keytest.Session(t)
				raw := capabilities(t).Raw
				keytest.RunChild(t, keytest.ChildOptions{Env: []string{capsEnv + "=" + hex.EncodeToString(raw)}})
				return
			}
			want := keyring.ParseCapabilities(must(hex.DecodeString(os.Getenv(capsEnv)))(t))
			want.Query, want.NamespacedNames, want.NamespacedTags, want.Raw = false, false, false, nil
			var missing []uint32
			for _, ops := range c.missing {
				missing = append(missing, ops...)
			}
			for op, has := range map[uint32]*bool{
				unix.KEYCTL_INVALIDATE:       &want.Invalidate,
				unix.KEYCTL_GET_PERSISTENT:   &want.PersistentKeyrings,
				unix.KEYCTL_DH_COMPUTE:       &want.DiffieHellman,
				unix.KEYCTL_RESTRICT_KEYRING: &want.RestrictKeyring,
				unix.KEYCTL_PKEY_QUERY:       &want.PublicKey,
				unix.KEYCTL_MOVE:             &want.Move,
				unix.KEYCTL_WATCH_KEY:        &want.Notifications,
			} {
				if slices.Contains(missing, op) {
					*has = false
				}
			}

			keytest.Seccomp(t, keytest.SeccompRule{Syscall: unix.SYS_KEYCTL, Ops: missing, Errno: syscall.EOPNOTSUPP})
			got := must(keyring.KernelCapabilities())(t)
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("probed capabilities (-want +got):\n%s", d)
			}
			// The filter leaves the other operations alone.
			if _, err := keyring.Session().Describe(); err != nil {
				t.Errorf("describe under the filter: %v", err)
			}
		})
	}
}

// On the running kernel, which has KEYCTL_CAPABILITIES, the probes for
// kernels without it find what the kernel reports: each feature's present
// answer or absent answer, whichever this kernel gives (the host lacks DH,
// big_key and notifications, the VM kernel has them).
func TestProbeCapabilities(t *testing.T) {
	keytest.Session(t)
	want := capabilities(t)
	want.Query, want.NamespacedNames, want.NamespacedTags, want.Raw = false, false, false, nil
	got := must(keyring.ProbeCapabilities())(t)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("probed capabilities (-KEYCTL_CAPABILITIES +probed):\n%s", d)
	}
}

// A probe answer that tells neither way is returned and not cached: once a
// newer filter turns it into a kernel's answer, the probes conclude.
func TestCapabilitiesInconclusive(t *testing.T) {
	if !keytest.IsChild(t) {
		keytest.Session(t)
		keytest.RunChild(t, keytest.ChildOptions{})
		return
	}
	keytest.Seccomp(t,
		keytest.SeccompRule{Syscall: unix.SYS_KEYCTL, Ops: since53, Errno: syscall.EOPNOTSUPP},
		keytest.SeccompRule{Syscall: unix.SYS_KEYCTL, Ops: since35, Errno: syscall.EIO})
	_, err := keyring.KernelCapabilities()
	wantErr(t, err, syscall.EIO)
	if errors.Is(err, keyring.ErrNotSupported) || errors.Is(err, keyring.ErrUnavailable) {
		t.Errorf("an inconclusive probe gave %q", err)
	}
	// Of two filters answering with an errno, the newer one's errno wins
	// (seccomp(2)).
	keytest.Seccomp(t, keytest.SeccompRule{Syscall: unix.SYS_KEYCTL, Ops: since35, Errno: syscall.EOPNOTSUPP})
	got := must(keyring.KernelCapabilities())(t)
	if got.Query || got.Invalidate || got.Move || got.Raw != nil {
		t.Errorf("KernelCapabilities = %+v under a 3.4 emulation", got)
	}
	check(t, keyring.Available())
}

// A program that can keep its secrets elsewhere asks first whether the key
// service is reachable: in a container whose seccomp profile refuses the
// key system calls it is not, and every operation would fail.
func ExampleAvailable() {
	if err := keyring.Available(); errors.Is(err, keyring.ErrUnavailable) {
		fmt.Println("no kernel key service here:", err)
		return
	}
	fmt.Println("the kernel's key service is reachable")
	// Output: the kernel's key service is reachable
}
