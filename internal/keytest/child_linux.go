package keytest

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// ChildUID is the uid a user-namespace child runs as inside its namespace.
const ChildUID = 1000

// ChildOptions configure InChild.
type ChildOptions struct {
	// UserNS runs the child in a new user namespace, as ChildUID mapped to
	// a non-root kuid: the caller's own uid, or, when the caller is root,
	// an unused one (0x7ff00000 plus the pid) with an ordinary user's key
	// quota and no access to the host's keys.
	UserNS bool
	// Env adds NAME=value pairs to the child's environment.
	Env []string
}

// RunChild re-runs the calling test in a child process of the test binary
// (through /proc/self/exe) and reports the child's result as the test's.
// In the child, IsChild is true and the test takes its child branch:
//
//	func TestX(t *testing.T) {
//		if keytest.IsChild(t) {
//			... // runs in the child, which inherits s as its session
//			return
//		}
//		s := keytest.Session(t)
//		keytest.RunChild(t, keytest.ChildOptions{UserNS: true})
//	}
//
// The child is started from the calling thread, which RunChild locks, so it
// inherits that thread's session keyring on all its threads. When user
// namespaces are unavailable, the test is skipped with the reason.
func RunChild(t *testing.T, o ChildOptions) {
	t.Helper()
	if IsChild(t) {
		t.Fatal("RunChild called in the child; take the IsChild branch first")
	}
	runtime.LockOSThread() // the child must fork from this thread; never unlocked
	var attr *syscall.SysProcAttr
	if o.UserNS {
		attr = UserNSAttr()
	}
	report, err := runTest(t, attr, append([]string{childEnv + "=" + t.Name()}, o.Env...))
	checkReport(t, attr, report, err)
}

// runTest runs the calling test again in a child process of the test
// binary (through /proc/self/exe), started with attr and the extra
// environment env, and returns its output and exit error.
func runTest(t *testing.T, attr *syscall.SysProcAttr, env []string) (string, error) {
	cmd := exec.Command("/proc/self/exe", "-test.run="+runPattern(t.Name()), "-test.v", "-test.count=1", "-test.timeout=5m")
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = attr
	err := cmd.Run()
	if err == nil && testing.Verbose() {
		t.Logf("child (pid %s) output:\n%s", strconv.Itoa(cmd.Process.Pid), out.String())
	}
	return out.String(), err
}

// checkReport makes the result of the child that runTest started with
// attr the test's.
func checkReport(t *testing.T, attr *syscall.SysProcAttr, report string, err error) {
	t.Helper()
	var exit *exec.ExitError
	switch {
	case attr != nil && attr.Cloneflags&syscall.CLONE_NEWUSER != 0 && err != nil && !errors.As(err, &exit) && userNSUnavailable(err):
		t.Skipf("user namespaces are unavailable here (%v); this test needs one", err)
	case err != nil && !errors.As(err, &exit):
		t.Fatalf("starting the child: %v", err)
	case err != nil:
		t.Fatalf("the child failed (%v):\n%s", err, report)
	case strings.Contains(report, "--- SKIP: "+t.Name()):
		t.Skipf("the child skipped:\n%s", report)
	case !strings.Contains(report, "--- PASS: "+t.Name()):
		t.Fatalf("the child did not run the test:\n%s", report)
	}
}

// UserNSAttr starts a process in a new user namespace as ChildUID, mapped
// to the caller's own uid, or, when the caller is root, to an unused one
// (0x7ff00000 plus the pid) with an ordinary user's key quota and no access
// to the host's keys. A user namespace has its own user keyrings and its
// own register of persistent keyrings, which die with it.
func UserNSAttr() *syscall.SysProcAttr {
	host, hostGID := ChildKUID(), os.Getgid()
	if os.Getuid() == 0 {
		hostGID = host
	}
	return &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: ChildUID, HostID: host, Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: ChildUID, HostID: hostGID, Size: 1}},
		Credential:  &syscall.Credential{Uid: ChildUID, Gid: ChildUID, NoSetGroups: true},
	}
}

// ChildKUID is the uid, as the caller's user namespace sees it, that
// UserNSAttr maps a child's ChildUID to: the caller's own uid, or for
// root an unused one (0x7ff00000 plus the pid) that nothing else in the
// system charges keys to.
func ChildKUID() int {
	if uid := os.Getuid(); uid != 0 {
		return uid
	}
	return 0x7ff00000 + os.Getpid()&0xfffff
}

// userNSUnavailable tells the errors clone(CLONE_NEWUSER) gives when user
// namespaces are disabled or exhausted from any other failure.
func userNSUnavailable(err error) bool {
	return errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EINVAL)
}
