package mktme

import (
	"errors"
	"io/fs"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kernkeys/kernkeys/keyring"
)

// sentinels are the targets every documented errors.Is relation is
// checked against: each error must match exactly its listed ones.
var sentinels = map[string]error{
	"keyring.ErrInvalid":      keyring.ErrInvalid,
	"ErrForbidden":            ErrForbidden,
	"ErrPoolExhausted":        ErrPoolExhausted,
	"keyring.ErrNotFound":     keyring.ErrNotFound,
	"keyring.ErrPermission":   keyring.ErrPermission,
	"keyring.ErrQuota":        keyring.ErrQuota,
	"keyring.ErrNotSupported": keyring.ErrNotSupported,
	"os.ErrPermission":        os.ErrPermission,
	"fs.ErrNotExist":          fs.ErrNotExist,
	"syscall.EPERM":           syscall.EPERM,
	"syscall.EACCES":          syscall.EACCES,
	"syscall.EOPNOTSUPP":      syscall.EOPNOTSUPP,
	"syscall.ENODEV":          syscall.ENODEV,
	"syscall.EDQUOT":          syscall.EDQUOT,
	"syscall.EBUSY":           syscall.EBUSY,
	"syscall.ENOKEY":          enokey,
}

func checkIs(t *testing.T, what string, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error", what)
		return
	}
	if !errors.As(err, new(*keyring.Error)) {
		t.Errorf("%s: %v (%T) is not a *keyring.Error", what, err, err)
	}
	set := map[string]bool{}
	for _, w := range want {
		set[w] = true
	}
	for name, target := range sentinels {
		if got := errors.Is(err, target); got != set[name] {
			t.Errorf("%s: errors.Is(%v, %s) = %v, want %v", what, err, name, got, set[name])
		}
	}
}

func kernelErr(op string, errno syscall.Errno) *keyring.Error {
	return &keyring.Error{Op: op, ID: 42, Errno: errno}
}

// The documented errors.Is relations of every error the package makes,
// all of them *keyring.Error.
func TestErrorsMktme(t *testing.T) {
	_, perr := Parse([]byte("type=bogus"))
	checkIs(t, "Parse", perr, "keyring.ErrInvalid")
	_, perr = ParseV1([]byte("entropy=00"))
	checkIs(t, "ParseV1", perr, "keyring.ErrInvalid")
	_, merr := V1{}.MarshalText()
	checkIs(t, "MarshalText", merr, "keyring.ErrInvalid")
	checkIs(t, "V2.Validate", V2{}.Validate(), "keyring.ErrInvalid")
	checkIs(t, "Options.Validate", Options{Payload: V1{Tweak: []byte{1}}}.Validate(), "keyring.ErrInvalid")
	_, aerr := V2{}.AppendText(nil)
	checkIs(t, "AppendText", aerr, "keyring.ErrInvalid")
	if ke := (*keyring.Error)(nil); !errors.As(perr, &ke) || !ke.Refused || ke.Op != "mktme.ParseV1" || ke.Field != "entropy" {
		t.Errorf("ParseV1: %#v, want refused by mktme.ParseV1 on entropy", perr)
	}

	k := keyring.ID(42).Key()
	checkIs(t, "Update", Update(k, Options{Payload: V2{Type: Clear}}), "ErrForbidden", "keyring.ErrNotSupported", "syscall.EOPNOTSUPP")
	checkIs(t, "SetTimeout", SetTimeout(k, time.Hour), "ErrForbidden", "keyring.ErrPermission", "os.ErrPermission", "syscall.EPERM")
	checkIs(t, "Invalidate", Invalidate(k), "ErrForbidden", "keyring.ErrPermission", "os.ErrPermission", "syscall.EPERM")
	checkIs(t, "Unlink", Unlink(k, keyring.Session()), "ErrForbidden", "keyring.ErrPermission", "os.ErrPermission", "syscall.EPERM")
	for op, err := range map[string]error{"update": Update(k, Options{}), "set_timeout": SetTimeout(k, 0), "invalidate": Invalidate(k), "unlink": Unlink(k, keyring.Keyring{})} {
		var ke *keyring.Error
		if !errors.As(err, &ke) || ke.Op != op || ke.ID != 42 || !ke.Refused || ke.Err != ErrForbidden || !strings.Contains(err.Error(), "before any system call") {
			t.Errorf("%s: %v; want a *keyring.Error for op %s on key 42 that says no call was made", op, err, op)
		}
	}

	exists := func() bool { return true }
	missing := func() bool { return false }
	nm := mapAddError(2, kernelErr("add_key", syscall.ENODEV), exists)
	checkIs(t, "ENODEV", nm, "keyring.ErrNotSupported", "syscall.ENODEV")
	if !strings.Contains(nm.Error(), "never merged into mainline") || !strings.Contains(nm.Error(), `"mktme"`) {
		t.Errorf("ENODEV: %q does not say the type was never merged", nm)
	}
	checkIs(t, "v1 EDQUOT", mapAddError(1, kernelErr("add_key", syscall.EDQUOT), exists), "ErrPoolExhausted", "keyring.ErrQuota", "syscall.EDQUOT")
	checkIs(t, "v2 EDQUOT (the key quota)", mapAddError(2, kernelErr("add_key", syscall.EDQUOT), exists), "keyring.ErrQuota", "syscall.EDQUOT")
	checkIs(t, "v2 ENOKEY", mapAddError(2, kernelErr("add_key", enokey), exists), "ErrPoolExhausted", "keyring.ErrNotFound", "syscall.ENOKEY")
	checkIs(t, "v2 ENOKEY, no keyring", mapAddError(2, kernelErr("add_key", enokey), missing), "keyring.ErrNotFound", "syscall.ENOKEY")
	checkIs(t, "v1 ENOKEY", mapAddError(1, kernelErr("add_key", enokey), exists), "keyring.ErrNotFound", "syscall.ENOKEY")
	acc := mapAddError(2, kernelErr("add_key", syscall.EACCES), exists)
	checkIs(t, "EACCES", acc, "keyring.ErrPermission", "os.ErrPermission", "syscall.EACCES")
	if !strings.Contains(acc.Error(), "CAP_SYS_RESOURCE or CAP_SYS_ADMIN") {
		t.Errorf("EACCES: %q does not name the capabilities", acc)
	}
	busy := mapAddError(2, kernelErr("add_key", syscall.EBUSY), exists)
	checkIs(t, "EBUSY", busy, "syscall.EBUSY")
	if !strings.Contains(busy.Error(), "already links an MKTME key") {
		t.Errorf("EBUSY: %q does not explain the update", busy)
	}
	other := errors.New("something else")
	if got := mapAddError(2, other, exists); got != other {
		t.Errorf("a foreign error came back as %v", got)
	}
	var ke *keyring.Error
	if err := mapAddError(2, kernelErr("add_key", enokey), exists); !errors.As(err, &ke) || ke.Op != "add_key" || ke.ID != 42 || ke.Err != ErrPoolExhausted {
		t.Errorf("pool exhaustion hides the *keyring.Error: %v", err)
	}
	if err := mapAddError(2, kernelErr("add_key", syscall.EPERM), exists); err.Error() != kernelErr("add_key", syscall.EPERM).Error() {
		t.Errorf("EPERM was rewritten: %v", err)
	}

	_, err := New(keyring.Session(), "x", Options{Payload: V2{}})
	checkIs(t, "New(the zero V2)", err, "keyring.ErrInvalid")
	_, err = New(keyring.Session(), "x", Options{Payload: V2{Type: Clear, Key: make([]byte, KeySize)}})
	checkIs(t, "New(invalid options)", err, "keyring.ErrInvalid")
	if e := (*keyring.Error)(nil); !errors.As(err, &e) || e.Op != "mktme.New" || !e.Refused || e.Field != "key" {
		t.Errorf("New(invalid options): %v, want a refusal of mktme.New", err)
	}
}

func TestCapabilityParsing(t *testing.T) {
	status := "Name:\tx\nCapInh:\t0000000000000000\nCapPrm:\t000001fffeffffff\nCapEff:\t%s\nCapBnd:\t000001ffffffffff\n"
	for _, c := range []struct {
		eff  string
		mask uint64
		ok   bool
		has  bool
	}{
		{"000001fffeffffff", 0x000001fffeffffff, true, true}, // CAP_SYS_ADMIN without CAP_SYS_RESOURCE
		{"0000000001000000", 1 << 24, true, true},            // CAP_SYS_RESOURCE only
		{"0000000000200000", 1 << 21, true, true},            // CAP_SYS_ADMIN only
		{"0000000000000000", 0, true, false},
		{"000001fffedfffff", 0x000001fffedfffff, true, false}, // everything but the two
		{"zz", 0, false, false},
	} {
		mask, ok := capEff([]byte(strings.Replace(status, "%s", c.eff, 1)))
		if mask != c.mask || ok != c.ok || hasMKTMECapability(mask) != c.has {
			t.Errorf("CapEff %s: %#x, %v, has %v", c.eff, mask, ok, hasMKTMECapability(mask))
		}
	}
	if _, ok := capEff([]byte("Name:\tx\n")); ok {
		t.Error("a status without CapEff parsed")
	}
	for m, want := range map[string]bool{
		"         0          0 4294967295\n": true,
		"0 0 4294967295":                     true,
		"      1000       1000          1\n": false,
		"         0     100000      65536\n": false,
		"0 0 4294967295\n1 1 1\n":            false,
		"":                                   false,
	} {
		if got := initialUserNS([]byte(m)); got != want {
			t.Errorf("initialUserNS(%q) = %v", m, got)
		}
	}
}
