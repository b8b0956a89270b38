// Package requestkey writes the programs that construct keys for
// request_key(2): the handlers that /sbin/request-key runs (request-key(8),
// request-key.conf(5)).
//
// When request_key(2) finds no key and was given callout information, the
// kernel creates the key uninstantiated, links it into the requester's
// destination keyring, and runs
//
//	/sbin/request-key create <key> <uid> <gid> <thread-keyring> <process-keyring> <session-keyring>
//
// as root, in a new session keyring ("_req.<key>") that holds the request's
// authorisation key. keyutils' request-key matches the key's type,
// description and callout information against request-key.conf and runs a
// handler. A handler written with this package is given the same
// arguments, in the same order; route requests to it with a line like
//
//	create user myapp:* * /usr/local/libexec/myapp-keys %o %k %u %g %T %P %S
//
// (or install it as /sbin/request-key itself, where it takes every request:
// the kernel passes exactly those arguments).
//
// [Main] (or [Serve]) parses them, assumes the authority to instantiate the
// key on a locked OS thread of its own (KEYCTL_ASSUME_AUTHORITY: the
// authority belongs to a thread), reads the key's type and description and
// the callout information (the authorisation key's payload), and calls the
// [Handler] on that thread. The handler's answer becomes the key's:
// instantiated with the payload it returns, or made negative by a
// [Rejection]. Any other error negates the key for a minute, as the kernel
// itself does when a handler exits without answering: the requester, who
// waits as long as the handler runs, fails with ENOKEY as soon as Serve has
// answered, and requests for the key fail at once for that minute instead
// of running the handler again. The thread, and the authority with it,
// ends when Serve returns.
//
// # Kernel
//
// CONFIG_KEYS; the upcall needs keyutils' /sbin/request-key, or a program
// in its place. The kernel waits for /sbin/request-key to exit
// (UMH_WAIT_PROC); a key still uninstantiated then is negated for 60
// seconds (key_negative_timeout in security/keys/request_key.c). The uid
// and gid are the requester's filesystem IDs, written with "%d" like every
// argument, so that one above 2^31-1 arrives negative (ParseArgs reads it
// back as the uint32 it was); a keyring argument is 0 where the requester
// has no such keyring, and the session keyring falls back to the
// user-session keyring. Some kernels run the upcall only for requesters
// that hold CAP_SYS_ADMIN (seen on a Firecracker build of 6.18); upstream
// runs it for every user.
//
// # Errors
//
// Every error is a *keyring.Error, or wraps one: Op "requestkey.ParseArgs"
// for arguments refused before any system call (matching
// keyring.ErrInvalid), the keyring package's own for the key operations,
// and Op "requestkey.Serve" for a handler that failed: it wraps the
// handler's error, and its Errno is ENOKEY, what the requester sees. Where
// negating the key after a failure fails too, Serve returns both, joined
// (errors.Join). Errors never contain the payload.
package requestkey
