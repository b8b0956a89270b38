//go:build linux && cgo

// The constructor of package sessioninit (doc.go says why it exists). The
// C runtime runs it before main, and so before the Go runtime starts its
// first thread: every thread the process ever has is cloned, directly or
// not, from this one and inherits the session joined here.

#include <errno.h>
#include <linux/keyctl.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <unistd.h>

// What the constructor did, read by the package's Go code: the serial of
// the session joined, or the errno of the keyctl(2) that failed.
int kernkeys_sessioninit_serial;
int kernkeys_sessioninit_errno;

// Priority 101, the first that programs may use, runs it before the
// constructors without a priority.
__attribute__((constructor(101))) static void kernkeys_sessioninit(void) {
	// KEYCTL_JOIN_SESSION_KEYRING with a NULL name: a new anonymous
	// session keyring (keyctl_join_session_keyring(3)); raw syscall(2),
	// no libkeyutils.
	long id = syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, (const char *)NULL);
	if (id < 0) {
		kernkeys_sessioninit_errno = errno;
		return;
	}
	kernkeys_sessioninit_serial = (int)id;
}
