//go:build linux && cgo

package main

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// The targets of issues 8 and 15.
const (
	hotLimit = 1.10 // hot and allocating forms: at most this many times C raw
	hopLimit = 2000 // a thread hand-over: at most this many ns a call over C raw
)

// row is one line of the table.
type row struct {
	op, contender, min, med, allocs, xMin, xMed, note string
}

func rows(res []*result) []row {
	var out []row
	for _, x := range res {
		first := true
		for c := range nContenders {
			if c == cJsipprell && x.ns[c] == nil && x.op.jsipprell && !jsipprellBuilt {
				// It has the operation, but was not built.
				out = append(out, row{contender: c.String(), min: dash, med: dash, allocs: dash, xMin: dash, xMed: dash,
					note: "not built: go run -tags jsipprell (README.md)"})
				continue
			}
			if x.ns[c] == nil {
				continue
			}
			r := row{contender: c.String(), min: ns(minOf(x.ns[c])), med: ns(median(x.ns[c])), allocs: "-", xMin: "1", xMed: "1"}
			if first {
				r.op = x.op.name
				if x.op.div > 1 {
					r.op += fmt.Sprintf(" (%d/batch)", x.n)
				}
				first = false
			}
			if x.allocs[c] >= 0 {
				r.allocs = fmt.Sprintf("%g", x.allocs[c])
			}
			if c != cRaw {
				mn, md := x.vs(c, cRaw)
				r.xMin, r.xMed = fmt.Sprintf("%.2f", mn), fmt.Sprintf("%.2f", md)
			}
			switch {
			case c == cKernkeys && x.op.target != noTarget:
				r.note = verdict(met(x)) + " (target: " + targetText[x.op.target] + ")"
			case c == cJsipprell && x.ns[cKernkeys] != nil:
				r.note = "kernkeys/this " + fasterNote(x)
			}
			out = append(out, r)
		}
	}
	return out
}

// dash fills the columns of a contender that was not built.
const dash = "–"

func ns(v float64) string { return fmt.Sprintf("%.1f", v) }

func verdict(ok bool) string {
	if ok {
		return "ok"
	}
	return "MISSED"
}

// met reports whether kernkeys meets x's target, judged on the median of
// the per-round ratios (or differences) to C raw. The ratio of the
// minimums is printed too but not judged: on a shared machine one
// contender's luckiest batch can fall in a quiet moment that the other's
// missed, which the per-round ratio cancels.
func met(x *result) bool {
	_, md := x.vs(cKernkeys, cRaw)
	switch x.op.target {
	case hot:
		return x.allocs[cKernkeys] == 0 && md <= hotLimit
	case near:
		return md <= hotLimit
	case hop:
		return x.overRaw() <= hopLimit
	}
	return true
}

// overRaw is the median over the rounds of kernkeys' ns/op minus C raw's.
func (x *result) overRaw() float64 {
	d := make([]float64, len(x.ns[cKernkeys]))
	for i := range d {
		d[i] = x.ns[cKernkeys][i] - x.ns[cRaw][i]
	}
	return median(d)
}

var targetText = [...]string{
	hot:  "median <= 1.10x, 0 allocs",
	near: "median <= 1.10x",
	hop:  "median <= C raw + 2 µs",
}

// tieBand is how close to 1 the median kernkeys/jsipprell ratio counts as a
// tie: closer than the noise of the median, so neither is faster.
const tieBand = 0.02

// fasterMet reports whether kernkeys is faster than jsipprell/keyctl on x:
// a median per-round ratio below 1-tieBand.
func fasterMet(x *result) bool {
	_, md := x.vs(cKernkeys, cJsipprell)
	return md < 1-tieBand
}

// fasterNote describes kernkeys against jsipprell/keyctl on x: the ratios,
// the share of rounds kernkeys won, and the verdict.
func fasterNote(x *result) string {
	mn, md := x.vs(cKernkeys, cJsipprell)
	won := 0
	for _, r := range ratios(x.ns[cKernkeys], x.ns[cJsipprell]) {
		if r < 1 {
			won++
		}
	}
	v := verdict(fasterMet(x))
	if !fasterMet(x) && md <= 1+tieBand {
		v = "MISSED (tie)"
	}
	return fmt.Sprintf("%.2fx (median %.2fx, faster in %d%% of rounds): %s", mn, md, 100*won/len(x.ns[cKernkeys]), v)
}

var header = row{"operation", "contender", "min ns/op", "median ns/op", "allocs/op", "x C raw (min)", "x C raw (median)", "target"}

func printTable(w io.Writer, res []*result) {
	all := append([]row{header}, rows(res)...)
	var width [8]int
	for _, r := range all {
		for i, f := range r.fields() {
			width[i] = max(width[i], utf8.RuneCountInString(f)) // fmt pads by runes
		}
	}
	for i, r := range all {
		if i > 0 && r.op != "" {
			fmt.Fprintln(w)
		}
		f := r.fields()
		fmt.Fprintf(w, "%-*s  %-*s  %*s  %*s  %*s  %*s  %*s  %s\n", width[0], f[0], width[1], f[1],
			width[2], f[2], width[3], f[3], width[4], f[4], width[5], f[5], width[6], f[6], f[7])
	}
	fmt.Fprint(w, `
min, median: over the rounds, of each batch's ns/op. x C raw (min): min over C raw's min;
x C raw (median): median over the rounds of the ratio to C raw's batch of the same round.
allocs/op: Go heap allocations per call (testing.AllocsPerRun); "-": C, not counted.
`)
}

func printMarkdown(w io.Writer, res []*result) {
	for i, r := range append([]row{header}, rows(res)...) {
		fmt.Fprintf(w, "| %s |\n", strings.Join(r.fields(), " | "))
		if i == 0 {
			fmt.Fprintln(w, "|---|---|--:|--:|--:|--:|--:|---|")
		}
	}
}

func (r row) fields() []string {
	return []string{r.op, r.contender, r.min, r.med, r.allocs, r.xMin, r.xMed, r.note}
}

// printTargets prints one line per target and returns how many were missed.
func printTargets(w io.Writer, res []*result) int {
	missed := 0
	for _, t := range []struct {
		target target
		title  string
	}{
		{hot, "Targets: describe, read, search, get keyring ID within 1.10x of C raw (median per-round ratio) with 0 allocs/op:"},
		{near, "Targets: the allocating describe, read and list within 1.10x of C raw's into-buffer call (median per-round ratio):"},
		{hop, "Targets: a call through a Worker at most 2 µs over C raw's direct call (median per-round difference):"},
	} {
		fmt.Fprintln(w, t.title)
		for _, x := range res {
			if x.op.target != t.target {
				continue
			}
			mn, md := x.vs(cKernkeys, cRaw)
			ok := met(x)
			if !ok {
				missed++
			}
			fmt.Fprintf(w, "  %-34s %.2fx (median %.2fx, +%.0f ns), %g allocs/op: %s\n", x.op.name, mn, md, x.overRaw(), x.allocs[cKernkeys], verdict(ok))
		}
	}
	if !jsipprellBuilt {
		fmt.Fprintln(w, "Targets: faster than jsipprell/keyctl on every operation it has: not judged, jsipprell/keyctl not built (go run -tags jsipprell, see README.md)")
		return missed
	}
	fmt.Fprintf(w, "Targets: faster than jsipprell/keyctl on every operation it has (kernkeys/jsipprell, median per-round ratio < %.2f):\n", 1-tieBand)
	for _, x := range res {
		if x.ns[cJsipprell] == nil || x.ns[cKernkeys] == nil {
			continue
		}
		if !fasterMet(x) {
			missed++
		}
		fmt.Fprintf(w, "  %-34s %s\n", x.op.name, fasterNote(x))
	}
	return missed
}
