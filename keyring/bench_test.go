//go:build linux

package keyring_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/kernkeys/kernkeys/internal/keytest"
	"github.com/kernkeys/kernkeys/keyring"
)

// The benchmarks make the same calls as the bench module (bench/, see
// bench/README.md), which times them against C's raw system calls,
// libkeyutils and other Go packages in one process. Keep the descriptions,
// payload size and the searched key in step with bench/fixture.go.
const (
	benchDesc     = "kk-bench-0000" // the one key of the single-key benchmarks
	benchAddDesc  = "kk-bench-add"  // BenchmarkAddUnlink
	benchMany     = 1000            // keys in BenchmarkSearch1000
	benchManyFind = "kk-bench-0500" // the key BenchmarkSearch1000 looks for
)

// benchPayload is a 32-byte user key payload. It is not secret, but like any
// payload it is never printed.
var benchPayload = bytes.Repeat([]byte{0xa5}, 32)

// benchSession returns a fresh session keyring holding one 32-byte user key,
// and that key. The key is unlinked at cleanup, and the cleanup waits for
// the kernel to destroy it.
func benchSession(tb testing.TB) (keyring.Keyring, keyring.Key) {
	tb.Helper()
	s := keytest.Session(tb)
	k := must(s.Add("user", benchDesc, benchPayload))(tb)
	tb.Cleanup(func() {
		if err := s.Unlink(k); err != nil {
			tb.Errorf("unlinking the benchmark key: %v", err)
		}
		keytest.WaitGone(tb, k)
	})
	return s, k
}

func BenchmarkDescribeInto(b *testing.B) {
	_, k := benchSession(b)
	var buf [256]byte
	b.ReportAllocs()
	for b.Loop() {
		n, err := k.DescribeInto(buf[:])
		if err != nil || n > len(buf) {
			b.Fatalf("DescribeInto = %d, %v", n, err)
		}
	}
}

func BenchmarkDescribe(b *testing.B) {
	_, k := benchSession(b)
	b.ReportAllocs()
	for b.Loop() {
		d, err := k.Describe()
		if err != nil || d.Description != benchDesc {
			b.Fatalf("Describe = %+v, %v", d, err)
		}
	}
}

func BenchmarkReadInto32(b *testing.B) {
	_, k := benchSession(b)
	var buf [32]byte
	b.ReportAllocs()
	for b.Loop() {
		n, err := k.ReadInto(buf[:])
		if err != nil || n != len(buf) {
			b.Fatalf("ReadInto: size %d, %v", n, err) // never the payload
		}
	}
	keyring.Wipe(buf[:])
}

func BenchmarkRead32(b *testing.B) {
	_, k := benchSession(b)
	b.ReportAllocs()
	for b.Loop() {
		p, err := k.Read()
		if err != nil || len(p) != len(benchPayload) {
			b.Fatalf("Read: size %d, %v", len(p), err) // never the payload
		}
		keyring.Wipe(p)
	}
}

func BenchmarkSearch1(b *testing.B) {
	s, k := benchSession(b)
	benchSearch(b, s, benchDesc, k)
}

func BenchmarkSearch1000(b *testing.B) {
	keytest.NeedRoom(b, benchMany+1)
	s := keytest.Session(b)
	keys := make([]keyring.Key, 0, benchMany)
	b.Cleanup(func() {
		if err := s.Clear(); err != nil {
			b.Errorf("clearing the session: %v", err)
		}
		keytest.WaitGone(b, keys...)
	})
	var want keyring.Key
	for i := range benchMany {
		desc := fmt.Sprintf("kk-bench-%04d", i)
		k, err := s.Add("user", desc, benchPayload)
		check(b, err)
		keys = append(keys, k)
		if desc == benchManyFind {
			want = k
		}
	}
	benchSearch(b, s, benchManyFind, want)
}

// benchSearch times searching s for the user key desc, which must find want.
func benchSearch(b *testing.B, s keyring.Keyring, desc string, want keyring.Key) {
	b.ReportAllocs()
	for b.Loop() {
		k, err := s.Search("user", desc)
		if err != nil || k != want {
			b.Fatalf("Search = %v, %v; want %v", k, err, want)
		}
	}
}

func BenchmarkResolve(b *testing.B) {
	s := keytest.Session(b)
	r := keyring.Session()
	b.ReportAllocs()
	for b.Loop() {
		id, err := r.Resolve()
		if err != nil || id != s.ID() {
			b.Fatalf("Resolve = %v, %v; want %v", id, err, s.ID())
		}
	}
}

func BenchmarkAddUnlink(b *testing.B) {
	keytest.OwnQuota(b)
	keytest.BenchAddUnlink(b, keytest.Session(b), "user", benchAddDesc, benchPayload)
}

// TestHotPathsDoNotAllocate pins the documented promise that describe, read,
// search and get_keyring_id allocate nothing in steady state. The search
// description is under 128 bytes, so its C string lives on the stack.
func TestHotPathsDoNotAllocate(t *testing.T) {
	s, k := benchSession(t)
	var buf [256]byte
	// No subtests: they would run on other threads, outside the session.
	for _, c := range []struct {
		name string
		fn   func() error
	}{
		{"DescribeInto", func() error {
			_, err := k.DescribeInto(buf[:])
			return err
		}},
		{"ReadInto", func() error {
			_, err := k.ReadInto(buf[:32])
			return err
		}},
		{"Search", func() error {
			_, err := s.Search("user", benchDesc)
			return err
		}},
		{"Resolve", func() error {
			_, err := keyring.Session().Resolve()
			return err
		}},
	} {
		var err error
		allocs := testing.AllocsPerRun(100, func() {
			if e := c.fn(); e != nil {
				err = e
			}
		})
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if allocs != 0 {
			t.Errorf("%s: %v allocs/op, want 0", c.name, allocs)
		}
	}
	keyring.Wipe(buf[:])
}

// BenchmarkThreadCorrect describes a user key of a fresh session keyring
// three ways: directly, on the locked thread that joined the session;
// through a Worker, one long-lived locked thread; and through OnThread,
// a new thread per call. The key gives the user VIEW, so the Worker's and
// OnThread's threads may describe it too. The function is made once, as a
// daemon serving the same call would.
func BenchmarkThreadCorrect(b *testing.B) {
	// Each sub-benchmark runs on a goroutine of its own: benchSession
	// locks it and joins it to the session there.
	describer := func(b *testing.B) func() error {
		_, k := benchSession(b)
		var buf [256]byte
		return func() error {
			n, err := k.DescribeInto(buf[:])
			if err == nil && n > len(buf) {
				err = errors.New("description longer than the buffer")
			}
			return err
		}
	}
	b.Run("direct", func(b *testing.B) {
		describe := describer(b)
		b.ReportAllocs()
		for b.Loop() {
			check(b, describe())
		}
	})
	b.Run("worker", func(b *testing.B) {
		describe := describer(b)
		w := must(keyring.NewWorker(context.Background(), keyring.WorkerOptions{}))(b)
		defer w.Close()
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			check(b, w.Do(ctx, describe))
		}
	})
	b.Run("onthread", func(b *testing.B) {
		describe := describer(b)
		b.ReportAllocs()
		for b.Loop() {
			check(b, keyring.OnThread(describe))
		}
	})
}
