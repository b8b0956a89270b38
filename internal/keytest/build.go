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
// removed after the test.
func Build(t testing.TB, dir string, env ...string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "prog")
	// No VCS stamp: git refuses a checkout owned by another user.
	cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-buildvcs=false", "-o", bin, dir)
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", dir, err, out)
	}
	return bin
}
