package keytest

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/kernkeys/kernkeys/keyring"
)

// Build compiles the main package in dir (relative to the test's package
// directory, such as "." or "./testdata/prog") with extra environment
// variables env, and returns the path of the binary, in a directory
// removed after the test. Any user may run it, so children in other user
// namespaces (UserNSAttr) can too.
func Build(t testing.TB, dir string, env ...string) string {
	t.Helper()
	tmp := t.TempDir()
	for _, d := range []string{filepath.Dir(tmp), tmp} { // testing makes both 0700
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(tmp, "prog")
	// No VCS stamp: git refuses a checkout owned by another user.
	cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-buildvcs=false", "-o", bin, dir)
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", dir, err, out)
	}
	return bin
}

// NeedCC skips t unless a C compiler (cc) runs here, for tests that build
// cgo programs with Build: none may be installed, or, in a VM guest of
// another architecture than the host whose root it shares, the host's
// cannot run (exec format error).
func NeedCC(t testing.TB) {
	t.Helper()
	cc, err := exec.LookPath("cc")
	if err != nil {
		t.Skip("no C compiler (cc): cannot build a cgo program")
	}
	if out, err := exec.Command(cc, "--version").CombinedOutput(); err != nil {
		t.Skipf("the C compiler %s does not run here (%v; %s): cannot build a cgo program", cc, err, out)
	}
}

// WantNoConstructor checks err, the error of keyring/sessioninit's or
// keyring/processinit's accessor in a program built without cgo: it must
// match keyring.ErrNotSupported and say how to build with the C
// constructor (CGO_ENABLED=1).
func WantNoConstructor(t testing.TB, err error) {
	t.Helper()
	if !errors.Is(err, keyring.ErrNotSupported) || !strings.Contains(err.Error(), "CGO_ENABLED=1") {
		t.Errorf("built without cgo: error %v, want ErrNotSupported saying how to build with the constructor", err)
	}
}
