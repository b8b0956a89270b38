//go:build linux

package keyring_test

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kernkeys/kernkeys/internal/keytest"
	"github.com/kernkeys/kernkeys/keyring"
)

// QuotaOf reports what the kernel charges a user and its limits; a full
// key count or byte quota fails with ErrQuota whose Reason names the limit
// and how full the quota is.
func TestQuota(t *testing.T) {
	if !keytest.IsChild(t) {
		keytest.OwnQuota(t)
		keytest.Session(t)
		var env []string
		if os.Getuid() == 0 {
			// Root's child runs as a kuid of its own: nothing else
			// charges its quota, and the figures are exact.
			env = append(env, "KERNKEYS_TEST_OWN_UID=1")
		}
		keytest.RunChild(t, keytest.ChildOptions{UserNS: true, Env: env})
		return
	}
	exact := os.Getenv("KERNKEYS_TEST_OWN_UID") == "1"
	uid := uint32(os.Getuid())
	s := keytest.Session(t)
	r := must(s.AddKeyring("quota"))(t)
	// An earlier test's keys, or another test binary's (OwnQuota keeps
	// them out, not their dying keys), must not free quota mid-test.
	base := keytest.SettledKeyUsers(t, int(uid))
	if maxKeys, maxBytes := keytest.KeyQuota(t); base.UID != uid || base.MaxKeys != maxKeys || base.MaxBytes != maxBytes {
		t.Errorf("QuotaOf(%d) = %v; the sysctls say %d keys, %d bytes", uid, base, maxKeys, maxBytes)
	}
	if exact {
		// A user key charges its description and NUL, its payload,
		// and the 4 bytes of its link in r.
		k := must(r.Add("user", "quota-probe", make([]byte, 10)))(t)
		got := must(keyring.QuotaOf(uid))(t)
		if want := (keyring.Quota{UID: uid, Keys: base.Keys + 1, MaxKeys: base.MaxKeys, Bytes: base.Bytes + len("quota-probe") + 1 + 10 + 4, MaxBytes: base.MaxBytes}); got != want {
			t.Errorf("after adding a key QuotaOf = %v, want %v", got, want)
		}
		check(t, r.Unlink(k))
		waitQuota(t, uid, func(q keyring.Quota) bool { return q == base })
	}

	// The key count.
	var err error
	for n := 0; err == nil; n++ {
		if n > base.MaxKeys {
			t.Fatalf("%d keys added and no quota error", n)
		}
		_, err = r.Add("user", "q"+strconv.Itoa(n), []byte("x"))
	}
	wantErr(t, err, keyring.ErrQuota)
	t.Logf("key count: %v", err)
	wantReason(t, err, "key count limit: uid "+strconv.Itoa(int(uid))+" has ", " keys (kernel.keys.maxkeys)")
	if full := must(keyring.QuotaOf(uid))(t); exact && full.Keys != full.MaxKeys {
		t.Errorf("after the key count limit QuotaOf = %v", full)
	}
	// What runc meets starting a container (moby/moby#22865): a new
	// session keyring is a key too.
	_, err = keyring.JoinAnonymousSession()
	wantErr(t, err, keyring.ErrQuota)
	wantReason(t, err, "key count limit")
	check(t, r.Clear())
	waitQuota(t, uid, func(q keyring.Quota) bool {
		if exact {
			return q == base
		}
		return q.Keys < q.MaxKeys-1 // room for the next key
	})

	// The bytes: a payload as large as the whole byte quota.
	_, err = r.Add("user", "big", make([]byte, base.MaxBytes))
	wantErr(t, err, keyring.ErrQuota)
	t.Logf("bytes: %v", err)
	wantReason(t, err, "byte limit: uid "+strconv.Itoa(int(uid))+" has ", " bytes (kernel.keys.maxbytes)")
}

// QuotaOf of a user without keys: nothing charged, the sysctls' limits.
func TestQuotaOfNobody(t *testing.T) {
	const unused = 0x7ffffff0 // a uid no test uses
	q := must(keyring.QuotaOf(unused))(t)
	maxKeys, maxBytes := keytest.KeyQuota(t)
	want := keyring.Quota{UID: unused, MaxKeys: maxKeys, MaxBytes: maxBytes}
	if q != want {
		t.Errorf("QuotaOf(%d) = %v, want %v", unused, q, want)
	}
}

func wantReason(t *testing.T, err error, parts ...string) {
	t.Helper()
	var e *keyring.Error
	if !errors.As(err, &e) {
		t.Fatalf("%v is no *keyring.Error", err)
	}
	for _, p := range parts {
		if !strings.Contains(e.Reason, p) || !strings.Contains(err.Error(), p) {
			t.Errorf("error %q: its Reason does not say %q", err, p)
		}
	}
}

// waitQuota waits until the garbage collector has given back enough of
// uid's quota for ok.
func waitQuota(t *testing.T, uid uint32, ok func(keyring.Quota) bool) keyring.Quota {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		q := must(keyring.QuotaOf(uid))(t)
		if ok(q) {
			return q
		}
		if time.Now().After(deadline) {
			t.Fatalf("the quota stays at %v", q)
		}
	}
}
