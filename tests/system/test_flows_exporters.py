#!/usr/bin/env python3
"""The ISP seed end to end through real flow exporters: the isp-flows
capture (tools/gencap.py: a customer's router reflecting about 25 Mbit/s
for 60 s in 180 s of an ISP's traffic) is read by softflowd, pmacctd and
nfdump's nfcapd/nfreplay, whose exports reach dnsradar over loopback or a
veth pair in a network namespace the test creates. For every exporter the
alerts must be the truth's (reflection, key the customer's router, the
victims in the evidence, which must say it came from flows, with the
exporter and the sampling rate), and isp-flows-benign must raise none.

Two ways in: the export captured on loopback by tcpdump and read with
`dnsradar analyze --flow-port PORT`, and `dnsradar collect --listen`.
A case whose piece is missing from dnsradar (a flow protocol it cannot
decode yet, the collect command) fails and says so; a case whose tool is
missing from the machine, or that needs root and network namespaces it
cannot have, is skipped and says so. Every daemon runs under a timeout and
is killed in a finally; ports are high and chosen by the test; cases run
in parallel.

usage: test_flows_exporters.py PATH/TO/dnsradar
"""
import concurrent.futures
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("DR_SOURCE", os.path.dirname(os.path.dirname(HERE)))
GENCAP = os.path.join(SOURCE, "tools", "gencap.py")
BIN = None
TMP = None
TOOL_TIMEOUT = 120	# seconds any one tool may run
EARLY, LATE = 3.0, 10.0	# how far an alert's start may be from the attack's


class Skip(Exception):
    pass


def need(*tools):
    for t in tools:
        if not shutil.which(t):
            raise Skip("%s is not installed (scripts/install-deps.sh)" % t)


def free_port():
    """A free UDP port on loopback, chosen by the kernel."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- the scenario ---------------------------------------------------------

_captures = {}
_captures_lock = threading.Lock()


def scenario(name):
    """(capture path, truth) of a gencap scenario, written once."""
    with _captures_lock:
        if name not in _captures:
            _captures[name] = threading.Event()
            mine = True
        else:
            mine = False
    path = os.path.join(TMP, name + ".pcap")
    if mine:
        subprocess.run([sys.executable, GENCAP, "scenario", name, path], check=True,
                       timeout=TOOL_TIMEOUT)
        _captures[name].set()
    _captures[name].wait(TOOL_TIMEOUT)
    with open(path + ".truth") as f:
        return path, json.load(f)


# ---- daemons ----------------------------------------------------------------

class Daemon:
    """A background process, ended (SIGINT, then SIGKILL) by its pid when
    the with block ends, and killed after `timeout` seconds whatever."""

    def __init__(self, argv, timeout=TOOL_TIMEOUT, stdout=subprocess.DEVNULL, ready=None):
        self.argv = argv
        self.err = tempfile.TemporaryFile(dir=TMP)
        self.proc = subprocess.Popen(argv, stdout=stdout, stderr=self.err,
                                     start_new_session=True)
        self.timer = threading.Timer(timeout, self.kill)
        self.timer.start()
        if ready:
            self.wait_for(ready)

    def wait_for(self, text, seconds=10.0):
        """Waits until stderr holds text (a daemon saying it listens)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if text in self.stderr():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError("%s did not say %r: %s" % (self.argv[0], text, self.stderr()))

    def stderr(self):
        self.err.seek(0)
        return self.err.read().decode(errors="replace")

    def kill(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)

    def stop(self, sig=signal.SIGINT, grace=15.0):
        """Asks the daemon to finish, waits for it; returns its status."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                self.kill()
                self.proc.wait()
        return self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.timer.cancel()
        self.stop()
        self.err.close()


def run(argv, timeout=TOOL_TIMEOUT, **kw):
    return subprocess.run(argv, capture_output=True, timeout=timeout, **kw)


def tcpdump(netns, port, out):
    """Captures the UDP datagrams to port on loopback (in netns if given)."""
    need("tcpdump")
    return Daemon(netns_argv(netns) + ["tcpdump", "-i", "lo", "-s", "0", "-U", "-n", "-w", out,
                                       "udp", "dst", "port", str(port)],
                  ready="listening on")


def netns_argv(netns):
    return ["ip", "netns", "exec", netns] if netns else []


# ---- what dnsradar makes of an export ------------------------------------

def analyze_export(pcap, port, flags):
    """dnsradar analyze of a loopback capture of an export to port."""
    out = run([BIN, "analyze", "--no-progress", "--format", "json", "--flow-port", str(port)]
              + flags + [pcap])
    assert out.returncode == 0, "analyze %s: exit %d: %s" % (pcap, out.returncode,
                                                             out.stderr.decode())
    return json.loads(out.stdout)


def flows_said(doc):
    """What the report's flow section says, for a failure message."""
    flows = doc.get("flows") or {}
    dec = flows.get("decode") or {}
    said = {k: v for k, v in dec.items() if v}
    return "flows: %d records; decoder %s; warnings %s" % (
        flows.get("records", 0), json.dumps(said), doc.get("warnings"))


def check(doc, truth, label, exporter, sampling, time_base=0.0):
    """The alerts of doc against the truth; returns the detection delay
    (detected - attack start, traffic time) of each expected alert.
    time_base: what to add to the truth's times (a live replay's clock)."""
    got = sorted("%s %s" % (a["type"], a["key"]) for a in doc["alerts"])
    want = sorted("%s %s" % (e["type"], e["key"]) for e in truth["expected"])
    assert got == want, "%s: alerts %r, truth %r (%s)" % (label, got, want, flows_said(doc))
    delays = []
    for e in truth["expected"]:
        a = next(a for a in doc["alerts"] if a["type"] == e["type"] and a["key"] == e["key"])
        ev = a["evidence"]
        victims = sorted(v["address"] for v in ev.get("victims", []))
        assert set(e["victims"]) <= set(victims), "%s: victims %r, truth %r" % (
            label, victims, e["victims"])
        assert ev.get("from_flows") is True, "%s: evidence does not say flows: %r" % (label, ev)
        assert ev.get("exporter") == exporter, "%s: evidence exporter %r, want %r" % (
            label, ev.get("exporter"), exporter)
        assert ev.get("sampling") == sampling, "%s: evidence sampling %r, want %r" % (
            label, ev.get("sampling"), sampling)
        start = e["attack_start"] + time_base
        assert start - EARLY <= a["start"] <= start + LATE, \
            "%s: alert starts at %.3f, attack at %.3f" % (label, a["start"], start)
        delays.append(a["detected"] - start)
    return delays


# ---- softflowd -------------------------------------------------------------

def softflowd(capture, port, version, sampling=None):
    """softflowd reads the capture (its own times: -a) and exports to
    127.0.0.1:port: active timeout 60 s, no control socket (softflowd 1.1.0
    reading a file can block forever in accept() with one). Returns what
    it printed."""
    need("softflowd")
    argv = ["softflowd", "-r", capture, "-n", "127.0.0.1:%d" % port, "-v", str(version),
            "-c", "none", "-p", os.path.join(TMP, "softflowd-%d.pid" % port), "-d", "-a",
            "-t", "maxlife=60"]
    if sampling:
        argv += ["-s", str(sampling)]
    out = run(argv)
    assert out.returncode == 0, "softflowd: exit %d: %s" % (out.returncode, out.stderr.decode())
    return out.stdout.decode() + out.stderr.decode()


def exported(text):
    """softflowd's count of flow records and export datagrams."""
    for line in text.splitlines():
        if line.startswith("Flows exported:"):
            words = line.split()
            return int(words[2]), int(words[6])
    return None


def softflowd_capture(scenario_name, version, sampling=None):
    """softflowd's export of a scenario, captured on loopback; the report."""
    capture, truth = scenario(scenario_name)
    port = free_port()
    pcap = os.path.join(TMP, "export-%s-v%d-%d.pcap" % (scenario_name, version, port))
    with tcpdump(None, port, pcap) as td:
        said = softflowd(capture, port, version, sampling)
        time.sleep(0.5)	# the last datagrams into tcpdump's file
        td.stop()
    return analyze_export(pcap, port, truth["flags"]), truth, exported(said)


def softflowd_case(version, sampling):
    label = "softflowd v%d%s" % (version, " 1:%d" % sampling if sampling else "")
    doc, truth, count = softflowd_capture("isp-flows", version, sampling)
    delays = check(doc, truth, label + " (analyze)", "127.0.0.1", sampling or 1)
    benign, btruth, _ = softflowd_capture("isp-flows-benign", version, sampling)
    check(benign, btruth, label + " benign (analyze)", "127.0.0.1", sampling or 1)
    return "%s: %d flow records in %d datagrams; detected %.1f s after the attack began" % (
        label, count[0], count[1], delays[0])


def test_softflowd_v5():
    return softflowd_case(5, None)


def main():
    global BIN, TMP
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    BIN = os.path.abspath(sys.argv[1])
    TMP = tempfile.mkdtemp(prefix="dnsradar-flows-")
    tests = sorted((k, v) for k, v in globals().items() if k.startswith("test_") and callable(v))
    failed = 0
    try:
        # the captures first, both at once; then the cases, two at a time
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            list(pool.map(scenario, ["isp-flows", "isp-flows-benign"]))
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            futures = [(name, pool.submit(fn)) for name, fn in tests]
            for name, fut in futures:
                try:
                    said = fut.result()
                    print("ok   %s%s" % (name, ": " + said if said else ""))
                except Skip as e:
                    print("SKIP %s: %s" % (name, e))
                except Exception:
                    failed += 1
                    print("FAIL %s" % name)
                    traceback.print_exc()
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
    print("%d cases, %d failed" % (len(tests), failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
