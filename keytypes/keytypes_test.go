package keytypes_test

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"

	"github.com/kernkeys/kernkeys/keyring"
	"github.com/kernkeys/kernkeys/keytypes"
)

func TestRules(t *testing.T) {
	cert := []byte{0x30, 0x03, 0x02, 0x01, 0x01} // SEQUENCE { INTEGER 1 }
	long := strings.Repeat("d", 4096)
	x := []byte("x")
	user := func(p []byte) keytypes.Options { return keytypes.Options{Type: keytypes.TypeUser, Payload: p} }
	logon := func(p []byte) keytypes.Options { return keytypes.Options{Type: keytypes.TypeLogon, Payload: p} }
	big := func(p []byte) keytypes.Options { return keytypes.Options{Type: keytypes.TypeBigKey, Payload: p} }
	asym := func(p []byte) keytypes.Options { return keytypes.Options{Type: keytypes.TypeAsymmetric, Payload: p} }
	ring := keytypes.Options{Type: keytypes.TypeKeyring}
	for _, c := range []struct {
		name  string
		desc  string
		o     keytypes.Options
		ok    bool
		field string // of a refusal
	}{
		{"user", "d", user(x), true, ""},
		{"zero Type is user", "d", keytypes.Options{Payload: x}, true, ""},
		{"user 32767 bytes", "d", user(make([]byte, 32767)), true, ""},
		{"user 32768 bytes", "d", user(make([]byte, 32768)), false, "Options.Payload"},
		{"user empty payload", "d", user(nil), false, "Options.Payload"},
		{"zero Options", "d", keytypes.Options{}, false, "Options.Payload"},
		{"user empty description", "", user(x), false, "desc"},
		{"user description of 4095", long[:4095], user(x), true, ""},
		{"user description of 4096", long, user(x), false, "desc"},
		{"user NUL in description", "a\x00b", user(x), false, "desc"},
		{"user ; and . in description", ".a;b", user(x), true, ""},
		{"logon svc:name", "svc:name", logon(x), true, ""},
		{"logon a:", "a:", logon(x), true, ""},
		{"logon no colon", "nocolon", logon(x), false, "desc"},
		{"logon leading colon", ":x", logon(x), false, "desc"},
		{"logon empty payload", "a:b", logon(nil), false, "Options.Payload"},
		{"logon 32768 bytes", "a:b", logon(make([]byte, 32768)), false, "Options.Payload"},
		{"big_key 1 MiB - 1", "d", big(make([]byte, 1<<20-1)), true, ""},
		{"big_key 1 MiB", "d", big(make([]byte, 1<<20)), false, "Options.Payload"},
		{"big_key empty", "d", big(nil), false, "Options.Payload"},
		{"big_key no description", "", big(x), false, "desc"},
		{"asymmetric", "", asym(cert), true, ""},
		{"asymmetric named", "mine", asym(cert), true, ""},
		{"asymmetric empty", "", asym(nil), false, "Options.Payload"},
		{"asymmetric not DER", "", asym([]byte("-----BEGIN")), false, "Options.Payload"},
		{"asymmetric trailing bytes", "", asym(append(cert, 0)), false, "Options.Payload"},
		{"asymmetric not a SEQUENCE", "", asym([]byte{0x02, 0x01, 0x01}), false, "Options.Payload"},
		{"asymmetric NUL in description", "a\x00", asym(cert), false, "desc"},
		{"keyring", "ring", ring, true, ""},
		{"keyring dot", ".ring", ring, false, "desc"},
		{"keyring empty", "", ring, false, "desc"},
		{"keyring with a payload", "ring", keytypes.Options{Type: keytypes.TypeKeyring, Payload: x}, false, "Options.Payload"},
		{"unknown type", "d", keytypes.Options{Type: 99, Payload: x}, false, "Options.Type"},
	} {
		err := c.o.Validate(c.desc)
		if c.ok != (err == nil) {
			t.Errorf("%s: error %v, want ok=%v", c.name, err, c.ok)
			continue
		}
		if err != nil {
			var ke *keyring.Error
			if !errors.Is(err, keyring.ErrInvalid) || !errors.As(err, &ke) || ke.Reason == "" || !ke.Refused {
				t.Errorf("%s: %v is not ErrInvalid, refused, with a reason", c.name, err)
			} else if ke.Field != c.field || ke.Op != "keytypes.Validate" {
				t.Errorf("%s: %v: Op %q, Field %q; want keytypes.Validate, %q", c.name, err, ke.Op, ke.Field, c.field)
			}
			// New refuses the same input before any system call (the
			// zero keyring would make the kernel answer otherwise).
			k, nerr := keytypes.New(keyring.Keyring{}, c.desc, c.o)
			if !errors.As(nerr, &ke) || !ke.Refused || ke.Op != "keytypes.New" || ke.Field != c.field || ke.Reason != err.(*keyring.Error).Reason {
				t.Errorf("%s: New: %v, want the refusal of Validate under keytypes.New", c.name, nerr)
			}
			if k != (keyring.Key{}) {
				t.Errorf("%s: a refused New returned %v", c.name, k)
			}
		}
	}
}

// The errors of New and Validate: all *keyring.Error, refused input
// matching keyring.ErrInvalid and EINVAL, nothing else.
func TestErrorsKeytypes(t *testing.T) {
	for name, err := range map[string]error{
		"Validate":     keytypes.Options{}.Validate("d"),
		"Validate nul": keytypes.Options{Payload: []byte("x")}.Validate("\x00"),
		"New":          func() error { _, err := keytypes.New(keyring.Keyring{}, "", keytypes.Options{}); return err }(),
	} {
		var ke *keyring.Error
		switch {
		case !errors.As(err, &ke):
			t.Errorf("%s: %v (%T) is not a *keyring.Error", name, err, err)
		case !errors.Is(err, keyring.ErrInvalid) || !errors.Is(err, syscall.EINVAL) || !ke.Refused || ke.Field == "":
			t.Errorf("%s: %v does not match ErrInvalid and EINVAL with Refused and a Field", name, err)
		}
		for _, other := range []error{keyring.ErrNotFound, keyring.ErrPermission, keyring.ErrQuota, keyring.ErrNotSupported} {
			if errors.Is(err, other) {
				t.Errorf("%s: %v matches %v", name, err, other)
			}
		}
	}
}

// Printing Options never shows the payload.
func TestOptionsFormat(t *testing.T) {
	o := keytypes.Options{Type: keytypes.TypeLogon, Payload: []byte("SECRETSECRET")}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
		if s := fmt.Sprintf(verb, o); strings.Contains(s, "SECRET") || strings.Contains(s, "534543524554") || strings.Contains(s, "83 69") {
			t.Errorf("%s prints the payload: %s", verb, s)
		}
	}
	if s := o.String(); s != "logon <12-byte payload>" {
		t.Errorf("String() = %q", s)
	}
	for ty, want := range map[keytypes.Type]string{keytypes.TypeUser: "user", keytypes.TypeLogon: "logon", keytypes.TypeBigKey: "big_key", keytypes.TypeAsymmetric: "asymmetric", keytypes.TypeKeyring: "keyring", 7: "Type(7)"} {
		if ty.String() != want {
			t.Errorf("Type %d is %q, want %q", ty, ty.String(), want)
		}
	}
}
