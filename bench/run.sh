#!/usr/bin/env bash
# Speed of dnsradar against baselines measured in the same run:
#   minimal loop  mmap the capture, walk every packet to its DNS header and
#                 the first question's type (bench/minloop.c)
#   tcpdump       tcpdump -r FILE -w /dev/null
#   tshark        tshark decoding DNS fields, on a slice of the capture
#   analyze       dnsradar analyze (all tables, all detectors; on two
#                 threads and on one), and with the detectors turned off
#   records       dnsradar records > /dev/null
#   rotated set   dnsradar analyze on the same capture cut into 1,000 files
#                 (editcap -c), against analyze on the one file
#   ISP-shaped    the minimal loop and analyze on a capture with an ISP's
#                 spread of keys (bench/keygen isp: 220,000 customers, 24
#                 resolvers, 4,000 authoritative servers, 100,000 names
#                 under 20,000 domains, DNSSEC answers)
#   random keys   the same on a flood in which every packet is a new key
#                 for every table (bench/keygen flood), and analyze's
#                 resident memory on it (/usr/bin/time)
# Every command runs REPEAT times (default 3, in rounds of one run each)
# as a whole process, one pass over the file, with the file in the page
# cache; the best time counts.
# (The loop's own timer, which leaves out process start-up, is printed too.) Prints a markdown table for
# docs/performance.md. A benchmark is not a test: nothing here fails on
# a number.
#
#   bench/run.sh [PACKETS] [REPEAT]
set -euo pipefail
cd "$(dirname "$0")/.."

packets=${1:-1000000}
repeat=${2:-3}
out=bench/out
mkdir -p "$out"
cap=$out/bench-$packets.pcap
slice=$out/slice-50000.pcap

[ -x build/dnsradar ] || sh scripts/build.sh build >/dev/null
[ -f "$cap" ] || python3 tools/gencap.py bench "$cap" "$packets"
[ -f "$slice" ] || editcap -r "$cap" "$slice" 1-50000 >/dev/null
isp=$out/isp-$packets.pcap
flood=$out/flood-$packets.pcap
[ -f "$isp" ] || ./build/bench/keygen isp "$packets" > "$isp"
[ -f "$flood" ] || ./build/bench/keygen flood "$packets" > "$flood"
rot=$out/rot1000-$packets
if [ ! -d "$rot" ]; then
	mkdir -p "$rot.tmp"
	editcap -c $(( (packets + 999) / 1000 )) "$cap" "$rot.tmp/part.pcap" >/dev/null
	mv "$rot.tmp" "$rot"
fi
n_rot=$(find "$rot" -name '*.pcap' | wc -l)
cat "$cap" "$slice" "$isp" "$flood" "$rot"/*.pcap >/dev/null	# into the page cache

# Every command once per round, the rounds repeated: the machine's speed
# drifts, and a command timed only in a quiet minute would skew the ratios.
# best[i] keeps the least wall-clock nanoseconds of command i.
off=""
for d in reflection amplification random_subdomain flood loop; do off="$off --set $d.enabled=0"; done
n_slice=50000
cmds=(
	"./build/bench/minloop $cap"
	"./build/dnsradar analyze --no-progress $cap"
	"./build/dnsradar analyze --no-progress --threads 1 $cap"
	"./build/dnsradar analyze --no-progress $off $cap"
	"./build/dnsradar records --no-progress $cap"
	"tcpdump -r $cap -w /dev/null"
	"tshark -n -r $slice -T fields -e dns.id -e dns.qry.name -e dns.qry.type"
	"./build/dnsradar analyze --no-progress $rot/*.pcap"
	"./build/bench/minloop $isp"
	"./build/dnsradar analyze --no-progress $isp"
	"./build/bench/minloop $flood"
	"./build/dnsradar analyze --no-progress $flood"
)
best=()
for _ in $(seq "$repeat"); do
	for i in "${!cmds[@]}"; do
		t0=$(date +%s%N)
		# shellcheck disable=SC2086
		${cmds[$i]} >/dev/null 2>&1	# unquoted: split, and the glob expanded
		t1=$(date +%s%N)
		t=$(( t1 - t0 ))
		if [ -z "${best[$i]:-}" ] || [ "$t" -lt "${best[$i]}" ]; then best[$i]=$t; fi
	done
done
t_min=${best[0]} t_analyze=${best[1]} t_one=${best[2]} t_tables=${best[3]}
t_records=${best[4]} t_tcpdump=${best[5]} t_tshark=${best[6]} t_rot=${best[7]}
t_min_isp=${best[8]} t_isp=${best[9]} t_min_flood=${best[10]} t_flood=${best[11]}

rate() { awk -v n="$1" -v t="$2" 'BEGIN { printf "%.0f", n / (t / 1e9) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b / a }'; }

r_min=$(rate "$packets" "$t_min")
r_analyze=$(rate "$packets" "$t_analyze")
r_one=$(rate "$packets" "$t_one")
r_tables=$(rate "$packets" "$t_tables")
r_records=$(rate "$packets" "$t_records")
r_tcpdump=$(rate "$packets" "$t_tcpdump")
r_tshark=$(rate "$n_slice" "$t_tshark")
r_rot=$(rate "$packets" "$t_rot")
r_min_isp=$(rate "$packets" "$t_min_isp")
r_isp=$(rate "$packets" "$t_isp")
r_min_flood=$(rate "$packets" "$t_min_flood")
r_flood=$(rate "$packets" "$t_flood")
rss_flood=$( { /usr/bin/time -f %M ./build/dnsradar analyze --no-progress "$flood" >/dev/null; } 2>&1 | tail -1)

echo "capture: $cap ($packets packets, $(stat -c %s "$cap") bytes); best of $repeat"
echo "machine: $(nproc) cores, $(uname -m), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo
echo "| what | packets/s | vs. minimal loop |"
echo "|---|---:|---:|"
echo "| minimal loop (bench/minloop.c) | $r_min | 1.000 |"
echo "| dnsradar analyze, all detectors (detectors and tables on a second thread) | $r_analyze | $(ratio "$r_min" "$r_analyze") |"
echo "| dnsradar analyze --threads 1, all detectors | $r_one | $(ratio "$r_min" "$r_one") |"
echo "| dnsradar analyze, detectors off | $r_tables | $(ratio "$r_min" "$r_tables") |"
echo "| dnsradar records > /dev/null (lines/s) | $r_records | $(ratio "$r_min" "$r_records") |"
echo "| tcpdump -r FILE -w /dev/null | $r_tcpdump | $(ratio "$r_min" "$r_tcpdump") |"
echo "| tshark, DNS fields, $n_slice-packet slice | $r_tshark | $(ratio "$r_min" "$r_tshark") |"
echo "| dnsradar analyze, the capture cut into $n_rot files | $r_rot | $(ratio "$r_min" "$r_rot") |"
echo
echo "| capture | minimal loop, packets/s | analyze, all detectors, packets/s | vs. minimal loop |"
echo "|---|---:|---:|---:|"
echo "| bench (gencap.py bench) | $r_min | $r_analyze | $(ratio "$r_min" "$r_analyze") |"
echo "| ISP-shaped (keygen isp) | $r_min_isp | $r_isp | $(ratio "$r_min_isp" "$r_isp") |"
echo "| random keys (keygen flood) | $r_min_flood | $r_flood | $(ratio "$r_min_flood" "$r_flood") |"
echo
echo "random-key flood vs ISP-shaped, analyze packets/s: $(ratio "$r_isp" "$r_flood"); resident memory on the flood: $(( rss_flood / 1024 )) MiB"
echo
echo "minimal loop, its own timer, one pass: $(./build/bench/minloop "$cap" | awk '{print $6}') s"
echo "analyze on $n_rot files vs on one file: $(ratio "$r_analyze" "$r_rot")"
echo "analyze vs tshark: $(awk -v a="$r_analyze" -v b="$r_tshark" 'BEGIN { printf "%.0fx", a / b }')"
