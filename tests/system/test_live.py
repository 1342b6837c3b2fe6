#!/usr/bin/env python3
"""Live capture end to end: two network namespaces joined by a veth pair,
a labelled scenario capture (tools/gencap.py) replayed by tcpreplay into
one end at the capture's own pace, `dnsradar collect -i` on the other end,
stopped with SIGTERM. The flood and reflection scenarios must show their
alert (type and key of tests/scenarios/NAME.gold) as an open event on
standard output and in the report, the Capture section must count what
tcpreplay sent with no kernel drops, and the benign scenario must raise
nothing, once with --threads 1 and once with --threads 2.

Needs root (namespaces, raw capture), ip and tcpreplay; without them it
prints SKIP and why, and passes. Namespaces are the test's own, removed in
a finally; every process runs under a timeout.

usage: test_live.py PATH/TO/dnsradar
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("DR_SOURCE", os.path.dirname(os.path.dirname(HERE)))
GENCAP = os.path.join(SOURCE, "tools", "gencap.py")
GOLD = os.path.join(SOURCE, "tests", "scenarios")
TIMEOUT = 120	# seconds any one process may run

# case -> (scenario, --threads)
CASES = {
    "flood": ("flood", "2"),
    "reflection": ("reflection", "1"),
    "benign-1": ("benign", "1"),
    "benign-2": ("benign", "2"),
}


class Skip(Exception):
    pass


def sh(*cmd):
    subprocess.run(cmd, check=True, timeout=TIMEOUT, capture_output=True)


class Veth:
    """Namespaces NAME-a and NAME-b joined by veth-a <-> veth-b, both up."""

    def __init__(self):
        self.tag = "drlive%d" % os.getpid()
        self.a, self.b = self.tag + "a", self.tag + "b"

    def __enter__(self):
        try:
            sh("ip", "netns", "add", self.a)
            sh("ip", "netns", "add", self.b)
            sh("ip", "link", "add", "veth-a", "netns", self.a, "type", "veth",
               "peer", "name", "veth-b", "netns", self.b)
            for ns, dev in ((self.a, "veth-a"), (self.b, "veth-b")):
                sh("ip", "-n", ns, "link", "set", "lo", "up")
                sh("ip", "-n", ns, "link", "set", dev, "up")
        except Exception:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        for ns in (self.a, self.b):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=TIMEOUT)


def capture(work, name):
    path = os.path.join(work, name + ".pcap")
    subprocess.run([sys.executable, GENCAP, "scenario", name, path], check=True,
                   timeout=TIMEOUT)
    with open(path + ".truth") as f:
        return path, json.load(f)


def packets_in(path):
    """Frames in a classic pcap file (gencap writes those)."""
    n = 0
    with open(path, "rb") as f:
        f.read(24)
        while True:
            h = f.read(16)
            if len(h) < 16:
                return n
            caplen = int.from_bytes(h[8:12], "little")
            f.seek(caplen, 1)
            n += 1


def run_case(binary, work, net, case):
    scenario, threads = CASES[case]
    path, truth = capture(work, scenario)
    with open(os.path.join(GOLD, scenario + ".gold")) as f:
        want = sorted(line.strip() for line in f if line.strip())
    out_path = os.path.join(work, case + ".out")
    err_path = os.path.join(work, case + ".err")
    cmd = ["ip", "netns", "exec", net.b, binary, "collect", "-i", "veth-b", "--format", "json",
           "--threads", threads] + truth["flags"]
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        dr = subprocess.Popen(cmd, stdout=out, stderr=err)
    try:
        time.sleep(1.0)	# the capture is open before the first packet
        assert dr.poll() is None, "%s: collect ended early: %s" % (case, open(err_path).read())
        # The capture's own pace (tcpreplay's default): the detectors see the
        # scenario's per-second rates, stamped with the time of capture.
        rep = subprocess.run(["ip", "netns", "exec", net.a, "tcpreplay", "-q", "-i", "veth-a",
                              path], capture_output=True, text=True, timeout=TIMEOUT)
        assert rep.returncode == 0, "tcpreplay: %s" % rep.stderr
        time.sleep(2.0)	# the last packets and a tick or two
        dr.send_signal(signal.SIGTERM)
        rc = dr.wait(timeout=TIMEOUT)
    finally:
        if dr.poll() is None:
            dr.kill()
            dr.wait()
    err = open(err_path).read()
    assert rc == 128 + signal.SIGTERM, "%s: exit %d: %s" % (case, rc, err)
    lines = open(out_path).read().splitlines()
    assert lines, "%s: no output" % case
    report = json.loads(lines[-1])
    events = [json.loads(l) for l in lines[:-1]]
    opened = sorted("%s %s" % (e["alert"]["type"], e["alert"]["key"])
                    for e in events if e["event"] == "open")
    got = sorted("%s %s" % (a["type"], a["key"]) for a in report["alerts"])
    assert opened == want, "%s: open events %r, gold %r" % (case, opened, want)
    assert got == want, "%s: report alerts %r, gold %r" % (case, got, want)
    for e in events:
        a = e["alert"]
        for field in ("type", "key", "start", "end", "severity", "packets", "bytes",
                      "peak_pps", "evidence"):
            assert field in a, "%s: event lacks %s" % (case, field)
    # Live packets carry the time they were captured, not the file's.
    for a in report["alerts"]:
        assert abs(a["start"] - time.time()) < 600, "%s: start %r is not now" % (case, a["start"])
    ifaces = report["capture"]["interfaces"]
    assert [i["name"] for i in ifaces] == ["veth-b"], ifaces
    sent = packets_in(path)
    # the kernel may add a few of its own (IPv6 neighbour discovery)
    assert sent <= ifaces[0]["received"] <= sent + 100, \
        "%s: received %d of %d sent" % (case, ifaces[0]["received"], sent)
    assert ifaces[0]["kernel_drops"] == 0, "%s: kernel drops %r" % (case, ifaces[0])
    assert not any("dropped by the kernel" in w for w in report["warnings"]), report["warnings"]


def check_errors(binary, net):
    """Bad interfaces and filters: one line naming them, exit 2."""
    for args, words in ((["-i", "nosuch0"], "nosuch0: no such interface"),
                        (["-i", "veth-b", "--bpf", "udp prt 53"], "--bpf 'udp prt 53':"),
                        (["-i", "veth-b", "--buffer", "12"], "--buffer '12'")):
        r = subprocess.run(["ip", "netns", "exec", net.b, binary, "collect"] + args,
                           capture_output=True, text=True, timeout=TIMEOUT)
        assert r.returncode == 2 and words in r.stderr and r.stderr.count("\n") == 1, \
            (args, r.returncode, r.stderr)
    if shutil.which("unshare"):
        # a user namespace has none of the host's capabilities
        r = subprocess.run(["ip", "netns", "exec", net.b, "unshare", "--user", binary,
                            "collect", "-i", "veth-b"], capture_output=True, text=True,
                           timeout=TIMEOUT)
        if "unshare:" not in r.stderr:
            assert r.returncode == 2 and \
                "veth-b: capturing needs root or CAP_NET_RAW" in r.stderr, r.stderr


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    binary = os.path.abspath(sys.argv[1])
    try:
        if os.geteuid() != 0:
            raise Skip("needs root for network namespaces and capture")
        for tool in ("ip", "tcpreplay"):
            if not shutil.which(tool):
                raise Skip("%s is not installed (scripts/install-deps.sh)" % tool)
        net = Veth()
        try:
            net.__enter__()
        except subprocess.CalledProcessError as e:
            raise Skip("cannot create network namespaces: %s" % e.stderr.decode().strip())
    except Skip as e:
        print("SKIP test_live: %s" % e)
        return 0
    work = tempfile.mkdtemp(prefix="dnsradar-live-")
    passed = failed = 0
    try:
        cases = [("errors", lambda: check_errors(binary, net))]
        cases += [(c, lambda c=c: run_case(binary, work, net, c)) for c in CASES]
        for name, fn in cases:
            try:
                fn()
                passed += 1
                print("ok   %s" % name)
            except Exception:
                failed += 1
                print("FAIL %s" % name)
                traceback.print_exc()
    finally:
        net.__exit__()
        shutil.rmtree(work, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
