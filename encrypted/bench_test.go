package encrypted

import (
	"strconv"
	"testing"

	"github.com/kernkeys/kernkeys/keyring"
)

var benchSizes = []int{32, 4096}

func BenchmarkSeal(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(strconv.Itoa(n)+"B", func(b *testing.B) {
			pt := seq(0, n)
			p := SealOptions{MasterKey: testKMK, Master: userKMK, IV: testIV}
			b.ReportAllocs()
			b.SetBytes(int64(n))
			for b.Loop() {
				if _, err := Seal(pt, p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkOpen(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(strconv.Itoa(n)+"B", func(b *testing.B) {
			blob, err := Seal(seq(0, n), SealOptions{MasterKey: testKMK, Master: userKMK, IV: testIV})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetBytes(int64(n))
			for b.Loop() {
				pt, err := Open(blob, testKMK)
				if err != nil {
					b.Fatal(err)
				}
				keyring.Wipe(pt)
			}
		})
	}
}
