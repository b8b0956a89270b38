package keyring_test

import (
	"encoding/binary"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kernkeys/kernkeys/keyring"
)

func TestPermString(t *testing.T) {
	for _, c := range []struct {
		p    keyring.Perm
		want string
	}{
		{0x3f010000, "alswrv-----v------------"},
		{0x3f3f3f3f, "alswrvalswrvalswrvalswrv"},
		{0, "------------------------"},
		{0x3f130000, "alswrv-l--rv------------"},
		{0x01020408, "-----v----r----w----s---"},
		{keyring.PermAll.Possessor() | (keyring.PermView | keyring.PermRead).User() | keyring.PermSearch.Group() | keyring.PermLink.Other(),
			"alswrv----rv--s----l----"},
	} {
		if got := c.p.String(); got != c.want {
			t.Errorf("%#08x.String() = %q, want %q", uint32(c.p), got, c.want)
		}
		if back, err := keyring.ParsePerm(c.want); err != nil || back != c.p {
			t.Errorf("ParsePerm(%q) = %#x, %v; want %#x", c.want, uint32(back), err, uint32(c.p))
		}
	}
	if got := keyring.Perm(0x3f010000).Class(1); got != keyring.PermView {
		t.Errorf("Class(1) = %v", got)
	}
}

func TestParsePerm(t *testing.T) {
	for _, c := range []struct {
		in   string
		want keyring.Perm
		ok   bool
	}{
		{"0x3f010000", 0x3f010000, true},
		{"0X3F010000", 0x3f010000, true},
		{"07700000000", 0x3f000000, true}, // octal, as strtoul base 0
		{"1056964608", 0x3f000000, true},
		{"0", 0, true},
		{"0x40000000", 0, false}, // undefined bit
		{"0x1ffffffff", 0, false},
		{"", 0, false},
		{"-1", 0, false},
		{"0o17", 0, false},
		{"0O17", 0, false},
		{"0B1", 0, false},
		{"1_000", 0, false},
		{"alswrv-----v-----------", 0, false},   // 23 characters
		{"alswrv-----v-----------x", 0, false},  // bad letter
		{"vrwsla------------------", 0, false},  // letters out of place
		{"alswrv-----v------------ ", 0, false}, // 25 characters
	} {
		got, err := keyring.ParsePerm(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParsePerm(%q) = %#x, %v; want %#x, ok=%v", c.in, uint32(got), err, uint32(c.want), c.ok)
		}
	}
}

func TestParseDescription(t *testing.T) {
	for _, c := range []struct {
		in   string
		want keyring.Description
		ok   bool
	}{
		{"user;0;0;3f010000;pkq", keyring.Description{Type: "user", Perm: 0x3f010000, Description: "pkq"}, true},
		{"user;1000;100;3f010000;a;b;c\x00", keyring.Description{Type: "user", UID: 1000, GID: 100, Perm: 0x3f010000, Description: "a;b;c"}, true},
		{"keyring;-2;65534;3f130000;_ses", keyring.Description{Type: "keyring", UID: 1<<32 - 2, GID: 65534, Perm: 0x3f130000, Description: "_ses"}, true},
		{"user;0;0;3f010000;", keyring.Description{Type: "user", Perm: 0x3f010000}, true},
		{"user;0;0;3f010000", keyring.Description{}, false},
		{";0;0;3f010000;x", keyring.Description{}, false},
		{"user;x;0;3f010000;x", keyring.Description{}, false},
		{"user;0;0;3f01;x", keyring.Description{}, false},
		{"user;0;0;zzzzzzzz;x", keyring.Description{}, false},
		{"user;0;4294967296;3f010000;x", keyring.Description{}, false},
	} {
		got, err := keyring.ParseDescription(c.in)
		if (err == nil) != c.ok {
			t.Errorf("ParseDescription(%q): error %v, want ok=%v", c.in, err, c.ok)
			continue
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("ParseDescription(%q) (-want +got):\n%s", c.in, diff)
		}
		if c.ok && !strings.HasPrefix(c.in, "keyring;-2") && got.String() != strings.TrimSuffix(c.in, "\x00") {
			t.Errorf("String() = %q, want %q", got.String(), c.in)
		}
	}
}

func TestParseProcKey(t *testing.T) {
	for _, c := range []struct {
		in   string
		want keyring.ProcKey
		ok   bool
	}{
		{"37d551d5 I--Q---     1 perm 3f010000     0     0 encrypted ek32: 134",
			keyring.ProcKey{ID: 0x37d551d5, Flags: "I--Q---", Usage: 1, Timeout: "perm", Perm: 0x3f010000, Type: "encrypted", Summary: "ek32: 134"}, true},
		{"250e3bff I--Q---     1 perm 0c030000     0 65534 keyring   .user_reg: 2",
			keyring.ProcKey{ID: 0x250e3bff, Flags: "I--Q---", Usage: 1, Timeout: "perm", Perm: 0x0c030000, GID: 65534, Type: "keyring", Summary: ".user_reg: 2"}, true},
		{"0aaaaaaa I------    12   5m 3f010000  1000  1000 asymmetri kk:  with spaces: X509.rsa",
			keyring.ProcKey{ID: 0xaaaaaaa, Flags: "I------", Usage: 12, Timeout: "5m", Perm: 0x3f010000, UID: 1000, GID: 1000, Type: "asymmetri", Summary: "kk:  with spaces: X509.rsa"}, true},
		{"", keyring.ProcKey{}, false},
		{"zzzzzzzz I--Q---     1 perm 3f010000     0     0 user      x: 1", keyring.ProcKey{}, false},
		{"00000000 I--Q---     1 perm 3f010000     0     0 user      x: 1", keyring.ProcKey{}, false},
		{"00000001 I--Q--     1 perm 3f010000     0     0 user      x: 1", keyring.ProcKey{}, false},
		{"00000001 I--Q---     1 perm 3f010000     0     0 user", keyring.ProcKey{}, false},
		{"00000001 I--Q---     x perm 3f010000     0     0 user      x: 1", keyring.ProcKey{}, false},
	} {
		got, err := keyring.ParseProcKey(c.in)
		if (err == nil) != c.ok {
			t.Errorf("ParseProcKey(%q): error %v, want ok=%v", c.in, err, c.ok)
			continue
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("ParseProcKey(%q) (-want +got):\n%s", c.in, diff)
		}
	}
}

func TestIDString(t *testing.T) {
	for id, want := range map[keyring.ID]string{
		keyring.Thread().ID(): "@t", keyring.Process().ID(): "@p", keyring.Session().ID(): "@s",
		keyring.User().ID(): "@u", keyring.UserSession().ID(): "@us", keyring.Group().ID(): "@g",
		keyring.RequestKeyAuth().ID(): "@a", keyring.Requestor().ID(): "@r", 123: "123", -9: "-9", 0: "0",
	} {
		if got := id.String(); got != want {
			t.Errorf("ID(%d).String() = %q, want %q", int32(id), got, want)
		}
	}
}

func TestParseID(t *testing.T) {
	for _, c := range []struct {
		in   string
		want keyring.ID
		ok   bool
	}{
		{"@t", keyring.Thread().ID(), true}, {"@p", keyring.Process().ID(), true},
		{"@s", keyring.Session().ID(), true}, {"@u", keyring.User().ID(), true},
		{"@us", keyring.UserSession().ID(), true}, {"@g", keyring.Group().ID(), true},
		{"@a", keyring.RequestKeyAuth().ID(), true}, {"@r", keyring.Requestor().ID(), true},
		{"123", 123, true}, {"0x7b", 123, true}, {"0173", 123, true}, {"-3", keyring.Session().ID(), true},
		{"2147483647", 1<<31 - 1, true},
		{"", 0, false}, {"0", 0, false}, {"-9", 0, false}, {"@x", 0, false}, {"@S", 0, false},
		{"2147483648", 0, false}, {"1_000", 0, false}, {"0o17", 0, false}, {"0b1", 0, false},
		{"12x", 0, false}, {" 1", 0, false},
	} {
		got, err := keyring.ParseID(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseID(%q) = %v, %v; want %v, ok=%v", c.in, got, err, c.want, c.ok)
		}
		if err != nil && !errors.Is(err, keyring.ErrInvalid) {
			t.Errorf("ParseID(%q): %v is not ErrInvalid", c.in, err)
		}
	}
}

func FuzzParseID(f *testing.F) {
	for _, s := range []string{"@s", "@us", "123", "0x7b", "-8", "0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := keyring.ParseID(s)
		if err != nil {
			return
		}
		if back, err := keyring.ParseID(id.String()); err != nil || back != id {
			t.Fatalf("round trip of %v through %q gave %v, %v", id, id.String(), back, err)
		}
	})
}

func FuzzParsePerm(f *testing.F) {
	for _, s := range []string{"0x3f010000", "alswrv-----v------------", "0777", "", "------------------------"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := keyring.ParsePerm(s)
		if err != nil {
			return
		}
		if !p.Valid() {
			t.Fatalf("ParsePerm(%q) = %#x, not Valid", s, uint32(p))
		}
		if back, err := keyring.ParsePerm(p.String()); err != nil || back != p {
			t.Fatalf("round trip of %#x through %q gave %#x, %v", uint32(p), p.String(), uint32(back), err)
		}
	})
}

func FuzzParseDescription(f *testing.F) {
	for _, s := range []string{"user;0;0;3f010000;pkq", "keyring;-2;65534;3f130000;_ses;x", "a;b;c;d;e", ";;;;"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := keyring.ParseDescription(s)
		if err != nil {
			return
		}
		back, err := keyring.ParseDescription(d.String())
		if err != nil || back != d {
			t.Fatalf("round trip of %+v through %q gave %+v, %v", d, d.String(), back, err)
		}
	})
}

func FuzzParseProcKey(f *testing.F) {
	f.Add("37d551d5 I--Q---     1 perm 3f010000     0     0 encrypted ek32: 134")
	f.Add("250e3bff I--Q---     1 perm 0c030000     0 65534 keyring   .user_reg: 2")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := keyring.ParseProcKey(s)
		if err == nil && (k.ID <= 0 || len(k.Flags) != 7 || len(k.Type) > 9) {
			t.Fatalf("ParseProcKey(%q) = %+v", s, k)
		}
	})
}

// FuzzParseNotifications: whatever ParseNotifications decodes, re-encoded
// as the kernel lays the records out, decodes to the same notifications.
func FuzzParseNotifications(f *testing.F) {
	f.Add([]byte{1, 0, 0, 2, 16, 3, 0, 0, 100, 0, 0, 0, 200, 0, 0, 0})
	f.Add(encodeNotification(keyring.Notification{Type: keyring.WatchRemoved, WatchID: 1, Key: keyring.ID(300).Key()}))
	f.Add(encodeNotification(keyring.Notification{Type: keyring.WatchLoss}))
	f.Add([]byte("\x01\x00\x00\x82\x1000000000000")) // a key record whose subtype looks like a meta type
	f.Fuzz(func(t *testing.T, b []byte) {
		got, _ := keyring.ParseNotifications(b) // must not panic
		var again []byte
		for _, n := range got {
			again = append(again, encodeNotification(n)...)
		}
		if back, err := keyring.ParseNotifications(again); err != nil || !slices.Equal(back, got) {
			t.Fatalf("ParseNotifications(%x) = %+v; re-encoded, %+v, %v", b, got, back, err)
		}
	})
}

// encodeNotification lays n out as the kernel does: struct
// watch_notification_removal for a removal that names its key, a bare
// struct watch_notification for other meta records, struct
// key_notification for key changes.
func encodeNotification(n keyring.Notification) []byte {
	ne := binary.NativeEndian
	b := make([]byte, 16)
	typ, sub := uint32(1), uint32(n.Type) // WATCH_TYPE_KEY_NOTIFY
	switch {
	case n.Type >= keyring.WatchRemoved:
		typ, sub = 0, uint32(n.Type&0x7f) // WATCH_TYPE_META
		if n.Type == keyring.WatchRemoved && n.Key.ID() != 0 {
			ne.PutUint64(b[8:], uint64(uint32(n.Key.ID())))
		} else {
			b = b[:8]
		}
	default:
		ne.PutUint32(b[8:], uint32(n.Key.ID()))
		ne.PutUint32(b[12:], uint32(n.Aux.ID()))
	}
	ne.PutUint32(b, typ|sub<<24)
	ne.PutUint32(b[4:], uint32(len(b))|uint32(n.WatchID)<<8)
	return b
}
