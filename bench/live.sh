#!/usr/bin/env bash
# Live capture speed: an ISP-shaped capture (bench/keygen isp) replayed at
# increasing rates (bench/blast, or tcpreplay --pps with REPLAY=tcpreplay:
# it sends a frame per system call and tops out near 450,000 a second here)
# into one end of a veth pair between
# two network namespaces this script creates, `dnsradar collect -i` on the
# other end, with one thread and with two. For every rate it prints what
# tcpreplay sent (and the rate it reached), what dnsradar received, what
# the kernel dropped (the ring was full), and the CPU dnsradar used
# (utime + stime from /proc/PID/stat over the replay, in cores). Prints a
# markdown table for docs/performance.md ("Live capture"). Needs root,
# ip, tcpreplay. A benchmark is not a test: nothing here fails on a number.
#
#   bench/live.sh [SECONDS] [RATE...]      (default: 5 s; 100k 250k 500k 1M 1.5M)
# Environment: THREADS="1 2", BUFFER=64M, EXTRA="--bpf 'udp port 53'",
# PACKETS=1000000 (the capture's size; it is looped), REPLAY=blast|tcpreplay,
# CAPTURE=isp|bench (bench: tools/gencap.py bench, 360 clients and few names,
# where the tables and detectors cost a tenth of the ISP shape's, so the
# capture's own cost shows).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-5}
[ $# -gt 0 ] && shift
rates=${*:-100000 250000 500000 1000000 1500000}
threads=${THREADS:-1 2}
buffer=${BUFFER:-64M}
packets=${PACKETS:-1000000}
out=bench/out
mkdir -p "$out"
[ -x build/dnsradar ] && [ -x build/bench/blast ] || sh scripts/build.sh build >/dev/null
if [ "${CAPTURE:-isp}" = bench ]; then
	cap=$out/bench-$packets.pcap
	[ -f "$cap" ] || python3 tools/gencap.py bench "$cap" "$packets"
else
	cap=$out/isp-$packets.pcap
	[ -f "$cap" ] || ./build/bench/keygen isp "$packets" > "$cap"
fi
cat "$cap" > /dev/null	# into the page cache

ns=drbench$$
cleanup() {
	ip netns del "${ns}a" 2>/dev/null || true
	ip netns del "${ns}b" 2>/dev/null || true
}
trap cleanup EXIT
ip netns add "${ns}a"
ip netns add "${ns}b"
ip link add veth-a netns "${ns}a" type veth peer name veth-b netns "${ns}b"
for side in a b; do
	ip -n "$ns$side" link set lo up
	ip -n "$ns$side" link set "veth-$side" up
done

hz=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

echo "Capture: $cap; machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) before the run"
echo
# the reference: the same capture read from the file, CPU seconds
ref=$( { /usr/bin/time -f "%U %S" ./build/dnsradar analyze --threads 1 --no-progress "$cap" \
	> /dev/null; } 2>&1 | tail -1)
echo "analyze --threads 1 on the file: $(echo "$ref" | awk -v n="$packets" \
	'{printf "%.2f CPU s, %.2f us a packet", $1 + $2, ($1 + $2) * 1e6 / n}')"
echo
echo "| threads | asked pps | sent | sent pps | received | kernel drops | dnsradar CPU (cores) | CPU us a packet |"
echo "|---|---|---|---|---|---|---|---|"
for t in $threads; do
	for rate in $rates; do
		limit=$(( rate * seconds ))
		log=$out/live-$t-$rate
		# shellcheck disable=SC2086
		ip netns exec "${ns}b" ./build/dnsradar collect -i veth-b --threads "$t" \
			--buffer "$buffer" --format json ${EXTRA:-} > "$log.json" 2> "$log.err" &
		pid=$!
		sleep 1
		c0=$(cpu_ticks "$pid"); w0=$(date +%s%N)
		if [ "${REPLAY:-blast}" = tcpreplay ]; then
			ip netns exec "${ns}a" tcpreplay -i veth-a --pps "$rate" --loop 0 \
				--limit "$limit" --preload-pcap "$cap" > "$log.replay" 2>&1 || true
			sent=$(awk '/Successful packets/ {print $3}' "$log.replay")
			secs=$(awk '/^Actual:/ {for (i = 1; i <= NF; i++) if ($i == "sent") print $(i+2)}' \
				"$log.replay")
		else
			ip netns exec "${ns}a" ./build/bench/blast veth-a "$cap" "$rate" "$seconds" \
				> "$log.replay" 2>&1 || true
			sent=$(awk '/^sent/ {print $2}' "$log.replay")
			secs=$(awk '/^sent/ {print $4}' "$log.replay")
		fi
		sleep 1	# the ring drains
		c1=$(cpu_ticks "$pid"); w1=$(date +%s%N)
		kill -TERM "$pid"
		wait "$pid" || true
		python3 - "$log.json" "$t" "$rate" "$sent" "$secs" "$c0" "$c1" "$hz" \
			"$(( (w1 - w0) / 1000000 ))" <<'EOF'
import json, sys
path, t, rate, sent, secs, c0, c1, hz, window_ms = sys.argv[1:]
doc = json.loads(open(path).read().splitlines()[-1])
i = doc["capture"]["interfaces"][0]
secs = float(secs or 0)
# CPU over the replay and the second after it, per second of that window
cores = (int(c1) - int(c0)) / float(hz) / (int(window_ms) / 1000.0)
cpu = (int(c1) - int(c0)) / float(hz)
print("| %s | %s | %s | %s | %s | %s | %.2f | %.2f |" % (
    t, "{:,}".format(int(rate)), "{:,}".format(int(sent or 0)),
    "{:,.0f}".format(int(sent or 0) / secs) if secs else "?",
    "{:,}".format(i["received"]), "{:,}".format(i["kernel_drops"]), cores,
    cpu * 1e6 / i["received"] if i["received"] else 0))
EOF
	done
done
echo
echo "Load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
