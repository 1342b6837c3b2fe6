#!/usr/bin/env python3
"""Flow exports in a capture, through analyze and records: a NetFlow v5
and a v9 export of bench/flowgen (ISP-shaped, 8 routers) must give one
flow record per exported record (records --flows), the report's flows
section must add up (records, DNS-port packets, exporters), the tables of
DNS-port flow hosts must weigh packets, --no-flows must decode none, and
the export counted as DNS messages never.

usage: test_flows_report.py PATH/TO/dnsradar PATH/TO/flowgen
"""
import json
import os
import subprocess
import sys
import tempfile

N = 3000


def run(*args):
    p = subprocess.run(list(args), capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise AssertionError("%s exited %d: %s" % (args, p.returncode, p.stderr))
    return p.stdout


def check(dnsradar, flowgen, version, work):
    cap = os.path.join(work, "flows-%s.pcap" % version)
    with open(cap, "wb") as f:
        subprocess.run([flowgen, version, str(N)], stdout=f, check=True, timeout=60)
    lines = [json.loads(l) for l in run(dnsradar, "records", "--flows", cap).splitlines()]
    assert len(lines) == N, "%s: %d flow records, want %d" % (version, len(lines), N)
    assert all(l["kind"] == "flow" and l["exporter"].startswith("192.0.2.") for l in lines)
    assert run(dnsradar, "records", cap) == "", "flow records printed as DNS messages"
    rep = json.loads(run(dnsradar, "analyze", "--format", "json", cap))
    fl = rep["flows"]
    assert fl["records"] == N, fl["records"]
    assert rep["summary"]["dns_messages"] == 0
    dns = [l for l in lines if l["sport"] == 53 or l["dport"] == 53]
    assert fl["dns_records"] == len(dns), (fl["dns_records"], len(dns))
    assert fl["dns_packets"] == sum(l["packets"] for l in dns)
    assert fl["packets"] == sum(l["packets"] for l in lines)
    assert sum(x["records"] for x in fl["exporters"]) == N
    assert len(fl["exporters"]) == 8, fl["exporters"]
    top = rep["top"]["flow_sources"]
    by_src = {}
    for l in dns:
        by_src[l["src"]] = by_src.get(l["src"], 0) + l["packets"]
    best = max(by_src.values())
    assert top["rows"][0]["count"] == best, (top["rows"][0], best)
    assert top["rows"][0]["key"] in [k for k, v in by_src.items() if v == best]
    assert "flow_destinations" in rep["top"]
    none = json.loads(run(dnsradar, "analyze", "--format", "json", "--no-flows", cap))
    assert "flows" not in none and "flow_sources" not in none["top"]


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    failed = 0
    with tempfile.TemporaryDirectory(prefix="dnsradar-flowrep-") as work:
        for version in ("v5", "v9"):
            try:
                check(os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]), version, work)
                print("ok   %s" % version)
            except AssertionError as e:
                failed += 1
                print("FAIL %s: %s" % (version, e))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
