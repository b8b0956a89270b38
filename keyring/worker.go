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

	"golang.org/x/sys/cpu"

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
// hand-over costs under a microsecond while calls come back to back, with
// a CPU free for each side: the thread waits for the next function, and
// the caller for the result, by spinning for some 30 µs before sleeping
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
	unlife  func() bool // unregisters stop from NewWorker's context

	// The hand-over. The caller that holds turn stores fn and posts
	// request; the thread runs fn, stores the outcome and posts done.
	// What a poster writes (the posts, and fn or err) shares a cache
	// line that only the poster writes; what the waiter keeps (taken)
	// is on another: on the 2-core machine of BENCHMARKS.md each move of
	// a line from one core to the other costs about 300 ns.
	_           cpu.CacheLinePad
	request     signal
	fn          func() error
	_           cpu.CacheLinePad
	done        signal
	err         error
	_           cpu.CacheLinePad
	requestWait waiter // the thread's
	_           cpu.CacheLinePad
	doneWait    waiter // the caller's that holds turn
	_           cpu.CacheLinePad
}

// signal is a wake-up from the one goroutine that posts it to the one that
// waits for it, which spins for a while before it sleeps. The sleep is a
// futex on posts, not a channel: a channel wakes a locked goroutine
// through the Go scheduler, which hands a P to some thread that hands it
// to the locked one, three thread wake-ups where the futex needs one.
//
// posts counts the posts in steps of 2; its bit 0 says the signal has
// ended (its waiter is gone or told to go) and posts fail. The waiter
// remembers how many it took (waiter.taken) rather than writing posts
// back, so that a post moves posts' cache line once, and the poster wakes
// the futex only when sleeping says the waiter may sleep on it.
type signal struct {
	posts    atomic.Uint32
	sleeping atomic.Uint32
}

const signalEnded = 1 // posts' bit 0

// waiter is the waiting side's own state of a signal.
type waiter struct {
	taken uint32 // posts taken, as posts counts them (bit 0 clear)
	// unspun counts the waits left that go straight to sleep after a spin
	// that was not met, missed the spins unmet in a row: on a machine
	// with no CPU to spare, or with calls far apart, spinning holds a CPU
	// for nothing.
	unspun, missed int
	// single says GOMAXPROCS was 1 when the waiter last slept (or the
	// Worker started): the poster cannot run while the waiter spins.
	// Read there and not at each wait, where it takes the scheduler's
	// lock.
	single bool
}

// workerSpin is how long each side of a Worker spins for the other, after
// its first spinRounds rounds, before it sleeps. Sleeping and waking took
// tens of microseconds on the 2-core machine of BENCHMARKS.md; spinning
// for much longer than that to avoid it would cost more than it saves.
const workerSpin = 20 * time.Microsecond

// post wakes the waiter. It reports false, and posts nothing the waiter
// will take, when the signal has ended.
func (s *signal) post() bool {
	if s.posts.Add(2)&signalEnded != 0 {
		return false
	}
	// Atomics are sequentially consistent: the waiter stores sleeping
	// before it last reads posts, so either it sees this post or this
	// sees it may sleep.
	if s.sleeping.Load() != 0 {
		keyctl.FutexWake((*uint32)(unsafe.Pointer(&s.posts)))
	}
	return true
}

// end ends the signal, waking its waiter if it sleeps. A post that came
// before is still taken.
func (s *signal) end() {
	s.posts.Or(signalEnded)
	if s.sleeping.Load() != 0 {
		keyctl.FutexWake((*uint32)(unsafe.Pointer(&s.posts)))
	}
}

// wait waits for a post and takes it. It reports false when the signal
// has ended with nothing left to take.
func (s *signal) wait(w *waiter) bool {
	if posted, ok := s.spin(w); ok {
		return posted
	}
	w.single = runtime.GOMAXPROCS(0) < 2
	s.sleeping.Store(1)
	defer s.sleeping.Store(0)
	for {
		if posted, ok := s.take(w); ok {
			return posted
		}
		keyctl.FutexWait((*uint32)(unsafe.Pointer(&s.posts)), w.taken)
	}
}

// take takes a post if there is one (true, true), or sees that the signal
// has ended (false, true).
func (s *signal) take(w *waiter) (posted, ok bool) {
	p := s.posts.Load()
	switch {
	case p&^signalEnded != w.taken:
		w.taken += 2
		return true, true
	case p&signalEnded != 0:
		return false, true
	}
	return false, false
}

// spin takes a post that arrives within its spin, or sees the end.
// Spinning is pointless when the poster cannot run meanwhile (GOMAXPROCS
// 1); after n spins in a row that were not met, the next 2^(n-1) waits (at
// most spinBackoff) go straight to sleep.
//
// A spin looks at posts, pauses, and looks again. It reads the clock only
// after spinRounds rounds, and again every spinRounds rounds until
// workerSpin has passed since the first reading: on the worker's thread,
// just back from a system call, the vDSO's clock costs TLB misses (the
// host of BENCHMARKS.md runs with page-table isolation and no PCID), and
// a post that comes within a few microseconds is taken without it.
func (s *signal) spin(w *waiter) (posted, ok bool) {
	if w.unspun > 0 {
		w.unspun--
		return false, false
	}
	if w.single {
		return false, false
	}
	var start time.Time
	for i := 1; ; i++ {
		if posted, ok := s.take(w); ok {
			w.missed = 0
			return posted, ok
		}
		pause()
		if i%spinRounds == 0 {
			if i == spinRounds {
				start = time.Now()
			} else if time.Since(start) > workerSpin {
				w.missed = min(w.missed+1, 5)
				w.unspun = min(1<<(w.missed-1), spinBackoff)
				return false, false
			}
		}
	}
}

// spinBackoff is the most waits that go straight to sleep after spins
// that were not met: with calls far apart, spinning costs at most one
// wait in this many.
const spinBackoff = 16

// spinRounds is how many rounds spin makes between looks at the clock:
// 10 to 15 µs on the machine of BENCHMARKS.md.
const spinRounds = 1024

// pause spends about 10 ns without touching memory, between two looks of
// spin at the posts: Go has no PAUSE instruction, and without one the
// spinning core's loads of the cache line slow the other core's writes to
// it (through a Worker, a describe took 4.4 µs with back-to-back loads,
// 2.1 to 2.7 with the pause, against 1.9 direct).
func pause() {
	x := pauseSeed
	for range 30 {
		x = x*1664525 + 1013904223
	}
	if x == 0 { // never: keeps the loop from being removed
		pauseSeed = x
	}
}

// pauseSeed is pause's starting value, a variable so that the compiler
// cannot compute pause's loop ahead.
var pauseSeed uint32 = 1

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
	w.requestWait.single = runtime.GOMAXPROCS(0) < 2
	w.doneWait.single = w.requestWait.single
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
	for w.request.wait(&w.requestWait) {
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
				w.request.end()
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
	w.done.wait(&w.doneWait)
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
