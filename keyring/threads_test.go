//go:build linux

package keyring_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/kernkeys/kernkeys/internal/keytest"
	"github.com/kernkeys/kernkeys/keyring"
)

// cgoLinked reports whether this binary links cgo (as -race builds do),
// which makes syscall.AllThreadsSyscall refuse with ENOTSUP.
func cgoLinked() bool {
	_, _, e := syscall.AllThreadsSyscall(syscall.SYS_GETPID, 0, 0, 0)
	return e == syscall.ENOTSUP
}

// A key added through the API is found and read from 64 goroutines locked
// to 64 different threads that share one session: the one
// JoinProcessSession gave every thread, or, where cgo is linked and it must
// refuse, the one the child process inherited on all its threads. Runs in a
// child process: the join is process-wide.
func TestSixtyFourThreads(t *testing.T) {
	if !keytest.IsChild(t) {
		keytest.Session(t)
		keytest.RunChild(t, keytest.ChildOptions{})
		return
	}
	s, err := keyring.JoinProcessSession()
	if cgoLinked() {
		wantErr(t, err, keyring.ErrNotSupported)
		if !strings.Contains(err.Error(), "cgo") {
			t.Errorf("error %q does not say why", err)
		}
		s = must(keyring.Session().Resolve())(t).Keyring()
	} else {
		if err != nil {
			t.Fatalf("JoinProcessSession: %v", err)
		}
		d := must(s.Describe())(t)
		if !strings.HasPrefix(d.Description, "kernkeys:"+strconv.Itoa(os.Getpid())+":") {
			t.Errorf("process session is %v", d)
		}
	}
	payload := []byte("seen by every thread")
	k := must(s.Add("user", "shared-by-threads", payload))(t)

	const n = 64
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		tids    = map[int]bool{}
		arrived sync.WaitGroup
	)
	arrived.Add(n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread() // never unlocked: 64 distinct threads
			arrived.Done()
			arrived.Wait() // all 64 are locked at once, so on 64 threads
			if id, err := keyring.Session().Resolve(); err != nil || id != s.ID() {
				t.Errorf("thread %d: @s is %v, %v; want %v", keytest.Gettid(), id, err, s.ID())
			}
			found, err := keyring.Session().Search("user", "shared-by-threads")
			if err != nil || found != k {
				t.Errorf("thread %d: Search = %v, %v", keytest.Gettid(), found, err)
				return
			}
			got, err := found.Read()
			if err != nil || !bytes.Equal(got, payload) {
				t.Errorf("thread %d: Read: %v", keytest.Gettid(), err)
			}
			mu.Lock()
			tids[keytest.Gettid()] = true
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(tids) != n {
		t.Errorf("the goroutines ran on %d threads, want %d", len(tids), n)
	}
	// Threads started after the join inherit it too.
	err = keyring.OnThread(func() error {
		id, err := keyring.Session().Resolve()
		if err == nil && id != s.ID() {
			t.Errorf("a new thread's @s is %v, want %v", id, s.ID())
		}
		return err
	})
	check(t, err)
	check(t, s.Clear())
}

// OnThread and InNewSession keep their promise in a fresh process, where
// the main thread is idle and Go's netpoller not yet open: fn runs off the
// main thread, and its session dies with its thread even when fn opens the
// poller (testdata/threadlife says why both matter).
func TestThreadLifeInFreshProcess(t *testing.T) {
	bin := keytest.Build(t, "./testdata/threadlife")
	keytest.Session(t)
	for i := 0; i < 3; i++ {
		if out, err := exec.Command(bin).CombinedOutput(); err != nil {
			t.Fatalf("threadlife: %v\n%s", err, out)
		}
	}
}

// With cgo linked, AllThreadsSyscall cannot work: JoinProcessSession says
// so with ErrNotSupported rather than crashing.
func TestJoinProcessSessionWithCgo(t *testing.T) {
	keytest.NeedCC(t)
	bin := keytest.Build(t, "./testdata/cgojoin", "CGO_ENABLED=1")
	keytest.Session(t)
	out, err := exec.Command(bin).CombinedOutput()
	if err != nil {
		t.Fatalf("cgojoin: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "cgo") {
		t.Errorf("the error does not say why: %s", out)
	}
}

// Looking up a thread's keyrings never creates them.
func TestResolveDoesNotCreate(t *testing.T) {
	err := keyring.OnThread(func() error {
		for _, r := range []keyring.Keyring{keyring.Thread(), keyring.Process()} {
			for i := 0; i < 2; i++ {
				if _, err := r.Resolve(); !errors.Is(err, keyring.ErrNotFound) {
					t.Errorf("Resolve(%v) on a fresh thread = %v, want ErrNotFound every time", r, err)
				}
			}
		}
		id, err := keyring.Thread().ResolveOrCreate()
		if err != nil {
			return err
		}
		if again, err := keyring.Thread().Resolve(); err != nil || again != id {
			t.Errorf("after ResolveOrCreate, Resolve = %v, %v; want %v", again, err, id)
		}
		return nil
	})
	check(t, err)
}

// OnThread's thread exits with it, taking its keyrings along: the next
// thread has no thread keyring, and a key only @t held is destroyed.
func TestOnThreadDiscardsThread(t *testing.T) {
	var k keyring.Key
	var tid int
	check(t, keyring.OnThread(func() error {
		tid = keytest.Gettid()
		var err error
		k, err = keyring.Thread().Add("user", "thread-only", []byte("x"))
		return err
	}))
	keytest.WaitGone(t, k)
	waitThreadGone(t, tid)
	check(t, keyring.OnThread(func() error {
		if _, err := keyring.Thread().Resolve(); !errors.Is(err, keyring.ErrNotFound) {
			t.Errorf("a later thread has a thread keyring: %v", err)
		}
		return nil
	}))

	defer func() {
		if p := recover(); p != "boom" {
			t.Errorf("OnThread re-raised %v, want the panic value", p)
		}
	}()
	_ = keyring.OnThread(func() error { panic("boom") })
}

// InNewSession's session differs from the caller's and dies with its
// thread.
func TestInNewSession(t *testing.T) {
	s := keytest.Session(t)
	var inner keyring.Keyring
	var k keyring.Key
	check(t, keyring.InNewSession(func(ns keyring.Keyring) error {
		inner = ns
		if id, err := keyring.Session().Resolve(); err != nil || id != ns.ID() || id == s.ID() {
			t.Errorf("inside: @s = %v, %v; session %v; outer %v", id, err, ns, s)
		}
		var err error
		k, err = ns.Add("user", "inner", []byte("x"))
		return err
	}))
	keytest.WaitGone(t, k, inner.Key)
}

// KEYCTL_SESSION_TO_PARENT: a child joins a named session and gives it to
// its single-threaded parent (sh), whose next child finds it as @s.
func TestSessionToParent(t *testing.T) {
	name := "kernkeys-s2p-test"
	if keytest.IsChild(t) {
		runtime.LockOSThread()
		switch os.Getenv("KERNKEYS_TEST_STEP") {
		case "give":
			s := must(keyring.JoinSession(name))(t)
			must(s.Add("user", "from-child", []byte("x")))(t)
			check(t, keyring.SessionToParent())
		case "check":
			d := must(keyring.Session().Describe())(t)
			if d.Description != name {
				t.Errorf("the parent's next child has session %q, want %q", d.Description, name)
			}
			must(keyring.Session().Search("user", "from-child"))(t)
			check(t, keyring.Session().Clear())
		default:
			t.Fatal("no step")
		}
		return
	}
	keytest.Session(t)
	self, err := os.Executable() // not /proc/self/exe: inside sh, that is sh
	check(t, err)
	run := "-test.run=^" + t.Name() + "$"
	sh := exec.Command("/bin/sh", "-c",
		`KERNKEYS_TEST_STEP=give "$0" "$1" -test.v && KERNKEYS_TEST_STEP=check "$0" "$1" -test.v`,
		self, run)
	sh.Env = append(os.Environ(), "KERNKEYS_TEST_CHILD="+t.Name())
	out, err := sh.CombinedOutput()
	if err != nil || strings.Count(string(out), "--- PASS") != 2 {
		t.Fatalf("sh: %v\n%s", err, out)
	}
}
