#!/usr/bin/env python3
"""The real captures in ../shared/data (see its MANIFEST): the one DNS
amplification attack must be reported as such, with its victim, reflectors
and fragments; every other capture (normal DNS, tunnels, an SNMP
amplification that is not DNS, malformed test cases) must raise no alert.

usage: test_real_attacks.py PATH/TO/dnsradar
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("DR_SOURCE", os.path.dirname(os.path.dirname(HERE)))
SHARED = os.environ.get("DR_SHARED", os.path.join(SOURCE, "..", "shared"))

# capture (relative to ../shared/data) -> the alerts it must raise
EXPECTED = {
    "StopDDoS-packet-captures/amp.dns.RRSIG.fragmented.pcap": ["amplification 10.10.10.10"],
}


def alerts(binary, path):
    out = subprocess.run([binary, "analyze", "--no-progress", "--format", "json", path],
                         capture_output=True)
    if not out.stdout:
        return None	# not a capture we read; its error is covered elsewhere
    return json.loads(out.stdout)["alerts"]


def main():
    binary = os.path.abspath(sys.argv[1])
    data = os.path.join(SHARED, "data")
    if not os.path.isdir(data):
        print("SKIP ../shared/data is absent: no real captures to check")
        print("0 passed, 0 failed")
        return 0
    passed = failed = 0
    for dirpath, _, files in sorted(os.walk(data)):
        for f in sorted(files):
            if not f.endswith((".pcap", ".pcapng", ".cap")):
                continue
            path = os.path.join(dirpath, f)
            rel = os.path.relpath(path, data)
            got = alerts(binary, path)
            if got is None:
                continue
            keys = sorted("%s %s" % (a["type"], a["key"]) for a in got)
            want = EXPECTED.get(rel, [])
            if keys != want:
                failed += 1
                print("FAIL %s: alerts %r, expected %r" % (rel, keys, want))
                continue
            passed += 1
            if want:
                a = got[0]
                ev = a["evidence"]
                ok = (ev["reflectors"] >= 5 and ev["fragment_share"] > 0.3 and
                      ev["victim_port"] == 22 and ev["qtype"] == "RRSIG" and
                      ev["top_reflectors"] and a["start"] < a["end"])
                if not ok:
                    failed += 1
                    print("FAIL %s: evidence %r" % (rel, ev))
                else:
                    print("ok   %s: %s (%s)" % (rel, keys[0], a["summary"]))
    for rel in EXPECTED:
        if not os.path.exists(os.path.join(data, rel)):
            failed += 1
            print("FAIL %s is missing from ../shared/data" % rel)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
