package keyring

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/kernkeys/kernkeys/internal/keyctl"
)

// ErrClosed matches the error of Worker.Do once the worker's thread has
// ended: after Close, after the end of the context NewWorker was given, or
// after a function called runtime.Goexit on it.
var ErrClosed = errors.New("worker closed")

// WorkerOptions are the optional arguments of NewWorker. The zero value
// keeps the session keyring the new thread inherits.
type WorkerOptions struct {
	// NewSession makes the thread join a new anonymous session keyring
	// before the first call, as InNewSession does.
	NewSession bool
	// SessionName, when not empty, makes the thread join the session
	// keyring of that name, creating it if the caller has no keyring of
	// that name it may search, as JoinSession does.
	SessionName string
}

// A Worker is one OS thread, locked for its whole life, that runs the
// functions given to Do one at a time, each to completion, in the order
// the calls got the thread. Its thread (@t), process (@p) and session (@s)
// keyrings stay with it from call to call: what one function adds to @t
// the next one finds there. Close, or the end of the context given to
// NewWorker, ends the thread, and with it the thread keyring and every key
// only its keyrings held. A Worker is safe for concurrent use. Close it,
// or end its context, when done: a Worker dropped without either keeps
// its thread, asleep, until the process exits.
//
// Use a Worker where OnThread is too slow: OnThread starts and ends an OS
// thread for every call (60 to 70 µs on the 2-core virtual machine of
// BENCHMARKS.md), a Worker hands the function to its thread and back. The
// hand-over costs a microsecond or two while calls come back to back, with
// a CPU free for each side: the thread waits for the next function, and
// the caller for the result, by spinning for up to 20 µs before sleeping
// on a futex. After a longer pause, or on a machine with no CPU to spare,
// it costs two thread wake-ups, 28 µs a call there: less than OnThread,
// but not free. A side whose spins go unmet sleeps at once for
// its next 1, 2, 4 ... up to 16 waits, so that spinning does not hold a
// CPU for nothing; with GOMAXPROCS 1 nothing spins.
type Worker struct {
	turn    chan struct{} // holds a token while a caller owns the thread
	exited  chan struct{} // closed when the thread has ended
	session Keyring
	tid     int         // the thread's ID, to recognise Close called on it
	quit    atomic.Bool // set by Close and by the end of NewWorker's context
	unlife  func() bool // unregisters stop from NewWorker's context

	// The hand-over. The caller that holds turn stores fn and posts
	// request; the thread runs fn, stores the outcome and posts done.
	request signal
	done    signal
	fn      func() error
	err     error
}

// signal is a one-shot wake-up between the one goroutine that posts it and
// the one that waits for it, which spins for a while before it sleeps.
// The sleep is a futex on state, not a channel: a channel wakes a locked
// goroutine through the Go scheduler, which hands a P to some thread that
// hands it to the locked one, three thread wake-ups where the futex needs
// one. Only the waiter, or end, ends it (signalEnded), so that a thread
// that is gone cannot be posted to.
type signal struct {
	state atomic.Uint32
	// unspun counts the waits left that go straight to sleep after a spin
	// that was not met, missed the spins unmet in a row: on a machine
	// with no CPU to spare, or with calls far apart, spinning holds a CPU
	// for nothing. Only the waiter uses them.
	unspun, missed int
}

const (
	signalIdle   = iota // not posted; the waiter, if any, is spinning or busy
	signalPosted        // posted, not yet taken
	signalAsleep        // the waiter sleeps on the futex
	signalEnded         // the waiter is gone or told to go; posts fail
)

// workerSpin is how long each side of a Worker spins for the other before
// it sleeps. Sleeping and waking took tens of microseconds on the 2-core
// machine of BENCHMARKS.md; spinning for longer than that to avoid it
// would cost more than it saves.
const workerSpin = 20 * time.Microsecond

// post wakes the waiter. It reports false, and posts nothing, when the
// waiter has ended.
func (s *signal) post() bool {
	for {
		switch st := s.state.Load(); st {
		case signalEnded:
			return false
		case signalIdle, signalAsleep:
			if s.state.CompareAndSwap(st, signalPosted) {
				if st == signalAsleep {
					keyctl.FutexWake((*uint32)(unsafe.Pointer(&s.state)))
				}
				return true
			}
		default:
			panic("keyring: a Worker signal posted twice")
		}
	}
}

// end ends the signal if its waiter sleeps, waking it. A waiter that does
// not sleep sees quit before it does.
func (s *signal) end() {
	if s.state.CompareAndSwap(signalAsleep, signalEnded) {
		keyctl.FutexWake((*uint32)(unsafe.Pointer(&s.state)))
	}
}

// wait waits for a post and takes it. When quit is set (a nil quit never
// is) and nothing is posted, it ends the signal and reports false.
func (s *signal) wait(quit *atomic.Bool) bool {
	if s.spin(quit) {
		return true
	}
	if !s.state.CompareAndSwap(signalIdle, signalAsleep) {
		return s.take()
	}
	// Set before the CAS, quit was missed by end, which saw no sleeper.
	if quit != nil && quit.Load() && s.state.CompareAndSwap(signalAsleep, signalEnded) {
		return false
	}
	for s.state.Load() == signalAsleep {
		keyctl.FutexWait((*uint32)(unsafe.Pointer(&s.state)), signalAsleep)
	}
	return s.take()
}

// take takes a post, or reports false when the signal has ended.
func (s *signal) take() bool {
	if s.state.Load() == signalEnded {
		return false
	}
	s.state.Store(signalIdle)
	return true
}

// spin takes a post that arrives within workerSpin. Spinning is pointless
// when the poster cannot run meanwhile (GOMAXPROCS 1); after n spins in a
// row that timed out, the next 2^(n-1) waits (at most spinBackoff) go
// straight to sleep.
func (s *signal) spin(quit *atomic.Bool) bool {
	if s.unspun > 0 {
		s.unspun--
		return false
	}
	if runtime.GOMAXPROCS(0) < 2 {
		return false
	}
	var start time.Time
	for i := 0; ; i++ {
		if s.state.Load() == signalPosted {
			s.state.Store(signalIdle)
			s.missed = 0
			return true
		}
		if i%64 == 0 {
			switch {
			case i == 0:
				start = time.Now()
			case time.Since(start) > workerSpin || quit != nil && quit.Load():
				s.missed = min(s.missed+1, 5)
				s.unspun = min(1<<(s.missed-1), spinBackoff)
				return false
			}
		}
	}
}

// spinBackoff is the most waits that go straight to sleep after spins
// that were not met: with calls far apart, spinning costs at most one
// wait in this many.
const spinBackoff = 16

// NewWorker starts a Worker's thread and, as o says, joins a session
// keyring on it. When ctx ends, the thread ends as if Close had been
// called.
//
// Errors: ErrInvalid (both NewSession and SessionName set, or a bad
// SessionName, refused before the thread starts), and those of
// JoinAnonymousSession, JoinSession, and Key.Resolve of the session.
func NewWorker(ctx context.Context, o WorkerOptions) (*Worker, error) {
	const op = "keyring.NewWorker"
	if o.NewSession && o.SessionName != "" {
		return nil, invalid(op, 0, "WorkerOptions.SessionName", "NewSession and SessionName are both set")
	}
	if o.SessionName != "" {
		if err := checkName(op, 0, "WorkerOptions.SessionName", o.SessionName); err != nil {
			return nil, err
		}
	}
	openPoller()
	w := &Worker{turn: make(chan struct{}, 1), exited: make(chan struct{})}
	started := make(chan error, 1)
	goLocked(func() { w.serve(o, started) })
	if err := <-started; err != nil {
		return nil, err
	}
	w.unlife = context.AfterFunc(ctx, w.stop)
	return w, nil
}

// serve is the thread's life: join, report, then run functions until told
// to stop. Returning ends the thread, which is never unlocked.
func (w *Worker) serve(o WorkerOptions, started chan<- error) {
	defer close(w.exited)
	var err error
	switch {
	case o.NewSession:
		w.session, err = JoinAnonymousSession()
	case o.SessionName != "":
		w.session, err = JoinSession(o.SessionName)
	default:
		var id ID
		id, err = Session().Resolve()
		w.session = id.Keyring()
	}
	w.tid = keyctl.Gettid()
	started <- err
	if err != nil {
		return
	}
	for w.request.wait(&w.quit) {
		w.call()
	}
}

// call runs the posted function and posts its outcome.
func (w *Worker) call() {
	returned := false
	defer func() {
		w.fn = nil
		if !returned {
			p := recover()
			err := w.failed("the function panicked", syscall.ECANCELED, &PanicError{Value: p, Stack: debug.Stack()})
			if p == nil {
				// runtime.Goexit: the goroutine ends after this, and
				// with it the thread. Later calls must not wait for it.
				err.Reason, err.Errno, err.Err = "the function called runtime.Goexit, which ended the worker's thread", syscall.ESRCH, ErrClosed
				w.request.state.Store(signalEnded)
			}
			w.err = err
		}
		w.done.post()
	}()
	w.err = w.fn()
	returned = true
}

// Do runs fn on w's thread and returns its error. Concurrent calls run one
// at a time. ctx bounds the wait for the thread (an ended ctx fails the
// call before fn starts); once fn has started, Do waits for it to return,
// however long it takes (fn may watch ctx itself).
// Do allocates nothing, though a closure created for each call does: a
// caller that makes the same call often can create it once.
//
// Calling Do from a function running on w waits for itself forever.
//
// Errors: what fn returns; an error matching ErrClosed when w's thread has
// ended (fn did not run); one matching ctx.Err() when ctx ended first (fn
// did not run); one whose Err is a *PanicError when fn panicked (the
// thread lives on).
func (w *Worker) Do(ctx context.Context, fn func() error) error {
	if ctx.Err() != nil {
		return w.gaveUp(ctx)
	}
	select {
	case w.turn <- struct{}{}:
	case <-w.exited:
		return w.closedError()
	case <-ctx.Done():
		return w.gaveUp(ctx)
	}
	w.fn = fn
	if !w.request.post() {
		w.fn = nil
		<-w.turn
		return w.closedError()
	}
	w.done.wait(nil)
	err := w.err
	w.err = nil
	<-w.turn
	return err
}

func (w *Worker) failed(reason string, errno syscall.Errno, err error) *Error {
	return &Error{Op: "keyring.Worker.Do", Errno: errno, Reason: reason, Err: err}
}

// gaveUp is Do's error when ctx ended before fn could start.
func (w *Worker) gaveUp(ctx context.Context) error {
	err := w.failed("gave up waiting for the worker's thread", syscall.ECANCELED, ctx.Err())
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		err.Errno = syscall.ETIMEDOUT
	}
	return err
}

func (w *Worker) closedError() error {
	return w.failed("the worker's thread has ended", syscall.ESRCH, ErrClosed)
}

// Session returns the session keyring of w's thread: the one it joined,
// or the one it inherited, resolved to its serial when the thread started.
func (w *Worker) Session() Keyring { return w.session }

// Close ends w's thread once the function running on it, if any, has
// returned, and waits for that (unless called from that function). Calls
// waiting for the thread fail with ErrClosed. Closing again does nothing.
func (w *Worker) Close() {
	w.unlife()
	w.stop()
	if keyctl.Gettid() != w.tid {
		<-w.exited
	}
}

// stop tells the thread to end when it next waits for a function.
func (w *Worker) stop() {
	w.quit.Store(true)
	w.request.end()
}

// PanicError is the Err of the error Worker.Do returns when its function
// panicked: the value it panicked with, and the stack of the worker's
// thread at the recovery, which shows where the panic was raised.
type PanicError struct {
	Value any
	Stack []byte
}

func (p *PanicError) Error() string { return fmt.Sprint("panic: ", p.Value) }
