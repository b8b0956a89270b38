package keytest

import (
	"os"
	"runtime"
	"syscall"
	"testing"
)

// OtherUID is the second ordinary user of the namespace UsersNSAttr makes.
const OtherUID = 1001

// stepEnv names the step a RunStep child runs.
const stepEnv = "KERNKEYS_TEST_STEP"

// UsersNSAttr starts a process as root of a new user namespace that maps
// uids and gids 0, ChildUID and OtherUID to three kuids nothing else
// uses (0x7fd00000, 0x7ff00000 and 0x7fe00000 plus the pid; ChildUID's is
// ChildKUID), so that the process can run children as two different
// ordinary users (AsUser). The namespace has its own user and persistent
// keyrings for each of them, which live as long as it does.
//
// Mapping more than one's own uid needs CAP_SETUID over the parent
// namespace: for anyone but root UsersNSAttr returns nil and says why. (An
// ordinary user's namespaces all map to that user's one kuid, which the
// kernel's key permissions cannot tell apart.)
func UsersNSAttr() (*syscall.SysProcAttr, string) {
	if os.Getuid() != 0 {
		return nil, "a second user needs a second kuid, and only root may map one into a user namespace (an ordinary user maps only their own uid; the setuid newuidmap(1) could map a subordinate range, which these tests do not use)"
	}
	low := os.Getpid() & 0xfffff
	m := []syscall.SysProcIDMap{
		{ContainerID: 0, HostID: 0x7fd00000 + low, Size: 1},
		{ContainerID: ChildUID, HostID: ChildKUID(), Size: 1},
		{ContainerID: OtherUID, HostID: 0x7fe00000 + low, Size: 1},
	}
	return &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER,
		UidMappings: m,
		GidMappings: m,
		Credential:  &syscall.Credential{Uid: 0, Gid: 0, NoSetGroups: true},
	}, ""
}

// AsUser starts a process as uid, with gid uid and no supplementary
// groups; the caller needs CAP_SETUID, as root of a UsersNSAttr namespace
// has.
func AsUser(uid int) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(uid), NoSetGroups: true}}
}

// RunStep runs one step of the calling test in a child process of the
// test binary, started with attr (nil: as the caller) from the calling
// thread, which it locks, with the extra environment env, and returns the
// child's output. In the child, IsChild is true and Step returns step:
//
//	switch keytest.Step() {
//	case "write": ...; return
//	case "read": ...; return
//	}
//
// Unlike RunChild it may be called in a child too, so that a child can run
// steps of its own (as another user, say). The child's failure fails the
// test, and its skip skips it.
func RunStep(t *testing.T, step string, attr *syscall.SysProcAttr, env ...string) string {
	t.Helper()
	runtime.LockOSThread() // the child must fork from this thread; never unlocked
	report, err := runTest(t, attr, append([]string{childEnv + "=" + t.Name(), stepEnv + "=" + step}, env...))
	checkReport(t, attr, report, err)
	return report
}

// Step returns the step this process was started to run by RunStep; ""
// in a process RunStep did not start.
func Step() string { return os.Getenv(stepEnv) }
