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
// # Syscall and RawSyscall
//
// unix.Syscall tells the Go scheduler that the thread may block
// (entersyscall/exitsyscall), so that it can hand the thread's P to another
// thread. That bookkeeping costs 40 to 85 ns a call (measured on Go 1.26,
// Linux 6.18): a fifth of a 210 ns KEYCTL_GET_KEYRING_ID, a tenth of a
// 450 ns KEYCTL_READ. unix.RawSyscall skips it and costs what C's
// syscall(2) costs; in exchange, while the call runs its P is not handed
// off and a stop-the-world waits for it.
//
// So the hot lookups are raw calls, and only they: GET_KEYRING_ID without
// create, DESCRIBE, SEARCH, GET_SECURITY, and READ into a buffer of at
// most RawReadMax bytes. None of them waits for userspace (no request-key
// upcall: search never constructs a key), sleeps on I/O, or holds a lock
// across anything but in-kernel copying; the longest they can sleep is on
// a key's semaphore while another thread updates that key. Everything
// else, and in particular request_key, add_key, the create form of
// GET_KEYRING_ID, large reads (a big_key may read its payload from a
// swappable file) and the public-key and Diffie-Hellman operations, uses
// unix.Syscall.
package keyctl
