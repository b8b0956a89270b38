package keytest

import (
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// KernelBefore reports whether the running kernel's release (uname -r) is
// older than major.minor. It is for behaviour that changed in a release
// and that neither the kernel's configuration nor an error shows (Linux
// before 5.19 ignores an encrypted key's user-provided data). It fails the
// test if the release does not parse.
func KernelBefore(t testing.TB, major, minor int) bool {
	t.Helper()
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		t.Fatalf("uname: %v", err)
	}
	release := unix.ByteSliceToString(u.Release[:])
	fields := strings.SplitN(release, ".", 3)
	if len(fields) < 2 {
		t.Fatalf("kernel release %q: no major.minor", release)
	}
	minorText := fields[1] // "10" of "5.10.0-32-amd64", "0-rc1" of "6.0-rc1"
	if i := strings.IndexFunc(minorText, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		minorText = minorText[:i]
	}
	ma, err1 := strconv.Atoi(fields[0])
	mi, err2 := strconv.Atoi(minorText)
	if err1 != nil || err2 != nil {
		t.Fatalf("kernel release %q: no major.minor", release)
	}
	return ma < major || ma == major && mi < minor
}
