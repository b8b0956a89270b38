//go:build linux

package keyring_test

import (
	"os"
	"runtime"
	"strconv"
	"syscall"
	"testing"

	"github.com/kernkeys/kernkeys/internal/keytest"
	"github.com/kernkeys/kernkeys/keyring"
)

// These tests re-run themselves in a child process inside a new user
// namespace, as a non-root uid (keytest.ChildUID) mapped to another kuid
// when the parent is root. The child inherits the parent test's session.

var userNS = keytest.ChildOptions{UserNS: true}

// envKey passes a key to the child.
func envKey(k keyring.Key) string { return "KERNKEYS_TEST_KEY=" + k.ID().String() }

func childKey(t *testing.T) keyring.Key {
	t.Helper()
	n, err := strconv.Atoi(os.Getenv("KERNKEYS_TEST_KEY"))
	if err != nil {
		t.Fatalf("KERNKEYS_TEST_KEY: %v", err)
	}
	return keyring.ID(n).Key()
}

// Another user's key that the caller does not possess and whose user and
// other classes grant nothing: EACCES for describe, read and setperm.
func TestUserNSOthersKey(t *testing.T) {
	if keytest.IsChild(t) {
		k := childKey(t)
		_, err := k.Describe()
		wantErr(t, err, keyring.ErrPermission, os.ErrPermission, syscall.EACCES)
		_, err = k.Read()
		wantErr(t, err, keyring.ErrPermission, syscall.EACCES)
		wantErr(t, k.SetPerm(keyring.PermAll.Other()), keyring.ErrPermission)
		return
	}
	keytest.Session(t)
	// The thread keyring is not inherited by the child: it does not
	// possess the key.
	k := must(keyring.Thread().Add("user", "parents", []byte("x")))(t)
	check(t, k.SetPerm(keyring.PermAll.Possessor()))
	keytest.RunChild(t, keytest.ChildOptions{UserNS: true, Env: []string{envKey(k)}})
	check(t, keyring.Thread().Unlink(k))
}

// Possession crosses uids by design: the child inherits the session, so it
// possesses the parent's key and reads it with possessor rights alone.
func TestUserNSPossessionCrossesUIDs(t *testing.T) {
	if keytest.IsChild(t) {
		runtime.LockOSThread()
		k := childKey(t)
		got := must(k.Read())(t)
		if string(got) != "shared" {
			t.Errorf("read %q", got)
		}
		if os.Getenv("KERNKEYS_TEST_FOREIGN") == "1" {
			if d := must(k.Describe())(t); d.UID == keytest.ChildUID {
				t.Errorf("the key's owner %d is the child's uid", d.UID)
			}
		}
		return
	}
	s := keytest.Session(t)
	k := must(s.Add("user", "shared", []byte("shared")))(t)
	check(t, k.SetPerm(keyring.PermAll.Possessor()))
	env := []string{envKey(k)}
	if os.Getuid() == 0 {
		// Root's key is owned by another kuid than the child's; an
		// ordinary user's child shares the parent's kuid.
		env = append(env, "KERNKEYS_TEST_FOREIGN=1")
	}
	keytest.RunChild(t, keytest.ChildOptions{UserNS: true, Env: env})
}

// Only CAP_SYS_ADMIN in the initial user namespace may give a key to
// another uid (EACCES otherwise), a uid the namespace does not map is
// EINVAL, and the owner may change the group to its own.
func TestUserNSChown(t *testing.T) {
	if keytest.IsChild(t) {
		runtime.LockOSThread()
		if os.Getuid() != keytest.ChildUID {
			t.Fatalf("child runs as uid %d", os.Getuid())
		}
		if os.Getenv("KERNKEYS_TEST_FOREIGN") == "1" {
			// The parent's key, possessed through the inherited session.
			wantErr(t, childKey(t).Chown(keytest.ChildUID, keyring.Unchanged), keyring.ErrPermission, os.ErrPermission, syscall.EACCES)
		}
		s := must(keyring.JoinAnonymousSession())(t)
		defer s.Clear()
		k := must(s.Add("user", "mine", []byte("x")))(t)
		d := must(k.Describe())(t)
		if d.UID != keytest.ChildUID || d.GID != keytest.ChildUID {
			t.Errorf("a key made in the namespace is owned by %d:%d", d.UID, d.GID)
		}
		wantErr(t, k.Chown(0, keyring.Unchanged), keyring.ErrInvalid, syscall.EINVAL) // uid 0 is not mapped
		check(t, k.Chown(keytest.ChildUID, keytest.ChildUID))
		check(t, k.Chgrp(keytest.ChildUID))
		return
	}
	s := keytest.Session(t)
	k := must(s.Add("user", "parents", []byte("x")))(t)
	env := []string{envKey(k)}
	if os.Getuid() == 0 {
		// The child's kuid differs from root's: the key is foreign to it.
		env = append(env, "KERNKEYS_TEST_FOREIGN=1")
	} else {
		// An ordinary user's child has the same kuid; no namespace is
		// needed to be refused root's uid.
		wantErr(t, k.Chown(0, keyring.Unchanged), keyring.ErrPermission, syscall.EACCES)
	}
	keytest.RunChild(t, keytest.ChildOptions{UserNS: true, Env: env})
}

// An ordinary user's quota (200 keys, 20000 bytes) runs out with ErrQuota,
// and a refused add leaves nothing behind.
func TestUserNSQuota(t *testing.T) {
	if keytest.IsChild(t) {
		s := keytest.Session(t)
		r := must(s.AddKeyring("quota"))(t)
		var err error
		n := 0
		for ; n < 1000; n++ {
			if _, err = r.Add("user", "q"+strconv.Itoa(n), make([]byte, 16)); err != nil {
				break
			}
		}
		wantErr(t, err, keyring.ErrQuota, syscall.EDQUOT)
		if n >= 200 {
			t.Errorf("added %d keys before the quota ran out; an ordinary user has 200", n)
		}
		l := must(r.Links())(t)
		if len(l) != n {
			t.Errorf("keyring links %d keys after %d successful adds", len(l), n)
		}
		check(t, r.Clear())
		// The quota comes back only as the garbage collector destroys
		// the keys: the next test's child, the same uid, would find it
		// full (seen on 5.10 under load: its @u could not be created,
		// which KEYCTL_READ reports as ENOKEY).
		keytest.WaitGone(t, l...)
		// The byte quota: one large payload is over 20000 bytes.
		_, err = r.Add("user", "big", make([]byte, 20000))
		wantErr(t, err, keyring.ErrQuota)
		return
	}
	keytest.OwnQuota(t)
	keytest.Session(t)
	keytest.RunChild(t, userNS)
}

// The persistent keyring of the namespace's user: created on demand,
// linked into the destination, the same keyring on every call.
func TestUserNSPersistent(t *testing.T) {
	if keytest.IsChild(t) {
		s := keytest.Session(t)
		p := must(keyring.Persistent(-1, s))(t)
		d := must(p.Describe())(t)
		if d.Type != "keyring" || d.Description != "_persistent."+strconv.Itoa(keytest.ChildUID) {
			t.Errorf("persistent keyring is %v", d)
		}
		if again := must(keyring.Persistent(keyring.Unchanged, s))(t); again != p {
			t.Errorf("second Persistent = %v, want %v", again, p)
		}
		if mine := must(keyring.Persistent(keytest.ChildUID, s))(t); mine != p {
			t.Errorf("Persistent(own uid) = %v, want %v", mine, p)
		}
		_, err := keyring.Persistent(0, s) // uid 0 is not mapped here
		wantErr(t, err, keyring.ErrInvalid, syscall.EINVAL)
		check(t, s.Unlink(p.Key))
		return
	}
	keytest.Session(t)
	keytest.RunChild(t, userNS)
}

// The user keyring belongs to the namespace: the child's @u is not the
// parent's.
func TestUserNSUserKeyring(t *testing.T) {
	if keytest.IsChild(t) {
		runtime.LockOSThread()
		id := must(keyring.User().Resolve())(t)
		if parent := childKey(t); id == parent.ID() {
			t.Errorf("the namespace's @u is the parent's %v", id)
		}
		d := must(keyring.User().Describe())(t)
		if d.Description != "_uid."+strconv.Itoa(keytest.ChildUID) {
			t.Errorf("@u is %v", d)
		}
		return
	}
	keytest.Session(t)
	u := must(keyring.User().Resolve())(t)
	keytest.RunChild(t, keytest.ChildOptions{UserNS: true, Env: []string{envKey(u.Key())}})
}
