package keytest

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// FindInMemory searches the process's private, writable, anonymous memory
// (the Go heap, every goroutine's stack, the main thread's stack) for each
// pattern, and describes where each one was found: "pattern 1 at
// 0xc000123400 [rw-p anonymous 0xc000000000-0xc004000000]". It never
// prints a pattern. Mappings that hold any of skip are not searched: keep
// the patterns themselves in locked memory outside the heap
// (secret.Buffer) and pass them as skip, so that the only copies found
// are copies someone else made. Mappings over 1 GiB (the race detector's
// shadow memory) are not searched either.
//
// Freed heap memory keeps its contents until the allocator hands it out
// again, and a goroutine's stack keeps what dead frames left, so a buffer
// that held a secret and was dropped without a wipe is found. A search
// that finds nothing proves only that no copy was left where it looks.
func FindInMemory(t testing.TB, patterns [][]byte, skip ...[]byte) []string {
	t.Helper()
	maps, err := os.Open("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	defer maps.Close()
	mem, err := os.Open("/proc/self/mem")
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	longest := 0
	for _, p := range patterns {
		longest = max(longest, len(p))
	}
	const chunk = 1 << 20
	buf := make([]byte, chunk+longest)
	defer clear(buf) // it holds copies of what it read
	var found []string
	sc := bufio.NewScanner(maps)
	for sc.Scan() {
		// "start-end perms offset dev inode [path]"
		f := strings.Fields(sc.Text())
		if len(f) < 5 || f[1] != "rw-p" || f[4] != "0" || len(f) > 5 && f[5] != "[heap]" && f[5] != "[stack]" {
			continue
		}
		lo, hi, ok := parseRange(f[0])
		if !ok || hi-lo > 1<<30 || overlaps(lo, hi, skip) {
			continue
		}
		where := strings.Join(append([]string{f[1]}, f[5:]...), " ")
		for off := lo; off < hi; off += chunk {
			n, _ := mem.ReadAt(buf[:min(uint64(len(buf)), hi-off)], int64(off))
			for i, p := range patterns {
				for j := 0; len(p) > 0; {
					k := bytes.Index(buf[j:n], p)
					if k < 0 || j+k >= chunk { // a match past chunk is the next read's
						break
					}
					found = append(found, fmt.Sprintf("pattern %d at %#x [%s %s]", i, off+uint64(j+k), where, f[0]))
					j += k + 1
				}
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return found
}

func parseRange(s string) (lo, hi uint64, ok bool) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, false
	}
	lo, err1 := strconv.ParseUint(a, 16, 64)
	hi, err2 := strconv.ParseUint(b, 16, 64)
	return lo, hi, err1 == nil && err2 == nil
}

// overlaps reports whether [lo, hi) holds any byte of the slices.
func overlaps(lo, hi uint64, slices [][]byte) bool {
	for _, s := range slices {
		if len(s) == 0 {
			continue
		}
		p := uint64(uintptr(unsafe.Pointer(unsafe.SliceData(s))))
		if p < hi && p+uint64(len(s)) > lo {
			return true
		}
	}
	return false
}
