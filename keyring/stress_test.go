//go:build linux && stress

// The stress tests: a target of their own, left out of the default run.
//
//	go test -race -tags stress -run TestStress -count=1 -v ./keyring/
//
// Each runs in a child process in a new user namespace, as a non-root uid
// that, when the caller is root, nothing else in the system charges keys
// to (keytest.ChildKUID), so /proc/key-users tells exactly what the test
// left behind; as an ordinary user it is that user's own line. The child
// has an ordinary user's quota (/proc/sys/kernel/keys/maxkeys and
// maxbytes: 200 keys, 20000 bytes here), which the mixed test stays well
// under and the quota test exhausts. Both take seconds on two cores under
// -race; -v prints the figures.

package keyring_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kernkeys/kernkeys/encrypted"
	"github.com/kernkeys/kernkeys/internal/keytest"
	"github.com/kernkeys/kernkeys/keyring"
)

const (
	stressWorkers = 8
	stressOps     = 10000 // per worker
	stressRings   = 4     // shared keyrings
	stressDescs   = 12    // descriptions per keyring
)

// inChild runs child in a user-namespace child (see the file comment) and
// checks, from outside, that the uid's key usage is back where it was once
// the child has exited.
func inChild(t *testing.T, child func(*testing.T)) {
	if keytest.IsChild(t) {
		child(t)
		return
	}
	keytest.OwnQuota(t)
	keytest.Session(t)
	uid := keytest.ChildKUID()
	before := keytest.SettledKeyUsers(t, uid)
	start := time.Now()
	keytest.RunChild(t, keytest.ChildOptions{UserNS: true})
	took := time.Since(start)
	after, ok := keytest.WaitKeyUsers(t, uid, before, 30*time.Second)
	t.Logf("child ran %v; /proc/key-users for uid %d: before %v, after %v (waited %v for the garbage collector)",
		took.Round(time.Millisecond), uid, before, after, (time.Since(start) - took).Round(time.Millisecond))
	if !ok {
		t.Errorf("keys leaked: uid %d is charged %v, was %v", uid, after, before)
	}
}

// sharedSession makes a keyring that every worker thread joins as its
// session keyring by name (JoinProcessSession's way, thread by thread,
// since -race builds link cgo and cannot join all threads at once).
func sharedSession(t *testing.T, s keyring.Keyring) (keyring.Keyring, func() (keyring.Keyring, error)) {
	t.Helper()
	name := "kernkeys-stress:" + strconv.Itoa(os.Getpid()) + ":" + strconv.FormatInt(time.Now().UnixNano(), 36)
	shared := must(s.AddKeyring(name))(t)
	check(t, shared.SetPerm(keyring.PermAll.Possessor()|(keyring.PermView|keyring.PermSearch).User()))
	t.Cleanup(func() { check(t, s.Unlink(shared.Key)) })
	return shared, func() (keyring.Keyring, error) {
		got, err := keyring.JoinSession(name)
		if err == nil && got != shared {
			err = fmt.Errorf("joined %v, not the shared session %v", got, shared)
		}
		return got, err
	}
}

// runWorkers runs work(i) for every worker on a locked thread of its own
// that has joined the shared session, all starting at once.
func runWorkers(t *testing.T, join func() (keyring.Keyring, error), work func(i int) error) {
	t.Helper()
	var wg, ready sync.WaitGroup
	ready.Add(stressWorkers)
	for i := range stressWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := keyring.OnThread(func() error {
				_, err := join()
				ready.Done()
				ready.Wait() // all start at once
				if err != nil {
					return err
				}
				return work(i)
			})
			if err != nil {
				t.Errorf("worker %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
}

// The sentinels an operation on a key or keyring may meet because another
// worker got there first: the key was replaced, unlinked, revoked,
// invalidated or timed out (and, no longer linked, is not possessed), or
// the quota is held by keys the garbage collector has not freed yet.
// A key found by a lookup (search, request, describe, which needs only
// VIEW, which every key grants its user here) can only be gone.
var (
	lookup  = []error{keyring.ErrNotFound, keyring.ErrRevoked, keyring.ErrExpired}
	gone    = append(slices.Clip(lookup), keyring.ErrPermission)
	charged = append(slices.Clip(gone), keyring.ErrQuota)
)

type opStats struct {
	ok     atomic.Int64
	mu     sync.Mutex
	errs   map[string]int // sentinel name -> count
	unexp  []string
	nunexp int
}

func (s *opStats) record(err error, allowed []error) {
	if err == nil {
		s.ok.Add(1)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var ke *keyring.Error
	if errors.As(err, &ke) {
		for _, a := range allowed {
			if errors.Is(err, a) {
				s.errs[a.Error()]++
				return
			}
		}
	}
	s.nunexp++
	if len(s.unexp) < 5 {
		s.unexp = append(s.unexp, err.Error())
	}
}

// checkPayload tells whether p is one that a worker wrote: a length byte
// and that many copies of one byte, so a torn or mixed payload shows.
func checkPayload(p []byte) bool {
	if len(p) < 2 || int(p[0]) != len(p)-1 {
		return false
	}
	return bytes.Count(p[1:], p[1:2]) == len(p)-1
}

// 8 workers on 8 locked threads that share one session run 10,000 mixed
// operations each on 4 shared keyrings: add, update, read, describe,
// search, link, unlink, move, revoke, invalidate, set timeout, set perm,
// clear, and request of present and missing keys. Every error must be a
// *keyring.Error matching a sentinel that a concurrent peer can explain;
// every payload read must be one that was written, whole; at the end
// every link is a key the workers made, and the uid's key usage goes back
// to where it started.
func TestStressMixed(t *testing.T) {
	inChild(t, stressMixed)
}

func stressMixed(t *testing.T) {
	s := keytest.Session(t)
	uid := os.Getuid()
	shared, join := sharedSession(t, s)
	var rings [stressRings]keyring.Keyring
	for i := range rings {
		rings[i] = must(shared.AddKeyring("ring" + strconv.Itoa(i)))(t)
	}
	descs := make([]string, stressDescs)
	for i := range descs {
		descs[i] = "stress:" + strconv.Itoa(i)
	}
	var slots [stressRings * stressDescs]atomic.Int32 // last key added per ring and description
	names := []string{"add", "update", "read", "describe", "search", "link", "unlink", "move", "revoke",
		"invalidate", "set_timeout", "setperm", "clear", "request", "request_missing"}
	stats := map[string]*opStats{}
	for _, n := range names {
		stats[n] = &opStats{errs: map[string]int{}}
	}
	var torn atomic.Int64
	perms := []keyring.Perm{
		keyring.PermAll.Possessor() | keyring.PermView.User(),
		keyring.PermAll.Possessor() | (keyring.PermView | keyring.PermRead | keyring.PermSearch).User(),
	}

	start := time.Now()
	runWorkers(t, join, func(w int) error {
		rng := mrand.New(mrand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
		payload := make([]byte, 65)
		read := make([]byte, 128)
		desc := make([]byte, 256)
		for range stressOps {
			ri, di := rng.IntN(stressRings), rng.IntN(stressDescs)
			r, slot := rings[ri], &slots[ri*stressDescs+di]
			k := keyring.ID(slot.Load()).Key()
			if k.ID() == 0 {
				k = keyring.ID(slots[rng.IntN(len(slots))].Load()).Key()
			}
			op := rng.IntN(1000)
			if k.ID() == 0 {
				op = 0 // nothing added yet: add
			}
			switch {
			case op < 150:
				n := 1 + rng.IntN(64)
				payload[0] = byte(n)
				for i := 1; i <= n; i++ {
					payload[i] = byte(w*16 + n)
				}
				nk, err := r.Add("user", descs[di], payload[:n+1])
				if err == nil {
					slot.Store(int32(nk.ID()))
				}
				stats["add"].record(err, charged)
			case op < 250:
				n := 1 + rng.IntN(64)
				payload[0] = byte(n)
				for i := 1; i <= n; i++ {
					payload[i] = byte(w*16 + n)
				}
				stats["update"].record(k.Update(payload[:n+1]), append(slices.Clip(charged), keyring.ErrNotSupported))
			case op < 400:
				n, err := k.ReadInto(read)
				if err == nil && n <= len(read) {
					if d, derr := k.Describe(); derr == nil && d.Type == "user" && !checkPayload(read[:n]) {
						torn.Add(1)
					}
				}
				stats["read"].record(err, gone)
			case op < 520:
				_, err := k.DescribeInto(desc)
				stats["describe"].record(err, lookup)
			case op < 640:
				_, err := r.Search("user", descs[di])
				stats["search"].record(err, lookup)
			case op < 700:
				stats["link"].record(rings[rng.IntN(stressRings)].Link(k), charged)
			case op < 750:
				stats["unlink"].record(r.Unlink(k), []error{keyring.ErrNotFound})
			case op < 800:
				to := rings[rng.IntN(stressRings)]
				if to == r {
					to = rings[(ri+1)%stressRings]
				}
				stats["move"].record(r.Move(k, to), charged)
			case op < 815:
				stats["revoke"].record(k.Revoke(), gone)
			case op < 830:
				stats["invalidate"].record(k.Invalidate(), gone)
			case op < 870:
				// Mostly no timeout or a long one; sometimes one that
				// runs out during the test.
				d := [...]time.Duration{0, time.Hour, 0, time.Hour, 0, time.Hour, 0, 2 * time.Second}[rng.IntN(8)]
				stats["set_timeout"].record(k.SetTimeout(d), gone)
			case op < 910:
				stats["setperm"].record(k.SetPerm(perms[rng.IntN(len(perms))]), gone)
			case op < 912:
				stats["clear"].record(r.Clear(), nil)
			case op < 960:
				_, err := keyring.Request("user", descs[di], keyring.RequestOptions{})
				stats["request"].record(err, lookup)
			default:
				_, err := keyring.Request("user", "stress:missing:"+strconv.Itoa(di), keyring.RequestOptions{})
				stats["request_missing"].record(err, []error{keyring.ErrNotFound})
			}
		}
		return nil
	})
	took := time.Since(start)

	// What is left is what the workers made: user keys with their
	// descriptions, each at most once per keyring.
	for _, r := range rings {
		seen := map[string]bool{}
		for _, k := range must(r.Links())(t) {
			d, err := k.Describe()
			if err != nil {
				continue // revoked, expired or invalidated, awaiting collection
			}
			if d.Type != "user" || !slices.Contains(descs, d.Description) || seen[d.Description] {
				t.Errorf("%v links %v", r, d)
			}
			seen[d.Description] = true
		}
	}
	peak := keytest.KeyUsers(t, uid)
	check(t, shared.Clear())

	total := int64(0)
	var report strings.Builder
	for _, n := range names {
		st := stats[n]
		ok := st.ok.Load()
		nerr := st.nunexp
		keys := make([]string, 0, len(st.errs))
		for e, c := range st.errs {
			keys = append(keys, fmt.Sprintf("%s %d", e, c))
			nerr += c
		}
		sort.Strings(keys)
		total += ok + int64(nerr)
		fmt.Fprintf(&report, "\n  %-16s %6d ok %6d failed: %s", n, ok, nerr, strings.Join(keys, ", "))
		if st.nunexp > 0 {
			t.Errorf("%s: %d unexpected errors, such as %q", n, st.nunexp, st.unexp)
		}
	}
	if n := torn.Load(); n > 0 {
		t.Errorf("%d reads returned a payload no worker wrote", n)
	}
	t.Logf("%d workers, %d operations in %v: %.0f ops/s; key usage at the end %v (quota %d keys, %d bytes)%s",
		stressWorkers, total, took.Round(time.Millisecond), float64(total)/took.Seconds(), peak, peak.MaxKeys, peak.MaxBytes, report.String())
}

// Quota exhaustion under concurrency: 8 workers add keys until the quota
// runs out; each refused add is ErrQuota and leaves nothing behind (each
// worker's keyring links exactly the keys whose add succeeded, and the
// refused description is not there); the uid is then charged exactly
// maxkeys. An update refused by the byte quota keeps the old payload. A
// multi-step operation (encrypted.Import: a temporary master key, then
// the encrypted key) refused half-way by the quota is ErrQuota and undoes
// its first step.
func TestStressQuota(t *testing.T) {
	inChild(t, stressQuota)
}

// waitKeys waits until uid is charged n keys, and returns its usage.
func waitKeys(t *testing.T, uid, n int) keyring.Quota {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		u := keytest.KeyUsers(t, uid)
		if u.Keys == n {
			return u
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited for %d keys charged; %v", n, u)
		}
	}
}

func stressQuota(t *testing.T) {
	s := keytest.Session(t)
	uid := os.Getuid()
	maxKeys, maxBytes := keytest.KeyQuota(t)
	startUsage := keytest.KeyUsers(t, uid)
	shared, join := sharedSession(t, s)
	var rings [stressWorkers]keyring.Keyring
	for i := range rings {
		rings[i] = must(shared.AddKeyring("quota" + strconv.Itoa(i)))(t)
	}
	master := encrypted.Master{Kind: encrypted.UserMaster, Name: "stress-master"}
	mk := make([]byte, 32)
	rand.Read(mk)
	must(shared.Add("user", master.Name, mk))(t)
	sessionLinks := must(shared.Links())(t)
	base := keytest.KeyUsers(t, uid)

	// The key count.
	var added [stressWorkers]int
	runWorkers(t, join, func(w int) error {
		for n := 0; ; n++ {
			desc := "q" + strconv.Itoa(w) + ":" + strconv.Itoa(n)
			_, err := rings[w].Add("user", desc, []byte("sixteen bytes..."))
			if err == nil {
				runtime.Gosched() // let the other workers add too
				continue
			}
			added[w] = n
			if !errors.Is(err, keyring.ErrQuota) {
				return fmt.Errorf("add %d: %w, want ErrQuota", n, err)
			}
			if _, err := rings[w].Search("user", desc); !errors.Is(err, keyring.ErrNotFound) {
				return fmt.Errorf("the refused %q is there: search says %v", desc, err)
			}
			if l, err := rings[w].Links(); err != nil || len(l) != n {
				return fmt.Errorf("%d adds succeeded and the keyring links %d keys (%v)", n, len(l), err)
			}
			return nil
		}
	})
	full := keytest.KeyUsers(t, uid)
	t.Logf("quota %d keys, %d bytes; charged %v at the start, %v when full; adds per worker %v",
		maxKeys, maxBytes, startUsage, full, added)
	if full.Keys != full.MaxKeys {
		t.Errorf("the adds stopped at %v, not at the key quota", full)
	}

	// A multi-step operation refused when the quota is full, then with
	// one key to spare: it takes the spare for its temporary master and
	// is refused at the encrypted key.
	data := bytes.Repeat([]byte{7}, 32)
	opts := encrypted.ImportOptions{Format: encrypted.Enc32, Master: master}
	_, _, err := encrypted.Import(shared, "stress-import", data, opts)
	wantErr(t, err, keyring.ErrQuota)
	most := rings[slices.Index(added[:], slices.Max(added[:]))]
	check(t, most.Unlink(must(most.Links())(t)[0]))
	spare := waitKeys(t, uid, full.Keys-1)
	_, _, err = encrypted.Import(shared, "stress-import", data, opts)
	wantErr(t, err, keyring.ErrQuota)
	if l := must(shared.Links())(t); !slices.Equal(l, sessionLinks) {
		t.Errorf("after the refused import the session links %v, before %v", l, sessionLinks)
	}
	if after := waitKeys(t, uid, spare.Keys); after != spare {
		t.Errorf("the refused import left keys charged: %v, before it %v", after, spare)
	}

	// The byte quota: fill it with ever smaller payloads, then an update
	// that needs more bytes is refused and changes nothing.
	for _, r := range rings {
		check(t, r.Clear())
	}
	if got, ok := keytest.WaitKeyUsers(t, uid, base, 10*time.Second); !ok {
		t.Errorf("after clearing, %v charged, want %v", got, base)
	}
	small := must(rings[0].Add("user", "small", []byte("small")))(t)
	for _, size := range []int{4000, 1000, 250} {
		for n := 0; ; n++ {
			if _, err := rings[1].Add("user", "b"+strconv.Itoa(size)+":"+strconv.Itoa(n), make([]byte, size)); err != nil {
				wantErr(t, err, keyring.ErrQuota)
				break
			}
		}
	}
	wantErr(t, small.Update(make([]byte, os.Getpagesize())), keyring.ErrQuota)
	if got := must(small.Read())(t); string(got) != "small" {
		t.Errorf("a refused update changed the payload to %d bytes", len(got))
	}
	t.Logf("byte quota full: charged %v", keytest.KeyUsers(t, uid))
	check(t, shared.Clear())
}
