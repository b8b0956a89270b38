//go:build linux

package keyring_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/kernkeys/kernkeys/internal/keytest"
	"github.com/kernkeys/kernkeys/keyring"
)

// must(f())(t) returns f's value, failing the test on f's error; check
// and wantErr are keytest's too, under the short names the tests use.
func must[T any](v T, err error) func(testing.TB) T { return keytest.Must(v, err) }

var (
	check   = keytest.Check
	wantErr = keytest.WantErr
)

func TestAddReadDescribe(t *testing.T) {
	s := keytest.Session(t)
	payload := []byte("the payload")
	k := must(s.Add("user", "kk;with;semicolons", payload))(t)
	if k.ID() <= 0 {
		t.Fatalf("Add returned ID %v", k.ID())
	}

	got := must(k.Read())(t)
	if !bytes.Equal(got, payload) {
		t.Errorf("Read = %q, want %q", got, payload)
	}
	small := make([]byte, 3)
	// A buffer too small for the payload gets the size and no bytes.
	if n := must(k.ReadInto(small))(t); n != len(payload) || string(small) != "\x00\x00\x00" {
		t.Errorf("ReadInto(3 bytes) = %d, %q; want the full size %d and nothing copied", n, small, len(payload))
	}

	want := keyring.Description{
		Type: "user", UID: uint32(os.Getuid()), GID: uint32(os.Getgid()),
		Perm:        keyring.PermAll.Possessor() | keyring.PermView.User(),
		Description: "kk;with;semicolons",
	}
	d := must(k.Describe())(t)
	if diff := cmp.Diff(want, d); diff != "" {
		t.Errorf("Describe (-want +got):\n%s", diff)
	}
	buf := make([]byte, 256)
	n := must(k.DescribeInto(buf))(t)
	if string(buf[:n]) != want.String()+"\x00" {
		t.Errorf("DescribeInto = %q, want %q", buf[:n], want.String()+"\x00")
	}
	if n2 := must(k.DescribeInto(buf[:4]))(t); n2 != n {
		t.Errorf("DescribeInto(short buffer) = %d, want the full size %d", n2, n)
	}
}

func TestAddExistingUpdates(t *testing.T) {
	s := keytest.Session(t)
	k1 := must(s.Add("user", "same", []byte("one")))(t)
	k2 := must(s.Add("user", "same", []byte("two")))(t)
	if k1 != k2 {
		t.Errorf("adding the same type and description gave %v then %v; the kernel updates in place", k1, k2)
	}
	if got := must(k1.Read())(t); string(got) != "two" {
		t.Errorf("payload after second Add = %q", got)
	}
}

func TestUpdate(t *testing.T) {
	s := keytest.Session(t)
	k := must(s.Add("user", "upd", []byte("old")))(t)
	check(t, k.Update([]byte("new payload")))
	if got := must(k.Read())(t); string(got) != "new payload" {
		t.Errorf("after Update, Read = %q", got)
	}
	wantErr(t, k.Update(make([]byte, os.Getpagesize()+1)), keyring.ErrInvalid)
	wantErr(t, s.Update([]byte("x")), keyring.ErrNotSupported, syscall.EOPNOTSUPP)
}

func TestRevoke(t *testing.T) {
	s := keytest.Session(t)
	k := must(s.Add("user", "rev", []byte("x")))(t)
	check(t, k.Revoke())
	_, err := k.Read()
	wantErr(t, err, keyring.ErrRevoked, syscall.EKEYREVOKED)
	_, err = k.Describe()
	wantErr(t, err, keyring.ErrRevoked)
	_, err = s.Search("user", "rev")
	wantErr(t, err, keyring.ErrRevoked)
	wantErr(t, k.Update([]byte("y")), keyring.ErrRevoked)
	wantErr(t, k.SetTimeout(time.Minute), keyring.ErrRevoked)
	check(t, s.Unlink(k))
}

func TestInvalidate(t *testing.T) {
	s := keytest.Session(t)
	k := must(s.Add("user", "inv", []byte("x")))(t)
	check(t, k.Invalidate())
	// Describe never finds an invalidated key (ENOKEY at once). Until the
	// garbage collector has freed it, the key still exists for read, which
	// defers its permission check, but possession searches skip it: a read
	// is EACCES (the user class has no READ) or, once it is freed, ENOKEY.
	// A search meets the dead link (EKEYREVOKED) or nothing (ENOKEY).
	_, err0 := k.Describe()
	wantErr(t, err0, keyring.ErrNotFound, syscall.ENOKEY)
	_, err := k.Read()
	if !errors.Is(err, keyring.ErrNotFound) && !errors.Is(err, keyring.ErrPermission) {
		t.Errorf("read right after invalidation: %v, want ErrNotFound or ErrPermission", err)
	}
	_, err = s.Search("user", "inv")
	if !errors.Is(err, keyring.ErrRevoked) && !errors.Is(err, keyring.ErrNotFound) {
		t.Errorf("search right after invalidation: %v, want ErrRevoked or ErrNotFound", err)
	}
	// The garbage collector removes the link soon after.
	deadline := time.Now().Add(10 * time.Second)
	for l := must(s.Links())(t); len(l) != 0; l = must(s.Links())(t) {
		if time.Now().After(deadline) {
			t.Fatalf("the session still links %v ten seconds after invalidation", l)
		}
		time.Sleep(10 * time.Millisecond)
	}
	_, err = s.Search("user", "inv")
	wantErr(t, err, keyring.ErrNotFound, syscall.ENOKEY)
	// Describe looks keys up strictly and never finds an invalidated key.
	_, err = k.Describe()
	wantErr(t, err, keyring.ErrNotFound, syscall.ENOKEY)
}

func TestSetTimeoutExpires(t *testing.T) {
	s := keytest.Session(t)
	k := must(s.Add("user", "exp", []byte("x")))(t)
	check(t, k.SetTimeout(time.Millisecond)) // rounded up to one second
	if _, err := k.Read(); err != nil {
		t.Fatalf("the key expired at once: %v", err)
	}
	time.Sleep(1100 * time.Millisecond)
	_, err := k.Read()
	wantErr(t, err, keyring.ErrExpired, syscall.EKEYEXPIRED)

	k2 := must(s.Add("user", "noexp", []byte("x")))(t)
	check(t, k2.SetTimeout(time.Hour))
	check(t, k2.SetTimeout(0))
	wantErr(t, k2.SetTimeout(-time.Second), keyring.ErrInvalid)
	wantErr(t, k2.SetTimeout(1<<32*time.Second), keyring.ErrInvalid)
	check(t, s.Clear())
}

func TestSearch(t *testing.T) {
	s := keytest.Session(t)
	inner := must(s.AddKeyring("inner"))(t)
	dest := must(s.AddKeyring("dest"))(t)
	k := must(inner.Add("user", "deep", []byte("x")))(t)

	if got := must(s.Search("user", "deep"))(t); got != k {
		t.Errorf("Search found %v, want %v", got, k)
	}
	if l := must(dest.Links())(t); len(l) != 0 {
		t.Fatalf("dest links %v before a Search with it", l)
	}
	must(s.SearchAndLink("user", "deep", dest))(t)
	if l := must(dest.Links())(t); !slices.Equal(l, []keyring.Key{k}) {
		t.Errorf("after Search with a destination, it links %v, want [%v]", l, k)
	}
	_, err := s.Search("user", "absent")
	wantErr(t, err, keyring.ErrNotFound)
	_, err = s.Search("logon", "deep")
	wantErr(t, err, keyring.ErrNotFound)
	_, err = k.ID().Keyring().Search("user", "deep")
	wantErr(t, err, syscall.ENOTDIR)
	_, err = s.SearchAndLink("user", "deep", k.ID().Keyring())
	wantErr(t, err, syscall.ENOTDIR)
}

func TestLinkUnlinkMove(t *testing.T) {
	s := keytest.Session(t)
	a := must(s.AddKeyring("a"))(t)
	b := must(s.AddKeyring("b"))(t)
	k := must(a.Add("user", "k", []byte("x")))(t)

	check(t, b.Link(k))
	if l := must(b.Links())(t); !slices.Equal(l, []keyring.Key{k}) {
		t.Errorf("b links %v after Link", l)
	}
	check(t, b.Unlink(k))
	wantErr(t, b.Unlink(k), keyring.ErrNotFound, syscall.ENOENT)

	check(t, a.Move(k, b))
	if la, lb := must(a.Links())(t), must(b.Links())(t); len(la) != 0 || !slices.Equal(lb, []keyring.Key{k}) {
		t.Errorf("after Move: a links %v, b links %v", la, lb)
	}
	wantErr(t, a.Move(k, b), keyring.ErrNotFound)

	// An exclusive move refuses to displace a key of the same type and
	// description; a plain move displaces it.
	other := must(a.Add("user", "k", []byte("y")))(t)
	wantErr(t, a.MoveExclusive(other, b), fs.ErrExist, syscall.EEXIST)
	check(t, a.Move(other, b))
	if lb := must(b.Links())(t); !slices.Equal(lb, []keyring.Key{other}) {
		t.Errorf("after a displacing Move, b links %v, want [%v]", lb, other)
	}

	wantErr(t, a.Link(a.Key), syscall.EDEADLK)
	check(t, b.Link(a.Key))
	wantErr(t, a.Link(b.Key), syscall.EDEADLK)
	check(t, b.Clear())
	if lb := must(b.Links())(t); len(lb) != 0 {
		t.Errorf("b links %v after Clear", lb)
	}
}

func TestLinksOfNonKeyring(t *testing.T) {
	s := keytest.Session(t)
	k := must(s.Add("user", "four", []byte("abcd")))(t)
	_, err := k.ID().Keyring().Links()
	wantErr(t, err, syscall.ENOTDIR)
}

func TestWalk(t *testing.T) {
	s := keytest.Session(t)
	r1 := must(s.AddKeyring("r1"))(t)
	k1 := must(r1.Add("user", "k1", []byte("x")))(t)
	r2 := must(r1.AddKeyring("r2"))(t)
	k2 := must(s.Add("user", "k2", []byte("x")))(t)
	check(t, r2.Link(k1))

	type visit struct {
		Depth int
		ID    keyring.ID
		Desc  string
	}
	var got []visit
	check(t, s.Walk(func(n keyring.Node) error {
		if n.Err != nil {
			t.Errorf("node %v: %v", n.Key, n.Err)
		}
		got = append(got, visit{n.Depth, n.Key.ID(), n.Description.Description})
		return nil
	}))
	sd := must(s.Describe())(t)
	want := []visit{
		{0, s.ID(), sd.Description},
		{1, r1.ID(), "r1"},
		{2, k1.ID(), "k1"},
		{2, r2.ID(), "r2"},
		{3, k1.ID(), "k1"},
		{1, k2.ID(), "k2"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Walk (-want +got):\n%s", diff)
	}

	stop := errors.New("stop")
	n := 0
	err := s.Walk(func(keyring.Node) error { n++; return stop })
	if err != stop || n != 1 {
		t.Errorf("Walk after fn's error: %v after %d calls; want fn's error after 1", err, n)
	}
}

func TestFind(t *testing.T) {
	s := keytest.Session(t)
	inner := must(s.AddKeyring("findme-ring"))(t)
	k := must(inner.Add("user", "findme", []byte("x")))(t)
	if got := must(keyring.Find("user", "findme"))(t); got != k {
		t.Errorf("Find = %v, want %v", got, k)
	}
	if got := must(keyring.Find("keyring", "findme-ring"))(t); got != inner.Key {
		t.Errorf("Find(keyring) = %v, want %v", got, inner)
	}
	_, err := keyring.Find("user", "no-such-key-anywhere")
	wantErr(t, err, keyring.ErrNotFound)
}

func TestRequest(t *testing.T) {
	s := keytest.Session(t)
	k := must(s.Add("user", "wanted", []byte("x")))(t)
	dest := must(s.AddKeyring("dest"))(t)
	if got := must(keyring.Request("user", "wanted", keyring.RequestOptions{}))(t); got != k {
		t.Errorf("Request = %v, want %v", got, k)
	}
	if got := must(keyring.Request("user", "wanted", keyring.RequestOptions{Destination: dest}))(t); got != k {
		t.Errorf("Request with a destination = %v, want %v", got, k)
	}
	if l := must(dest.Links())(t); !slices.Equal(l, []keyring.Key{k}) {
		t.Errorf("destination links %v, want [%v]", l, k)
	}
	// A miss without callout information fails at once and constructs
	// nothing: no negative key is left in the session.
	_, err := keyring.Request("user", "never-made", keyring.RequestOptions{})
	wantErr(t, err, keyring.ErrNotFound, syscall.ENOKEY)
	_, err = keyring.Request("user", "never-made", keyring.RequestOptions{Destination: dest})
	wantErr(t, err, keyring.ErrNotFound)
	if l := must(dest.Links())(t); len(l) != 1 {
		t.Errorf("destination links %v after missed requests", l)
	}
	// request_key answers ENOKEY for a type the kernel lacks (add_key: ENODEV).
	_, err = keyring.Request("no_such_type", "x", keyring.RequestOptions{})
	wantErr(t, err, keyring.ErrNotFound, syscall.ENOKEY)
}

func TestSetPermAndParse(t *testing.T) {
	s := keytest.Session(t)
	k := must(s.Add("user", "perm", []byte("x")))(t)
	p := must(keyring.ParsePerm("alswrv-----v--s----l--r-"))(t)
	check(t, k.SetPerm(p))
	if d := must(k.Describe())(t); d.Perm != p || d.Perm != 0x3f010812 {
		t.Errorf("perm after SetPerm = %#x (%v), want %#x", uint32(d.Perm), d.Perm, uint32(p))
	}
	wantErr(t, k.SetPerm(0x40000000), keyring.ErrInvalid)
	// Without view, even the possessor cannot describe it.
	check(t, k.SetPerm((keyring.PermAll &^ keyring.PermView).Possessor()))
	_, err := k.Describe()
	wantErr(t, err, keyring.ErrPermission, os.ErrPermission, syscall.EACCES)
}

func TestChownOwnGroup(t *testing.T) {
	s := keytest.Session(t)
	k := must(s.Add("user", "grp", []byte("x")))(t)
	check(t, k.Chgrp(os.Getgid()))
	check(t, k.Chown(keyring.Unchanged, keyring.Unchanged))
	wantErr(t, k.Chown(-2, 0), keyring.ErrInvalid)
}

func TestSecurity(t *testing.T) {
	s := keytest.Session(t)
	k := must(s.Add("user", "sec", []byte("x")))(t)
	label := must(k.Security())(t)
	var buf [64]byte
	n := must(k.SecurityInto(buf[:]))(t)
	if n != len(label)+1 || string(buf[:n]) != label+"\x00" {
		t.Errorf("SecurityInto = %q, Security = %q", buf[:n], label)
	}
}

func TestRestrict(t *testing.T) {
	s := keytest.Session(t)
	locked := must(s.AddKeyring("locked"))(t)
	k := must(s.Add("user", "k", []byte("x")))(t)
	check(t, locked.Restrict("", ""))
	_, err := locked.Add("user", "new", []byte("x"))
	wantErr(t, err, keyring.ErrPermission, syscall.EPERM)
	wantErr(t, locked.Link(k), keyring.ErrPermission)
	wantErr(t, locked.Restrict("", ""), syscall.EEXIST)

	r := must(s.AddKeyring("restricted"))(t)
	check(t, r.Restrict("asymmetric", "builtin_trusted"))
	if keytest.KernelConfig(t, "CONFIG_SYSTEM_TRUSTED_KEYRING") {
		// The asymmetric type's restriction refuses other types as
		// unsupported.
		wantErr(t, r.Link(k), keyring.ErrNotSupported, syscall.EOPNOTSUPP)
	} else {
		// No builtin keyring to check against: the restriction is
		// restrict_link_reject, which refuses everything (EPERM).
		wantErr(t, r.Link(k), keyring.ErrPermission, syscall.EPERM)
	}
	wantErr(t, must(s.AddKeyring("r3"))(t).Restrict("asymmetric", "no_such_rule"), keyring.ErrInvalid)
	wantErr(t, r.Restrict("", "builtin_trusted"), keyring.ErrInvalid)
}

func TestJoinNamedSession(t *testing.T) {
	keytest.Session(t)
	err := keyring.OnThread(func() error {
		s, err := keyring.JoinSession("kernkeys-test-named")
		if err != nil {
			return err
		}
		defer s.Invalidate()
		d, err := s.Describe()
		if err != nil {
			return err
		}
		if d.Description != "kernkeys-test-named" || d.Type != "keyring" {
			t.Errorf("joined session is %v", d)
		}
		if id, err := keyring.Session().Resolve(); err != nil || id != s.ID() {
			t.Errorf("@s resolves to %v, %v; want %v", id, err, s.ID())
		}
		return nil
	})
	check(t, err)
}

func TestCapabilities(t *testing.T) {
	c := must(keyring.KernelCapabilities())(t)
	if !c.Query || !c.Invalidate || !c.RestrictKeyring || !c.Move || len(c.Raw) != 2 {
		t.Errorf("capabilities %+v lack what every kernel that has KEYCTL_CAPABILITIES has", c)
	}
	want := keyring.Capabilities{Query: true, PersistentKeyrings: true, DiffieHellman: true, PublicKey: true,
		BigKey: true, Invalidate: true, RestrictKeyring: true, Move: true, NamespacedNames: true, NamespacedTags: true,
		Notifications: true, Raw: []byte{0xff, 0x07}}
	if diff := cmp.Diff(want, keyring.ParseCapabilities([]byte{0xff, 0x07})); diff != "" {
		t.Errorf("ParseCapabilities(ff 07) (-want +got):\n%s", diff)
	}
}
