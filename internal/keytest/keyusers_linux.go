package keytest

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kernkeys/kernkeys/keyring"
)

// KeyUsers returns uid's key quota, as the calling process's user
// namespace numbers uids (keyring.QuotaOf, which reads /proc/key-users),
// failing the test if it cannot be read.
func KeyUsers(t testing.TB, uid int) keyring.Quota {
	t.Helper()
	q, err := keyring.QuotaOf(uint32(uid))
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// WaitKeyUsers waits, up to timeout, until uid's charged key count and
// bytes are back to want's (the garbage collector frees quota some tens
// of milliseconds after keys die, seconds on a loaded machine), and
// returns the last usage seen and whether it got there.
func WaitKeyUsers(t testing.TB, uid int, want keyring.Quota, timeout time.Duration) (keyring.Quota, bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got := KeyUsers(t, uid)
		if got.Keys == want.Keys && got.Bytes == want.Bytes {
			return got, true
		}
		if time.Now().After(deadline) {
			return got, false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// KeyQuota returns /proc/sys/kernel/keys/maxkeys and maxbytes: an ordinary
// user's key quota, read directly, to check keyring.QuotaOf against.
func KeyQuota(t testing.TB) (maxKeys, maxBytes int) {
	t.Helper()
	read := func(name string) int {
		b, err := os.ReadFile("/proc/sys/kernel/keys/" + name)
		if err != nil {
			t.Fatal(err)
		}
		n, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return n
	}
	return read("maxkeys"), read("maxbytes")
}
