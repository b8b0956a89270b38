// Command threadlife checks, in a fresh process, that keyring.OnThread and
// keyring.InNewSession keep their promise: whatever fn does, its thread
// exits and its session keyring dies with it. A fresh process matters: its
// main thread is idle (OnThread's goroutine could land there, and Go never
// ends the main thread) and Go's netpoller is not yet open (its epoll and
// eventfd files would hold the credentials of the thread that opens them).
// Built and run by threads_test.go; exits 1 with a message on failure.
package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/kernkeys/kernkeys/internal/keytest"
	"github.com/kernkeys/kernkeys/keyring"
)

func main() {
	var session keyring.Keyring
	var key keyring.Key
	var tid int
	err := keyring.InNewSession(func(s keyring.Keyring) error {
		session, tid = s, keytest.Gettid()
		var err error
		key, err = s.Add("user", "threadlife", []byte("x"))
		time.Sleep(time.Millisecond) // the process's first timer: opens the netpoller here
		f, _ := os.Open("/proc/self/status")
		f.Close()
		return err
	})
	if err != nil {
		fail("InNewSession: %v", err)
	}
	if tid == os.Getpid() {
		fail("fn ran on the main thread, which never exits")
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, k := range []keyring.Key{key, session.Key} {
		for {
			if _, err := k.Describe(); errors.Is(err, keyring.ErrNotFound) {
				break
			}
			if time.Now().After(deadline) {
				fail("key %v outlived its session's thread", k)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	fmt.Println("ok")
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "threadlife: "+format+"\n", args...)
	os.Exit(1)
}
