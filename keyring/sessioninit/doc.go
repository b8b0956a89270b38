// Package sessioninit gives every thread of a Go program that links cgo
// one new session keyring (@s), joined before the Go runtime starts. Import
// it for its effect:
//
//	import _ "github.com/kernkeys/kernkeys/keyring/sessioninit"
//
// # Why a constructor
//
// Linux keeps the session keyring in each thread's credentials, and
// KEYCTL_JOIN_SESSION_KEYRING changes only the calling thread's; Go runs
// goroutines on many threads and moves them between threads. Without cgo,
// keyring.JoinProcessSession changes every thread at once through
// syscall.AllThreadsSyscall, but the Go runtime refuses that call when
// cgo is linked, as it is in every -race build, because it cannot reach
// threads that C code started. This package takes the other road: its C
// constructor (__attribute__((constructor)), run by the C runtime before
// main) joins a new anonymous session keyring while the process still has
// one thread. Every thread the Go runtime or C code starts afterwards is
// cloned from that thread, directly or not, and inherits the session; so
// do child processes. The constructor calls keyctl(2) through syscall(2):
// no libkeyutils. Package keyring/processinit does the same for the process
// keyring (@p); import both to get both.
//
// The package name says when it acts: at process initialisation, on the
// session keyring.
//
// # What the program sees
//
// [Session] returns the keyring the constructor joined, or its error: a
// constructor cannot fail a program, so it records the serial it got or the
// errno of the failed call, and Session reports it (keyring.ErrQuota when
// the user's key quota was full). keyring.Session() on any thread then
// names the same keyring. The new session is empty: unlike a login
// session (pam_keyinit) it does not link the user keyring, so keys in @u
// are not possessed through it; link @u into it when the program needs that
// (keyring.Session().Link(keyring.User().Key)). It dies when the last
// process holding it exits. A thread that later joins another session
// (keyring.JoinAnonymousSession, keyring.InNewSession) leaves it for itself
// only, as always.
//
// # Without cgo
//
// The constructor is C: a program built with CGO_ENABLED=0, or for another
// system than Linux, compiles the package without it. Nothing happens at
// start-up, and Session says so with an error matching
// keyring.ErrNotSupported; such a program can call keyring.JoinProcessSession
// instead, which works exactly where cgo is absent.
//
// # Limits
//
// Constructors run before main only in an executable. In a c-shared or
// c-archive library the Go runtime itself starts from a constructor, in an
// order the package does not control, and the host program's threads exist
// already: do not use the package there.
package sessioninit
