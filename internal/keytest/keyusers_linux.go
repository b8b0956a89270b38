package keytest

import (
	"errors"
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

// SettledKeyUsers returns uid's key usage once it has not changed for
// 200 ms (the garbage collector may still be freeing an earlier test's
// keys), waiting at most 20 s.
func SettledKeyUsers(t testing.TB, uid int) keyring.Quota {
	t.Helper()
	u := KeyUsers(t, uid)
	for deadline, since := time.Now().Add(20*time.Second), time.Now(); time.Since(since) < 200*time.Millisecond && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		if v := KeyUsers(t, uid); v != u {
			u, since = v, time.Now()
		}
	}
	return u
}

// NeedRoom skips the test unless the calling user's key quota has room
// for n more keys now. It asks before the test adds any: filling an
// ordinary user's quota to find out would fail other test binaries' adds
// meanwhile.
func NeedRoom(t testing.TB, n int) {
	t.Helper()
	if q := KeyUsers(t, os.Getuid()); q.MaxKeys-q.Keys < n {
		t.Skipf("needs room for %d keys and %v: an ordinary user's quota is kernel.keys.maxkeys, root's root_maxkeys; run as root for this", n, q)
	}
}

// WaitRoom waits until the calling user's key quota has room for n more
// keys (the kernel frees a dead key's quota some time after it dies,
// seconds on a loaded machine), failing the test after a minute. A test
// that needs a large part of an ordinary user's 200 keys takes OwnQuota
// first, or other test binaries may hold the room it waits for.
func WaitRoom(t testing.TB, n int) {
	t.Helper()
	uid := os.Getuid()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		q := KeyUsers(t, uid)
		if q.MaxKeys-q.Keys >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no room for %d keys after a minute: %v", n, q)
		}
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

// BenchAddUnlink times adding a key to r and unlinking it again. Unlinked
// keys stay charged to the user until the garbage collector destroys them,
// tens of milliseconds later, so at this rate an ordinary user's quota
// fills: the benchmark skips then, saying so. Take OwnQuota before Session,
// so that no other test binary's adds fail meanwhile.
func BenchAddUnlink(b *testing.B, r keyring.Keyring, typ, desc string, payload []byte) {
	b.Helper()
	b.ReportAllocs()
	for b.Loop() {
		k, err := r.Add(typ, desc, payload)
		if errors.Is(err, keyring.ErrQuota) {
			b.Skipf("%v: the quota cannot hold the keys awaiting garbage collection; run as root to measure this", err)
		}
		if err != nil {
			b.Fatal(err)
		}
		if err := r.Unlink(k); err != nil {
			b.Fatal(err)
		}
	}
}
