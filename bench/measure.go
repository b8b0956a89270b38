//go:build linux && cgo

package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// result is what was measured of one operation.
type result struct {
	op *op
	n  int // calls per batch
	// ns[c][r] is contender c's ns/op in round r; nil when c lacks the op.
	ns [nContenders][]float64
	// allocs is Go's heap allocations per call, -1 where not counted (C).
	allocs [nContenders]float64
}

// measure runs the rounds (and one warm-up round, not recorded), then
// counts the Go contenders' allocations.
func measure(ops []*op, rounds, batch int, progress io.Writer) ([]*result, error) {
	res := make([]*result, len(ops))
	for i, o := range ops {
		res[i] = &result{op: o, n: max(1, batch/o.div)}
		for c := range nContenders {
			res[i].allocs[c] = -1
			if o.run[c] != nil {
				res[i].ns[c] = make([]float64, 0, rounds)
			}
		}
	}
	start := time.Now()
	for r := -1; r < rounds; r++ {
		// Collect outside the timed batches, so that a collection is
		// charged to whoever allocates, not to whoever runs next.
		runtime.GC()
		for _, x := range res {
			var present []contender
			for c := range nContenders {
				if x.op.run[c] != nil {
					present = append(present, c)
				}
			}
			k := (r + 1) % len(present)
			for _, c := range append(present[k:], present[:k]...) {
				t0 := time.Now()
				err := x.op.run[c](x.n)
				d := time.Since(t0)
				if err != nil {
					return nil, fmt.Errorf("%s, %v: %w", x.op.name, c, err)
				}
				if r >= 0 {
					x.ns[c] = append(x.ns[c], float64(d.Nanoseconds())/float64(x.n))
				}
			}
		}
		if progress != nil && r >= 0 && (r+1)%50 == 0 {
			fmt.Fprintf(progress, "bench: round %d of %d, %s\n", r+1, rounds, time.Since(start).Round(time.Second))
		}
	}
	for _, x := range res {
		for c := range nContenders {
			f := x.op.run[c]
			if f == nil || !c.isGo() {
				continue
			}
			var err error
			x.allocs[c] = testing.AllocsPerRun(200, func() {
				if e := f(1); e != nil {
					err = e
				}
			})
			if err != nil {
				return nil, fmt.Errorf("%s, %v, counting allocations: %w", x.op.name, c, err)
			}
		}
	}
	return res, nil
}

func minOf(v []float64) float64 { return slices.Min(v) }

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// ratios returns a[r]/b[r] for every round r: both were measured within
// the same round, under the same load.
func ratios(a, b []float64) []float64 {
	out := make([]float64, len(a))
	for i := range a {
		out[i] = a[i] / b[i]
	}
	return out
}

// vs describes contender a against contender b of x: the ratio of the
// minimums and the median of the per-round ratios.
func (x *result) vs(a, b contender) (minRatio, medRatio float64) {
	return minOf(x.ns[a]) / minOf(x.ns[b]), median(ratios(x.ns[a], x.ns[b]))
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func kernelRelease() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "unknown"
	}
	return unix.ByteSliceToString(u.Release[:]) + " " + unix.ByteSliceToString(u.Machine[:])
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ") + " (1, 5, 15 min)"
}

// allocSink keeps allocCost's allocations on the heap.
var allocSink []byte

// allocCost measures what a 32-byte Go allocation costs alone and right
// after a system call (getpid): the allocating forms' cost over the
// caller-buffer forms. Where each system call empties the TLB (page-table
// isolation without PCID, /sys/devices/system/cpu/vulnerabilities/meltdown
// "Mitigation: PTI"), the allocator's pages are cold after every call.
// The medians of 5 runs each, in ns.
func allocCost() (alone, afterSyscall float64) {
	run := func(f func()) float64 {
		var v []float64
		for range 5 {
			r := testing.Benchmark(func(b *testing.B) {
				for b.Loop() {
					f()
				}
			})
			v = append(v, float64(r.T.Nanoseconds())/float64(r.N))
		}
		return median(v)
	}
	getpid := func() { unix.RawSyscall(unix.SYS_GETPID, 0, 0, 0) }
	alone = run(func() { allocSink = make([]byte, 32) })
	syscallOnly := run(getpid)
	both := run(func() { getpid(); allocSink = make([]byte, 32) })
	return alone, both - syscallOnly
}

// meltdown is the kernel's Meltdown mitigation ("Mitigation: PTI" or "Not
// affected").
func meltdown() string {
	b, err := os.ReadFile("/sys/devices/system/cpu/vulnerabilities/meltdown")
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}
