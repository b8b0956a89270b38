// Command threads reports what packages sessioninit and processinit did:
// on 64 goroutines locked to 64 different threads it resolves @s and @p
// and checks that they are the keyrings the packages report, then prints
// "session=<serial> process=<serial>". Built without cgo, it prints the
// packages' errors. Built by sessioninit_test.go with and without cgo and
// with -race.
package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"

	"github.com/kernkeys/kernkeys/keyring"
	"github.com/kernkeys/kernkeys/keyring/processinit"
	"github.com/kernkeys/kernkeys/keyring/sessioninit"
)

func main() {
	s, serr := sessioninit.Session()
	p, perr := processinit.Process()
	if serr != nil || perr != nil {
		fmt.Printf("session: %v\nprocess: %v\n", serr, perr)
		if !errors.Is(serr, keyring.ErrNotSupported) || !errors.Is(perr, keyring.ErrNotSupported) {
			os.Exit(1)
		}
		return
	}
	const n = 64
	var wg, locked sync.WaitGroup
	var mu sync.Mutex
	failed := false
	locked.Add(n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread() // never unlocked: n distinct threads
			locked.Done()
			locked.Wait()
			gs, err1 := keyring.Session().Resolve()
			gp, err2 := keyring.Process().Resolve()
			if err1 != nil || err2 != nil || gs != s.ID() || gp != p.ID() {
				mu.Lock()
				failed = true
				fmt.Printf("a thread has @s %v (%v), @p %v (%v); want %v, %v\n", gs, err1, gp, err2, s.ID(), p.ID())
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if failed {
		os.Exit(1)
	}
	fmt.Printf("session=%d process=%d\n", s.ID(), p.ID())
}
