package keyring

import (
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/kernkeys/kernkeys/internal/keyctl"
)

// openPoller makes the Go runtime open its network poller (an epoll and an
// eventfd) now, if it has not yet. An open file pins the credentials of the
// thread that opened it, and with them that thread's session, process and
// thread keyrings, until the process exits; the runtime opens the poller
// lazily, on the first timer or pollable file, on whatever thread happens
// to need it. Opening it before a thread's keyrings change keeps them from
// being pinned. Adding a timer to the heap opens it (runtime/time.go,
// addHeap), so a stopped AfterFunc does, without sleeping.
func openPoller() {
	pollerOnce.Do(func() { time.AfterFunc(time.Hour, func() {}).Stop() })
}

// The package's only mutable state: the runtime's poller, once open, stays
// open; and a counter that keeps JoinProcessSession's names unique within
// the process (the pid and the time make them unique across processes).
var (
	pollerOnce   sync.Once
	sessionNames atomic.Uint64
)

// OnThread runs fn on a new goroutine locked to its own OS thread and waits
// for it. The thread is never unlocked: when fn returns, the thread exits,
// and any change fn made to its thread, process or session keyring dies with
// it instead of leaking to whatever goroutine the scheduler would run there
// next. fn never runs on the main thread, which Go never ends. A panic in
// fn is re-raised in the caller.
func OnThread(fn func() error) error {
	type result struct {
		err   error
		panic any
	}
	openPoller()
	done := make(chan result, 1)
	goLocked(func() {
		defer func() {
			if p := recover(); p != nil {
				done <- result{panic: p}
			}
		}()
		done <- result{err: fn()}
	})
	r := <-done
	if r.panic != nil {
		panic(r.panic)
	}
	return r.err
}

// goLocked runs body on a new goroutine locked to an OS thread other than
// the main thread, and never unlocks it: the thread exits when body
// returns.
func goLocked(body func()) {
	go func() {
		runtime.LockOSThread()
		if keyctl.Gettid() == os.Getpid() {
			// Go never ends the main thread: a keyring change made here
			// would outlive body. Start body on a goroutine that cannot
			// be scheduled here while this one holds the lock, and give
			// the untouched main thread back once that one has its own.
			locked := make(chan struct{})
			goLocked(func() {
				close(locked)
				body()
			})
			<-locked
			runtime.UnlockOSThread()
			return
		}
		body()
	}()
}

// InNewSession runs fn, as OnThread does, on a thread that has just joined a
// new anonymous session keyring, which it passes to fn. Keys that fn links
// only into that session die with the thread. Child processes started by fn
// inherit the session on all their threads: the clean way to isolate a
// child's keys.
func InNewSession(fn func(session Keyring) error) error {
	return OnThread(func() error {
		s, err := JoinAnonymousSession()
		if err != nil {
			return err
		}
		return fn(s)
	})
}

// JoinAnonymousSession makes the calling thread join a new, anonymous
// session keyring and returns it (KEYCTL_JOIN_SESSION_KEYRING with a NULL
// name, keyctl_join_session_keyring(3)).
//
// Only the calling OS thread changes. Call it on a thread that stays locked
// until it exits, such as inside OnThread; otherwise the goroutine can move
// away from the new session and another goroutine inherit it.
//
// Errors: ErrQuota, ErrPermission.
func JoinAnonymousSession() (Keyring, error) {
	openPoller()
	id, e := keyctl.JoinSessionKeyring(nil)
	if e != 0 {
		return Keyring{}, fail("join_session_keyring", 0, e)
	}
	return ID(id).Keyring(), nil
}

// JoinSession makes the calling thread join the session keyring called name,
// creating it if the caller has no keyring of that name it may search
// (KEYCTL_JOIN_SESSION_KEYRING). Thread affinity as for JoinAnonymousSession.
//
// Errors: ErrInvalid (empty name, a NUL, a leading '.'), ErrPermission (a
// keyring of that name exists but may not be searched), ErrQuota.
func JoinSession(name string) (Keyring, error) {
	if err := checkName("join_session_keyring", 0, "name", name); err != nil {
		return Keyring{}, err
	}
	openPoller()
	var n cstring
	id, e := keyctl.JoinSessionKeyring(n.set(name))
	if e != 0 {
		return Keyring{}, fail("join_session_keyring", 0, e)
	}
	return ID(id).Keyring(), nil
}

// SessionToParent replaces the session keyring of the calling process's
// parent with the calling thread's, from the parent's next return to user
// space (KEYCTL_SESSION_TO_PARENT, keyctl_session_to_parent(3)). The parent
// must have the same credentials and not be init or a kernel thread.
//
// Errors: ErrPermission.
func SessionToParent() error {
	if e := keyctl.SessionToParent(); e != 0 {
		return fail("session_to_parent", 0, e)
	}
	return nil
}

// JoinProcessSession gives every thread of the process, present and future,
// one new session keyring, and returns it. Threads locked by other
// goroutines change too, whatever session they had.
//
// Go has no process-wide credentials call, so it works like this: a keyring
// with a unique name ("kernkeys:<pid>:<time>:<n>") is created, the user is
// allowed to view and search it (otherwise another thread could not find it
// by name), and KEYCTL_JOIN_SESSION_KEYRING is issued on every thread at
// once with syscall.AllThreadsSyscall. Because the name is new and
// searchable, every thread gets the same answer, which AllThreadsSyscall
// requires (it aborts the process otherwise).
//
// Other processes of the same user may join the keyring by name while it
// lives. AllThreadsSyscall is unavailable when cgo is linked: then nothing
// is changed and the error matches ErrNotSupported.
func JoinProcessSession() (Keyring, error) {
	name := "kernkeys:" + strconv.Itoa(os.Getpid()) + ":" + strconv.FormatInt(time.Now().UnixNano(), 36) +
		":" + strconv.FormatUint(sessionNames.Add(1), 36)
	var s Keyring
	err := OnThread(func() error {
		// This thread's keyring holds the new keyring until every thread's
		// credentials do; it dies with the thread.
		kr, err := Thread().AddKeyring(name)
		if err != nil {
			return err
		}
		if err := kr.SetPerm(PermAll.Possessor() | (PermView | PermSearch).User()); err != nil {
			return err
		}
		var n cstring
		id, e := keyctl.AllThreadsJoinSessionKeyring(n.set(name))
		if e != 0 {
			err := fail("join_session_keyring", kr.id, e)
			if e == syscall.ENOTSUP {
				err.(*Error).Reason = "joining every thread needs syscall.AllThreadsSyscall, which is unavailable when cgo is linked"
			}
			return err
		}
		s = ID(id).Keyring()
		return nil
	})
	return s, err
}
