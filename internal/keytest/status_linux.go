package keytest

import (
	"os"
	"strings"
	"testing"
)

// ProcStatus returns the value of field (such as "VmLck" or "Umask") in
// /proc/self/status, trimmed; it fails the test if the file or the field
// is missing.
func ProcStatus(t testing.TB, field string) string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("/proc/self/status has no %s", field)
	return ""
}
