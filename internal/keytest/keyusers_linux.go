package keytest

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// KeyUsage is a uid's line of /proc/key-users: what the kernel charges to
// the uid's key quota. Keys count from allocation until the garbage
// collector destroys them, including keys that are revoked, expired or
// unlinked but not yet collected.
type KeyUsage struct {
	Keys, MaxKeys   int // qnkeys/maxkeys: keys charged to the quota
	Bytes, MaxBytes int // qnbytes/maxbytes: bytes charged to the quota
}

func (u KeyUsage) String() string {
	return fmt.Sprintf("%d/%d keys, %d/%d bytes", u.Keys, u.MaxKeys, u.Bytes, u.MaxBytes)
}

// KeyUsers returns uid's line of /proc/key-users, as the calling process's
// user namespace numbers uids; the zero KeyUsage when the uid has no key.
func KeyUsers(t testing.TB, uid int) KeyUsage {
	t.Helper()
	f, err := os.Open("/proc/key-users")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// "%5d: %5d %d/%d %d/%d %d/%d": uid, usage, nkeys/nikeys,
		// qnkeys/maxkeys, qnbytes/maxbytes.
		var u KeyUsage
		var id, usage, nkeys, nikeys int
		line := strings.TrimSpace(sc.Text())
		if _, err := fmt.Sscanf(line, "%d: %d %d/%d %d/%d %d/%d", &id, &usage, &nkeys, &nikeys,
			&u.Keys, &u.MaxKeys, &u.Bytes, &u.MaxBytes); err != nil {
			t.Fatalf("/proc/key-users: %q: %v", line, err)
		}
		if id == uid {
			return u
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return KeyUsage{}
}

// WaitKeyUsers waits, up to timeout, until uid's charged key count and
// bytes are back to want's (the garbage collector frees quota some tens
// of milliseconds after keys die, seconds on a loaded machine), and
// returns the last usage seen and whether it got there.
func WaitKeyUsers(t testing.TB, uid int, want KeyUsage, timeout time.Duration) (KeyUsage, bool) {
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
// user's key quota.
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
