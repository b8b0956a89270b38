// Package keyctl is kernkeys' raw system-call layer: one thin function per
// add_key(2), request_key(2) and keyctl(2) operation, in the kernel's own
// vocabulary, and the only package of the module that imports
// golang.org/x/sys/unix, apart from the test helpers' seccomp filters
// (internal/keytest).
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
// So the hot lookups are raw calls: GET_KEYRING_ID without create,
// DESCRIBE, SEARCH, GET_SECURITY, and READ into a buffer of at most
// RawReadMax bytes. None of them starts a request-key upcall (search never
// constructs a key), sleeps on I/O, or holds a lock across anything but
// in-kernel copying; they can sleep on a key's semaphore while another
// thread updates that key. One exception is known: READ (and SEARCH for
// its keyring) looks the key up without KEY_LOOKUP_PARTIAL, so reading a
// key that another thread's request_key(2) with a callout is still
// constructing waits for that request-key helper. Only a caller that
// reads such a key, found by listing a keyring, meets it.
//
// So are four attribute and link changes: SET_TIMEOUT, SETPERM, CHOWN and
// UNLINK (RawSyscall took SET_TIMEOUT from 449 to 402 ns and SETPERM from
// 460 to 409). From security/keys/keyctl.c and process_keys.c: SET_TIMEOUT,
// SETPERM and CHOWN look the key up with KEY_LOOKUP_PARTIAL, so they never
// wait for a key under construction (wait_for_key_construction, which waits
// for a request-key helper), and then only set fields under the key's
// semaphore; UNLINK looks the key up with KEY_NEED_UNLINK, which skips that
// wait, and edits the keyring's index under its semaphore. What they can
// do beyond that is what the raw lookups already do: allocate kernel memory
// (CHOWN's key_user record; UNLINK's index edit; the thread, process,
// session or user keyring that a special ID creates, since SET_TIMEOUT,
// SETPERM and CHOWN look up with KEY_LOOKUP_CREATE: in-kernel, no upcall)
// and sleep on a semaphore behind another thread's change, which can be
// slow only for a key whose update is slow (a trusted key's update seals
// with the TPM under the key's semaphore). Like SEARCH, UNLINK looks its
// keyring up without KEY_LOOKUP_PARTIAL: a keyring that request_key(2)
// with a callout is itself still constructing would be waited for.
//
// LINK stays a blocking call, for two reasons. It looks up the key to link
// without KEY_LOOKUP_PARTIAL, so linking a key that a request-key helper
// is still constructing waits for that helper, a userspace program. And
// linking into a restricted keyring runs the restriction's check with the
// keyring's semaphore held: restrict_link_by_signature and its
// key_or_keyring variants call public_key_verify_signature, which is
// CPU-bound but allocates a crypto transform for every check
// (crypto_alloc_akcipher, or crypto_alloc_sig on newer kernels); the first
// use of an algorithm and padding pair can call request_module (modprobe,
// a userspace helper) and wait for the crypto manager to instantiate the
// template in a kernel thread. That is rare, but a raw call stuck there
// would hold its P and stall every stop-the-world of the process for as
// long. The unrestricted link of the common case costs about 45 ns more
// for it.
//
// Everything else, and in particular request_key, add_key, UPDATE (a
// trusted key's update talks to the TPM, a large big_key's writes a
// file), the create form of GET_KEYRING_ID, large reads (a big_key may
// read its payload from a swappable file) and the public-key and
// Diffie-Hellman operations, uses unix.Syscall.
package keyctl
