// Package processinit gives every thread of a Go program that links cgo
// one process keyring (@p), made before the Go runtime starts. Import it for
// its effect:
//
//	import _ "github.com/kernkeys/kernkeys/keyring/processinit"
//
// Linux keeps a pointer to the process keyring in each thread's
// credentials and installs it only in the credentials of the thread that
// creates it: in Go, where goroutines move between threads, each thread
// that creates @p gets its own (google/fscrypt #176), and a key added there
// is not found from another thread. The package's C constructor, run by the
// C runtime before main while the process has one thread, creates @p
// (KEYCTL_GET_KEYRING_ID with create=1, through syscall(2)); every thread
// started afterwards is cloned from that one and shares it. Child
// processes do not: a process keyring belongs to one process.
//
// It is a package of its own, next to keyring/sessioninit, so that a
// program asks for @p by importing it (the import path is the request,
// visible in the code) and pays for the keyring only then; import both
// for a shared @s and @p. [Process] returns the keyring made, or the
// constructor's recorded error; built without cgo or for another system
// the package has no constructor and Process returns an error matching
// keyring.ErrNotSupported. The limits of keyring/sessioninit apply: an
// executable only, not a c-shared or c-archive library.
package processinit
