// Package secretstore keeps named secrets in the kernel's keyrings: the job
// that credential helpers and the Go programs that store a token "in the
// keyring" each do by hand over raw keyctl calls. A [Store] holds the
// secrets of one program (its Prefix) in one [Scope]: the user's
// persistent keyring, the user keyring (@u), or the session keyring the
// process's threads share. Get, Set, Delete and List work from any
// goroutine and any process of the same user.
//
// The name says what it is: a store of secrets, built on package secret
// (locked memory, where Get puts what it reads) and package keyring; it is
// not a general keyring API and not a cache with its own policy.
//
// # Layout in the kernel
//
// A secret called name is a "user" key described "<Prefix>:<name>",
// linked directly into the scope's keyring, with the permissions [Perm]:
// every right for the owning user and nothing for the possessor, the group
// or others. keyctl(1) shows it:
//
//	keyctl show @u    # 123456789 --alswrv  1000  1000 user: git-credential:https://example.com
//
// # Permissions, threads and processes
//
// The kernel grants access through possession (a key reachable from the
// calling thread's thread, process or session keyring) or through the
// user, group and other classes of the key's mask. Possession is per
// thread and crosses uids (a process started under another uid from the
// owner's session possesses what the session links), so a Store relies on
// the user class alone: the owner reads a secret from any thread and any
// process, whatever keyrings that thread possesses, and a process of
// another user reads nothing, possessed or not. The other way round, Get,
// Delete and List take only keys the caller owns: whoever may write to the
// scope's keyring (any process that shares a session possesses it) can
// link a key of their own under a secret's name, and that key is refused
// with keyring.ErrPermission, not read as the caller's secret.
//
// The persistent keyring grants its user class only view and read
// (security/keys/persistent.c): it is reached by possession, which
// KEYCTL_GET_PERSISTENT gives by linking it into a keyring of the caller's
// choice. A Store links it into the thread keyring of a fresh OS thread
// that exits when the operation is done (keyring.OnThread), so it never
// changes the caller's session. The same thread keyring is where Set
// stages a new secret before linking it into the scope (see [Store.Set]):
// nothing is left behind when a step fails. Each operation therefore
// starts and ends an OS thread, 100 to 200 microseconds on a loaded
// machine, except Get, Delete and List in the User scope: @u grants its
// user class every right on every thread, so they run on the caller's.
//
// A session keyring too grants its user class only view and read: the
// Session scope works on threads whose session it is. Go's threads share
// the session the process started with unless a thread joins another;
// package keyring/sessioninit, or keyring.JoinProcessSession, gives every
// thread one new session.
//
// # Lifetime and quota
//
// Secrets live until Delete, their expiry ([Options.Expiry]), or the end
// of their scope: the persistent keyring expires after
// /proc/sys/kernel/keys/persistent_keyring_expiry seconds (three days by
// default) in which nobody asks for it, and every operation asks for it;
// @u lives while any process of the user runs; a session lives while a
// process or key holds it. Every secret counts against the user's key
// quota (/proc/sys/kernel/keys/maxkeys and maxbytes: 200 keys and 20000
// bytes for ordinary users), and so does the thread keyring an operation
// makes, for its duration.
//
// # Errors
//
// Every error is a *keyring.Error. Match them with errors.Is:
// keyring.ErrNotFound (no such secret, expired, or deleted),
// keyring.ErrPermission (not the caller's secret, or a Session store used
// from a thread of another session), keyring.ErrQuota (the user's key
// quota is full), keyring.ErrNotSupported (the kernel lacks persistent
// keyrings, CONFIG_PERSISTENT_KEYRINGS, which Open reports at once with
// advice to use User or Session; or the system is not Linux), and
// keyring.ErrInvalid for names and options refused before any system
// call. Errors name the secret, never its value.
package secretstore
