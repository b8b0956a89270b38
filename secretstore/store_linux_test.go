package secretstore_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/kernkeys/kernkeys/internal/keytest"
	"github.com/kernkeys/kernkeys/keyring"
	"github.com/kernkeys/kernkeys/secretstore"
)

// Most tests run in a child process in a new user namespace (RunChild):
// there the user and persistent keyrings are the namespace's own and die
// with it, and the child's threads all share the session it inherited
// from the test's fresh one, which the test clears.

var scopes = []secretstore.Scope{secretstore.Persistent, secretstore.User, secretstore.Session}

// must(f())(t) returns f's value, failing the test on f's error; check
// and wantErr are keytest's too, under the short names the tests use.
func must[T any](v T, err error) func(testing.TB) T { return keytest.Must(v, err) }

var (
	check   = keytest.Check
	wantErr = keytest.WantErr
)

// inUserNS re-runs the test in a child in a new user namespace, which
// inherits a fresh session; it reports whether this is that child.
func inUserNS(t *testing.T) bool {
	t.Helper()
	if keytest.IsChild(t) {
		return true
	}
	keytest.Session(t)
	keytest.RunChild(t, keytest.ChildOptions{UserNS: true})
	return false
}

// open opens a store with o. A kernel without persistent keyrings skips
// the test for the Persistent scope, if its configuration says so.
func open(t testing.TB, o secretstore.Options) *secretstore.Store {
	t.Helper()
	s, err := secretstore.Open(o)
	if o.Scope == secretstore.Persistent && errors.Is(err, keyring.ErrNotSupported) && !keytest.KernelConfig(t, "CONFIG_PERSISTENT_KEYRINGS") {
		t.Skipf("the kernel lacks persistent keyrings (CONFIG_PERSISTENT_KEYRINGS): %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// wantSecret fails unless the secret name reads as want.
func wantSecret(t testing.TB, s *secretstore.Store, name, want string) {
	t.Helper()
	b, err := s.Get(name)
	if err != nil {
		t.Fatalf("Get(%q): %v", name, err)
	}
	defer b.Close()
	if !bytes.Equal(b.Bytes(), []byte(want)) {
		t.Fatalf("Get(%q) read %d bytes, not the %d set", name, b.Len(), len(want))
	}
}

// keyOf returns the key of secret desc in scope, looked up with the
// keyring API on a thread of its own.
func keyOf(t testing.TB, scope secretstore.Scope, desc string) keyring.Key {
	t.Helper()
	var k keyring.Key
	check(t, keyring.OnThread(func() error {
		target := keyring.User()
		switch scope {
		case secretstore.Persistent:
			p, err := keyring.Persistent(-1, keyring.Thread())
			if err != nil {
				return err
			}
			target = p
		case secretstore.Session:
			target = keyring.Session()
		}
		var err error
		k, err = target.Search("user", desc)
		return err
	}))
	return k
}

func TestOpenRefuses(t *testing.T) {
	for _, c := range []struct {
		o     secretstore.Options
		field string
	}{
		{secretstore.Options{}, "Options.Prefix"},
		{secretstore.Options{Prefix: "a\x00b"}, "Options.Prefix"},
		{secretstore.Options{Prefix: strings.Repeat("p", keyring.MaxDescription-1)}, "Options.Prefix"},
		{secretstore.Options{Prefix: "p", Scope: 3}, "Options.Scope"},
		{secretstore.Options{Prefix: "p", Scope: -1}, "Options.Scope"},
		{secretstore.Options{Prefix: "p", Expiry: -time.Second}, "Options.Expiry"},
	} {
		_, err := secretstore.Open(c.o)
		var e *keyring.Error
		if !errors.As(err, &e) || !e.Refused || e.Field != c.field || !errors.Is(err, keyring.ErrInvalid) {
			t.Errorf("Open(%+v) = %v, want a refusal of %s", c.o, err, c.field)
		}
	}
}

// Every operation in every scope: set, replace, list, delete; the keys
// have the documented permissions and owner; names are refused before any
// system call.
func TestScopes(t *testing.T) {
	if !inUserNS(t) {
		return
	}
	for _, scope := range scopes {
		t.Run(scope.String(), func(t *testing.T) {
			s := open(t, secretstore.Options{Prefix: "kktest", Scope: scope})
			check(t, s.Set("a", []byte("one")))
			wantSecret(t, s, "a", "one")
			old := keyOf(t, scope, "kktest:a")
			d := must(old.Describe())(t)
			if d.Perm != secretstore.Perm || d.Perm != keyring.PermAll.User() || d.UID != keytest.ChildUID || d.Type != "user" {
				t.Errorf("the secret's key is %v, want perm %v owned by %d", d, secretstore.Perm, keytest.ChildUID)
			}

			check(t, s.Set("a", []byte("two")))
			wantSecret(t, s, "a", "two")
			if k := keyOf(t, scope, "kktest:a"); k == old {
				t.Errorf("Set replaced nothing: the key is still %v", k)
			}
			keytest.WaitGone(t, old) // the old value is destroyed, not kept

			check(t, s.Set("b:with colon", []byte("x")))
			if got := must(s.List())(t); !slices.Equal(got, []string{"a", "b:with colon"}) {
				t.Errorf("List = %q", got)
			}
			check(t, s.Delete("a"))
			_, err := s.Get("a")
			wantErr(t, err, keyring.ErrNotFound)
			wantErr(t, s.Delete("a"), keyring.ErrNotFound)
			check(t, s.Delete("b:with colon"))
			if got := must(s.List())(t); len(got) != 0 {
				t.Errorf("List after deleting all = %q", got)
			}

			for _, bad := range []string{"", "a\x00", strings.Repeat("n", keyring.MaxDescription-len("kktest:")+1)} {
				var e *keyring.Error
				err := s.Set(bad, []byte("x"))
				if !errors.As(err, &e) || !e.Refused || e.Field != "name" {
					t.Errorf("Set(%q) = %v, want a refusal of name", bad, err)
				}
				if _, err := s.Get(bad); !errors.Is(err, keyring.ErrInvalid) {
					t.Errorf("Get(%q) = %v, want ErrInvalid", bad, err)
				}
			}
			_, err = s.Get("missing")
			wantErr(t, err, keyring.ErrNotFound)
			if !regexp.MustCompile(`"missing".*` + scope.String()).MatchString(err.Error()) {
				t.Errorf("error %q does not name the secret and the scope", err)
			}
		})
	}
}

// A secret of another program (another prefix) or a key of another type
// in the same keyring is not the store's.
func TestPrefixesDoNotMeet(t *testing.T) {
	if !inUserNS(t) {
		return
	}
	a := open(t, secretstore.Options{Prefix: "app", Scope: secretstore.User})
	b := open(t, secretstore.Options{Prefix: "app2", Scope: secretstore.User})
	check(t, a.Set("x", []byte("a's")))
	check(t, b.Set("x", []byte("b's")))
	runtime.LockOSThread()
	logon := must(keyring.User().Add("logon", "app:y", []byte("z")))(t)
	wantSecret(t, a, "x", "a's")
	wantSecret(t, b, "x", "b's")
	if got := must(a.List())(t); !slices.Equal(got, []string{"x"}) {
		t.Errorf("List = %q", got)
	}
	check(t, keyring.User().Unlink(logon))
	check(t, a.Delete("x"))
	wantSecret(t, b, "x", "b's")
	check(t, b.Delete("x"))
}

// A secret with an expiry is found until it expires, then not. The kernel
// counts whole seconds of the wall clock, so an expiry of 3s ends 2 to 3
// seconds after the Set: long enough for the Get that follows.
func TestExpiry(t *testing.T) {
	if !inUserNS(t) {
		return
	}
	s := open(t, secretstore.Options{Prefix: "kktest", Scope: secretstore.User, Expiry: 3 * time.Second})
	check(t, s.Set("brief", []byte("x")))
	wantSecret(t, s, "brief", "x")
	deadline := time.Now().Add(15 * time.Second)
	for {
		// Each Get locks a page until its Close: kernels before 5.16
		// allow an ordinary user 64 KiB of locked memory, 16 Gets.
		b, err := s.Get("brief")
		if err != nil {
			wantErr(t, err, keyring.ErrNotFound, keyring.ErrExpired)
			break
		}
		check(t, b.Close())
		if time.Now().After(deadline) {
			t.Fatal("the secret outlived its expiry by 12 seconds")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := must(s.List())(t); len(got) != 0 {
		t.Errorf("List shows expired secrets %q", got)
	}
}

// A Set that the kernel refuses (over an ordinary user's byte quota)
// leaves the old secret as it was, and nothing else behind.
func TestSetKeepsOldSecret(t *testing.T) {
	if !inUserNS(t) {
		return
	}
	for _, scope := range scopes {
		t.Run(scope.String(), func(t *testing.T) {
			s := open(t, secretstore.Options{Prefix: "kktest", Scope: scope})
			check(t, s.Set("a", []byte("old")))
			old := keyOf(t, scope, "kktest:a")
			wantErr(t, s.Set("a", make([]byte, 25000)), keyring.ErrQuota) // 20000 bytes is the quota
			wantSecret(t, s, "a", "old")
			if k := keyOf(t, scope, "kktest:a"); k != old {
				t.Errorf("the secret's key changed from %v to %v", old, k)
			}
			if got := must(s.List())(t); !slices.Equal(got, []string{"a"}) {
				t.Errorf("List = %q", got)
			}
			check(t, s.Delete("a"))
		})
	}
}

// Goroutines on 32 different threads set and read each other's secrets.
func TestAcrossThreads(t *testing.T) {
	keytest.OwnQuota(t) // each thread makes 3 keys: half an ordinary user's 200
	if !inUserNS(t) {
		return
	}
	for _, scope := range scopes {
		t.Run(scope.String(), func(t *testing.T) {
			s := open(t, secretstore.Options{Prefix: "kktest", Scope: scope})
			const n = 32
			keytest.WaitRoom(t, 3*n)
			var set sync.WaitGroup
			set.Add(n)
			var next atomic.Int32
			keytest.OnThreads(t, n, func(tid int) {
				i := int(next.Add(1)) - 1
				name := "t" + strconv.Itoa(i)
				err := s.Set(name, []byte(name))
				set.Done()
				if err != nil {
					t.Errorf("thread %d: Set: %v", tid, err)
					return
				}
				set.Wait() // every thread has set its secret
				other := "t" + strconv.Itoa((i+1)%n)
				if b, err := s.Get(other); err != nil || string(b.Bytes()) != other {
					t.Errorf("thread %d: Get(%s): %v", tid, other, err)
				} else if err := b.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			names := must(s.List())(t)
			if len(names) != n {
				t.Errorf("List has %d names, want %d", len(names), n)
			}
			for _, name := range names {
				check(t, s.Delete(name))
			}
		})
	}
}

// A secret one process sets, another process of the same user reads and
// deletes, in every scope.
func TestAcrossProcesses(t *testing.T) {
	acrossProcesses(t, false)
}

// A process of another user can neither find nor read the secret, even
// when it shares the owner's session and so possesses what it links; and
// the key it links there under a secret's name is not taken for the
// owner's secret.
func TestOtherUserCannot(t *testing.T) {
	acrossProcesses(t, true)
}

// acrossProcesses runs steps in a user namespace: "owner" joins a fresh
// session and from it runs "set", "get" (or, for other, "other") and
// "delete" in turn as separate processes, which inherit that session.
// Another user needs the three-user namespace of UsersNSAttr, where the
// owner is root and runs the steps as ChildUID and OtherUID.
func acrossProcesses(t *testing.T, other bool) {
	asOwner := func() *syscall.SysProcAttr { return nil }
	if os.Getenv("KERNKEYS_TEST_USERS") == "1" {
		asOwner = func() *syscall.SysProcAttr { return keytest.AsUser(keytest.ChildUID) }
	}
	scope := func() secretstore.Scope {
		n, err := strconv.Atoi(os.Getenv("KERNKEYS_TEST_SCOPE"))
		if err != nil {
			t.Fatal(err)
		}
		return secretstore.Scope(n)
	}
	value := "across processes"
	switch keytest.Step() {
	case "owner":
		keytest.Session(t)
		for _, sc := range scopes {
			env := "KERNKEYS_TEST_SCOPE=" + strconv.Itoa(int(sc))
			out := keytest.RunStep(t, "set", asOwner(), env)
			serial := regexp.MustCompile(`(?m)^serial=(\d+)$`).FindStringSubmatch(out)
			if serial == nil {
				t.Fatalf("%v: the set step printed no serial:\n%s", sc, out)
			}
			if other {
				keytest.RunStep(t, "other", keytest.AsUser(keytest.OtherUID), env, "KERNKEYS_TEST_KEY="+serial[1])
				if sc == secretstore.Session {
					keytest.RunStep(t, "planted", asOwner(), env)
				}
			} else {
				keytest.RunStep(t, "get", asOwner(), env)
			}
			keytest.RunStep(t, "delete", asOwner(), env)
		}
		return
	case "set":
		sc := scope()
		s := open(t, secretstore.Options{Prefix: "kktest", Scope: sc})
		check(t, s.Set("shared", []byte(value)))
		os.Stdout.WriteString("serial=" + keyOf(t, sc, "kktest:shared").ID().String() + "\n")
		return
	case "get":
		wantSecret(t, open(t, secretstore.Options{Prefix: "kktest", Scope: scope()}), "shared", value)
		return
	case "other":
		if os.Getuid() != keytest.OtherUID {
			t.Fatalf("the other user's step runs as uid %d", os.Getuid())
		}
		sc := scope()
		s := open(t, secretstore.Options{Prefix: "kktest", Scope: sc})
		_, err := s.Get("shared")
		if sc == secretstore.Session {
			// The session is shared and links the secret, which
			// KEYCTL_SEARCH finds but may not return.
			wantErr(t, err, keyring.ErrPermission)
		} else {
			// The other user's own keyrings do not link it.
			wantErr(t, err, keyring.ErrNotFound)
		}
		if names := must(s.List())(t); len(names) != 0 {
			t.Errorf("another user lists %q", names)
		}
		n := must(strconv.Atoi(os.Getenv("KERNKEYS_TEST_KEY")))(t)
		runtime.LockOSThread()
		k := keyring.ID(n).Key()
		_, err = k.Read()
		wantErr(t, err, keyring.ErrPermission)
		_, err = k.Describe()
		wantErr(t, err, keyring.ErrPermission)
		wantErr(t, k.Invalidate(), keyring.ErrPermission)
		if sc == secretstore.Session {
			// Possessing the shared session, it may link a key of its
			// own there, under a name of the store, readable by all.
			p := must(keyring.Session().Add("user", "kktest:planted", []byte("not yours")))(t)
			check(t, p.SetPerm(0x3f3f3f3f))
		}
		return
	case "planted":
		// The owner does not take another user's key for its secret.
		s := open(t, secretstore.Options{Prefix: "kktest", Scope: scope()})
		_, err := s.Get("planted")
		wantErr(t, err, keyring.ErrPermission)
		wantErr(t, s.Delete("planted"), keyring.ErrPermission)
		if names := must(s.List())(t); len(names) != 1 || names[0] != "shared" {
			t.Errorf("List = %q, want only the owner's secret", names)
		}
		check(t, s.Set("planted", []byte("mine"))) // replaces the other user's key
		wantSecret(t, s, "planted", "mine")
		check(t, s.Delete("planted"))
		return
	case "delete":
		s := open(t, secretstore.Options{Prefix: "kktest", Scope: scope()})
		check(t, s.Delete("shared"))
		_, err := s.Get("shared")
		wantErr(t, err, keyring.ErrNotFound)
		return
	}
	keytest.Session(t)
	attr, why := keytest.UsersNSAttr()
	env := "KERNKEYS_TEST_USERS=1"
	if attr == nil {
		if other {
			t.Skip(why)
		}
		attr, env = keytest.UserNSAttr(), "KERNKEYS_TEST_USERS=0"
	}
	keytest.RunStep(t, "owner", attr, env)
}

// A Session store used from threads whose session is no longer the one
// it was opened in says so with ErrPermission. Moving every thread needs
// keyring.JoinProcessSession, and so a program built without cgo.
func TestSessionMoved(t *testing.T) {
	bin := keytest.Build(t, "./testdata/sessionmoved", "CGO_ENABLED=0")
	keytest.Session(t) // the program inherits it, and leaves it alone
	out, err := exec.Command(bin).CombinedOutput()
	if err != nil {
		t.Fatalf("sessionmoved: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "not the session") {
		t.Errorf("the error does not say why: %s", out)
	}
}
