package keytest

import (
	"bufio"
	"compress/gzip"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
)

// KernelConfig reports whether the running kernel was built with option
// (such as "CONFIG_USER_DECRYPTED_DATA") set to y, from /proc/config.gz
// (CONFIG_IKCONFIG_PROC; the VM kernel has it) or else
// /boot/config-<release>. It fails the test if neither is readable: it is
// for features the kernel has no other way to report (a missing
// asymmetric-key parser looks like data no parser accepts; a kernel
// refusing user-provided encrypted-key data looks like bad input), so that
// their tests run for real wherever the kernel has them instead of guessing
// from the error.
func KernelConfig(t testing.TB, option string) bool {
	t.Helper()
	cfg, err := kernelConfig()
	if err != nil {
		t.Fatalf("cannot tell whether the kernel has %s: %v", option, err)
	}
	return cfg[option]
}

var kernelConfig = sync.OnceValues(func() (map[string]bool, error) {
	var r io.Reader
	if f, err := os.Open("/proc/config.gz"); err == nil {
		defer f.Close()
		if r, err = gzip.NewReader(f); err != nil {
			return nil, err
		}
	} else {
		release, err := os.ReadFile("/proc/sys/kernel/osrelease")
		if err != nil {
			return nil, err
		}
		f, err := os.Open("/boot/config-" + strings.TrimSpace(string(release)))
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	cfg := map[string]bool{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if k, ok := strings.CutSuffix(sc.Text(), "=y"); ok {
			cfg[k] = true
		}
	}
	return cfg, sc.Err()
})
