#!/usr/bin/env python3
"""The drill-down commands and the HTTP API on ClickHouse give what they
give on SQLite for the same rows. A SQLite store is built as test_drill.py
builds it (its rows, and more: an interrupted alert, flows without DNS
fields, malformed messages, a name with a quote, a few hundred weighted
records and aggregates); its rows are copied, in RowBinary, into
clickhouse-server (Debian's, started here on loopback ports, data in a
temporary folder) under the tables of src/store/ch_schema.h, each alert as
two events (the stale one of lower version inserted last). Then top
(several dimensions, with and without --where), alerts (states, type,
JSON), records (src, prefixes, qname suffix, ...) and the API's endpoints
must answer the same on both. A two-shard cluster (two servers, the
Distributed tables of the schema's cluster statements) holds sensor A's
rows on one shard, sensor B's on the other: top and alerts through either
see both.

Skips (saying so) when clickhouse-server is not installed.

usage: test_clickhouse_query.py PATH/TO/dnsradar
"""
import ipaddress
import json
import os
import random
import re
import socket
import sqlite3
import struct
import subprocess
import sys
import time
import urllib.request

import chserver
import runner  # tests/system/runner.py: the shared main
import test_drill

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("DR_SOURCE", os.path.dirname(os.path.dirname(HERE)))
BIN = None
TMP = None
T0 = test_drill.T0
FROM, TO = str(int(T0 - 3 * 3600)), str(int(T0 + 3600))
STATE = {}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# --- the schema, read from ch_schema.h --------------------------------

def statements(array):
    with open(os.path.join(SOURCE, "src", "store", "ch_schema.h"), encoding="utf-8") as f:
        text = f.read()
    body = text[text.index(array + "[] = {"):]
    body = re.sub(r"/\*.*?\*/", "", body[:body.index("};")], flags=re.S)
    return ["".join(re.findall(r'"((?:[^"\\]|\\.)*)"', m))
            for m in re.findall(r'((?:"(?:[^"\\]|\\.)*"\s*)+),', body)]


def columns(table):
    """[(name, type)] of a table of ch_schema.h, in order."""
    for st in statements("dr_ch_schema"):
        m = re.match(r"CREATE TABLE IF NOT EXISTS \{db\}\.(\w+) \((.*?)\) ENGINE", st)
        if m and m.group(1) == table:
            return re.findall(r"(\w+) ((?:Nullable\()?\w+\)?)", m.group(2))
    raise KeyError(table)


def make_schema(srv, cluster=False):
    for st in statements("dr_ch_schema"):
        srv.query(st.replace("{db}", "dnsradar"))
    if cluster:
        for st in statements("dr_ch_schema_cluster"):
            srv.query(st.replace("{db}", "dnsradar").replace("{cluster}", "dnsradar"))


# --- RowBinary ----------------------------------------------------------

def varint(n):
    out = b""
    while True:
        b = n & 0x7f
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


PACK = {"UInt8": "<B", "UInt16": "<H", "UInt32": "<I", "UInt64": "<Q", "Float64": "<d",
        "DateTime": "<I"}


def encode(typ, v):
    if typ.startswith("Nullable("):
        return b"\x01" if v is None else b"\x00" + encode(typ[9:-1], v)
    if typ == "String":
        b = v if isinstance(v, bytes) else str(v).encode()
        return varint(len(b)) + b
    return struct.pack(PACK[typ], v)


def insert(srv, table, rows):
    """rows: dicts by column name; a column missing is its type's zero."""
    cols = columns(table)
    data = b""
    for r in rows:
        for name, typ in cols:
            v = r.get(name)
            if v is None and not typ.startswith("Nullable"):
                v = "" if typ == "String" else 0
            data += encode(typ, v)
    srv.query("INSERT INTO dnsradar.%s (%s) FORMAT RowBinary"
              % (table, ", ".join(n for n, _ in cols)), data=data)


# --- the SQLite store, and its rows as ClickHouse rows --------------------

def addr_key(a):
    return test_drill.addr_key(a)


def record_row(db, **kw):
    cols = ["ts", "kind", "src", "src_bin", "sport", "dst", "dst_bin", "dport", "proto", "id",
            "qr", "opcode", "rcode", "aa", "tc", "rd", "ra", "qname", "zone", "qtype", "qclass",
            "an", "ns", "ar", "len", "edns_udp", "do", "malformed", "packets", "bytes",
            "country", "asn", "why", "weight"]
    row = {c: None for c in cols}
    row.update(kind="dns", sport=1234, dport=53, proto=17, len=50, packets=1, bytes=80,
               why="sample", weight=1.0)
    row.update(kw)
    row["src_bin"] = addr_key(row["src"])
    row["dst_bin"] = addr_key(row["dst"])
    db.execute("INSERT INTO records(%s) VALUES(%s)" % (", ".join(cols), ", ".join("?" * len(cols))),
               [row[c] for c in cols])


def build_store(path):
    test_drill.build_store(path)
    db = sqlite3.connect(path)
    rnd = random.Random(12)
    # an interrupted alert of another run, and a closed water torture one
    for run, aid, typ, key, state, start, end in (
            (2, 1, "random_subdomain", "victim.example", "interrupted", T0 - 600, T0 - 300),
            (2, 2, "random_subdomain", "o'hara.example", "closed", T0 + 5, T0 + 65)):
        obj = {"type": typ, "key": key, "start": start, "end": end, "severity": "medium",
               "packets": 7, "bytes": 700, "evidence": {"note": "tab\there, quote ' back \\"}}
        db.execute("INSERT INTO alerts VALUES(?, ?, ?, ?, ?, ?, ?, ?, 'medium', 7, 700, 1.5,"
                   " 120.25, ?, ?)", (run, aid, typ, key, state, start, end, start + 1.25, end,
                                      json.dumps(obj)))
    # flows: no DNS header, no name
    for i in range(5):
        record_row(db, ts=T0 + 40 + i * 0.5, kind="flow", src="192.0.2.%d" % (10 + i),
                   dst="203.0.113.9", sport=53, dport=40000 + i, packets=10 * (i + 1),
                   bytes=1000 * (i + 1), weight=2.0)
    # malformed messages, and names a quote or a backslash is part of
    for i, (mal, name) in enumerate((("bad_label", None), ("truncated", "x.example"),
                                     ("", "o'hara.example"), (None, "www.o'hara.example"),
                                     (None, "back\\\\slash.example"))):
        record_row(db, ts=T0 + 50 + i * 0.25, src="10.1.%d.1" % i, dst="10.9.9.9", id=i,
                   qr=0, opcode=0, rcode=0, aa=0, tc=0, rd=1, ra=0, qname=name,
                   zone="o'hara.example" if name and "hara" in name else None, qtype=1,
                   qclass=1, an=0, ns=0, ar=0, malformed=mal)
    # a few hundred weighted records: IPv4 and IPv6 sources in a few /24s
    # and /48s; integer weights keep every weighted sum exact in either
    # engine's order of addition
    srcs = ["198.51.100.%d" % h for h in range(1, 12)] + \
           ["203.0.113.%d" % h for h in range(100, 104)] + \
           ["2001:db8:%x::%x" % (n, h) for n in (10, 11) for h in (1, 2, 3)]
    names = ["a.victim.example", "b.victim.example", "www.example.com", "mail.example.com",
             "Upper.Victim.Example", "victim.example"]
    for i in range(400):
        name = rnd.choice(names)
        record_row(db, ts=T0 + 60 + i * 0.137, src=rnd.choice(srcs), dst="198.18.0.53",
                   sport=rnd.randrange(1024, 1040), id=i, qr=rnd.randrange(2), opcode=0,
                   rcode=rnd.choice([0, 0, 0, 2, 3]), aa=0, tc=rnd.randrange(2), rd=1, ra=0,
                   qname=name, zone=".".join(name.lower().split(".")[-2:]),
                   qtype=rnd.choice([1, 1, 28, 16, 255, 65]), qclass=1, an=rnd.randrange(3),
                   ns=0, ar=1, len=rnd.randrange(40, 1400),
                   edns_udp=rnd.choice([None, 1232, 4096]), do=rnd.choice([None, 0, 1]),
                   packets=rnd.randrange(1, 4), bytes=rnd.randrange(60, 3000),
                   country=rnd.choice(["NL", "DE", "US", None]),
                   asn=rnd.choice([64500, 64501, 0, None, 3356]),
                   why=rnd.choice(["sample", "alert"]), weight=float(rnd.randrange(1, 6)))
    # aggregates of more minutes and dimensions; equal packets order by
    # messages, then by key
    for m in range(6):
        minute = T0 + 120 + m * 60
        rows = [("total", "total", 900, 1000)]
        for dim, keys in (("src", ["198.51.100.1", "198.51.100.2", "2001:db8:a::1"]),
                          ("qname", ["a.victim.example", "b.victim.example", "o'hara.example"]),
                          ("dport", ["53", "853"]), ("rcode", ["0", "2", "3"]),
                          ("country", ["NL", "DE"]), ("asn", ["64500", "3356"]),
                          ("zone", ["victim.example", "example.com"])):
            for k in keys:
                rows.append((dim, k, rnd.randrange(1, 50), 100 if k.endswith("2") else
                             rnd.randrange(50, 200)))
            rows.append((dim, "(other)", 5, 7))
        for dim, key, msgs, pkts in rows:
            db.execute("INSERT OR REPLACE INTO agg VALUES(?, ?, ?, ?, ?, ?)",
                       (minute, dim, key, msgs, pkts, pkts * 90))
    db.commit()
    db.close()


def sqlite_rows(path, sql):
    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    rows = [dict(r) for r in db.execute(sql)]
    db.close()
    return rows


def copy_rows(path, servers, sensors):
    """The store's rows into ClickHouse; row i to servers[i % n] as
    sensors[i % n]. Each alert is two events: its state as stored
    (version 2), and before it a stale open one (version 1) inserted after."""
    n = len(servers)
    fresh, stale = [[] for _ in servers], [[] for _ in servers]
    for i, a in enumerate(sqlite_rows(path, "SELECT * FROM alerts ORDER BY run, id")):
        row = dict(a, time=int(a["start"]), ts=a["updated"], sensor=sensors[i % n],
                   event="close" if a["state"] == "closed" else "update", version=2, batch=0)
        fresh[i % n].append(row)
        stale[i % n].append(dict(row, event="open", state="open", end=a["start"], packets=1,
                                 bytes=1, json='{"stale":true}', version=1))
    for k in range(n):
        insert(servers[k], "alert_events", fresh[k])
        insert(servers[k], "alert_events", stale[k])
    parts = [[] for _ in servers]
    for i, r in enumerate(sqlite_rows(path, "SELECT * FROM agg")):
        parts[i % n].append(dict(r, minute=int(r["minute"]), sensor=sensors[i % n], batch=0))
    for k in range(n):
        insert(servers[k], "agg", parts[k])
    parts = [[] for _ in servers]
    for i, r in enumerate(sqlite_rows(path, "SELECT * FROM records")):
        r["src_bin"], r["dst_bin"] = bytes(r["src_bin"]), bytes(r["dst_bin"])
        parts[i % n].append(dict(r, time=int(r["ts"]), sensor=sensors[i % n], batch=0))
    for k in range(n):
        insert(servers[k], "records", parts[k])


# --- the servers, started once ---------------------------------------------

def setup():
    if STATE:
        return STATE
    ok, why = chserver.available()
    if not ok:
        STATE["skip"] = why
        return STATE
    store = os.path.join(TMP, "store.db")
    build_store(store)
    one = chserver.start(os.path.join(TMP, "ch-one"), free_port(), free_port(),
                         users=[("reader", "p:w@d/1", "readonly2"),
                                ("strict", "s", "readonly1")])
    STATE.update(store=store, servers=[one])
    make_schema(one)
    copy_rows(store, [one], ["sensor-a"])
    STATE["one"] = "clickhouse://127.0.0.1:%d/dnsradar" % one.http_port
    # the cluster: two shards, each server knows both
    ports = [(free_port(), free_port()) for _ in range(2)]
    shards = [("127.0.0.1", tcp) for _, tcp in ports]
    a = chserver.start(os.path.join(TMP, "ch-a"), ports[0][0], ports[0][1], cluster=shards)
    STATE["servers"].append(a)
    b = chserver.start(os.path.join(TMP, "ch-b"), ports[1][0], ports[1][1], cluster=shards)
    STATE["servers"].append(b)
    for srv in (a, b):
        make_schema(srv, cluster=True)
    copy_rows(store, [a, b], ["sensor-a", "sensor-b"])
    STATE["shard_a"] = "clickhouse://127.0.0.1:%d/dnsradar" % a.http_port
    STATE["shard_b"] = "clickhouse://127.0.0.1:%d/dnsradar" % b.http_port
    STATE["a"], STATE["b"] = a, b
    return STATE


def need():
    st = setup()
    if "skip" in st:
        print("SKIP: %s" % st["skip"])
        return None
    return st


def run(*args):
    p = subprocess.run([BIN] + list(args), capture_output=True)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def same(cmd, *args, stores=("one",), sort=False):
    """cmd on the SQLite store and on each ClickHouse store: the same
    exit, output and error."""
    st = STATE

    def now_less(out):
        # without --to a range ends now, a second later on a slow run
        if "--to" in args:
            return out
        out = re.sub(r"( to )\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", r"\1NOW", out)
        return re.sub(r'"to": ?[0-9.]+', '"to":NOW', out)
    rc, want, err = run(cmd, "--store", st["store"], "--utc", *args)
    assert rc == 0, (cmd, args, err)
    want = now_less(want)
    for name in stores:
        rc2, got, err2 = run(cmd, "--store", st[name], "--utc", *args)
        assert rc2 == 0, (name, cmd, args, err2)
        got = now_less(got)
        if sort:
            assert sorted(got.splitlines()) == sorted(want.splitlines()), \
                (name, cmd, args, want, got)
        else:
            assert got == want, (name, cmd, args, "\n--- sqlite\n" + want + "\n--- " + name +
                                 "\n" + got)
    return want


RANGE = ("--from", FROM, "--to", TO)


def test_top_aggregates():
    if not need():
        return
    for by in ("src", "qname", "qtype", "rcode", "dport", "country", "asn", "zone"):
        out = same("top", "--by", by, *RANGE)
        assert "nothing stored" not in out, out
        same("top", "--by", by, "--format", "json", *RANGE)
    # a cut list, and a range that meets half a minute (it counts whole)
    same("top", "--by", "src", "--top", "2", *RANGE)
    same("top", "--by", "src", "--format", "json", "--from", str(T0 + 150.5), "--to",
         str(T0 + 270.25))
    # nothing in range
    same("top", "--from", str(int(T0 - 40 * 3600)), "--to", str(int(T0 - 39 * 3600)))


def test_top_where():
    if not need():
        return
    for by, where in (("src", ["qname=*.victim.example"]), ("country", ["qname=*.victim.example"]),
                      ("asn", ["qtype=A"]), ("qname", ["src=198.51.100.0/24"]),
                      ("src", ["src=2001:db8::/32", "rcode=NXDOMAIN"]),
                      ("qtype", ["qr=0", "proto=udp"]), ("sport", ["dport=53"]),
                      ("zone", ["qname=*.o'hara.example"]), ("qname", ["malformed=any"]),
                      ("dst", ["malformed=none", "qname=www.example.com"])):
        args = []
        for w in where:
            args += ["--where", w]
        out = same("top", "--by", by, *(args + list(RANGE)))
        same("top", "--by", by, "--format", "json", *(args + list(RANGE)))
        assert "nothing stored" not in out, (by, where, out)


def test_alerts():
    if not need():
        return
    out = same("alerts", "--from", "2000-01-01")
    assert out.startswith("4 alerts"), out
    doc = json.loads(same("alerts", "--from", "2000-01-01", "--format", "json"))
    assert not any(a.get("stale") for a in doc["alerts"]), doc
    for state in ("open", "closed", "interrupted", "all"):
        same("alerts", "--state", state, "--from", "2000-01-01", "--format", "json")
    doc = json.loads(same("alerts", "--state", "open", "--from", "2000-01-01", "--format",
                          "json"))
    # the closed alerts' stale open events do not make them open
    assert [a["key"] for a in doc["alerts"]] == ["203.0.113.53"], doc
    same("alerts", "--type", "random_subdomain", "--from", "2000-01-01")
    same("alerts", "--limit", "2", "--from", "2000-01-01", "--format", "json")
    same("alerts", *RANGE)


def test_records():
    if not need():
        return
    for where in (["src=192.0.2.1"], ["src=198.51.100.0/24"], ["dst=198.18.0.53", "qtype=AAAA"],
                  ["src=2001:db8:a::/48"], ["qname=*.victim.example"], ["qname=victim.example"],
                  ["qname=*.o'hara.example"], ["qname=o'hara.example"],
                  ["qname=back\\092slash.example"], ["malformed=bad_label"],
                  ["malformed=any"], ["rcode=NXDOMAIN", "qr=1"], ["sport=53"], ["proto=udp"],
                  ["dport=40002"], ["qname=*."]):
        args = []
        for w in where:
            args += ["--where", w]
        out = same("records", "--format", "json", *(args + list(RANGE)), sort=True)
        assert out.strip(), where
        ts = [json.loads(line)["ts"] for line in run("records", "--store", STATE["one"],
                                                         "--format", "json",
                                                         *(args + list(RANGE)))[1].splitlines()]
        assert ts == sorted(ts), where
    same("records", "--limit", "7", "--format", "json", *RANGE)
    same("records", "--limit", "7", *RANGE)


def test_cluster_sees_both_shards():
    if not need():
        return
    st = STATE
    # each shard holds part of the rows ...
    total = int(st["servers"][0].query("SELECT count() FROM dnsradar.agg"))
    on_a = int(st["a"].query("SELECT count() FROM dnsradar.agg"))
    on_b = int(st["b"].query("SELECT count() FROM dnsradar.agg"))
    assert 0 < on_a < total and on_a + on_b == total, (on_a, on_b, total)
    assert st["a"].query("SELECT DISTINCT sensor FROM dnsradar.agg").split() == ["sensor-a"]
    # ... and a query through either sees the whole of both
    for by in ("src", "qname", "country"):
        same("top", "--by", by, "--format", "json", *RANGE, stores=("shard_a", "shard_b"))
    same("top", "--by", "src", "--where", "qname=*.victim.example", *RANGE,
         stores=("shard_a", "shard_b"))
    same("alerts", "--from", "2000-01-01", "--format", "json", stores=("shard_a", "shard_b"))
    same("records", "--where", "src=198.51.100.0/24", "--format", "json", *RANGE,
         stores=("shard_a", "shard_b"), sort=True)


def test_sensor():
    """--sensor: one sensor's rows; the sensors' add up to the whole."""
    if not need():
        return
    st = STATE

    def doc(*args):
        rc, out, err = run(*(args[:1] + ("--store", st["shard_b"]) + args[1:]))
        assert rc == 0, (args, err)
        return out

    def total(*more):
        return json.loads(doc("top", "--format", "json", *(more + RANGE)))["total"]["packets"]

    def alerts(*more):
        return len(json.loads(doc("alerts", "--format", "json", "--from", "2000-01-01",
                                  *more))["alerts"])

    def records(*more):
        return len(doc("records", "--format", "json", "--limit", "100000",
                       *(more + RANGE)).splitlines())

    for count in (total, alerts, records):
        whole = count()
        a, b = count("--sensor", "sensor-a"), count("--sensor", "sensor-b")
        assert 0 < a < whole and a + b == whole, (count.__name__, a, b, whole)
        assert count("--sensor", "sensor-c") == 0, count.__name__
    w = ("--where", "qname=*.victim.example")
    assert total("--sensor", "sensor-a", *w) + total("--sensor", "sensor-b", *w) == total(*w)
    # a store file is one sensor's; records without a store takes none
    rc, out, err = run("top", "--store", st["store"], "--sensor", "sensor-a")
    assert rc == 2 and "one sensor's rows" in err and len(err.splitlines()) == 1, err
    rc, out, err = run("records", "--sensor", "sensor-a", "x.pcap")
    assert rc == 2 and "--sensor" in err, err


def api(port, path):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=20) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def service(http_store, tag):
    port = free_port()
    err = open(os.path.join(TMP, "run-%s.err" % tag), "w+")
    p = subprocess.Popen([BIN, "run", "--listen", "127.0.0.1:%d" % free_port(), "--store",
                          os.path.join(TMP, "svc-%s.db" % tag), "--http", "127.0.0.1:%d" % port,
                          "--http-store", http_store],
                         stdout=subprocess.DEVNULL, stderr=err)
    deadline = time.time() + 20
    while time.time() < deadline:
        if p.poll() is not None:
            err.seek(0)
            raise AssertionError("run exited %d: %s" % (p.returncode, err.read()))
        try:
            if api(port, "/healthz")[0] == 200:
                return p, port
        except OSError:
            pass
        time.sleep(0.2)
    p.kill()
    raise AssertionError("run did not answer /healthz")


def test_api():
    if not need():
        return
    st = STATE
    sq, sq_port = service(st["store"], "sqlite")
    ch, ch_port = service(st["one"], "ch")
    try:
        rng = "from=%s&to=%s" % (FROM, TO)
        for path in ("/api/alerts?from=2000-01-01", "/api/alerts?state=closed&from=2000-01-01",
                     "/api/top?by=qname&" + rng, "/api/top?by=src&where=qname%3D*.victim.example&"
                     + rng, "/api/series?" + rng, "/api/series?dim=src&key=198.51.100.1&" + rng,
                     "/api/records?where=src%3D198.51.100.0%2F24&limit=20&" + rng):
            want = api(sq_port, path)
            got = api(ch_port, path)
            assert want[0] == 200, (path, want)
            if path.startswith("/api/records"):
                # records of one second may come in either order
                w, g = json.loads(want[1]), json.loads(got[1])
                key = lambda r: json.dumps(r, sort_keys=True)
                assert sorted(w["records"], key=key) == sorted(g["records"], key=key), path
                continue
            assert got == want, (path, want, got)
        assert json.loads(api(ch_port, "/api/series?" + rng)[1])["series"], "no series"
    finally:
        for p in (sq, ch):
            p.terminate()
            p.wait(20)


def test_errors():
    if not need():
        return
    port = free_port()
    rc, out, err = run("top", "--store", "clickhouse://127.0.0.1:%d/dnsradar" % port)
    assert rc == 2 and "cannot reach ClickHouse" in err and len(err.splitlines()) == 1, err
    rc, out, err = run("top", "--store", "clickhouse://127.0.0.1:%d/nothere" %
                       STATE["servers"][0].http_port)
    assert rc == 2 and "not a dnsradar store" in err, err
    rc, out, err = run("alerts", "--store", "clickhouse://127.0.0.1:1/bad-name")
    assert rc == 2 and "is not a name" in err, err
    rc, out, err = run("alerts", "--store", "clickhouse://127.0.0.1:1/")
    assert rc == 2 and "give the database" in err, err
    # a query ClickHouse refuses gives its one-line message: a table that
    # lost a column (the records table of another schema)
    srv = STATE["servers"][0]
    srv.query("CREATE DATABASE IF NOT EXISTS broken")
    for t in ("alert_events", "agg"):
        srv.query("CREATE TABLE IF NOT EXISTS broken.%s AS dnsradar.%s" % (t, t))
    srv.query("CREATE TABLE IF NOT EXISTS broken.records (time DateTime, ts Float64)"
              " ENGINE = MergeTree PARTITION BY toYYYYMMDD(time) ORDER BY time")
    rc, out, err = run("records", "--store", "clickhouse://127.0.0.1:%d/broken" % srv.http_port)
    assert rc != 0 and "clickhouse://127.0.0.1:%d/broken: Code: " % srv.http_port in err \
        and len(err.strip().splitlines()) == 1, err
    # users: a password with ':', '@' and '/' %-escaped; a wrong one, said
    # without the password; a readonly = 1 profile, which refuses settings
    port = srv.http_port
    rc, out, err = run("alerts", "--store", "clickhouse://reader:p%%3Aw%%40d%%2F1@127.0.0.1:%d/"
                       "dnsradar" % port, "--from", "2000-01-01")
    assert rc == 0 and out.startswith("4 alerts"), (out, err)
    rc, out, err = run("alerts", "--store", "clickhouse://reader:nope@127.0.0.1:%d/dnsradar"
                       % port)
    assert rc == 2 and "Code: 193" in err and "nope" not in err, err
    rc, out, err = run("alerts", "--store", "clickhouse://strict:s@127.0.0.1:%d/dnsradar" % port)
    assert rc == 2 and "readonly = 2" in err and len(err.splitlines()) == 1, err
    rc, out, err = run("alerts", "--store", "clickhouse://reader:x%%4@127.0.0.1:1/dnsradar")
    assert rc == 2 and "%-escaped" in err and "x%4" not in err, err
    # an answer lost on the way (the proxy forwards the request whole and
    # drops what the server said): one line, exit 2; the next goes through
    proxy = chserver.CuttingProxy(free_port(), srv.http_port)
    try:
        url = "clickhouse://127.0.0.1:%d/dnsradar" % proxy.sock.getsockname()[1]
        rc, out, err = run("alerts", "--store", url, "--from", "2000-01-01")
        assert rc == 0 and out.startswith("4 alerts"), (out, err)
        before = proxy.forwarded
        proxy.cut_next_answer(1)
        rc, out, err = run("alerts", "--store", url, "--from", "2000-01-01")
        assert rc == 2 and len(err.splitlines()) == 1 and url in err, err
        assert proxy.cut == 1 and proxy.forwarded == before + 1, (proxy.cut, proxy.forwarded)
        rc, out, err = run("alerts", "--store", url, "--from", "2000-01-01")
        assert rc == 0 and out.startswith("4 alerts"), (out, err)
    finally:
        proxy.close()
    # check-config knows the form
    conf = os.path.join(TMP, "bad.conf")
    with open(conf, "w") as f:
        f.write("listen = 127.0.0.1:9995\nhttp = 127.0.0.1:8053\n"
                "http_store = clickhouse://127.0.0.1:8123/\n")
    rc, out, err = run("check-config", conf)
    assert rc == 2 and "http_store" in err and "give the database" in err, err
    with open(conf, "w") as f:
        f.write("listen = 127.0.0.1:9995\nhttp = 127.0.0.1:8053\n"
                "http_store = clickhouse://127.0.0.1:8123/dnsradar\n")
    rc, out, err = run("check-config", conf)
    assert rc == 0, err


def doc_sql():
    """The SQL blocks of docs/clickhouse.md's seed incidents section."""
    with open(os.path.join(SOURCE, "docs", "clickhouse.md"), encoding="utf-8") as f:
        text = f.read()
    text = text[text.index("## SQL for the seed incidents"):]
    end = text.find("\n## ", 1)	# the section ends at the next one, if any
    text = text if end < 0 else text[:end]
    return re.findall(r"```sql\n(.*?)```", text, flags=re.S)


def test_doc_sql_runs():
    """Every statement docs/clickhouse.md gives for the seed incidents runs
    on 18.16, on one server and through the cluster's *_all tables."""
    if not need():
        return
    blocks = doc_sql()
    assert len(blocks) >= 15, len(blocks)
    found = 0
    for sql in blocks:
        out = STATE["servers"][0].query(sql + " FORMAT TabSeparated")
        found += bool(out.strip())
        spread = re.sub(r"dnsradar\.(alert_events|agg_1h|agg|records)\b", r"dnsradar.\1_all", sql)
        assert spread != sql, sql
        STATE["a"].query(spread + " FORMAT TabSeparated")
    # the test data holds rows for most of them
    print("     %d of %d statements found rows" % (found, len(blocks)))
    assert found >= len(blocks) // 2, (found, len(blocks))


def teardown_servers():
    for srv in STATE.get("servers", []):
        srv.stop()


def test_zz_stop():
    """Stops the servers (last by name)."""
    teardown_servers()


if __name__ == "__main__":
    try:
        rc = runner.main(globals(), "chquery")
    finally:
        teardown_servers()
    sys.exit(rc)
