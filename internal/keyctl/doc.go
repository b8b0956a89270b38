// Package keyctl is kernkeys' raw system-call layer: one thin function per
// add_key(2), request_key(2) and keyctl(2) operation, in the kernel's own
// vocabulary, and the only package of the module that imports
// golang.org/x/sys/unix.
//
// Functions take serials as int32, C strings as pointers to NUL-terminated
// bytes (nil passes NULL) and return the kernel's result and errno untouched;
// turning an errno into the library's error is the keyring package's job.
// Pointers are converted to uintptr inside the call expression of
// unix.Syscall6, so the memory they point to (which may live on the caller's
// stack) stays valid for the duration of the call and does not escape.
//
// keyctl.Syscall6, not RawSyscall, is used throughout: any keyctl operation
// may sleep on a key's semaphore and request_key may wait for an upcall.
package keyctl
