#!/usr/bin/env python3
"""dnsradar run sending its history to ClickHouse (Debian's clickhouse-server,
started here on loopback ports with its data in a temporary folder).

- An outage: traffic flows, ClickHouse is stopped mid-run while it keeps
  flowing, the spool grows, ClickHouse comes back, and every alert event,
  aggregate and record arrives exactly once: ClickHouse holds the very rows
  the sensor's SQLite store holds for the same run.
- A lost answer: a proxy between the sensor and ClickHouse lets inserts
  through and cuts the connection before their answers; no row is stored
  twice. Then the sensor stops while ClickHouse is away, and its next start
  sends what it spooled.
- Many sensors, one cluster: two servers as two shards, a sensor on each,
  the Distributed tables see both; three sensors making the schema at once
  on one server all succeed.

The traffic is a generated flood scenario replayed with tcpreplay from a
network namespace into a veth pair whose other end the sensor captures on.
Needs root; skipped, visibly, without it or without clickhouse-server.

usage: test_clickhouse.py PATH/TO/dnsradar
"""
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("DR_SOURCE", os.path.dirname(os.path.dirname(HERE)))
GENCAP = os.path.join(SOURCE, "tools", "gencap.py")
sys.path.insert(0, HERE)
import chserver  # noqa: E402
import runner  # noqa: E402

BIN = TMP = None
NS = "drchA%d" % os.getpid()
DEV_A, DEV_B = "drchA%d" % (os.getpid() % 10000), "drchB%d" % (os.getpid() % 10000)
WAIT = 60.0
# This run's ports, BASE .. BASE+29, ten a test (none is taken again while
# a closed connection of the last test may hold it): below the ephemeral
# range (32768 up), so that no client socket holds one.
BASE = 10000 + os.getpid() % 500 * 40


def sh(*argv, check=True, **kw):
    return subprocess.run(list(argv), check=check, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=300, **kw)


def wait_for(what, fn, seconds=WAIT):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            got = fn()
        except RuntimeError:	# ClickHouse said no (the database is not there yet)
            got = None
        if got:
            return got
        time.sleep(0.25)
    raise AssertionError("%s did not happen in %.0f s" % (what, seconds))


class Veth:
    """DEV_A in the namespace NS (the sender), DEV_B here, where the sensor
    captures and reaches ClickHouse on loopback."""

    def __enter__(self):
        self.down()
        sh("ip", "netns", "add", NS)
        sh("ip", "link", "add", DEV_A, "netns", NS, "type", "veth", "peer", "name", DEV_B)
        sh("sysctl", "-q", "-w", "net.ipv6.conf.%s.disable_ipv6=1" % DEV_B)
        sh("ip", "netns", "exec", NS, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1")
        sh("ip", "link", "set", DEV_B, "up")
        sh("ip", "-n", NS, "link", "set", DEV_A, "up")
        return self

    def down(self):
        sh("ip", "link", "del", DEV_B, check=False)
        sh("ip", "netns", "del", NS, check=False)

    def __exit__(self, *exc):
        self.down()

    def replay(self, capture, loop):
        return subprocess.Popen(["ip", "netns", "exec", NS, "tcpreplay", "-q", "-i", DEV_A,
                                 "--loop=%d" % loop, capture],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def flood():
    path = os.path.join(TMP, "flood.pcap")
    if not os.path.exists(path + ".truth"):
        sh(sys.executable, GENCAP, "scenario", "flood", path)
    with open(path + ".truth") as f:
        return path, json.load(f)


class Sensor:
    """dnsradar run capturing on DEV_B with a store and ClickHouse."""

    def __init__(self, name, url, http_port, extra=(), flags=()):
        self.db = os.path.join(TMP, name + ".db")
        self.http_port = http_port
        self.err = open(os.path.join(TMP, name + ".err"), "w+")
        argv = [BIN, "run", "-i", DEV_B, "--store", self.db, "--clickhouse", url,
                "--sensor", name, "--http", "127.0.0.1:%d" % http_port, "--user", "root",
                "--set", "clickhouse.batch_seconds=1"] + list(flags) + list(extra)
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=self.err)
        wait_for("the sensor to run", lambda: "running" in self.said() or self.dead(), 30)
        assert not self.dead(), self.said()

    def dead(self):
        return self.proc.poll() is not None

    def said(self):
        self.err.flush()
        with open(self.err.name) as f:
            return f.read()

    def metrics(self):
        if self.dead():
            raise AssertionError("the sensor exited %d:\n%s" % (self.proc.returncode,
                                                                 self.said()))
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.http_port,
                                    timeout=10) as r:
            out = {}
            for line in r.read().decode().splitlines():
                if line and not line.startswith("#"):
                    k, _, v = line.rpartition(" ")
                    out[k] = float(v)
            return out

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=90)
        assert rc == 0, (rc, self.said())


def sqlite_rows(db):
    """What the store holds: events, aggregates and records, comparable."""
    conn = sqlite3.connect(db)
    events = sorted(conn.execute("SELECT run, alert, event FROM events").fetchall())
    agg = sorted(conn.execute("SELECT minute, dim, key, messages, packets, bytes FROM agg")
                 .fetchall())
    records = conn.execute("SELECT count(*), sum(packets), sum(bytes), sum(weight) FROM records"
                           ).fetchone()
    conn.close()
    return events, agg, records


def clickhouse_rows(srv, sensor, suffix=""):
    def rows(sql):
        return [tuple(line.split("\t")) for line in srv.query(sql).splitlines()]
    events = sorted((int(r), int(i), e) for r, i, e in rows(
        "SELECT run, id, event FROM dnsradar.alert_events%s WHERE sensor = '%s'"
        % (suffix, sensor)))
    # two runs in one minute are one row in SQLite (it adds them up), two here
    agg = sorted((int(m), d, k, int(a), int(b), int(c)) for m, d, k, a, b, c in rows(
        "SELECT toUInt32(minute), dim, key, sum(messages), sum(packets), sum(bytes) FROM"
        " dnsradar.agg%s WHERE sensor = '%s' GROUP BY minute, dim, key" % (suffix, sensor)))
    (n, p, b, w), = rows("SELECT count(), sum(packets), sum(bytes), sum(weight) FROM"
                         " dnsradar.records%s WHERE sensor = '%s'" % (suffix, sensor))
    return events, agg, (int(n), int(p), int(b), float(w))


def same_history(db, srv, sensor, suffix=""):
    se, sa, sr = sqlite_rows(db)
    ce, ca, cr = clickhouse_rows(srv, sensor, suffix)
    assert se, "the store holds no alert event"
    assert ce == se, ("alert events differ", se, ce)
    assert len(ca) == len(sa), ("aggregate rows", len(sa), len(ca))
    assert ca == sa, [x for x in zip(sa, ca) if x[0] != x[1]][:5]
    assert cr[:3] == tuple(sr[:3]) and abs(cr[3] - sr[3]) < 1e-6 * max(1, sr[3]), (sr, cr)
    return len(se), len(sa), sr[0]


def test_outage_then_every_row_once():
    ok, why = chserver.available()
    if not ok:
        print("SKIP: %s" % why)
        return
    capture, truth = flood()
    srv = chserver.start(os.path.join(TMP, "ch-outage"), BASE, BASE + 1)
    try:
        with Veth() as veth:
            s = Sensor("outage", srv.url + "?database=dnsradar", BASE + 2,
                       flags=truth["flags"])
            wait_for("the schema", lambda: s.metrics().get(
                "dnsradar_clickhouse_schema_ready") == 1)
            tr = veth.replay(capture, 6)	# two minutes of traffic
            wait_for("the alert in ClickHouse", lambda: srv.query(
                "SELECT count() FROM dnsradar.alert_events").strip() != "0", 40)
            srv.stop()
            # traffic flows on: the minutes and the alert's updates spool
            wait_for("a batch failing", lambda: s.metrics().get(
                "dnsradar_clickhouse_send_errors_total", -1) >= 1, 90)
            wait_for("the spool holding a minute of aggregates", lambda: s.metrics().get(
                "dnsradar_clickhouse_spool_batches", -1) >= 2, 90)
            spooled = s.metrics()["dnsradar_clickhouse_spool_batches"]
            assert s.metrics()["dnsradar_clickhouse_connected"] == 0
            assert "batches are spooled" in s.said(), s.said()
            srv.restart()
            wait_for("the spool emptied", lambda: s.metrics().get(
                "dnsradar_clickhouse_spool_batches", -1) == 0, 60)
            assert tr.wait(timeout=180) == 0
            s.stop()
        m_sent = "connected" in s.said()
        assert m_sent, s.said()
        n_events, n_agg, n_records = same_history(s.db, srv, "outage")
        # and the drill-down reads the same from either
        for by in ("src", "qname", "dport"):
            now = int(time.time()) + 60
            args = ["top", "--from", str(now - 86400), "--to", str(now), "--by", by]
            here = sh(BIN, *args, "--store", s.db).stdout
            there = sh(BIN, *args, "--store", "clickhouse://127.0.0.1:%d/dnsradar"
                       % srv.http_port).stdout
            assert here == there, (by, here, there)
        print("  %d alert events, %d aggregate rows, %d records, each once; %d batches"
              " spooled during the outage" % (n_events, n_agg, n_records, spooled))
        # the hourly rollup adds up to the minutes
        total = srv.query("SELECT sum(packets) FROM dnsradar.agg WHERE dim = 'total'").strip()
        hourly = srv.query("SELECT sum(packets) FROM dnsradar.agg_1h WHERE dim = 'total'").strip()
        assert total == hourly and int(total) > 0, (total, hourly)
    finally:
        srv.stop()


def test_lost_answers_and_a_restart():
    ok, why = chserver.available()
    if not ok:
        print("SKIP: %s" % why)
        return
    capture, truth = flood()
    srv = chserver.start(os.path.join(TMP, "ch-lost"), BASE + 10, BASE + 11)
    proxy = chserver.CuttingProxy(BASE + 12, BASE + 10)
    url = "http://127.0.0.1:%d/?database=dnsradar" % (BASE + 12)
    try:
        with Veth() as veth:
            s = Sensor("lost", url, BASE + 13, flags=truth["flags"])
            wait_for("the schema", lambda: s.metrics().get(
                "dnsradar_clickhouse_schema_ready") == 1)
            time.sleep(1)	# past the retention's queries at start
            proxy.cut_next_answer(6, match=b"INSERT")
            tr = veth.replay(capture, 1)
            assert tr.wait(timeout=120) == 0
            wait_for("six inserts' answers cut", lambda: proxy.cut >= 6, 90)
            # each insert whose answer was lost is found stored, and not sent
            # again (the metrics are a second old: wait for them, not the
            # spool, which may be empty between two batches)
            wait_for("every cut insert found stored", lambda: s.metrics().get(
                "dnsradar_clickhouse_duplicates_total", -1) >= proxy.cut, 60)
            wait_for("the spool emptied", lambda: s.metrics().get(
                "dnsradar_clickhouse_spool_batches", -1) == 0, 60)
            m = s.metrics()
            assert m["dnsradar_clickhouse_duplicates_total"] == proxy.cut, (m, proxy.cut)
            s.stop()
            same_history(s.db, srv, "lost")
            # stopped while ClickHouse is away: the next start sends the spool
            srv.stop()
            s = Sensor("lost", url, BASE + 13, flags=truth["flags"])
            tr = veth.replay(capture, 1)
            assert tr.wait(timeout=120) == 0
            s.stop()
            spool = s.db + ".spool"
            left = [f for f in os.listdir(spool) if not f.startswith(".")]
            assert left, "nothing was spooled while ClickHouse was away"
            srv.restart()
            s = Sensor("lost", url, BASE + 13, flags=truth["flags"])
            wait_for("the spool emptied", lambda: s.metrics().get(
                "dnsradar_clickhouse_spool_batches", -1) == 0, 60)
            s.stop()
        n_events, n_agg, n_records = same_history(s.db, srv, "lost")
        print("  %d inserts' answers cut, %d batches found stored and not sent again; after two"
              " restarts %d alert events, %d aggregate rows, %d records, each once"
              % (proxy.cut, m["dnsradar_clickhouse_duplicates_total"], n_events, n_agg,
                 n_records))
    finally:
        proxy.close()
        srv.stop()


def test_two_shards_two_sensors():
    ok, why = chserver.available()
    if not ok:
        print("SKIP: %s" % why)
        return
    capture, truth = flood()
    shards = [("127.0.0.1", BASE + 21), ("127.0.0.1", BASE + 23)]
    one = chserver.start(os.path.join(TMP, "shard1"), BASE + 20, BASE + 21, cluster=shards)
    two = chserver.start(os.path.join(TMP, "shard2"), BASE + 22, BASE + 23, cluster=shards)
    try:
        # three sensors making the schema on one server at once
        racers = [subprocess.Popen([BIN, "run", "--listen", "127.0.0.1:%d" % (BASE + 26 + i),
                                    "--store", os.path.join(TMP, "race%d.db" % i),
                                    "--clickhouse", one.url + "?database=race",
                                    "--sensor", "race%d" % i, "--user", "root"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                  for i in range(3)]
        wait_for("the three sensors' schema", lambda: one.query(
            "SELECT uniqExact(sensor) FROM race.migrations").strip() == "3", 30)
        for p in racers:
            p.send_signal(signal.SIGTERM)
            _, err = p.communicate(timeout=30)
            assert p.returncode == 0, err.decode()
            assert b"clickhouse:" not in err.replace(b"clickhouse: connected", b""), err
        tables = one.query("SELECT name FROM system.tables WHERE database = 'race'"
                           " ORDER BY name").split()
        assert tables == ["agg", "agg_1h", "agg_1h_mv", "alert_events", "migrations",
                          "records"], tables

        with Veth() as veth:
            flags = list(truth["flags"]) + ["--set", "clickhouse.cluster=dnsradar"]
            a = Sensor("east", one.url + "?database=dnsradar", BASE + 24, flags=flags)
            b = Sensor("west", two.url + "?database=dnsradar", BASE + 25, flags=flags)
            tr = veth.replay(capture, 1)
            assert tr.wait(timeout=120) == 0
            a.stop()
            b.stop()
        for srv in (one, two):
            names = srv.query("SELECT name FROM system.tables WHERE database = 'dnsradar'"
                              " AND engine = 'Distributed' ORDER BY name").split()
            assert names == ["agg_1h_all", "agg_all", "alert_events_all", "records_all"], names
        # each shard holds its own sensor's rows; the Distributed tables, both
        assert one.query("SELECT DISTINCT sensor FROM dnsradar.agg").split() == ["east"]
        assert two.query("SELECT DISTINCT sensor FROM dnsradar.agg").split() == ["west"]
        for srv in (one, two):
            seen = srv.query("SELECT DISTINCT sensor FROM dnsradar.agg_all ORDER BY sensor")
            assert seen.split() == ["east", "west"], seen
        same_history(a.db, one, "east", "_all")
        same_history(b.db, two, "west", "_all")
        # the drill-down commands through either server see both sensors
        for srv in (one, two):
            store = "clickhouse://127.0.0.1:%d/dnsradar" % srv.http_port
            out = sh(BIN, "alerts", "--store", store, "--since", "1h", "--format", "json")
            alerts = json.loads(out.stdout)["alerts"]
            keys = sorted((x["type"], x["key"]) for x in alerts)
            want = sorted((e["type"], e["key"]) for e in truth["expected"]) * 2
            assert keys == sorted(want), keys
        local = [sh(BIN, "top", "--store", x.db, "--since", "1h", "--by", "src").stdout
                 for x in (a, b)]
        both = sh(BIN, "top", "--store", "clickhouse://127.0.0.1:%d/dnsradar" % one.http_port,
                  "--since", "1h", "--by", "src", "--format", "json").stdout
        total = json.loads(both)["total"]["packets"]
        sums = [int(sqlite3.connect(x.db).execute(
            "SELECT sum(packets) FROM agg WHERE dim = 'total'").fetchone()[0]) for x in (a, b)]
        assert total == sum(sums), (total, sums, local)
    finally:
        one.stop()
        two.stop()


def main():
    if os.geteuid() != 0:
        print("SKIP: needs root (network namespaces, capture)")
        return 0
    return runner.main(globals(), "clickhouse")


if __name__ == "__main__":
    sys.exit(main())
