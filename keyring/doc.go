// Package keyring is a typed API over the Linux kernel key retention
// service: add_key(2), request_key(2) and every keyctl(2) operation.
//
// # Keys, keyrings and IDs
//
// A key has a type ("user", "logon", "keyring", "asymmetric",
// "encrypted", ...), a description, a payload, an owner, a permission mask
// and an optional expiry. A keyring is a key whose payload is a list of
// links to other keys. [ID] is a key's serial number, or one of the
// negative special IDs that the
// kernel resolves against the calling thread. [Key] and [Keyring] are
// handles: values, not file descriptors. They hold no reference and need no
// Close; a key lives while a keyring links it or a thread's credentials
// hold it, until it expires ([Key.SetTimeout]), is revoked ([Key.Revoke])
// or invalidated ([Key.Invalidate]).
//
// Kernel vocabulary maps to Go vocabulary: add_key is [Keyring.Add],
// KEYCTL_SEARCH is [Keyring.Search], KEYCTL_READ is [Key.Read] and
// [Key.ReadInto], and so on; each method's documentation names the keyctl
// operation, its man page and the errors to expect.
//
// # Threads
//
// Linux keeps credentials, and with them the thread (@t), process (@p) and
// session (@s) keyrings, per OS thread, and Go moves goroutines between
// threads. The package is built around that fact:
//
//   - [OnThread] runs a function on a goroutine locked to a fresh OS thread
//     that is discarded afterwards, so a keyring change never leaks to
//     another goroutine. [InNewSession] does the same in a new anonymous
//     session keyring.
//   - A [Worker] ([NewWorker]) is one locked OS thread that lives until
//     [Worker.Close] and runs the functions given to [Worker.Do] in turn,
//     keeping its thread, process and session keyrings between them; it
//     can start in a new anonymous or a named session.
//   - [JoinAnonymousSession] and [JoinSession] change only the calling
//     thread: call them on a locked thread that is never unlocked.
//   - [JoinProcessSession] gives every thread of the process one session
//     keyring without cgo, using syscall.AllThreadsSyscall; with cgo linked
//     (including -race builds) it fails with [ErrNotSupported] and changes
//     nothing: import package keyring/sessioninit there, whose C
//     constructor joins one session before the Go runtime starts.
//   - The process keyring (@p) is in effect per thread in Go: each thread
//     that creates it gets its own, unless package keyring/processinit
//     made it before the runtime started. Prefer a session keyring.
//   - Nothing creates a keyring implicitly: [Key.Resolve] never passes
//     create=1; [Keyring.ResolveOrCreate] does, when asked.
//   - Which to use: for one piece of work that must not leak a keyring
//     change (create @t, join a session, start an isolated child),
//     [OnThread], or [InNewSession] for a session of its own; each call
//     costs a new OS thread (60-70 µs). For the same kind of work
//     repeated, such as a daemon reading a key per request, or state in
//     @t or a session that must outlive one call, a [Worker]: a
//     microsecond or two a call while calls come back to back and a CPU
//     is free, two futex wake-ups otherwise. For keys every
//     goroutine must reach through one session keyring, without routing
//     calls anywhere, [JoinProcessSession] (pure-Go builds only). Calls
//     that name keys by serial and need no possession (READ or VIEW
//     granted to the user) need none of these.
//   - Reading a key by serial needs possession through the calling thread's
//     keyrings, or READ permission for the user: a goroutine that moved to
//     another thread may lose possession. A child process started from a
//     locked thread inherits that thread's session on all its threads.
//
// # Errors
//
// Every error is an [*Error] carrying the operation, the key and the
// errno; it unwraps to the errno and matches the sentinels [ErrNotFound],
// [ErrExpired], [ErrRevoked], [ErrRejected], [ErrPermission] (and
// os.ErrPermission), [ErrQuota], [ErrNotSupported] and [ErrInvalid] with
// errors.Is. Input the kernel would refuse (empty or over-long names, NUL
// bytes, names starting with '.', payloads over a type's limit, undefined
// permission bits) is refused with [ErrInvalid] before any system call,
// with [Error.Refused] set. Key IDs are passed on as they are, the zero Key
// and negative IDs that are not special included: the kernel looks them up
// after the arguments it checks first and answers itself (ErrInvalid, or
// ErrNotFound from [Key.Read]); only where 0 or a special ID would mean
// something else to the kernel (the request-key helper's calls) are they
// refused first. A feature the running kernel lacks is
// [ErrNotSupported] with the feature named in [Error.Reason].
//
// [ErrQuota] (EDQUOT) says in [Error.Reason] which of the calling user's
// limits was reached, the key count or the bytes, and how full both are;
// only then does the package read /proc. [QuotaOf] reports a user's
// quota at any time: keys and bytes charged (/proc/key-users) against
// kernel.keys.maxkeys and maxbytes (root_maxkeys and root_maxbytes for
// root). The kernel charges the user who creates a key, and a key's
// owner when it grows (an update, a link into the owner's keyring).
//
// In a container or sandbox the key system calls may never reach the
// kernel: Docker's default seccomp profile refuses add_key, keyctl and
// request_key with EPERM, LXC's with ENOSYS. [Available] tells this
// apart from the kernel's own answers by probing each call with arguments
// the kernel refuses before any permission check; an operation's EPERM or
// ENOSYS then also matches [ErrUnavailable], so that "no key service here"
// is not mistaken for "no permission on this key".
//
// # Secrets
//
// Payloads are []byte owned by the caller; the package copies nothing it
// does not have to and wipes the buffers it outgrows. Use [Wipe] on
// payloads when done, and keep key material out of strings, which cannot
// be wiped. Errors never contain payloads. To keep a payload out of the Go
// heap, swap and core dumps, read it into locked memory with package
// secret (secret.ReadKey).
//
// # Kernel configuration
//
// CONFIG_KEYS for everything; CONFIG_PERSISTENT_KEYRINGS for [Persistent];
// CONFIG_KEY_DH_OPERATIONS for [DHCompute]; CONFIG_ASYMMETRIC_KEY_TYPE for
// the pkey operations ([Key.PkeyQuery] ...); CONFIG_WATCH_QUEUE and
// CONFIG_KEY_NOTIFICATIONS for [Key.Watch]. [KernelCapabilities] reports
// what the running kernel has: with KEYCTL_CAPABILITIES from Linux 5.3,
// by probing each operation before. On other operating systems every
// operation fails with [ErrNotSupported] (and [ErrUnavailable]).
package keyring
