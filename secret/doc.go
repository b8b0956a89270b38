// Package secret holds key material in memory that the Go runtime does not
// manage: an anonymous mapping outside the Go heap, locked into RAM
// (mlock(2)) so that it is never written to swap, marked MADV_DONTDUMP so
// that it is left out of core dumps, and wiped before it is unmapped.
//
// The garbage collector never moves or copies a [Buffer]'s bytes, so the
// one copy that a Buffer holds is the only one, as long as the caller
// makes no other: read a key straight into one with [ReadKey] (or
// keyring.Key.ReadInto on [Buffer.Bytes]), and pass Bytes to
// keyring.Keyring.Add, keyring.Key.Update, encrypted.Seal and the like,
// which do not keep it.
//
// # Lifetime
//
// A Buffer lives until [Buffer.Close], which wipes, unlocks and unmaps it;
// Close is safe to call twice. There is no finalizer: a Buffer that is
// never closed stays mapped, locked and intact until the process exits.
// Close it with defer right after New.
//
// # Limits
//
// Locked memory is counted in whole pages against the process's
// RLIMIT_MEMLOCK (ulimit -l; 8 MiB by default since Linux 5.16, 64 KiB
// before) unless the process has CAP_IPC_LOCK. [New] fails with an error matching
// [ErrLockLimit], and keyring.ErrQuota, when the limit would be exceeded;
// the error gives the limit. Every Buffer takes at least one page: hold
// many small secrets in one Buffer rather than one Buffer each.
//
// # Errors
//
// Every error is a *keyring.Error (the module's one error type): Op is
// "secret.New", "secret.ReadKey" or "secret.Close", Errno is the errno of
// the system call that failed (mmap, mlock, madvise, munlock, munmap) and
// Reason names that call and the size. Errors match [ErrLockLimit] (with
// keyring.ErrQuota) as above, keyring.ErrInvalid for a size that is not
// positive (refused before any system call), and keyring.ErrNotSupported
// on systems other than Linux; ReadKey also returns keyring.Key.ReadInto's
// errors. Errors never contain the bytes of a Buffer, and neither do its
// String, GoString and Format methods.
package secret
