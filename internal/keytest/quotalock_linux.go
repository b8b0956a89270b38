package keytest

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kernkeys/kernkeys/keyring"
)

// An ordinary user has one key quota (kernel.keys.maxkeys keys) for all
// their processes, and `go test ./...` runs several packages' test
// binaries at once: while one test fills the quota to see ErrQuota, every
// other binary's adds fail with it. So, for an ordinary user, each
// Session holds a shared flock(2) on a lock file of the user's, and a test
// that needs the quota to itself holds it exclusively (OwnQuota). Root's
// tests fill the quota of a kuid of their own (ChildKUID), and lock
// nothing. A child process of a test (RunChild, RunStep) locks nothing
// either: its parent holds the lock for it.
var quotaLock struct {
	sync.Mutex
	f      *os.File // nil until first used, or when the file cannot be had
	shared int      // Sessions of this process holding the shared lock
	own    bool     // OwnQuota holds the exclusive lock
}

// needsQuotaLock reports whether this process shares its key quota with
// other test binaries and is not a test's child.
func needsQuotaLock() bool {
	return os.Getuid() != 0 && os.Getenv(childEnv) == ""
}

func quotaLockName() string {
	return filepath.Join(os.TempDir(), "kernkeys-test-quota-"+strconv.Itoa(os.Getuid()))
}

// quotaFile opens the lock file once; without it the tests run unlocked,
// as they would one package at a time. Called with quotaLock held.
func quotaFile(t testing.TB) *os.File {
	if quotaLock.f == nil {
		f, err := os.OpenFile(quotaLockName(), os.O_RDONLY|os.O_CREATE, 0o600)
		if err != nil {
			t.Logf("no key quota lock (%v): a test filling the quota may make other packages' tests running beside it fail", err)
			return nil
		}
		quotaLock.f = f
	}
	return quotaLock.f
}

// flockFd is flock(2) on fd, again when a signal interrupts it.
func flockFd(fd, how int) error {
	for {
		if err := syscall.Flock(fd, how); err != syscall.EINTR {
			return err
		}
	}
}

func flock(t testing.TB, f *os.File, how int) {
	if err := flockFd(int(f.Fd()), how); err != nil {
		t.Fatalf("flock %s: %v", f.Name(), err)
	}
}

// lockQuota takes the shared lock for a Session until the test ends.
func lockQuota(t testing.TB) {
	if !needsQuotaLock() {
		return
	}
	quotaLock.Lock()
	defer quotaLock.Unlock()
	f := quotaFile(t)
	if f == nil {
		return
	}
	if quotaLock.shared == 0 && !quotaLock.own {
		flock(t, f, syscall.LOCK_SH)
	}
	quotaLock.shared++
	t.Cleanup(func() {
		quotaLock.Lock()
		defer quotaLock.Unlock()
		quotaLock.shared--
		if quotaLock.shared == 0 && !quotaLock.own {
			flock(t, f, syscall.LOCK_UN)
		}
	})
}

// OwnQuota gives the calling test the user's key quota to itself, for a
// test that fills it or counts it exactly: it waits until no other test of
// this user is in a Session, in this binary or another, and keeps them out
// until the test ends and the kernel has given back the quota the test
// used. Call it before Session. For root, whose tests fill the quota of a
// kuid of their own, it does nothing.
func OwnQuota(t testing.TB) {
	t.Helper()
	if !needsQuotaLock() {
		return
	}
	quotaLock.Lock()
	defer quotaLock.Unlock()
	if quotaLock.shared != 0 || quotaLock.own {
		t.Fatal("OwnQuota after Session or OwnQuota: call it first")
	}
	f := quotaFile(t)
	if f == nil {
		return
	}
	flock(t, f, syscall.LOCK_EX)
	quotaLock.own = true
	// Keys other tests dropped may still be charged: count without them,
	// or the wait below could end while this test's own are.
	uid := os.Getuid()
	before := SettledKeyUsers(t, uid).Keys
	t.Cleanup(func() {
		// The garbage collector gives the quota back some time after the
		// keys die: the next test, here or in another binary, needs it.
		// The test's own session, thread and process keyrings may live
		// on until its thread exits.
		for deadline := time.Now().Add(10 * time.Second); KeyUsers(t, uid).Keys > before+3 && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
		quotaLock.Lock()
		defer quotaLock.Unlock()
		quotaLock.own = false
		flock(t, f, syscall.LOCK_UN)
	})
}

// restartEnv marks a test binary that RestartUnderQuota ran again.
const restartEnv = "KERNKEYS_TEST_RESTARTED"

// RestartUnderQuota is for the TestMain of a package whose C constructor
// makes a key before the test binary's main (sessioninit, processinit),
// given the constructor's error: no Session lock can cover that. If it is
// ErrQuota for an ordinary user, another test binary may have held the
// quota full just then (OwnQuota): RestartUnderQuota waits for the shared
// lock on a descriptor that exec keeps, and runs the binary again, which
// holds the lock until it exits. It restarts once; on any other error, or
// if it cannot restart, it returns and the tests report the error.
func RestartUnderQuota(constructorErr error) {
	if !errors.Is(constructorErr, keyring.ErrQuota) || !needsQuotaLock() || os.Getenv(restartEnv) != "" {
		return
	}
	exe, err := os.Executable()
	if err != nil {
		return
	}
	// No O_CLOEXEC: the descriptor, and its lock, outlive the exec.
	fd, err := syscall.Open(quotaLockName(), syscall.O_RDONLY|syscall.O_CREAT, 0o600)
	if err != nil {
		return
	}
	_ = flockFd(fd, syscall.LOCK_SH)
	_ = syscall.Exec(exe, os.Args, append(os.Environ(), restartEnv+"=1"))
	syscall.Close(fd)
}
