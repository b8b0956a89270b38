package vmtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// SecondBootFile is the file in a test binary's state directory
// (EnvState) where Boot registers tests for the second boot, a top-level
// test name per line; the runner reads it after the first boot.
const SecondBootFile = "second-boot"

// Boot returns which boot of the VM the test runs in, 1 or 2, and its
// directory that lasts from the first boot to the second: empty in the
// first, as the first left it in the second. Everything else is new in
// the second boot (keys, device-mapper tables, nfit_test's DIMMs, /tmp,
// NdctlKeys) but the TPM: the same swtpm state, so what the TPM sealed in
// the first boot unseals in the second.
//
// In the first boot, Boot registers t's top-level test for the second boot
// if t passes; the runner then runs the registered tests of each package
// again (a top-level test with all its subtests), where Boot returns 2.
// A test branches on the boot: make and store in 1, load and check in 2.
// Outside the VM runner, Boot skips the test.
func Boot(t testing.TB) (boot int, dir string) {
	t.Helper()
	state := os.Getenv(EnvState)
	if !InVM() || state == "" {
		t.Skip("needs two boots of one machine with the same TPM: runs on the VM (go run ./vm)")
	}
	dir = filepath.Join(state, t.Name())
	switch b := os.Getenv(EnvBoot); b {
	case "1":
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		top, _, _ := strings.Cut(t.Name(), "/")
		t.Cleanup(func() {
			if !t.Failed() {
				register(t, filepath.Join(state, SecondBootFile), top)
			}
		})
		return 1, dir
	case "2":
		if _, err := os.Stat(dir); err != nil {
			t.Fatalf("second boot: the first left no directory: %v", err)
		}
		return 2, dir
	default:
		t.Fatalf("%s=%q: want 1 or 2", EnvBoot, b)
		return 0, ""
	}
}

// register appends name to the second-boot file; tests may run in
// parallel, so each line is one O_APPEND write (the runner drops repeats).
func register(t testing.TB, file, name string) {
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err == nil {
		_, err = fmt.Fprintln(f, name)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		t.Errorf("registering %s for the second boot: %v", name, err)
	}
}
