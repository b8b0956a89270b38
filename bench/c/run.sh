#!/usr/bin/env bash
# run.sh: compare kernkeys' hot paths with raw system calls from C.
#
# Builds baseline.c into a temporary directory, then runs, in this order and
# on the same machine: the C baseline, the Go benchmarks of ./keyring/, and
# the C baseline again (bracketing the Go run, so that a change in machine
# load shows up in the C numbers too). It prints all three outputs and a
# table of Go's minimum ns/op over C's minimum ns/op for each operation, with
# Go's allocs/op, against the targets in bench/README.md.
#
# Usage: bash bench/c/run.sh
# Environment: COUNT (rounds per benchmark, default 5), BENCHTIME (seconds per
# round, default 1), STRICT=1 (exit 1 when a target is missed), CC (default cc).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
count=${COUNT:-5}
benchtime=${BENCHTIME:-1}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

${CC:-cc} -O2 -Wall -Wextra -o "$tmp/baseline" "$here/baseline.c"

echo "== C raw syscall(2), before the Go run"
"$tmp/baseline" -count "$count" -benchtime "$benchtime" | tee "$tmp/c1.txt"
echo
echo "== go test -run='^\$' -bench=. -benchmem -count=$count -benchtime=${benchtime}s ./keyring/"
(cd "$root" && go test -run='^$' -bench=. -benchmem -count="$count" -benchtime="${benchtime}s" ./keyring/) | tee "$tmp/go.txt"
echo
echo "== C raw syscall(2), after the Go run"
"$tmp/baseline" -count "$count" -benchtime "$benchtime" | tee "$tmp/c2.txt"
echo

# Rows: Go benchmark, the C benchmark it is held against, and its target.
# "hot" rows must allocate nothing and stay within 1.10x of C; the others are
# reported only (the allocating forms are held against the same C call).
awk -v strict="${STRICT:-0}" '
function median(list,    a, n, i, j, v) {
	n = split(list, a, " ")
	for (i = 2; i <= n; i++) {
		v = a[i] + 0
		for (j = i - 1; j >= 1 && a[j] + 0 > v; j--) a[j + 1] = a[j]
		a[j + 1] = v
	}
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function add(tbl, k, v) {
	tbl[k] = (k in tbl) ? tbl[k] " " v : v
	if (!(k in mins) || v + 0 < mins[k] + 0) mins[k] = v
}
FILENAME ~ /\/c[12]\.txt$/ && $1 ~ /^BenchmarkC_/ && $4 == "ns/op" {
	name = $1; sub(/^BenchmarkC_/, "", name)
	add(cns, "C_" name, $3)
	next
}
FILENAME ~ /\/go\.txt$/ && $1 ~ /^Benchmark/ && $4 == "ns/op" {
	name = $1; sub(/^Benchmark/, "", name); sub(/-[0-9]+$/, "", name)
	add(gns, "G_" name, $3)
	if ($8 == "allocs/op") allocs[name] = (name in allocs && allocs[name] + 0 > $7 + 0) ? allocs[name] : $7
	next
}
END {
	n = split("DescribeInto:DescribeInto:hot Describe:DescribeInto:report ReadInto32:ReadInto32:hot Read32:ReadInto32:report Search1:Search1:hot Search1000:Search1000:hot Resolve:Resolve:hot AddUnlink:AddUnlink:report", rows, " ")
	printf "%-13s %10s %10s %8s %12s %10s  %s\n", "op (Go)", "Go min", "C min", "Go/C", "Go/C median", "allocs/op", "target: 0 allocs, <= 1.10x"
	missed = 0
	for (i = 1; i <= n; i++) {
		split(rows[i], f, ":"); g = f[1]; c = f[2]; kind = f[3]
		if (!(("G_" g) in mins) || !(("C_" c) in mins)) {
			printf "%-13s %10s %10s %8s %12s %10s  %s\n", g, (("G_" g) in mins) ? mins["G_" g] : "-", (("C_" c) in mins) ? mins["C_" c] : "-", "-", "-", (g in allocs) ? allocs[g] : "-", "not measured (skipped?)"
			if (kind == "hot") missed++
			continue
		}
		r = mins["G_" g] / mins["C_" c]
		rm = median(gns["G_" g]) / median(cns["C_" c])
		verdict = "reported (vs C " c ")"
		if (kind == "hot") {
			ok = (allocs[g] + 0 == 0) && (r <= 1.10)
			verdict = ok ? "ok" : "MISSED"
			if (!ok) missed++
		}
		printf "%-13s %10.1f %10.1f %7.2fx %11.2fx %10s  %s\n", g, mins["G_" g], mins["C_" c], r, rm, allocs[g], verdict
	}
	print ""
	print "Go/C: minimum ns/op over all rounds (C: both runs). Go/C median: medians, as a noise check."
	print "allocs/op: the largest Go reported over its rounds."
	if (missed) {
		printf "%d target(s) missed.\n", missed
		if (strict == 1) exit 1
	} else {
		print "All targets met."
	}
}' "$tmp/c1.txt" "$tmp/go.txt" "$tmp/c2.txt"
