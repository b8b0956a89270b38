//go:build linux

package mktme

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/kernkeys/kernkeys/internal/keytest"
	"github.com/kernkeys/kernkeys/keyring"
)

// These tests decide what to expect by asking the running kernel and the
// calling thread, never by skipping: a kernel with the "mktme" type is
// tested for real, a kernel without it (every mainline kernel) for the
// ErrNotSupported answer; a thread with CAP_SYS_RESOURCE or CAP_SYS_ADMIN
// reaches the kernel, a thread without them gets the capability error
// before any system call. CI runs them as root and as an ordinary user.

// kernelHasMKTME asks the kernel directly, through the keyring package,
// whether it has the type: add_key("mktme") with an empty payload, which
// no RFC version accepts, answers ENODEV only when the type is missing.
func kernelHasMKTME(t *testing.T) bool {
	t.Helper()
	err := keyring.InNewSession(func(s keyring.Keyring) error {
		_, err := s.Add(TypeName, "kernkeys-test:probe", nil)
		return err
	})
	switch {
	case errors.Is(err, syscall.ENODEV):
		return false
	case err == nil, errors.Is(err, keyring.ErrInvalid), errors.Is(err, keyring.ErrPermission):
		return true
	}
	t.Fatalf(`probing add_key("mktme"): %v`, err)
	return false
}

// threadHasCapability is HasCapability computed another way: capget(2) for
// the calling thread, which must be locked, and the user namespace's
// uid_map.
func threadHasCapability(t *testing.T) bool {
	t.Helper()
	hdr := struct {
		version uint32
		pid     int32
	}{0x20080522, 0} // _LINUX_CAPABILITY_VERSION_3, the calling thread
	var data [2]struct{ effective, permitted, inheritable uint32 }
	if _, _, e := syscall.RawSyscall(syscall.SYS_CAPGET, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&data[0])), 0); e != 0 {
		t.Fatalf("capget: %v", e)
	}
	eff := uint64(data[1].effective)<<32 | uint64(data[0].effective)
	if eff&(1<<24|1<<21) == 0 {
		return false
	}
	m, err := os.ReadFile("/proc/self/uid_map")
	return err != nil || initialUserNS(m)
}

func wantNeverMerged(t *testing.T, what string, err error) {
	t.Helper()
	var ke *keyring.Error
	switch {
	case !errors.Is(err, keyring.ErrNotSupported) || !errors.Is(err, syscall.ENODEV):
		t.Errorf("%s: %v; want keyring.ErrNotSupported (ENODEV)", what, err)
	case !strings.Contains(err.Error(), "never merged into mainline Linux") || !strings.Contains(err.Error(), `"mktme"`):
		t.Errorf("%s: %q does not say that the mktme type was never merged", what, err)
	case !errors.As(err, &ke) || ke.Op != "add_key":
		t.Errorf("%s: %v is not a *keyring.Error of add_key", what, err)
	}
}

func wantCapabilityError(t *testing.T, what string, err error) {
	t.Helper()
	var ke *keyring.Error
	switch {
	case !errors.Is(err, keyring.ErrPermission) || !errors.Is(err, os.ErrPermission) || !errors.Is(err, syscall.EACCES):
		t.Errorf("%s: %v; want keyring.ErrPermission (EACCES)", what, err)
	case !strings.Contains(err.Error(), "CAP_SYS_RESOURCE or CAP_SYS_ADMIN") || !strings.Contains(err.Error(), "before the system call"):
		t.Errorf("%s: %q does not name the capabilities or say it was checked first", what, err)
	case !errors.As(err, &ke) || ke.Op != "add_key":
		t.Errorf("%s: %v is not a *keyring.Error of add_key", what, err)
	}
}

// kernelOptions are the payloads tried against the kernel: every key type
// of both grammars.
func kernelOptions() []Options {
	var o []Options
	for _, p := range kernelPayloads() {
		o = append(o, Options{Payload: p})
	}
	return o
}

// kernelPayloads are the payloads of kernelOptions.
func kernelPayloads() []Payload {
	k, tw := make([]byte, KeySize), make([]byte, KeySize)
	for i := range k {
		k[i], tw[i] = byte(i), byte(0x80+i)
	}
	return []Payload{
		V2{Type: UserSupplied, Key: k, Tweak: tw},
		V2{Type: CPU},
		V2{Type: CPU, Key: k, Tweak: tw},
		V2{Type: Clear},
		V2{Type: NoEncrypt},
		V1{UserKey: k[:KeySizeV1], Tweak: tw[:KeySizeV1]},
		V1{Entropy: k[:KeySizeV1]},
	}
}

func TestHasCapability(t *testing.T) {
	keytest.Session(t) // locks the thread: capget and /proc/thread-self see the same one
	got, err := HasCapability()
	if err != nil {
		t.Fatal(err)
	}
	if want := threadHasCapability(t); got != want {
		t.Errorf("HasCapability() = %v; capget and uid_map say %v", got, want)
	}
}

// Probe agrees with the kernel's own answer and needs no capability.
func TestProbe(t *testing.T) {
	err := Probe()
	if kernelHasMKTME(t) {
		if err != nil {
			t.Errorf("Probe() = %v on a kernel with the mktme type", err)
		}
		return
	}
	wantNeverMerged(t, "Probe", err)
	var ke *keyring.Error
	if errors.As(err, &ke) && ke.ID != 0 {
		t.Errorf("Probe names the ID of its private session: %v", err)
	}
}

// New with every kind of key: the capability error before any call, the
// never-merged ErrNotSupported, or, on a kernel with the type, real keys
// that refuse the forbidden operations and go away when revoked.
func TestNew(t *testing.T) {
	s := keytest.Session(t)
	has, capable := kernelHasMKTME(t), threadHasCapability(t)
	t.Logf("kernel has the mktme type: %v; thread has CAP_SYS_RESOURCE or CAP_SYS_ADMIN: %v", has, capable)
	for i, o := range kernelOptions() {
		what := fmt.Sprintf("New(%v)", o)
		desc := fmt.Sprintf("kernkeys-test:%d", i)
		k, err := New(s, desc, o)
		switch {
		case !capable:
			wantCapabilityError(t, what, err)
		case !has:
			wantNeverMerged(t, what, err)
			if k != (keyring.Key{}) {
				t.Errorf("%s returned a key with the error", what)
			}
		case errors.Is(err, ErrPoolExhausted):
			t.Logf("%s: the platform has no free KeyID: %v", what, err)
		case err != nil:
			t.Errorf("%s on a kernel with the mktme type: %v", what, err)
		default:
			testRealKey(t, s, k, desc)
		}
	}
}

// testRealKey checks a key the kernel made: its description, the refused
// operations (the key is untouched), and its retirement by Revoke.
func testRealKey(t *testing.T, s keyring.Keyring, k keyring.Key, desc string) {
	t.Helper()
	d, err := k.Describe()
	if err != nil || d.Type != TypeName || d.Description != desc {
		t.Errorf("Describe() = %+v, %v", d, err)
	}
	for op, err := range map[string]error{
		"Update":     Update(k, Options{Payload: V2{Type: Clear}}),
		"SetTimeout": SetTimeout(k, time.Second),
		"Invalidate": Invalidate(k),
		"Unlink":     Unlink(k, s),
	} {
		if !errors.Is(err, ErrForbidden) {
			t.Errorf("%s: %v, want ErrForbidden", op, err)
		}
	}
	if links, err := s.Links(); err != nil || !containsKey(links, k) {
		t.Errorf("after the refused operations the session links %v (%v); want %v in it", links, err, k)
	}
	if err := k.Revoke(); err != nil {
		t.Errorf("Revoke: %v", err)
	}
	if err := s.Unlink(k); err != nil {
		t.Errorf("unlinking the revoked key: %v", err)
	}
}

func containsKey(l []keyring.Key, k keyring.Key) bool {
	for _, x := range l {
		if x == k {
			return true
		}
	}
	return false
}

// The order of New's checks: options first, then the capability, then the
// call. A keyring that no longer exists shows which one answered: a call
// would fail with ENOKEY, since add_key looks the keyring up before the
// key type.
func TestNewCheckOrder(t *testing.T) {
	s := keytest.Session(t)
	gone, err := s.AddKeyring("kernkeys-test:gone")
	if err != nil {
		t.Fatal(err)
	}
	if err := gone.Invalidate(); err != nil {
		t.Fatal(err)
	}
	keytest.WaitGone(t, gone.Key)

	_, err = New(gone, "x", Options{Payload: V2{Type: Clear, Key: make([]byte, KeySize)}})
	if e := (*keyring.Error)(nil); !errors.As(err, &e) || e.Field != "key" || !e.Refused || e.Op != "mktme.New" || !errors.Is(err, keyring.ErrInvalid) {
		t.Errorf("invalid options: %v, want the refusal of key by mktme.New", err)
	}
	for _, o := range []Options{{}, {Payload: V2{Type: CPU}}, {Payload: V1{Entropy: make([]byte, KeySizeV1)}}} {
		_, err = New(gone, "x", o)
		if !threadHasCapability(t) {
			wantCapabilityError(t, fmt.Sprintf("New(%v) without the capability", o), err)
			continue
		}
		// The kernel's ENOKEY for the missing keyring is not pool
		// exhaustion, although RFC v2 answers ENOKEY for both.
		if !errors.Is(err, keyring.ErrNotFound) || errors.Is(err, ErrPoolExhausted) {
			t.Errorf("New(%v) to a keyring that is gone: %v; want keyring.ErrNotFound from the call", o, err)
		}
	}
}

// The forbidden operations make no system call: wrapped around a real
// user key, they leave it as it was.
func TestForbiddenOpsMakeNoCall(t *testing.T) {
	s := keytest.Session(t)
	uk, err := s.Add("user", "kernkeys-test:plain", []byte("payload"))
	if err != nil {
		t.Fatal(err)
	}
	for op, err := range map[string]error{
		"Update":     Update(uk, Options{}),
		"SetTimeout": SetTimeout(uk, time.Nanosecond),
		"Invalidate": Invalidate(uk),
		"Unlink":     Unlink(uk, s),
	} {
		if !errors.Is(err, ErrForbidden) {
			t.Errorf("%s: %v, want ErrForbidden", op, err)
		}
	}
	got, err := uk.Read()
	if err != nil || string(got) != "payload" {
		t.Errorf("the key after the refused operations: %q, %v", got, err)
	}
	all, err := keyring.ProcKeys()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range all {
		if p.ID == uk.ID() && (p.Timeout != "perm" || p.Flags[6] == 'i') {
			t.Errorf("/proc/keys shows the key with timeout %q and flags %q; want perm, not invalidated", p.Timeout, p.Flags)
		}
	}
	if links, err := s.Links(); err != nil || !containsKey(links, uk) {
		t.Errorf("the session links %v (%v); the key was unlinked", links, err)
	}
}

// As an ordinary user in a new user namespace, without capabilities: New
// refuses before the call, and Probe still answers.
func TestNewUnprivileged(t *testing.T) {
	if keytest.IsChild(t) {
		s := keytest.Session(t)
		if ok, err := HasCapability(); ok || err != nil {
			t.Errorf("HasCapability() in the child = %v, %v; want false", ok, err)
		}
		for _, o := range kernelOptions() {
			_, err := New(s, "kernkeys-test:child", o)
			wantCapabilityError(t, fmt.Sprintf("New(%v)", o), err)
		}
		if os.Getenv("KERNKEYS_TEST_MKTME") == "0" {
			wantNeverMerged(t, "Probe in the child", Probe())
		} else if err := Probe(); err != nil {
			t.Errorf("Probe in the child: %v", err)
		}
		return
	}
	keytest.Session(t)
	env := "KERNKEYS_TEST_MKTME=0"
	if kernelHasMKTME(t) {
		env = "KERNKEYS_TEST_MKTME=1"
	}
	keytest.RunChild(t, keytest.ChildOptions{UserNS: true, Env: []string{env}})
}
