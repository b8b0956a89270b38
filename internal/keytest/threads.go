package keytest

import (
	"runtime"
	"sync"
	"testing"
)

// OnThreads runs fn on n goroutines at once, each locked to an OS thread
// of its own, and waits for them; it fails the test unless they ran on n
// distinct threads. The threads are never unlocked, so whatever fn does to
// their keyrings dies with them. fn starts only when all n are locked, and
// is given its thread's ID; it may report failures with t.Errorf, not
// t.Fatal.
func OnThreads(t testing.TB, n int, fn func(tid int)) {
	t.Helper()
	var done, locked sync.WaitGroup
	var mu sync.Mutex
	tids := map[int]bool{}
	locked.Add(n)
	for range n {
		done.Add(1)
		go func() {
			defer done.Done()
			runtime.LockOSThread() // never unlocked: n distinct threads
			locked.Done()
			locked.Wait()
			tid := Gettid()
			mu.Lock()
			tids[tid] = true
			mu.Unlock()
			fn(tid)
		}()
	}
	done.Wait()
	if len(tids) != n {
		t.Errorf("the goroutines ran on %d threads, want %d", len(tids), n)
	}
}
