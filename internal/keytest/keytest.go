package keytest

import (
	"errors"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kernkeys/kernkeys/internal/keyctl"
	"github.com/kernkeys/kernkeys/keyring"
)

// Session locks the calling goroutine, which must be the test's own, to its
// OS thread for the rest of the test (the thread exits with the test's
// goroutine), joins a new anonymous session keyring and returns it.
//
// At cleanup it checks that the test left nothing behind: the user and
// user-session keyrings link exactly what they did before, and every key
// reachable from the session, thread and process keyrings is destroyed once
// those are cleared. For an ordinary user it shares the user's key quota
// with the other tests until the test ends; see OwnQuota.
func Session(t testing.TB) keyring.Keyring {
	t.Helper()
	lockQuota(t)           // first: its cleanup runs after the session's
	runtime.LockOSThread() // never unlocked: the thread dies with the test
	before := persistentLinks(t)
	s, err := keyring.JoinAnonymousSession()
	if err != nil {
		t.Fatalf("joining a fresh session: %v", err)
	}
	t.Cleanup(func() {
		var left []keyring.Key
		for _, r := range []keyring.Keyring{s, keyring.Thread(), keyring.Process()} {
			if _, err := r.Resolve(); errors.Is(err, keyring.ErrNotFound) {
				continue // this thread never made it
			}
			_ = r.Walk(func(n keyring.Node) error {
				if n.Depth > 0 {
					left = append(left, n.Key)
				}
				return nil
			})
			if err := r.Clear(); err != nil {
				t.Errorf("clearing %v: %v", r, err)
			}
		}
		if after := persistentLinks(t); !slices.Equal(before, after) {
			t.Errorf("the test changed the user keyrings' links: before %v, after %v", before, after)
		}
		WaitGone(t, left...)
	})
	return s
}

// persistentLinks lists what @u and @us link to: keyrings that outlive a
// test, so a test must leave them as it found them.
func persistentLinks(t testing.TB) []keyring.Key {
	t.Helper()
	var all []keyring.Key
	for _, r := range []keyring.Keyring{keyring.User(), keyring.UserSession()} {
		l, err := r.Links()
		if err != nil {
			t.Fatalf("listing %v: %v", r, err)
		}
		all = append(all, l...)
	}
	return all
}

// WaitGone fails the test unless every key in keys ceases to exist within
// ten seconds. The kernel destroys an unreferenced key in its garbage
// collector, a workqueue, some tens of milliseconds after the last link
// goes; a keyring's links are released only when it is destroyed, so each
// level of nesting takes another pass, and on a loaded machine (CI's two
// cores running several test binaries) a pass was seen to take over two
// seconds. WaitGone returns as soon as the keys are gone. It asks
// describe, which never finds an invalidated key: for one of those it
// proves nothing.
func WaitGone(t testing.TB, keys ...keyring.Key) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for _, k := range keys {
		for {
			_, err := k.Describe()
			if errors.Is(err, keyring.ErrNotFound) {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("key %v outlived the test (describe: %v)", k, err)
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// Gettid returns the calling thread's ID.
func Gettid() int { return keyctl.Gettid() }

// childEnv names the test a child process was started to run.
const childEnv = "KERNKEYS_TEST_CHILD"

// IsChild reports whether this process is a child started by RunChild for t.
func IsChild(t testing.TB) bool { return os.Getenv(childEnv) == t.Name() }

// runPattern is the -test.run pattern that selects exactly the named test.
func runPattern(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}
