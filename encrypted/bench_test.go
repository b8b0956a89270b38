package encrypted

import (
	"strconv"
	"testing"
)

var benchSizes = []int{32, 4096}

func BenchmarkSeal(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(strconv.Itoa(n)+"B", func(b *testing.B) {
			pt := seq(0, n)
			p := Params{Master: userKMK, IV: testIV}
			b.ReportAllocs()
			b.SetBytes(int64(n))
			for b.Loop() {
				if _, err := Seal(pt, testKMK, p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkOpen(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(strconv.Itoa(n)+"B", func(b *testing.B) {
			blob, err := Seal(seq(0, n), testKMK, Params{Master: userKMK, IV: testIV})
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
				Wipe(pt)
			}
		})
	}
}
