#!/usr/bin/env bash
# Instructions per packet on each of analyze's two threads, counted by
# callgrind (repeatable, whatever else the machine does), on the first
# 100,000 packets of each bench capture, less what a run of 3,400 packets
# costs (start-up and the report): where the time goes, per thread.
#
#   bench/profile.sh [PACKETS]     (the captures of bench/run.sh PACKETS)
set -euo pipefail
cd "$(dirname "$0")/.."
packets=${1:-1000000}
out=bench/out
n=100000
[ -x build/dnsradar ] || sh scripts/build.sh build >/dev/null
[ -f "$out/bench-$packets.pcap" ] || python3 tools/gencap.py bench "$out/bench-$packets.pcap" "$packets"
[ -f "$out/isp-$packets.pcap" ] || ./build/bench/keygen isp "$packets" > "$out/isp-$packets.pcap"
[ -f "$out/flood-$packets.pcap" ] || ./build/bench/keygen flood "$packets" > "$out/flood-$packets.pcap"

count() {	# FILE -> "thread1 thread2" instructions
	local f=$1 tmp
	tmp=$(mktemp -d)
	valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$tmp/cg" \
		./build/dnsradar analyze --no-progress --threads 2 "$f" >/dev/null 2>&1
	echo "$(grep '^summary' "$tmp/cg-01" | cut -d' ' -f2) $(grep '^summary' "$tmp/cg-02" | cut -d' ' -f2)"
	rm -rf "$tmp"
}

read -r base1 base2 < <(count samples/sample.pcap)
echo "| capture | thread 1 (read, decode, keys, copy) | thread 2 (tables, detectors) | instructions/packet |"
echo "|---|---:|---:|---|"
for c in bench isp flood; do
	slice=$(mktemp --suffix=.pcap)
	editcap -F pcap -r "$out/$c-$packets.pcap" "$slice" "1-$n" >/dev/null
	read -r t1 t2 < <(count "$slice")
	rm -f "$slice"
	echo "| $c | $(( (t1 - base1) / n )) | $(( (t2 - base2) / n )) | per packet, first $n packets |"
done
