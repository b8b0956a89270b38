#!/bin/bash
# bench.sh: whole-process time of `keyctl rlist` and `keyctl show` over a
# keyring of 1000 keys, keyutils' keyctl against this program, in the same
# run. Needs root (an ordinary user's quota is 200 keys).
#
#	go build -o /tmp/gokeyctl ./examples/keyctl && ./examples/keyctl/bench.sh /tmp/gokeyctl
set -e
ours=${1:?usage: bench.sh path/to/built/keyctl [runs]}
runs=${2:-200}
c=/usr/bin/keyctl
exec $c session - bash -c '
set -e
ours=$1 runs=$2 c=$3
r=$($c newring bench @s)
for i in $(seq 1000); do echo -n v | $c padd user k$i $r >/dev/null; done
t() { # prog args...: prints milliseconds per run
	local s=$(date +%s%N)
	for ((i = 0; i < runs; i++)); do "$@" >/dev/null; done
	echo $(( ($(date +%s%N) - s) / runs / 1000 ))
}
for round in 1 2; do
	for cmd in "rlist $r" "show $r"; do
		a=$(t $c $cmd); b=$(t $ours $cmd)
		echo "round $round: keyctl ${cmd%% *} (1000 keys): keyutils ${a} us, kernkeys ${b} us, ratio $(echo "scale=2; $b / $a" | bc)"
	done
done
$c clear $r
' bench "$ours" "$runs" "$c"
