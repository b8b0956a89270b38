//go:build linux

package keyring_test

import (
	"context"
	"errors"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kernkeys/kernkeys/internal/keytest"
	"github.com/kernkeys/kernkeys/keyring"
)

// watchQueue opens a watch queue that the test closes at its end, or skips
// where the kernel has none (TestWatch checks that error).
func watchQueue(t *testing.T, size int) *keyring.WatchQueue {
	t.Helper()
	q, err := keyring.NewWatchQueue(size)
	if errors.Is(err, keyring.ErrNotSupported) && !capabilities(t).Notifications {
		t.Skipf("no watch queues (CONFIG_WATCH_QUEUE) in the running kernel: %v", err)
	}
	check(t, err)
	t.Cleanup(func() { q.Close() })
	return q
}

// watch watches k through q as watch 1, or skips where the kernel has no
// key notifications (TestWatch checks that error).
func watch(t *testing.T, k keyring.Key, q *keyring.WatchQueue) {
	t.Helper()
	err := k.Watch(q, 1)
	if errors.Is(err, keyring.ErrNotSupported) && !capabilities(t).Notifications {
		t.Skipf("no key notifications (CONFIG_KEY_NOTIFICATIONS) in the running kernel: %v", err)
	}
	check(t, err)
}

// waitParked waits until n goroutines wait in a WatchQueue read in the
// runtime's poller ("IO wait"), not in a read(2) that holds a thread
// ("syscall").
func waitParked(t *testing.T, n int) {
	t.Helper()
	buf := make([]byte, 1<<20)
	for start := time.Now(); ; time.Sleep(time.Millisecond) {
		parked := 0
		for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
			if strings.Contains(g, "keyring.(*WatchQueue).read(") && strings.Contains(g, "[IO wait") {
				parked++
			}
		}
		if parked == n {
			return
		}
		if time.Since(start) > 30*time.Second {
			t.Fatalf("%d goroutines parked in a watch queue read after 30s, want %d", parked, n)
		}
	}
}

// threads is the number of the process's OS threads.
func threads(t *testing.T) int {
	return must(strconv.Atoi(keytest.ProcStatus(t, "Threads")))(t)
}

// Blocked readers wait in the poller, holding no OS thread each, and Close
// wakes them.
func TestWatchQueueCloseWakesReaders(t *testing.T) {
	const readers = 64
	before := threads(t)
	qs := make([]*keyring.WatchQueue, readers)
	errs := make(chan error, readers)
	for i := range qs {
		qs[i] = watchQueue(t, 1)
		go func() {
			_, err := qs[i].Read()
			errs <- err
		}()
	}
	waitParked(t, readers)
	if after := threads(t); after-before >= readers/2 {
		t.Errorf("%d readers blocked on watch queues took %d threads to %d", readers, before, after)
	}
	for _, q := range qs {
		check(t, q.Close())
	}
	for range readers {
		wantErr(t, <-errs, os.ErrClosed, syscall.EBADF)
	}
	_, err := qs[0].Read()
	wantErr(t, err, os.ErrClosed)
	wantErr(t, qs[0].SetFilter(), os.ErrClosed)
	wantErr(t, qs[0].Close(), os.ErrClosed)
}

// A context ends a read: cancelled while it waits, by its deadline, or
// before it starts. None of them spends the queue.
func TestWatchQueueContext(t *testing.T) {
	q := watchQueue(t, 4)
	ctx, cancel := context.WithCancel(context.Background())
	errs := make(chan error, 1)
	go func() {
		_, err := q.ReadContext(ctx)
		errs <- err
	}()
	waitParked(t, 1)
	cancel()
	wantErr(t, <-errs, context.Canceled, syscall.ECANCELED)
	_, err := q.ReadContext(ctx)
	wantErr(t, err, context.Canceled)

	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_, err = q.ReadContext(ctx)
	wantErr(t, err, context.DeadlineExceeded, syscall.ETIMEDOUT)

	// The queue still blocks, and still wakes on Close.
	go func() {
		_, err := q.Read()
		errs <- err
	}()
	waitParked(t, 1)
	check(t, q.Close())
	wantErr(t, <-errs, os.ErrClosed)
}

// The iterator yields each notification once, in order, across reads and
// ranges, and ends with the error that ended it; a read its context ended
// leaves the queue as it was.
func TestWatchQueueNotifications(t *testing.T) {
	s := keytest.Session(t)
	q := watchQueue(t, 16)
	watch(t, s.Key, q)
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	_, err := q.ReadContext(ctx)
	cancel()
	wantErr(t, err, context.DeadlineExceeded)

	var want []keyring.Notification
	for i := range 3 {
		k := must(s.Add("user", "watched"+strconv.Itoa(i), []byte("x")))(t)
		want = append(want, keyring.Notification{Type: keyring.KeyLinked, WatchID: 1, Key: s.Key, Aux: k})
	}
	check(t, s.Clear())
	want = append(want, keyring.Notification{Type: keyring.KeyCleared, WatchID: 1, Key: s.Key})
	var got []keyring.Notification
	for n, err := range q.Notifications(context.Background()) {
		check(t, err)
		if got = append(got, n); len(got) == 1 {
			break // one read took all four: the other three wait for the next range
		}
	}
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	var end error
	for n, err := range q.Notifications(ctx) {
		if err != nil {
			end = err
			continue
		}
		if got = append(got, n); n.Type == keyring.KeyCleared {
			cancel()
		}
	}
	wantErr(t, end, context.Canceled)
	if !slices.Equal(got, want) {
		t.Errorf("notifications\n %+v\nwant\n %+v", got, want)
	}
}

// A queue adopted through a duplicate descriptor reads on after the queue
// that opened it is closed, until the pipe is empty and without a writer:
// then io.EOF.
func TestWatchQueueAdoptedEOF(t *testing.T) {
	s := keytest.Session(t)
	q := watchQueue(t, 4)
	adopted := keyring.WatchQueueFromFD(must(syscall.Dup(q.Fd()))(t))
	defer adopted.Close()
	watch(t, s.Key, q)
	k := must(s.Add("user", "watched", []byte("x")))(t)
	check(t, q.Close())
	var got []keyring.Notification
	for n, err := range adopted.Notifications(context.Background()) {
		if err != nil {
			wantErr(t, err, io.EOF, syscall.EPIPE)
			break
		}
		got = append(got, n)
	}
	// What the kernel queued before q closed is still there to read.
	want := []keyring.Notification{{Type: keyring.KeyLinked, WatchID: 1, Key: s.Key, Aux: k}}
	if !slices.Equal(got, want) {
		t.Errorf("notifications\n %+v\nwant\n %+v", got, want)
	}
}
