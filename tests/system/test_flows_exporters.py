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
import contextlib
import itertools
import json
import os
import re
import shutil
import signal
import socket
import struct
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


def _rcvbuf():
    """The largest receive buffer a daemon gets without CAP_NET_ADMIN
    (net.core.rmem_max), at most 32 MiB."""
    try:
        with open("/proc/sys/net/core/rmem_max") as f:
            return min(int(f.read()), 32 << 20)
    except (OSError, ValueError):
        return 4 << 20


RCVBUF = _rcvbuf()


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
    # --immediate-mode: else the last datagrams wait in a ring block that
    # tcpdump never reads when it is stopped. That ring has one frame a
    # packet of the snap length: -s 0 on loopback (MTU 65,536) made 64 MiB
    # hold only about 1,000 datagrams, and a softflowd burst of 4,000
    # overran it while tcpdump waited for a core. An export datagram fits
    # in 9 KiB; 256 MiB then holds about 28,000 of them.
    return Daemon(netns_argv(netns) + ["tcpdump", "-i", "lo", "-s", "9216", "-U", "--immediate-mode",
                                       "-B", "262144", "-n", "-w", out,
                                       "udp", "dst", "port", str(port)],
                  ready="listening on")


def settle(path, quiet=1.0, limit=20.0):
    """Waits until a file has stopped growing for `quiet` seconds."""
    deadline, size, since = time.monotonic() + limit, -1, time.monotonic()
    while time.monotonic() < deadline:
        now = os.path.getsize(path) if os.path.exists(path) else 0
        if now != size:
            size, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return
        time.sleep(0.1)


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
        if sampling > 1:
            # 1 in N packets, chosen at random: a light victim may go unseen
            # (pmacctd's sfprobe missed one of three in CI), but every victim
            # named must be a real one, and one at least must be named
            assert victims and set(victims) <= set(e["victims"]), \
                "%s: victims %r, truth %r" % (label, victims, e["victims"])
        else:
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
    """softflowd's count of flows, export datagrams and flow records
    ("Flows exported: 61871 (123673 records) in 3957 packets"; a flow
    is a record each way)."""
    for line in text.splitlines():
        if line.startswith("Flows exported:"):
            words = line.split()
            return int(words[2]), int(words[6]), int(words[3].lstrip("("))
    return None


def softflowd_capture(scenario_name, version, sampling=None):
    """softflowd's export of a scenario, captured on loopback; the report."""
    capture, truth = scenario(scenario_name)
    port = free_port()
    pcap = os.path.join(TMP, "export-%s-v%d-%d.pcap" % (scenario_name, version, port))
    with tcpdump(None, port, pcap) as td:
        said = softflowd(capture, port, version, sampling)
        settle(pcap)	# the last datagrams into tcpdump's file
        td.stop()
        said_td = td.stderr()
    lost = re.search(r"(\d+) packets? dropped by kernel", said_td)
    assert lost and lost.group(1) == "0", "tcpdump, recording the export, said: %s" % said_td
    doc, count = analyze_export(pcap, port, truth["flags"]), exported(said)
    got = doc.get("flows", {}).get("decode", {}).get("datagrams", 0)
    assert got == count[1], "softflowd sent %d datagrams, the capture holds %d" % (count[1], got)
    return doc, truth, count


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


def test_softflowd_v9_sampled():
    return softflowd_case(9, 100)


def test_softflowd_ipfix_sampled():
    return softflowd_case(10, 100)


# ---- dnsradar collect ------------------------------------------------------

def udp_bound(port, netns=None):
    out = run(netns_argv(netns) + ["ss", "-Hlun", "sport = :%d" % port], timeout=10)
    return str(port) in out.stdout.decode()


class Collect(Daemon):
    """dnsradar collect --listen 127.0.0.1:port (in netns if given): its
    alert events, JSON lines on stdout, kept in a file."""

    def __init__(self, port, flags, netns=None):
        self.out_path = os.path.join(TMP, "collect-%d.jsonl" % port)
        self.out = open(self.out_path, "wb")
        super().__init__(netns_argv(netns) + [BIN, "collect", "--listen", "127.0.0.1:%d" % port,
                                              "--format", "json"] + flags, stdout=self.out)
        deadline = time.monotonic() + 10
        while not udp_bound(port, netns):
            assert self.proc.poll() is None and time.monotonic() < deadline, \
                "dnsradar collect did not listen on 127.0.0.1:%d: %s" % (port, self.stderr())
            time.sleep(0.05)

    def alerts(self, settle=1.0):
        """Stops collect (SIGINT: it prints its report) and returns
        {"alerts": [...], "report": {...}}: each alert as its latest event
        left it, and the JSON report that follows the events."""
        time.sleep(settle)
        status = self.stop()
        self.out.close()
        assert status in (0, 130), "dnsradar collect: exit %r: %s" % (status, self.stderr())
        latest, report = {}, None
        with open(self.out_path) as f:
            for line in f:
                try:
                    ev = json.loads(line)
                except ValueError:
                    continue
                if isinstance(ev, dict) and "event" in ev and "alert" in ev:
                    a = ev["alert"]
                    latest[(a["type"], a["key"])] = a
                elif isinstance(ev, dict) and "summary" in ev:
                    report = ev
        assert report, "dnsradar collect printed no report: %s" % self.stderr()
        return {"alerts": list(latest.values()), "report": report,
                "flows": report.get("flows"), "warnings": report["warnings"]}


def softflowd_collect(scenario_name, version):
    """softflowd's export received by collect: every datagram softflowd
    sent is one the socket received or one the kernel dropped, and drops
    are a warning."""
    capture, truth = scenario(scenario_name)
    port = free_port()
    with Collect(port, truth["flags"]) as c:
        sent = exported(softflowd(capture, port, version))
        doc = c.alerts()
    socks = doc["report"]["flows"]["sockets"]
    assert [k["address"] for k in socks] == ["127.0.0.1:%d" % port], socks
    assert socks[0]["datagrams"] + socks[0]["drops"] == sent[1], (socks, sent)
    warned = [w for w in doc["report"]["warning_codes"] if w["code"] == "socket_drops"]
    assert len(warned) == (1 if socks[0]["drops"] else 0), doc["report"]["warning_codes"]
    return doc, truth


def test_collect_softflowd_v5():
    """The same export received live gives the same alerts as its capture."""
    doc, truth = softflowd_collect("isp-flows", 5)
    delays = check(doc, truth, "collect softflowd v5", "127.0.0.1", 1)
    offline, _, _ = softflowd_capture("isp-flows", 5)
    assert sorted((a["type"], a["key"]) for a in doc["alerts"]) == \
        sorted((a["type"], a["key"]) for a in offline["alerts"]), "collect and analyze differ"
    benign, btruth = softflowd_collect("isp-flows-benign", 5)
    check(benign, btruth, "collect softflowd v5 benign", "127.0.0.1", 1)
    return "detected %.1f s after the attack began" % delays[0]


# ---- nfcapd archives replayed ----------------------------------------------

def udp_queued(port):
    """Octets waiting in the receive queue of the UDP socket bound to port
    on loopback (ss's Recv-Q), or None when none is bound."""
    out = run(["ss", "-Hlun", "sport = :%d" % port], timeout=10).stdout.decode().split()
    return int(out[1]) if len(out) > 1 else None


def nfcapd_archive(scenario_name):
    """softflowd's NetFlow v9 export stored by nfcapd; the archive files.

    nfcapd (nfdump 1.7.1) writes nfcapd.current.PID and renames it to
    nfcapd.YYYYMMDDhhmm when its -t interval (300 s) ends or when SIGTERM,
    SIGINT or SIGHUP stops it; a SIGTERM before its handlers are set (it
    binds its socket first, so a bound port is not enough) or a SIGKILL
    leaves no archive, and datagrams still in its receive queue at SIGTERM
    are lost. So: wait for its "Startup nfcapd." (said after the
    handlers are set), let it empty its queue, SIGTERM, and check it said
    it stored every flow softflowd exported."""
    need("nfcapd", "nfreplay")
    capture, truth = scenario(scenario_name)
    port = free_port()
    store = tempfile.mkdtemp(dir=TMP, prefix="nfcapd-")
    with Daemon(["nfcapd", "-w", store, "-b", "127.0.0.1", "-p", str(port), "-B", str(RCVBUF)],
                ready="Startup nfcapd.") as d:
        sent = exported(softflowd(capture, port, 9))
        deadline = time.monotonic() + 10
        while udp_queued(port) != 0:
            assert d.proc.poll() is None and time.monotonic() < deadline, \
                "nfcapd did not read its queue: %s" % d.stderr()
            time.sleep(0.05)
        status = d.stop(signal.SIGTERM)
        said = d.stderr()
    assert status == 0 and "Terminating nfcapd." in said, "nfcapd: exit %r: %s" % (status, said)
    stored = sum(int(line.split("Flows: ")[1].split(",")[0]) for line in said.splitlines()
                 if line.startswith("Ident: ") and "Flows: " in line)
    assert sent and stored == sent[2], "softflowd exported %r records, nfcapd stored %d: %s" % (
        sent[2], stored, said)
    files = sorted(f for f in os.listdir(store) if f.startswith("nfcapd.2"))
    assert files, "nfcapd wrote no archive in %s: %s; %s" % (store, os.listdir(store), said)
    return [os.path.join(store, f) for f in files], truth


def test_nfcapd_nfreplay():
    """An nfcapd archive played by nfreplay (NetFlow v9) into collect."""
    out = []
    for name in ("isp-flows", "isp-flows-benign"):
        files, truth = nfcapd_archive(name)
        port = free_port()
        with Collect(port, truth["flags"]) as c:
            for f in files:
                r = run(["nfreplay", "-r", f, "-H", "127.0.0.1", "-p", str(port), "-v", "9"])
                assert r.returncode == 0, "nfreplay %s: %s" % (f, r.stderr.decode())
            doc = c.alerts()
        # nfreplay sends from its own socket: the exporter is loopback still
        delays = check(doc, truth, "nfreplay %s" % name, "127.0.0.1", 1)
        if delays:
            out.append("detected %.1f s after the attack began" % delays[0])
    return "; ".join(out)


# ---- pmacctd in a network namespace, fed by tcpreplay --------------------

WINDOW = (50.0, 80.0)	# seconds of the scenario replayed: 10 s before the attack, 20 s in it


def cut(capture, out, first, last):
    """The packets of a classic pcap from first to last (seconds); the
    first one's time."""
    with open(capture, "rb") as f, open(out, "wb") as o:
        o.write(f.read(24))
        first_ts = None
        while True:
            hdr = f.read(16)
            if len(hdr) < 16:
                break
            sec, usec, caplen, _ = struct.unpack("<IIII", hdr)
            data = f.read(caplen)
            ts = sec + usec / 1e6
            if first <= ts < last:
                first_ts = ts if first_ts is None else first_ts
                o.write(hdr + data)
    return first_ts


def first_with(capture, addr):
    """The time of the first packet of a classic pcap of Ethernet frames
    from or to the IPv4 address addr, or None."""
    want = socket.inet_aton(addr)
    with open(capture, "rb") as f:
        f.read(24)
        while True:
            hdr = f.read(16)
            if len(hdr) < 16:
                return None
            sec, usec, caplen, _ = struct.unpack("<IIII", hdr)
            data = f.read(caplen)
            if data[12:14] == b"\x08\x00" and want in (data[26:30], data[30:34]):
                return sec + usec / 1e6


class Netns:
    """A network namespace with a veth pair (a, b) and loopback up."""
    numbers = itertools.count(1)

    def __init__(self):
        n = next(Netns.numbers)
        self.name = "drflows%d-%d" % (os.getpid(), n)
        tag = "%x%d" % (os.getpid() & 0xffff, n)
        self.a, self.b = "dra" + tag, "drb" + tag
        if os.geteuid() != 0:
            raise Skip("pmacctd in a network namespace needs root")
        r = run(["ip", "netns", "add", self.name], timeout=10)
        if r.returncode:
            raise Skip("ip netns add failed: %s" % r.stderr.decode().strip())
        try:
            for cmd in (["link", "add", self.a, "type", "veth", "peer", "name", self.b],
                        ["link", "set", "lo", "up"], ["link", "set", self.a, "up"],
                        ["link", "set", self.b, "up"]):
                r = run(["ip", "-n", self.name] + cmd, timeout=10)
                assert r.returncode == 0, "ip %s: %s" % (" ".join(cmd), r.stderr.decode())
        except BaseException:
            self.close()
            raise

    def close(self):
        """Deletes the namespace (its veth pair goes with it), retrying
        while a process that lived in it is still going away."""
        for _ in range(50):
            if run(["ip", "netns", "del", self.name], timeout=10).returncode == 0:
                return
            if self.name not in run(["ip", "netns", "list"], timeout=10).stdout.decode():
                return
            time.sleep(0.1)
        raise AssertionError("could not delete network namespace %s" % self.name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def pmacct_replay(scenario_name):
    """tcpreplay plays a window of the scenario into one end of a veth pair
    at its own pace; pmacctd on the other end exports NetFlow v9 (nfprobe)
    and sFlow 1:100 (sfprobe) to loopback, where tcpdump captures both.
    Returns the two reports and the replay's clock offset.

    The offset is measured where pmacctd reads, not assumed: tcpreplay
    starts some time after it is spawned and falls behind the capture's
    pace when the machine is busy (by seconds, with the other replay and
    its daemons beside it), so "replay start - first packet" put the
    attack too early by as much, and the alert, on pmacctd's own packet
    times, looked late. A tcpdump on the veth end pmacctd reads takes the
    wall time of the first packet of the alert's key, whose time in the
    capture is known: the offset is theirs."""
    need("pmacctd", "tcpreplay", "tcpdump")
    capture, truth = scenario(scenario_name)
    window = os.path.join(TMP, scenario_name + "-window.pcap")
    first = cut(capture, window, T0(truth) + WINDOW[0], T0(truth) + WINDOW[1])
    key = truth["expected"][0]["key"] if truth["expected"] else None
    key_ts = first_with(window, key) if key else None
    assert not key or key_ts, "no packet of %s in the replayed window" % key
    with Netns() as ns:
        nf_port, sf_port = free_port(), free_port()
        conf = os.path.join(TMP, "pmacctd-%s.conf" % ns.name)
        with open(conf, "w") as f:
            f.write("daemonize: false\npcap_interface: %s\nplugins: nfprobe[n], sfprobe[s]\n"
                    "nfprobe_receiver[n]: 127.0.0.1:%d\nnfprobe_version[n]: 9\n"
                    "nfprobe_timeouts[n]: maxlife=60\n"
                    "sfprobe_receiver[s]: 127.0.0.1:%d\nsfprobe_agentip[s]: 127.0.0.1\n"
                    "sampling_rate[s]: 100\n" % (ns.b, nf_port, sf_port))
        nf_pcap = os.path.join(TMP, "pmacct-nf-%s.pcap" % scenario_name)
        sf_pcap = os.path.join(TMP, "pmacct-sf-%s.pcap" % scenario_name)
        mark_path = os.path.join(TMP, "mark-%s.txt" % ns.name)
        with contextlib.ExitStack() as stack:
            nf = stack.enter_context(tcpdump(ns.name, nf_port, nf_pcap))
            sf = stack.enter_context(tcpdump(ns.name, sf_port, sf_pcap))
            if key:	# the first packet of the key, where pmacctd reads
                mark_out = stack.enter_context(open(mark_path, "wb"))
                mark = stack.enter_context(Daemon(
                    ["ip", "netns", "exec", ns.name, "tcpdump", "-i", ns.b, "-n", "-tt", "-l",
                     "-c", "1", "host", key], stdout=mark_out, ready="listening on"))
            pm = stack.enter_context(Daemon(["ip", "netns", "exec", ns.name, "pmacctd", "-f",
                                             conf]))
            time.sleep(2)	# pmacctd opens its interface and plugins
            assert pm.proc.poll() is None, "pmacctd: %s" % pm.stderr()
            began = time.time()
            r = run(["ip", "netns", "exec", ns.name, "tcpreplay", "-q", "-i", ns.a, window],
                    timeout=TOOL_TIMEOUT)
            assert r.returncode == 0, "tcpreplay: %s" % r.stderr.decode()
            pm.stop(signal.SIGINT)	# its plugins flush their flows
            settle(nf_pcap)
            settle(sf_pcap)
            nf.stop()
            sf.stop()
            paced = began - first	# the offset if tcpreplay began at once and kept pace
            offset = paced	# no alert expected: not used
            if key:
                mark.stop()
                with open(mark_path) as f:
                    seen = f.readline().split()
                assert seen, "tcpdump on %s saw no packet of %s: %s" % (ns.b, key,
                                                                        mark.stderr())
                offset = float(seen[0]) - key_ts
    return (analyze_export(nf_pcap, nf_port, truth["flags"]),
            analyze_export(sf_pcap, sf_port, truth["flags"]), truth, offset, offset - paced)


def T0(truth):
    return truth["expected"][0]["attack_start"] - 60.0 if truth["expected"] else 1700100000.0


def test_pmacct_netns():
    out, errors = [], []
    with concurrent.futures.ThreadPoolExecutor(2) as pool:	# one namespace each
        replays = list(pool.map(pmacct_replay, ("isp-flows", "isp-flows-benign")))
    for name, (nf, sf, truth, offset, lag) in zip(("isp-flows", "isp-flows-benign"), replays):
        if truth["expected"]:
            out.append("tcpreplay reached the attack %.1f s late" % lag)
        for label, doc, sampling in (("pmacctd nfprobe v9", nf, 1), ("pmacctd sfprobe 1:100", sf, 100)):
            try:	# both exporters judged, whichever fails
                delays = check(doc, truth, "%s %s" % (label, name), "127.0.0.1", sampling, offset)
            except AssertionError as e:
                errors.append(str(e))
                continue
            if delays:
                out.append("%s: detected %.1f s after the attack began" % (label, delays[0]))
    assert not errors, "\n".join(errors)
    return "; ".join(out)


def main():
    global BIN, TMP
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    BIN = os.path.abspath(sys.argv[1])
    TMP = tempfile.mkdtemp(prefix="dnsradar-flows-")
    only = os.environ.get("DR_FLOWS_CASES")	# e.g. "softflowd,pmacct": cases to run
    tests = sorted((k, v) for k, v in globals().items() if k.startswith("test_") and callable(v)
                   and (not only or any(w in k for w in only.split(","))))
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
