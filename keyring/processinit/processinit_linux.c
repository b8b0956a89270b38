//go:build linux && cgo

// The constructor of package processinit (doc.go says why it exists). The
// C runtime runs it before main, and so before the Go runtime starts its
// first thread: every thread the process ever has is cloned, directly or
// not, from this one and inherits the process keyring made here.

#include <errno.h>
#include <linux/keyctl.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <unistd.h>

// What the constructor did, read by the package's Go code: the serial of
// the process keyring, or the errno of the keyctl(2) that failed.
int kernkeys_processinit_serial;
int kernkeys_processinit_errno;

// Priority 101, the first that programs may use, runs it before the
// constructors without a priority.
__attribute__((constructor(101))) static void kernkeys_processinit(void) {
	// KEYCTL_GET_KEYRING_ID of KEY_SPEC_PROCESS_KEYRING with create=1
	// makes the process keyring (keyctl_get_keyring_ID(3)); raw
	// syscall(2), no libkeyutils.
	long id = syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_PROCESS_KEYRING, 1);
	if (id < 0) {
		kernkeys_processinit_errno = errno;
		return;
	}
	kernkeys_processinit_serial = (int)id;
}
