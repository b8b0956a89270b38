package keytest

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
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
