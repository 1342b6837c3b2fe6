#!/usr/bin/env python3
"""Scenario tests: for each labelled capture from `tools/gencap.py scenario`,
`dnsradar analyze` must raise exactly the alerts (type and key) of
tests/scenarios/NAME.gold, each starting no later than 10 seconds of traffic
time after its attack began (the .truth file says when), with the evidence
an operator needs. The benign capture, full of traps, must raise none, with
and without network roles.

usage: test_scenarios.py PATH/TO/dnsradar [WORK_DIR]
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("DR_SOURCE", os.path.dirname(os.path.dirname(HERE)))
GOLD = os.path.join(SOURCE, "tests", "scenarios")
GENCAP = os.path.join(SOURCE, "tools", "gencap.py")
DEADLINE = 10.0

# What each alert's evidence must say (DESIGN.md, issue 3).
EVIDENCE = {
    "reflection": ["victims", "questions", "amplification_factor"],
    "amplification": ["reflectors", "top_reflectors", "fragment_share"],
    "random_subdomain": ["samples", "label_length", "alphabet", "nxdomain_share",
                         "top_resolvers", "top_prefixes"],
    "flood": ["target", "pps", "bps", "payload"],
    "loop": ["server_port", "peer_port", "pps_to_server", "pps_to_peer", "rcode",
             "payload", "ttl_constant"],
}
CONTRACT = ["type", "key", "start", "end", "severity", "packets", "bytes", "peak_pps",
            "peak_bps", "evidence"]

# scenario -> (capture, use the truth file's role flags)
CASES = {
    "benign": ("benign", True),
    "benign-noroles": ("benign", False),
    "reflection": ("reflection", True),
    "reflection-rotating": ("reflection-rotating", True),
    "amplification": ("amplification", True),
    "random_subdomain": ("random_subdomain", True),
    "random_subdomain_binary": ("random_subdomain_binary", True),
    "random_subdomain_couk": ("random_subdomain_couk", True),
    "flood": ("flood", True),
    "loop": ("loop", True),
}


def capture(work, name):
    path = os.path.join(work, name + ".pcap")
    if not os.path.exists(path + ".truth"):
        subprocess.run([sys.executable, GENCAP, "scenario", name, path], check=True)
    with open(path + ".truth") as f:
        return path, json.load(f)


def run_case(binary, work, case):
    name, with_roles = CASES[case]
    path, truth = capture(work, name)
    flags = truth["flags"] if with_roles else []
    cmd = [binary, "analyze", "--no-progress", "--format", "json"] + flags + [path]
    out = subprocess.run(cmd[:2] + ["--threads", "2"] + cmd[2:], capture_output=True, check=True)
    # The detectors on a thread of their own must not change one byte.
    alone = subprocess.run(cmd[:2] + ["--threads", "1"] + cmd[2:], capture_output=True,
                           check=True)
    assert out.stdout == alone.stdout, "%s: --threads 2 and --threads 1 differ" % case
    doc = json.loads(out.stdout)
    got = sorted("%s %s" % (a["type"], a["key"]) for a in doc["alerts"])
    with open(os.path.join(GOLD, case + ".gold")) as f:
        want = sorted(line.strip() for line in f if line.strip())
    assert got == want, "%s: alerts %r, gold %r" % (case, got, want)
    if not with_roles:
        return
    for e in truth["expected"]:
        alert = next(a for a in doc["alerts"] if a["type"] == e["type"] and a["key"] == e["key"])
        for field in CONTRACT:
            assert field in alert, (case, field)
        late = alert["start"] - e["attack_start"]
        assert late <= DEADLINE, "%s: alert starts %.1f s after the attack" % (case, late)
        assert alert["end"] >= alert["start"] and alert["packets"] > 0 and alert["bytes"] > 0
        assert alert["peak_pps"] > 0 and alert["peak_bps"] > 0
        for field in EVIDENCE[e["type"]]:
            assert field in alert["evidence"], "%s: evidence lacks %s" % (case, field)
        assert alert["summary"] and alert["action"]


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    binary = os.path.abspath(sys.argv[1])
    own = len(sys.argv) <= 2
    work = tempfile.mkdtemp(prefix="dnsradar-sc-") if own else sys.argv[2]
    os.makedirs(work, exist_ok=True)
    passed = failed = 0
    for case in CASES:
        try:
            run_case(binary, work, case)
            passed += 1
            print("ok   %s" % case)
        except Exception:
            failed += 1
            print("FAIL %s" % case)
            traceback.print_exc()
    if own:
        shutil.rmtree(work, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
