package keytypes_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/kernkeys/kernkeys/keyring"
	"github.com/kernkeys/kernkeys/keytypes"
)

func TestRules(t *testing.T) {
	cert := []byte{0x30, 0x03, 0x02, 0x01, 0x01} // SEQUENCE { INTEGER 1 }
	long := strings.Repeat("d", 4096)
	for _, c := range []struct {
		name  string
		build func() (keytypes.Spec, error)
		ok    bool
	}{
		{"user", func() (keytypes.Spec, error) { return keytypes.User("d", []byte("x")) }, true},
		{"user 32767 bytes", func() (keytypes.Spec, error) { return keytypes.User("d", make([]byte, 32767)) }, true},
		{"user 32768 bytes", func() (keytypes.Spec, error) { return keytypes.User("d", make([]byte, 32768)) }, false},
		{"user empty payload", func() (keytypes.Spec, error) { return keytypes.User("d", nil) }, false},
		{"user empty description", func() (keytypes.Spec, error) { return keytypes.User("", []byte("x")) }, false},
		{"user description of 4095", func() (keytypes.Spec, error) { return keytypes.User(long[:4095], []byte("x")) }, true},
		{"user description of 4096", func() (keytypes.Spec, error) { return keytypes.User(long, []byte("x")) }, false},
		{"user NUL in description", func() (keytypes.Spec, error) { return keytypes.User("a\x00b", []byte("x")) }, false},
		{"user ; and . in description", func() (keytypes.Spec, error) { return keytypes.User(".a;b", []byte("x")) }, true},
		{"logon svc:name", func() (keytypes.Spec, error) { return keytypes.Logon("svc:name", []byte("x")) }, true},
		{"logon a:", func() (keytypes.Spec, error) { return keytypes.Logon("a:", []byte("x")) }, true},
		{"logon no colon", func() (keytypes.Spec, error) { return keytypes.Logon("nocolon", []byte("x")) }, false},
		{"logon leading colon", func() (keytypes.Spec, error) { return keytypes.Logon(":x", []byte("x")) }, false},
		{"logon empty payload", func() (keytypes.Spec, error) { return keytypes.Logon("a:b", nil) }, false},
		{"logon 32768 bytes", func() (keytypes.Spec, error) { return keytypes.Logon("a:b", make([]byte, 32768)) }, false},
		{"big_key 1 MiB - 1", func() (keytypes.Spec, error) { return keytypes.BigKey("d", make([]byte, 1<<20-1)) }, true},
		{"big_key 1 MiB", func() (keytypes.Spec, error) { return keytypes.BigKey("d", make([]byte, 1<<20)) }, false},
		{"big_key empty", func() (keytypes.Spec, error) { return keytypes.BigKey("d", nil) }, false},
		{"big_key no description", func() (keytypes.Spec, error) { return keytypes.BigKey("", []byte("x")) }, false},
		{"asymmetric", func() (keytypes.Spec, error) { return keytypes.Asymmetric("", cert) }, true},
		{"asymmetric named", func() (keytypes.Spec, error) { return keytypes.Asymmetric("mine", cert) }, true},
		{"asymmetric empty", func() (keytypes.Spec, error) { return keytypes.Asymmetric("", nil) }, false},
		{"asymmetric not DER", func() (keytypes.Spec, error) { return keytypes.Asymmetric("", []byte("-----BEGIN")) }, false},
		{"asymmetric trailing bytes", func() (keytypes.Spec, error) { return keytypes.Asymmetric("", append(cert, 0)) }, false},
		{"asymmetric not a SEQUENCE", func() (keytypes.Spec, error) { return keytypes.Asymmetric("", []byte{0x02, 0x01, 0x01}) }, false},
		{"asymmetric NUL in description", func() (keytypes.Spec, error) { return keytypes.Asymmetric("a\x00", cert) }, false},
		{"keyring", func() (keytypes.Spec, error) { return keytypes.Keyring("ring") }, true},
		{"keyring dot", func() (keytypes.Spec, error) { return keytypes.Keyring(".ring") }, false},
		{"keyring empty", func() (keytypes.Spec, error) { return keytypes.Keyring("") }, false},
	} {
		s, err := c.build()
		if c.ok != (err == nil) {
			t.Errorf("%s: error %v, want ok=%v", c.name, err, c.ok)
			continue
		}
		if err != nil {
			var ke *keyring.Error
			if !errors.Is(err, keyring.ErrInvalid) || !errors.As(err, &ke) || ke.Reason == "" || !ke.Refused {
				t.Errorf("%s: %v is not ErrInvalid, refused, with a reason", c.name, err)
			}
			if s.Type != "" {
				t.Errorf("%s: a refused build returned %+v", c.name, s.Type)
			}
		}
	}
}
