#!/bin/sh
# Builds the libFuzzer targets with clang and runs each for SECONDS
# (default 600), one after the other, then merges what they found into
# the saved corpora (fuzz/corpus/TARGET), keeping only inputs that add
# coverage. Extra seed directories (read, never written) may follow, e.g.
# ../shared/data/bind9-fuzz-corpus for the DNS target.
#
#   fuzz/run.sh [SECONDS] [EXTRA_SEED_DIR...]
set -eu
cd "$(dirname "$0")/.."
secs=${1:-600}
[ $# -gt 0 ] && shift
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DDNSRADAR_FUZZ=ON \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j "$(nproc)" --target fuzz_dns fuzz_packet fuzz_analyze \
	fuzz_pcapfile fuzz_netflow fuzz_flowseq fuzz_sflow >/dev/null
work=$(mktemp -d)
for t in dns packet analyze pcapfile netflow flowseq sflow; do
	mkdir -p "$work/$t"
	extra=""
	[ "$t" = dns ] && extra="$*"
	# shellcheck disable=SC2086
	(cd "$work" && "$OLDPWD/build-fuzz/fuzz/fuzz_$t" -max_total_time="$secs" \
		-max_len=4096 -print_final_stats=1 "$work/$t" "$OLDPWD/fuzz/corpus/$t" $extra \
		2>"$work/$t.log") || { tail -n 30 "$work/$t.log"; exit 1; }
	grep -E "stat::number_of_executed_units|stat::average_exec_per_sec" "$work/$t.log" |
		sed "s/^/$t: /"
	mkdir -p "$work/$t.min"
	"build-fuzz/fuzz/fuzz_$t" -merge=1 "$work/$t.min" "fuzz/corpus/$t" "$work/$t" \
		2>/dev/null
	cp "$work/$t.min"/* "fuzz/corpus/$t/" 2>/dev/null || true
done
rm -rf "$work"
