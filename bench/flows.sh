#!/usr/bin/env bash
# Flow records decoded and fed to the detectors per second, on one core,
# against the least a collector can do over the same datagrams in the
# same run (bench/flowgen.c: ISP-shaped NetFlow v5 and v9 exports of
# RECORDS records; `flowgen loop` sums every record's packets and octets).
# analyze runs with --threads 1 pinned to one CPU (taskset -c 0); the best
# of REPEAT runs counts, by user+system CPU seconds (/usr/bin/time), so a
# busy machine's waits do not count. A benchmark is not a test.
#
#   bench/flows.sh [RECORDS] [REPEAT]
set -euo pipefail
cd "$(dirname "$0")/.."
records=${1:-2000000}
repeat=${2:-3}
out=bench/out
mkdir -p "$out"
[ -x build/bench/flowgen ] || sh scripts/build.sh build >/dev/null
printf '| export | records | baseline loop, records/s | analyze (1 core), records/s | ratio |\n'
printf '|---|---:|---:|---:|---:|\n'
for v in v5 v9; do
	cap=$out/flows-$v-$records.pcap
	[ -f "$cap" ] || ./build/bench/flowgen "$v" "$records" > "$cap"
	cat "$cap" > /dev/null
	best_loop=0 best_cpu=""
	for _ in $(seq "$repeat"); do
		r=$(taskset -c 0 ./build/bench/flowgen loop "$cap" | sed 's/.*; \([0-9]*\) records.s.*/\1/')
		[ "$r" -gt "$best_loop" ] && best_loop=$r
		cpu=$( { /usr/bin/time -f '%U %S' taskset -c 0 ./build/dnsradar analyze --threads 1 \
			--no-progress "$cap" > /dev/null; } 2>&1 | tail -1 | awk '{print $1 + $2}')
		if [ -z "$best_cpu" ] || awk "BEGIN{exit !($cpu < $best_cpu)}"; then best_cpu=$cpu; fi
	done
	rate=$(awk "BEGIN{printf \"%d\", $records / ($best_cpu > 0 ? $best_cpu : 1)}")
	ratio=$(awk "BEGIN{printf \"%.3f\", $rate / $best_loop}")
	printf '| NetFlow %s | %s | %s | %s | %s |\n' "$v" "$records" "$best_loop" "$rate" "$ratio"
done
