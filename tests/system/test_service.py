#!/usr/bin/env python3
"""dnsradar run, end to end. Two network namespaces joined by a veth pair:
tcpreplay plays a generated scenario in one at the capture's own pace,
`dnsradar run` captures on the other end. The expected alert must reach the
store, the JSON alert log, a webhook receiver started here, `dnsradar
alerts` and GET /api/alerts within a few seconds of the attack's start; the
benign scenario raises nothing. Then: a kill -9 in the middle of a run
leaves a sound file that a restart carries on with, every alert raised
before the kill still there; a threshold changed in the config file takes
effect on SIGHUP without losing an open alert; and the same service fed by
softflowd's flow export on loopback.

And the random-subdomain break-down (top --by country and --by asn with
--where) of a live attack whose resolvers sit in the networks of MaxMind's
test databases, read in place from ../shared/data/maxmind-db.

Needs root (namespaces, capture); skipped, visibly, without it.

usage: test_service.py PATH/TO/dnsradar
"""
import importlib.util
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("DR_SOURCE", os.path.dirname(os.path.dirname(HERE)))
GENCAP = os.path.join(SOURCE, "tools", "gencap.py")
sys.path.insert(0, HERE)
import runner  # noqa: E402

BIN = TMP = None
NS_A, NS_B = "drsvcA%d" % os.getpid(), "drsvcB%d" % os.getpid()
WAIT = 30.0	# seconds any one thing may take to appear before it is a failure
SCENARIO_ATTACK = 5.0	# gencap scenarios: the attack starts 5 s in


def sh(*argv, check=True, **kw):
    return subprocess.run(list(argv), check=check, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=120, **kw)


def in_b(*argv):
    return ["ip", "netns", "exec", NS_B] + list(argv)


def scenario(name):
    path = os.path.join(TMP, name + ".pcap")
    if not os.path.exists(path + ".truth"):
        sh(sys.executable, GENCAP, "scenario", name, path)
    with open(path + ".truth") as f:
        return path, json.load(f)


def role_flags(truth):
    return list(truth["flags"])


class Namespaces:
    """A veth pair: vethA in NS_A (the sender), vethB in NS_B (dnsradar's)."""

    def __enter__(self):
        self.down()
        sh("ip", "netns", "add", NS_A)
        sh("ip", "netns", "add", NS_B)
        sh("ip", "link", "add", "drA", "netns", NS_A, "type", "veth", "peer", "name", "drB",
           "netns", NS_B)
        for ns, dev in ((NS_A, "drA"), (NS_B, "drB")):
            sh("ip", "netns", "exec", ns, "sysctl", "-q", "-w",
               "net.ipv6.conf.all.disable_ipv6=1")
            sh("ip", "-n", ns, "link", "set", dev, "up")
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        return self

    def down(self):
        for ns in (NS_A, NS_B):
            sh("ip", "netns", "del", ns, check=False)

    def __exit__(self, *exc):
        self.down()


def replay(capture, loop=1):
    """tcpreplay in NS_A at the capture's own pace, in the background."""
    return subprocess.Popen(["ip", "netns", "exec", NS_A, "tcpreplay", "-q", "-i", "drA",
                             "--loop=%d" % loop, capture],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


class Service:
    """dnsradar run in NS_B (or here), stderr kept for the failure message."""

    def __init__(self, args, netns=True):
        self.err = open(os.path.join(TMP, "run-%d.err" % random.getrandbits(32)), "w+")
        argv = [BIN, "run"] + args
        self.proc = subprocess.Popen(in_b(*argv) if netns else argv,
                                     stdout=subprocess.DEVNULL, stderr=self.err)
        self.wait_said("running")

    def said(self):
        self.err.flush()
        with open(self.err.name) as f:
            return f.read()

    def wait_said(self, text, seconds=WAIT):
        deadline = time.time() + seconds
        while time.time() < deadline:
            if text in self.said():
                return
            if self.proc.poll() is not None:
                raise AssertionError("run exited %d before saying %r:\n%s" %
                                     (self.proc.returncode, text, self.said()))
            time.sleep(0.1)
        raise AssertionError("run did not say %r in %.0f s:\n%s" % (text, seconds, self.said()))

    def stop(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("run did not stop on %s:\n%s" % (sig, self.said()))


class Receiver:
    """A webhook receiver in NS_B: every POST body, one a line, into a file."""

    CODE = r"""
import http.server, sys
out = open(sys.argv[2], "a")
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(n)
        out.write(body.decode().strip() + "\n")
        out.flush()
        self.send_response(200)
        self.end_headers()
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H)
print("ready", flush=True)
s.serve_forever()
"""

    def __init__(self, port):
        self.path = os.path.join(TMP, "webhook-%d.jsonl" % port)
        open(self.path, "w").close()
        self.proc = subprocess.Popen(in_b(sys.executable, "-c", self.CODE, str(port), self.path),
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert self.proc.stdout.readline().strip() == b"ready"

    def events(self):
        return read_events(self.path)

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def read_events(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def wait_for(what, fn, seconds=WAIT):
    deadline = time.time() + seconds
    while time.time() < deadline:
        got = fn()
        if got:
            return got
        time.sleep(0.2)
    raise AssertionError("%s did not appear within %.0f s" % (what, seconds))


def opened(events, type_, key):
    return [e for e in events if e["event"] == "open" and e["alert"]["type"] == type_ and
            e["alert"]["key"] == key]


def api(path, port=8053):
    """GET on the service's API, from inside NS_B."""
    code = ("import urllib.request,sys;"
            "print(urllib.request.urlopen('http://127.0.0.1:%d%s', timeout=10).read().decode())"
            % (port, path))
    return json.loads(sh(*in_b(sys.executable, "-c", code)).stdout)


def metrics(port=8053):
    """GET /metrics from inside NS_B: {(name, labels): value}."""
    code = ("import urllib.request;"
            "print(urllib.request.urlopen('http://127.0.0.1:%d/metrics', timeout=10)"
            ".read().decode())" % port)
    out = {}
    for line in sh(*in_b(sys.executable, "-c", code)).stdout.decode().splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def store_alerts(db):
    out = sh(BIN, "alerts", "--store", db, "--from", "2000-01-01", "--format", "json")
    return json.loads(out.stdout)["alerts"]


def proc_status(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return line.split(":", 1)[1].split()
    return None


def service_pid(svc):
    """The dnsradar process under `ip netns exec` (which execs, so the same)."""
    return svc.proc.pid


def test_live_flood_everywhere():
    capture, truth = scenario("flood")
    (want,) = truth["expected"]
    work = os.path.join(TMP, "live")
    os.makedirs(work)
    os.chmod(TMP, 0o755)
    os.chmod(work, 0o755)
    state = os.path.join(work, "state")
    os.makedirs(state)
    os.chown(state, 65534, 65534)	# nobody, as systemd's StateDirectory would
    db, log = os.path.join(state, "store.db"), os.path.join(state, "alerts.json")
    with Namespaces():
        hook = Receiver(8090)
        try:
            svc = Service(["-i", "drB", "--store", db, "--alert-log", log,
                           "--webhook", "http://127.0.0.1:8090/hook", "--http", "127.0.0.1:8053",
                           "--user", "nobody"] + role_flags(truth))
            # root is gone, and every capability with it
            pid = service_pid(svc)
            assert proc_status(pid, "Uid")[:2] == ["65534", "65534"], proc_status(pid, "Uid")
            assert int(proc_status(pid, "CapEff")[0], 16) == 0
            assert int(proc_status(pid, "CapBnd")[0], 16) == 0
            started = time.time()
            tr = replay(capture)
            attack = started + SCENARIO_ATTACK
            wait_for("the open event in the alert log",
                     lambda: opened(read_events(log), want["type"], want["key"]))
            seen = time.time()
            print("  open event in the log %.1f s after the attack began" % (seen - attack))
            wait_for("the open event at the webhook",
                     lambda: opened(hook.events(), want["type"], want["key"]))
            wait_for("the open alert in GET /api/alerts",
                     lambda: [a for a in api("/api/alerts?state=open")["alerts"]
                              if a["type"] == want["type"] and a["key"] == want["key"]])
            # /metrics sees the capture, the alert and the webhook's delivery
            wait_for("the webhook's delivery in /metrics", lambda: metrics().get(
                'dnsradar_output_events_sent_total{output="webhook"}', 0) >= 1)
            m = metrics()
            assert m['dnsradar_capture_packets_total{interface="drB"}'] > 1000, m
            assert m['dnsradar_capture_kernel_drops_total{interface="drB"}'] == 0, m
            assert m['dnsradar_alerts_opened_total{type="flood"}'] == 1, m
            assert m['dnsradar_alerts_open{type="flood"}'] == 1, m
            assert m["dnsradar_store_events_total"] >= 1, m
            wait_for("the alert in dnsradar alerts",
                     lambda: [a for a in store_alerts(db)
                              if a["type"] == want["type"] and a["key"] == want["key"]])
            tr.wait(timeout=60)
            assert svc.stop() == 0, svc.said()
            # after SIGTERM: the alert closed, everywhere, and nothing else was raised
            kinds = sorted({(e["alert"]["type"], e["alert"]["key"]) for e in read_events(log)})
            assert kinds == [(want["type"], want["key"])], kinds
            assert read_events(log)[-1]["event"] == "close"
            conn = sqlite3.connect(db)
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            rows = conn.execute("SELECT type, key, state FROM alerts").fetchall()
            assert rows == [(want["type"], want["key"], "closed")], rows
            # the attacker's records were kept for drill-down
            n = conn.execute("SELECT count(*) FROM records WHERE src = ? AND why = 'alert'",
                             (want["key"],)).fetchone()[0]
            assert n > 100, n
            conn.close()
            out = sh(BIN, "records", "--store", db, "--where", "src=" + want["key"], "--since",
                     "1h").stdout.decode().splitlines()
            assert len(out) > 100, out[:5]
        finally:
            hook.stop()


def test_live_benign_is_quiet():
    capture, truth = scenario("benign")
    db, log = os.path.join(TMP, "benign.db"), os.path.join(TMP, "benign.json")
    with Namespaces():
        svc = Service(["-i", "drB", "--store", db, "--alert-log", log] + role_flags(truth))
        tr = replay(capture)
        tr.wait(timeout=60)
        time.sleep(3)	# the last seconds judged
        assert svc.stop() == 0, svc.said()
    assert read_events(log) == [], read_events(log)[:3]
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM alerts").fetchone()[0] == 0
    # but the traffic is in the per-minute aggregates
    total = conn.execute("SELECT sum(messages) FROM agg WHERE dim = 'total'").fetchone()[0]
    assert total and total > 1000, total
    conn.close()


def test_kill9_then_restart():
    capture, truth = scenario("loop")
    (want,) = truth["expected"]
    db, log = os.path.join(TMP, "crash.db"), os.path.join(TMP, "crash.json")
    with Namespaces():
        svc = Service(["-i", "drB", "--store", db, "--alert-log", log] + role_flags(truth))
        tr = replay(capture, loop=3)
        wait_for("the loop alert", lambda: opened(read_events(log), want["type"], want["key"]))
        time.sleep(1.5)	# committed within a second of happening
        time.sleep(random.uniform(0, 2))
        svc.proc.kill()
        svc.proc.wait()
        before = [e["alert"]["id"] for e in read_events(log) if e["event"] == "open"]
        conn = sqlite3.connect(db)
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        conn.close()
        # a restart on the same file carries on
        svc = Service(["-i", "drB", "--store", db, "--alert-log", log] + role_flags(truth))
        alerts = store_alerts(db)
        assert len(alerts) >= len(before), (alerts, before)
        conn = sqlite3.connect(db)
        rows = conn.execute("SELECT id, state FROM alerts WHERE run = 1").fetchall()
        assert set(before) <= {r[0] for r in rows}, (before, rows)
        assert all(r[1] in ("interrupted", "closed") for r in rows), rows
        assert [r for r in rows if r[1] == "interrupted"], rows
        conn.close()
        # and raises the loop again, in its own run
        wait_for("the loop alert after the restart",
                 lambda: sqlite3.connect(db).execute(
                     "SELECT count(*) FROM alerts WHERE run = 2 AND type = ?",
                     (want["type"],)).fetchone()[0])
        tr.kill()
        tr.wait()
        assert svc.stop() == 0, svc.said()
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    runs = conn.execute("SELECT id, how FROM runs ORDER BY id").fetchall()
    assert len(runs) == 2 and runs[0][1] == "interrupted" and "SIGTERM" in runs[1][1], runs
    conn.close()


def test_sighup_threshold():
    """The loop alert is open; flood thresholds too high for the flood; a
    reload with the defaults raises the flood, and the loop alert stays
    the one alert it was (no close, the same id)."""
    flood, ftruth = scenario("flood")
    loop, _ = scenario("loop")
    both = os.path.join(TMP, "flood-loop.pcap")
    sh("mergecap", "-F", "pcap", "-w", both, flood, loop)
    conf, log = os.path.join(TMP, "hup.conf"), os.path.join(TMP, "hup.json")
    roles = "\n".join("%s = %s" % (ftruth["flags"][i].lstrip("-"), ftruth["flags"][i + 1])
                      for i in range(0, len(ftruth["flags"]), 2))
    high = "flood.source_pps = 1000000000\nflood.junk_pps = 1000000000\n" \
           "flood.target_pps = 1000000000\n"
    with open(conf, "w") as f:
        f.write("interface = drB\nalert_log = %s\n%s\n%s" % (log, roles, high))
    with Namespaces():
        svc = Service(["--config", conf])
        tr = replay(both, loop=4)
        lo = wait_for("the loop alert", lambda: opened(read_events(log), "loop", "203.0.113.9"))
        assert not opened(read_events(log), "flood", "10.0.5.80")
        with open(conf, "w") as f:
            f.write("interface = drB\nalert_log = %s\n%s\n" % (log, roles))
        svc.proc.send_signal(signal.SIGHUP)
        svc.wait_said("reloaded")
        assert "flood.source_pps = 2000" in svc.said(), svc.said()
        wait_for("the flood alert after the reload", lambda: opened(read_events(log), "flood",
                                                                    "10.0.5.80"), seconds=60)
        events = read_events(log)
        loop_id = lo[0]["alert"]["id"]
        assert not [e for e in events if e["alert"]["id"] == loop_id and e["event"] == "close"]
        assert len(opened(events, "loop", "203.0.113.9")) == 1
        tr.kill()
        tr.wait()
        assert svc.stop() == 0, svc.said()


def test_flows_from_softflowd():
    """softflowd reads the ISP-flows scenario and exports NetFlow v9 to the
    service's socket on loopback; the store gets the expected alerts."""
    spec = importlib.util.spec_from_file_location("exporters",
                                                  os.path.join(HERE, "test_flows_exporters.py"))
    ex = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ex)
    ex.TMP = TMP
    capture, truth = ex.scenario("isp-flows")
    port = ex.free_port()
    db, log = os.path.join(TMP, "flows.db"), os.path.join(TMP, "flows.json")
    svc = Service(["--listen", "127.0.0.1:%d" % port, "--store", db, "--alert-log", log] +
                  role_flags(truth), netns=False)
    ex.softflowd(capture, port, 9)
    # the export came in a burst; its records are held flow.lateness
    # seconds of its own clock, so the last are judged when it stops
    time.sleep(2)
    assert svc.stop() == 0, svc.said()
    want = sorted((e["type"], e["key"]) for e in truth["expected"])
    said = sorted({(e["alert"]["type"], e["alert"]["key"])
                   for e in read_events(log) if e["event"] == "open"})
    assert said == want, (said, want)
    got = sorted({(a["type"], a["key"]) for a in store_alerts(db)})
    assert got == want, (got, want)
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM agg WHERE dim = 'exporter'").fetchone()[0] > 0
    conn.close()


# The random-subdomain break-down live: resolvers in the networks of
# MaxMind's test databases (../shared/data/maxmind-db, read in place) ->
# (country, ASN or None, queries each per round). Country and ASN are the
# databases' own for these addresses (test_geo checks the same lookups).
SHARED = os.environ.get("DR_SHARED", os.path.join(SOURCE, "..", "shared"))
MMDB = os.path.join(SHARED, "data", "maxmind-db")
GEO_RESOLVERS = \
    [("81.2.69.%d" % h, "GB", None, 2) for h in range(144, 164)] + \
    [("2.125.160.%d" % h, "GB", None, 2) for h in (217, 218)] + \
    [("75.209.24.0", "US", 6167, 3)] + \
    [("149.101.100.%d" % h, "US", 6167, 3) for h in range(1, 5)] + \
    [("216.160.83.%d" % h, "US", 209, 3) for h in range(56, 60)] + \
    [("214.78.120.1", "US", 721, 3), ("214.78.121.1", "US", 721, 3)] + \
    [("50.114.0.1", "US", None, 3)] + \
    [("89.160.20.%d" % h, "SE", 29518, 2) for h in list(range(113, 119)) + list(range(130, 140))] + \
    [("175.16.199.%d" % h, "CN", None, 2) for h in range(1, 11)] + \
    [("67.43.156.%d" % h, "BT", 35908, 3) for h in (1, 65, 129, 193)] + \
    [("1.0.0.%d" % h, "--", 15169, 2) for h in range(1, 6)] + \
    [("1.128.0.1", "--", 1221, 2), ("1.129.0.1", "--", 1221, 2)]


def geo_capture(path):
    """Queries only (no answers, so no answers from the server in the
    break-down) for random names under victim-example.com, the resolvers
    in turn, about 400 a second for 12 seconds after 2 quiet ones."""
    spec = importlib.util.spec_from_file_location("gencap", GENCAP)
    gc = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gc)
    rng = random.Random(10)
    out = gc.Pcap(path)
    per_round = sum(n for _, _, _, n in GEO_RESOLVERS)
    t, step = 1700000000.0, 1.0 / 400
    out.add(t, gc.ether(gc.ipv4([10, 9, 9, 9], [192, 0, 2, 53], 17, gc.udp(999, 53, gc.dns_query(
        1, "www.example.net", 1)))))
    t += 2.0
    for _ in range(int(12 * 400 / per_round)):
        for src, _, _, n in GEO_RESOLVERS:
            for _ in range(n):
                t += step
                q = gc.dns_query(rng.getrandbits(16), "%012x.victim-example.com" %
                                 rng.getrandbits(48), 1)
                out.add(t, gc.ether(gc.ipv4([int(x) for x in src.split(".")], [192, 0, 2, 53],
                                            17, gc.udp(rng.randrange(1024, 65536), 53, q))))
    out.close()


def test_live_geo_breakdown():
    """The table of seed 001 from a live capture: per country the
    resolvers' prefixes and ASNs and the share of the attack, by country
    and by AS, from the records kept under the random_subdomain alert."""
    if not os.path.isdir(MMDB):
        print("  SKIP test_live_geo_breakdown: %s is absent" % MMDB)
        return
    capture = os.path.join(TMP, "geo.pcap")
    geo_capture(capture)
    db, log = os.path.join(TMP, "geo.db"), os.path.join(TMP, "geo.json")
    with Namespaces():
        svc = Service(["-i", "drB", "--store", db, "--alert-log", log,
                       "--geoip", os.path.join(MMDB, "GeoIP2-Country-Test.mmdb"),
                       "--asn", os.path.join(MMDB, "GeoLite2-ASN-Test.mmdb")])
        tr = replay(capture)
        wait_for("the random_subdomain alert",
                 lambda: opened(read_events(log), "random_subdomain", "victim-example.com"))
        tr.wait(timeout=60)
        assert svc.stop() == 0, svc.said()	# SIGTERM: the last minute is written

    def top(by):
        out = sh(BIN, "top", "--store", db, "--by", by, "--where", "qname=*.victim-example.com",
                 "--since", "1h", "--format", "json").stdout
        doc = json.loads(out)
        assert doc["sampled"] is True and not doc["truncated"], doc
        return doc

    per_round = sum(n for _, _, _, n in GEO_RESOLVERS)
    want = {}
    for src, cc, asn, n in GEO_RESOLVERS:
        w = want.setdefault(cc, [set(), set(), set(), 0])
        w[0].add(src)
        w[1].add(src.rsplit(".", 1)[0])
        if asn:
            w[2].add(asn)
        w[3] += n
    doc = top("country")
    # every record has a country ("--": none in the database): shares sum to 1
    assert abs(sum(r["share"] for r in doc["top"]) - 1.0) < 0.002, doc
    got = {r["key"]: (r["sources"], r["prefixes"], r["asns"]) for r in doc["top"]}
    assert got == {cc: (len(w[0]), len(w[1]), len(w[2])) for cc, w in want.items()}, \
        (got, doc)
    # the shares: those of the capture, but for the records sampled before
    # the alert opened, which stand for more than one each
    for r in doc["top"]:
        assert abs(r["share"] - want[r["key"]][3] / per_round) < 0.03, (r, want[r["key"]])
    assert [r["key"] for r in doc["top"]][:2] == ["GB", "US"], doc
    assert doc["total"]["sources"] == len(GEO_RESOLVERS), doc["total"]
    # by AS: every AS's resolvers; those without an AS are not a row
    by_as = {}
    for src, cc, asn, n in GEO_RESOLVERS:
        if asn:
            a = by_as.setdefault(str(asn), [set(), set()])
            a[0].add(src)
            a[1].add(src.rsplit(".", 1)[0])
    doc = top("asn")
    got = {r["key"]: (r["sources"], r["prefixes"], r["asns"]) for r in doc["top"]}
    assert got == {k: (len(v[0]), len(v[1]), 1) for k, v in by_as.items()}, (got, doc)
    no_as = sum(n for _, _, asn, n in GEO_RESOLVERS if not asn) / per_round
    assert abs(sum(r["share"] for r in doc["top"]) - (1 - no_as)) < 0.03, doc
    # and the text table, the view an operator reads
    text = sh(BIN, "top", "--store", db, "--by", "country", "--where",
              "qname=*.victim-example.com", "--since", "1h").stdout.decode()
    assert text.splitlines()[1].split()[-3:] == ["sources", "prefixes", "ASNs"], text
    print(text.rstrip())


def test_future_flow_is_dropped():
    """A NetFlow v5 datagram dated a day ahead (a broken or hostile
    exporter) is counted and dropped: it must not carry the clock along,
    or every open alert would close at once."""
    import socket
    import struct
    ex_port, http_port = random.randrange(20000, 30000), random.randrange(30000, 40000)
    svc = Service(["--listen", "127.0.0.1:%d" % ex_port, "--http", "127.0.0.1:%d" % http_port],
                  netns=False)
    try:
        future = int(time.time()) + 86400
        head = struct.pack("!HHIIIIBBH", 5, 1, 100000, future, 0, 1, 0, 0, 0)
        rec = struct.pack("!4s4s4sHHIIIIHHBBBBHHBBH", bytes([192, 0, 2, 1]),
                          bytes([198, 51, 100, 53]), bytes(4), 1, 2, 10, 800, 99000, 99900,
                          40000, 53, 0, 0, 17, 0, 0, 0, 24, 24, 0)
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.sendto(head + rec, ("127.0.0.1", ex_port))
        sock.close()

        def ahead():
            text = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % http_port,
                                          timeout=10).read().decode()
            for line in text.splitlines():
                if line.startswith("dnsradar_records_ahead_total "):
                    return float(line.split()[1]) >= 1
            return False
        wait_for("the record from the future counted in /metrics", ahead)
    finally:
        assert svc.stop() == 0, svc.said()


def main():
    if os.geteuid() != 0:
        print("SKIP: test_service needs root (network namespaces and live capture)")
        return 0
    for tool in ("ip", "tcpreplay", "mergecap", "softflowd"):
        if subprocess.run(["sh", "-c", "command -v " + tool], stdout=subprocess.DEVNULL).returncode:
            print("SKIP: test_service needs %s (scripts/install-deps.sh installs it)" % tool)
            return 0
    return runner.main(globals(), "service")


if __name__ == "__main__":
    sys.exit(main())
