#!/bin/bash
# bench.sh: whole-process time of `keyctl rlist` and `keyctl show` over a
# keyring of 1000 keys, keyutils' keyctl against this program, interleaved
# run by run so that both see the same machine load. Prints the minimum and
# the median of each, and their ratios. Needs root (an ordinary user's quota
# is 200 keys).
#
#	go build -trimpath -ldflags='-s -w' -o /tmp/gokeyctl ./examples/keyctl
#	./examples/keyctl/bench.sh /tmp/gokeyctl [runs]
set -e
ours=${1:?usage: bench.sh path/to/built/keyctl [runs]}
runs=${2:-200}
c=/usr/bin/keyctl
exec $c session - bash -c '
set -e
ours=$1 runs=$2 c=$3
r=$($c newring bench @s)
for i in $(seq 1000); do echo -n v | $c padd user k$i $r >/dev/null; done
us() { # prog args...: microseconds one run takes
	local s=$EPOCHREALTIME
	"$@" >/dev/null
	local e=$EPOCHREALTIME
	echo $(( ${e/./} - ${s/./} ))
}
stats() { # min and median of the numbers on stdin
	sort -n | awk "{v[NR] = \$1} END {print v[1], v[int((NR + 1) / 2)]}"
}
for cmd in "rlist $r" "show $r"; do
	a=() b=()
	for ((i = 0; i < runs; i++)); do
		a+=($(us $c $cmd)) b+=($(us $ours $cmd))
	done
	read amin amed < <(printf "%s\n" "${a[@]}" | stats)
	read bmin bmed < <(printf "%s\n" "${b[@]}" | stats)
	echo "keyctl ${cmd%% *} (1000 keys, $runs runs): keyutils min ${amin} median ${amed} us, kernkeys min ${bmin} median ${bmed} us, ratio min $(echo "scale=2; $bmin / $amin" | bc) median $(echo "scale=2; $bmed / $amed" | bc)"
done
$c clear $r
' bench "$ours" "$runs" "$c" 2>/dev/null
