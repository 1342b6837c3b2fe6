#!/usr/bin/env python3
"""Bounded memory: a flood from ten million distinct spoofed source
addresses, streamed through standard input, keeps `dnsradar analyze` under
256 MiB resident, and the flood is still reported (keyed by its target,
since its sources are spread). Under the sanitizers (DR_SANITIZED=1) the
resident size is not judged: their shadow memory is not ours.

usage: test_memory.py PATH/TO/dnsradar PATH/TO/spoofgen [PACKETS]
"""
import json
import os
import subprocess
import sys

LIMIT = 256 * 1024 * 1024


def main():
    binary, spoofgen = sys.argv[1], sys.argv[2]
    packets = sys.argv[3] if len(sys.argv) > 3 else "10000000"
    gen = subprocess.Popen([spoofgen, packets], stdout=subprocess.PIPE)
    ana = subprocess.Popen([binary, "analyze", "--no-progress", "--format", "json", "-"],
                           stdin=gen.stdout, stdout=subprocess.PIPE)
    gen.stdout.close()
    out = ana.stdout.read()
    _, status, usage = os.wait4(ana.pid, 0)
    gen.wait()
    failed = 0
    rss = usage.ru_maxrss * 1024
    doc = json.loads(out)
    s = doc["summary"]
    print("%s packets, %s distinct sources (approximate: %s), peak RSS %.1f MiB" % (
        s["packets"], doc["top"]["sources"]["distinct"], doc["top"]["sources"]["approximate"],
        rss / 2**20))
    if os.WEXITSTATUS(status) != 0 or s["packets"] != int(packets):
        print("FAIL analyze exit %d, %d packets" % (os.WEXITSTATUS(status), s["packets"]))
        failed += 1
    if os.environ.get("DR_SANITIZED") == "1":
        print("SKIP resident size under sanitizers")
    elif rss >= LIMIT:
        print("FAIL peak RSS %.1f MiB >= 256 MiB" % (rss / 2**20))
        failed += 1
    alerts = ["%s %s" % (a["type"], a["key"]) for a in doc["alerts"]]
    if alerts != ["flood 192.0.2.1"]:
        print("FAIL alerts %r, expected ['flood 192.0.2.1']" % alerts)
        failed += 1
    print("%d passed, %d failed" % (0 if failed else 1, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
