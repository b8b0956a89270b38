//go:build linux

package encrypted

import (
	"strconv"
	"testing"

	"github.com/kernkeys/kernkeys/internal/keytest"
)

// BenchmarkKernelLoad measures the kernel's "load" of the blobs that
// BenchmarkOpen opens: add_key("encrypted", "load <blob>") and unlink, in
// the same run, for comparison.
func BenchmarkKernelLoad(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(strconv.Itoa(n)+"B", func(b *testing.B) {
			keytest.OwnQuota(b)
			s := keytest.Session(b)
			if _, err := s.Add("user", userKMK.Name, testKMK); err != nil {
				b.Fatal(err)
			}
			blob, err := Seal(seq(0, n), SealOptions{MasterKey: testKMK, Master: userKMK, IV: testIV})
			if err != nil {
				b.Fatal(err)
			}
			p, err := LoadPayload(blob)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(n))
			keytest.BenchAddUnlink(b, s, "encrypted", "bench", p)
		})
	}
}
