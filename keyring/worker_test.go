//go:build linux

package keyring_test

import (
	"context"
	"errors"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kernkeys/kernkeys/internal/keytest"
	"github.com/kernkeys/kernkeys/keyring"
)

// newWorker starts a Worker in a new session and closes it at cleanup.
func newWorker(t *testing.T) *keyring.Worker {
	t.Helper()
	w := must(keyring.NewWorker(context.Background(), keyring.WorkerOptions{NewSession: true}))(t)
	t.Cleanup(w.Close)
	return w
}

// threadState is what a function on a Worker sees of its thread.
type threadState struct {
	tid             int
	thread, session keyring.ID
}

// workerState reports w's thread as a function running on it sees it.
func workerState(t *testing.T, w *keyring.Worker) threadState {
	t.Helper()
	var s threadState
	check(t, w.Do(context.Background(), func() error {
		s.tid = keytest.Gettid()
		var err error
		if s.thread, err = keyring.Thread().ResolveOrCreate(); err != nil {
			return err
		}
		s.session, err = keyring.Session().Resolve()
		return err
	}))
	return s
}

// The worker's thread keeps its keyrings between calls, they are not the
// caller's, and Close ends the thread and with it every key only its
// keyrings held.
func TestWorkerKeepsKeyrings(t *testing.T) {
	s := keytest.Session(t)
	w := newWorker(t)
	first := workerState(t, w)
	var k keyring.Key
	check(t, w.Do(context.Background(), func() error {
		var err error
		k, err = keyring.Thread().Add("user", "worker-thread-key", []byte("x"))
		return err
	}))
	for range 3 {
		if again := workerState(t, w); again != first {
			t.Errorf("the worker's thread changed between calls: %+v, then %+v", first, again)
		}
	}
	check(t, w.Do(context.Background(), func() error {
		found, err := keyring.Thread().Search("user", "worker-thread-key")
		if err == nil && found != k {
			t.Errorf("a later call found %v in @t, want %v", found, k)
		}
		return err
	}))
	if first.session != w.Session().ID() || first.session == s.ID() {
		t.Errorf("the worker's @s is %v; Session() %v; the caller's %v", first.session, w.Session(), s)
	}
	if first.tid == keytest.Gettid() || first.tid == os.Getpid() {
		t.Errorf("the worker runs on thread %d: the caller's or the main thread", first.tid)
	}
	if id, err := keyring.Thread().Resolve(); err == nil && id == first.thread {
		t.Errorf("the caller sees the worker's @t %v", id)
	}

	w.Close()
	keytest.WaitGone(t, k, first.thread.Key(), first.session.Key())
	waitThreadGone(t, first.tid)
	err := w.Do(context.Background(), func() error {
		t.Error("a function ran after Close")
		return nil
	})
	wantErr(t, err, keyring.ErrClosed)
	w.Close() // again: nothing
}

// Concurrent callers' functions run one at a time on the one thread (the
// race detector checks that they are ordered), and one caller's in the
// order of its calls.
func TestWorkerConcurrentCallers(t *testing.T) {
	keytest.Session(t)
	w := newWorker(t)
	tid := workerState(t, w).tid
	const callers, calls = 8, 200
	var (
		ran  []int // appended to only on the worker's thread, without a lock
		wg   sync.WaitGroup
		errs = make(chan error, callers)
	)
	for c := range callers {
		wg.Go(func() {
			for i := range calls {
				err := w.Do(context.Background(), func() error {
					if got := keytest.Gettid(); got != tid {
						return errors.New("ran on thread " + strconv.Itoa(got) + ", not the worker's")
					}
					ran = append(ran, c*calls+i)
					return nil
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(ran) != callers*calls {
		t.Fatalf("%d functions ran, want %d", len(ran), callers*calls)
	}
	next := make([]int, callers)
	for _, v := range ran {
		c, i := v/calls, v%calls
		if i != next[c] {
			t.Fatalf("caller %d's call %d ran when its call %d was due", c, i, next[c])
		}
		next[c]++
	}
}

// A function's error reaches its caller; a panic comes back as an error
// carrying the value and the stack, and the thread lives on.
func TestWorkerErrorsAndPanics(t *testing.T) {
	keytest.Session(t)
	w := newWorker(t)
	before := workerState(t, w)
	sentinel := errors.New("from fn")
	if err := w.Do(context.Background(), func() error { return sentinel }); err != sentinel {
		t.Errorf("Do = %v, want fn's own error", err)
	}
	err := w.Do(context.Background(), func() error { panic("boom") })
	var pe *keyring.PanicError
	if !errors.As(err, &pe) || pe.Value != "boom" {
		t.Fatalf("Do of a panicking function = %v, want a *PanicError of \"boom\"", err)
	}
	if !strings.Contains(string(pe.Stack), "TestWorkerErrorsAndPanics") {
		t.Errorf("the panic's stack does not show where it was raised:\n%s", pe.Stack)
	}
	if errors.Is(err, keyring.ErrClosed) || !strings.Contains(err.Error(), "boom") {
		t.Errorf("the panic's error is %q", err)
	}
	if after := workerState(t, w); after != before {
		t.Errorf("the thread changed after a panic: %+v, then %+v", before, after)
	}
}

// runtime.Goexit in a function ends the worker's thread: its caller and
// every later one are told so.
func TestWorkerGoexit(t *testing.T) {
	keytest.Session(t)
	w := newWorker(t)
	session := w.Session()
	wantErr(t, w.Do(context.Background(), func() error { runtime.Goexit(); return nil }), keyring.ErrClosed)
	wantErr(t, w.Do(context.Background(), func() error { return nil }), keyring.ErrClosed)
	w.Close()
	keytest.WaitGone(t, session.Key)
}

// A caller's context bounds its wait for the thread (the function does
// not run), and the end of NewWorker's context ends the thread.
func TestWorkerContexts(t *testing.T) {
	keytest.Session(t)
	life, end := context.WithCancel(context.Background())
	defer end()
	w := must(keyring.NewWorker(life, keyring.WorkerOptions{NewSession: true}))(t)
	defer w.Close()

	busy, release := make(chan struct{}), make(chan struct{})
	held := make(chan error, 1)
	go func() {
		held <- w.Do(context.Background(), func() error {
			close(busy)
			<-release
			return nil
		})
	}()
	<-busy
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err := w.Do(ctx, func() error {
		t.Error("a function ran after its caller's context ended")
		return nil
	})
	wantErr(t, err, context.DeadlineExceeded)
	if errors.Is(err, keyring.ErrClosed) {
		t.Errorf("a timed-out wait says the worker is closed: %v", err)
	}
	close(release)
	check(t, <-held)
	ended, cancelNow := context.WithCancel(context.Background())
	cancelNow()
	err = w.Do(ended, func() error {
		t.Error("a function ran with its caller's context already ended")
		return nil
	})
	wantErr(t, err, context.Canceled)

	session := w.Session()
	end()
	keytest.WaitGone(t, session.Key)
	wantErr(t, w.Do(context.Background(), func() error { return nil }), keyring.ErrClosed)
}

// Close from a function running on the worker returns at once, and the
// thread ends after that function.
func TestWorkerCloseFromItself(t *testing.T) {
	keytest.Session(t)
	w := newWorker(t)
	session := w.Session()
	check(t, w.Do(context.Background(), func() error {
		w.Close()
		return nil
	}))
	keytest.WaitGone(t, session.Key)
	wantErr(t, w.Do(context.Background(), func() error { return nil }), keyring.ErrClosed)
}

// A worker joins the named session it is given, and refuses two sessions
// at once.
func TestWorkerOptions(t *testing.T) {
	keytest.Session(t)
	const name = "kernkeys-worker-test"
	w := must(keyring.NewWorker(context.Background(), keyring.WorkerOptions{SessionName: name}))(t)
	d := must(w.Session().Describe())(t)
	if d.Description != name {
		t.Errorf("the worker's session is %q, want %q", d.Description, name)
	}
	w.Close()
	keytest.WaitGone(t, w.Session().Key)

	_, err := keyring.NewWorker(context.Background(), keyring.WorkerOptions{NewSession: true, SessionName: name})
	wantErr(t, err, keyring.ErrInvalid)
	var e *keyring.Error
	if !errors.As(err, &e) || !e.Refused || e.Field != "WorkerOptions.SessionName" {
		t.Errorf("both sessions: %#v", err)
	}
	_, err = keyring.NewWorker(context.Background(), keyring.WorkerOptions{SessionName: ".dot"})
	wantErr(t, err, keyring.ErrInvalid)
}

// waitThreadGone fails the test unless thread tid of this process exits
// within ten seconds.
func waitThreadGone(t *testing.T, tid int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if _, err := os.Stat("/proc/self/task/" + strconv.Itoa(tid)); os.IsNotExist(err) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("thread %d still exists", tid)
		}
	}
}
