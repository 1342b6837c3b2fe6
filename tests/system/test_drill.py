#!/usr/bin/env python3
"""System tests of the drill-down commands on a store: top, alerts and
records --store, text and JSON, human times, and their errors. The store is
built here with Python's sqlite3 module from the schema in
src/store/schema.h (read from the header, not copied), with rows laid out
as the writer lays them: a loop between 192.0.2.1:22772 and 203.0.113.53:53
five minutes ago, two alerts, two minutes of aggregates.

usage: test_drill.py PATH/TO/dnsradar
"""
import ipaddress
import json
import os
import re
import sqlite3
import subprocess
import sys
import time

import runner  # tests/system/runner.py: the shared main

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("DR_SOURCE", os.path.dirname(os.path.dirname(HERE)))
BIN = None
TMP = None
NOW = time.time()
T0 = float(int(NOW - 300) // 60 * 60)	# a minute's start, five to six minutes ago


def schema():
    """DR_STORE_SCHEMA from schema.h: its string literals, comments dropped."""
    with open(os.path.join(SOURCE, "src", "store", "schema.h"), encoding="utf-8") as f:
        text = f.read()
    body = text[text.index("#define DR_STORE_SCHEMA \\"):]
    body = body[:body.index("#endif")]
    body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
    parts = re.findall(r'"((?:[^"\\]|\\.)*)"', body)
    return "".join(parts).encode().decode("unicode_escape")


def addr_key(a):
    ip = ipaddress.ip_address(a)
    return bytes([ip.version]) + ip.packed


def build_store(path):
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.executescript(schema())
    db.execute("INSERT INTO meta VALUES('schema_version', '1')")
    alerts = [(1, "loop", "203.0.113.53", "open", T0 + 1, T0 + 90),
              (2, "reflection", "192.0.2.99", "closed", T0 - 7200, T0 - 7000)]
    for aid, typ, key, state, start, end in alerts:
        obj = {"type": typ, "key": key, "start": start, "end": end, "severity": "high",
               "packets": 1200, "bytes": 60000, "peak_pps": 35000.0, "peak_bps": 1.4e7,
               "evidence": {"peer_port": 22772}, "detected": start + 3}
        db.execute("INSERT INTO alerts VALUES(1, ?, ?, ?, ?, ?, ?, ?, 'high', 1200, 60000,"
                   " 35000, 1.4e7, ?, ?)", (aid, typ, key, state, start, end, start + 3, end,
                                            json.dumps(obj)))
    for minute, rows in ((T0, [("total", "total", 100), ("src", "192.0.2.1", 60),
                               ("src", "198.51.100.7", 30), ("src", "(other)", 10),
                               ("qtype", "0", 60), ("qtype", "1", 40)]),
                         (T0 + 60, [("total", "total", 50), ("src", "192.0.2.1", 50),
                                    ("qtype", "0", 50)])):
        for dim, key, n in rows:
            db.execute("INSERT INTO agg VALUES(?, ?, ?, ?, ?, ?)", (minute, dim, key, n, n, n * 70))
    # the loop: query from the peer's port 22772, FORMERR back, and again
    for i in range(6):
        ts = T0 + 1 + i * 0.01
        if i % 2 == 0:
            src, sport, dst, dport, qr, rcode = "192.0.2.1", 22772, "203.0.113.53", 53, 0, 0
        else:
            src, sport, dst, dport, qr, rcode = "203.0.113.53", 53, "192.0.2.1", 22772, 1, 1
        db.execute("INSERT INTO records(ts, kind, src, src_bin, sport, dst, dst_bin, dport,"
                   " proto, id, qr, opcode, rcode, aa, tc, rd, ra, qname, zone, qtype, qclass,"
                   " an, ns, ar, len, edns_udp, do, malformed, packets, bytes, country, asn,"
                   " why, weight) VALUES(?, 'dns', ?, ?, ?, ?, ?, ?, 17, 1, ?, 0, ?, 0, 0, 0,"
                   " 0, 'RRQ', NULL, 0, 1, 0, 0, 0, 29, NULL, 0, 'qtype0', 1, 57, NULL, NULL,"
                   " 'alert', 1)", (ts, src, addr_key(src), sport, dst, addr_key(dst), dport,
                                    qr, rcode))
    db.execute("INSERT INTO records(ts, kind, src, src_bin, sport, dst, dst_bin, dport, proto,"
               " id, qr, opcode, rcode, aa, tc, rd, ra, qname, zone, qtype, qclass, an, ns, ar,"
               " len, edns_udp, do, malformed, packets, bytes, country, asn, why, weight)"
               " VALUES(?, 'dns', '198.51.100.7', ?, 5353, '203.0.113.53', ?, 53, 17, 2, 0, 0,"
               " 0, 0, 0, 1, 0, 'www.example.com', 'example.com', 1, 1, 0, 0, 1, 40, 1232, 1,"
               " NULL, 1, 68, 'NL', 64500, 'sample', 25)",
               (T0 + 30, addr_key("198.51.100.7"), addr_key("203.0.113.53")))
    # a random-subdomain attack on victim.example through resolvers of known
    # country and AS (as --geoip and --asn would have stored them)
    for ts, src, country, asn, n in BREAKDOWN_RECORDS:
        for i in range(n):
            db.execute("INSERT INTO records(ts, kind, src, src_bin, sport, dst, dst_bin, dport,"
                       " proto, id, qr, opcode, rcode, aa, tc, rd, ra, qname, zone, qtype,"
                       " qclass, an, ns, ar, len, edns_udp, do, malformed, packets, bytes,"
                       " country, asn, why, weight) VALUES(?, 'dns', ?, ?, 1234, '198.18.0.53',"
                       " ?, 53, 17, 7, 0, 0, 0, 0, 0, 1, 0, ?, 'victim.example', 1, 1, 0, 0, 0,"
                       " 45, NULL, 0, NULL, 1, 73, ?, ?, 'alert', 1)",
                       (ts + i * 0.001, src, addr_key(src), addr_key("198.18.0.53"),
                        "q%d.victim.example" % i, country, asn))
    # the same resolvers asking for another zone: not in the break-down
    db.execute("INSERT INTO records(ts, kind, src, src_bin, sport, dst, dst_bin, dport, proto,"
               " id, qr, opcode, rcode, aa, tc, rd, ra, qname, zone, qtype, qclass, an, ns, ar,"
               " len, edns_udp, do, malformed, packets, bytes, country, asn, why, weight)"
               " VALUES(?, 'dns', '81.2.70.9', ?, 1234, '198.18.0.53', ?, 53, 17, 8, 0, 0,"
               " 0, 0, 0, 1, 0, 'www.other.example', 'other.example', 1, 1, 0, 0, 0, 45, NULL,"
               " 0, NULL, 1, 73, 'GB', 20712, 'sample', 40)",
               (T0 + 20, addr_key("81.2.70.9"), addr_key("198.18.0.53")))
    db.commit()
    db.close()


# (ts, source, country, asn, records): GB in two /24s of one AS; US in
# three IPv4 /24s and two IPv6 /48s (2001:db8:1::/48 twice), its ASNs
# 15169, 3356 and 36692 (the 0 of 2001:db8:2::1 is no AS); one source
# with no country ('--') and no ASN
BREAKDOWN_RECORDS = [
    (T0 + 10, "81.2.69.144", "GB", 20712, 30),
    (T0 + 11, "81.2.69.145", "GB", 20712, 30),
    (T0 + 12, "81.2.69.146", "GB", 20712, 20),
    (T0 + 13, "81.2.70.1", "GB", 20712, 10),
    (T0 + 14, "8.8.8.8", "US", 15169, 40),
    (T0 + 15, "4.2.2.2", "US", 3356, 20),
    (T0 + 16, "64.6.64.6", "US", 36692, 10),
    (T0 + 17, "2001:db8:1::1", "US", 15169, 5),
    (T0 + 18, "2001:db8:1:ff::2", "US", 15169, 5),
    (T0 + 19, "2001:db8:2::1", "US", 0, 10),
    (T0 + 20, "100.64.0.1", "--", None, 20),
]


def run(*args):
    p = subprocess.run([BIN] + list(args), capture_output=True)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def store():
    path = os.path.join(TMP, "store.db")
    if not os.path.exists(path):
        build_store(path)
    return path


def one_line_error(err, *needles):
    lines = err.strip().splitlines()
    assert len(lines) >= 1 and all(n in lines[0] for n in needles), err
    assert len(lines) == 1 or lines[1].startswith("Try "), err


def test_alerts_json():
    rc, out, err = run("alerts", "--store", store(), "--since", "1d", "--format", "json")
    assert rc == 0, err
    doc = json.loads(out)
    assert [a["type"] for a in doc["alerts"]] == ["reflection", "loop"], doc
    for a in doc["alerts"]:
        for field in ("type", "key", "start", "end", "severity", "packets", "bytes",
                      "peak_pps", "peak_bps", "evidence", "detected"):
            assert field in a, (field, a)
    # as far back as one likes: alerts are bounded by the row limit, not a range
    rc, out, err = run("alerts", "--store", store(), "--from", "2000-01-01", "--format", "json")
    assert rc == 0 and len(json.loads(out)["alerts"]) == 2, (out, err)
    rc, out, err = run("alerts", "--store", store(), "--since", "1h", "--state", "open",
                       "--format", "json")
    assert rc == 0, err
    assert [a["key"] for a in json.loads(out)["alerts"]] == ["203.0.113.53"]


def test_alerts_text():
    rc, out, err = run("alerts", "--store", store(), "--since", "1d", "--utc")
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("2 alerts from "), out
    assert lines[1].split()[:3] == ["start", "end", "type"], out
    assert "loop" in lines[3] and "203.0.113.53" in lines[3] and "open" in lines[3], out
    assert re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", lines[3]), out
    # a range that holds nothing
    start = time.strftime("%Y-%m-%d", time.gmtime(NOW - 40 * 86400))
    rc, out, err = run("alerts", "--store", store(), "--from", start, "--to",
                       str(int(NOW - 39 * 86400)), "--utc")
    assert rc == 0 and out.startswith("0 alerts"), (out, err)


def test_top():
    rc, out, err = run("top", "--store", store(), "--since", "1h", "--by", "src", "--format",
                       "json")
    assert rc == 0, err
    doc = json.loads(out)
    assert [(r["key"], r["packets"]) for r in doc["top"]] == \
        [("192.0.2.1", 110), ("198.51.100.7", 30)], doc
    assert doc["total"]["packets"] == 150 and doc["sampled"] is False, doc
    rc, out, err = run("top", "--store", store(), "--since", "1h", "--by", "qtype")
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("Top qtype from"), out
    assert lines[2].split()[:2] == ["1", "TYPE0"] and lines[3].split()[:2] == ["2", "A"], out
    # --top 1 cuts, and says so
    rc, out, err = run("top", "--store", store(), "--since", "1h", "--top", "1")
    assert rc == 0 and "more keys than --top 1" in out, out


def test_top_where_is_a_sample():
    rc, out, err = run("top", "--store", store(), "--since", "1h", "--by", "src", "--where",
                       "dst=203.0.113.0/24", "--format", "json")
    assert rc == 0, err
    doc = json.loads(out)
    assert doc["sampled"] is True and doc["source"] == "records", doc
    assert [(r["key"], r["packets"]) for r in doc["top"]] == \
        [("198.51.100.7", 25), ("192.0.2.1", 3)], doc
    rc, out, err = run("top", "--store", store(), "--since", "1h", "--by", "dport", "--where",
                       "src=192.0.2.1")
    assert rc == 0 and "Note: counted from the kept sample" in out, out
    assert "22772" not in out and re.search(r"^\s+1\s+53\s", out, re.M), out


def breakdown(by):
    rc, out, err = run("top", "--store", store(), "--since", "1h", "--by", by, "--where",
                       "qname=*.victim.example", "--format", "json")
    assert rc == 0, err
    return json.loads(out)


def test_top_breakdown_by_country():
    """The random-subdomain break-down: per country the distinct sources,
    /24 or /48 prefixes and ASNs of the kept records, and the share."""
    doc = breakdown("country")
    rows = {r["key"]: (r["packets"], r["sources"], r["prefixes"], r["asns"])
            for r in doc["top"]}
    assert rows == {"US": (90, 6, 5, 3), "GB": (90, 4, 2, 1), "--": (20, 1, 1, 0)}, doc
    assert [r["key"] for r in doc["top"]][2] == "--", doc
    assert abs(sum(r["share"] for r in doc["top"]) - 1.0) < 1e-3, doc
    assert abs(doc["top"][0]["share"] - 0.45) < 1e-4, doc
    assert doc["total"] == {"messages": 200, "packets": 200, "bytes": 200 * 73, "sources": 11,
                            "prefixes": 8, "asns": 4}, doc["total"]
    assert "exact for what was kept" in doc["note"], doc
    # the text table: aligned columns, the three counts last
    rc, out, err = run("top", "--store", store(), "--since", "1h", "--by", "country",
                       "--where", "qname=*.victim.example")
    assert rc == 0, err
    lines = out.splitlines()
    assert "11 sources, 8 prefixes, 4 ASNs" in lines[0], out
    assert lines[1].split() == ["#", "country", "packets", "share", "messages", "bytes",
                                "sources", "prefixes", "ASNs"], out
    cells = {l.split()[1]: l.split()[2:4] + l.split()[-3:] for l in lines[2:5]}
    assert cells == {"US": ["90", "45.0%", "6", "5", "3"], "GB": ["90", "45.0%", "4", "2", "1"],
                     "--": ["20", "10.0%", "1", "1", "0"]}, out
    ends = {len(l) for l in lines[1:5]}
    assert len(ends) == 1, out	# right-aligned: every line ends in the same column


def test_top_breakdown_by_asn():
    doc = breakdown("asn")
    rows = {r["key"]: (r["packets"], r["sources"], r["prefixes"], r["asns"])
            for r in doc["top"]}
    # 2001:db8:2::1 (AS 0) and 100.64.0.1 (none) have no AS to rank by
    assert rows == {"20712": (90, 4, 2, 1), "15169": (50, 3, 2, 1), "3356": (20, 1, 1, 1),
                    "36692": (10, 1, 1, 1)}, doc
    assert abs(doc["top"][0]["share"] - 0.45) < 1e-4, doc


def test_top_aggregates_have_no_distinct_counts():
    rc, out, err = run("top", "--store", store(), "--since", "1h", "--by", "src", "--format",
                       "json")
    assert rc == 0, err
    doc = json.loads(out)
    assert all(r["sources"] is None and r["prefixes"] is None and r["asns"] is None
               for r in doc["top"]), doc
    assert doc["total"]["sources"] is None, doc
    rc, out, err = run("top", "--store", store(), "--since", "1h", "--by", "src")
    assert rc == 0 and "prefixes" not in out and "sources" not in out, out


def test_records_store():
    rc, out, err = run("records", "--store", store(), "--where", "src=192.0.2.1", "--since",
                       "10m")
    assert rc == 0, err
    recs = [json.loads(line) for line in out.splitlines()]
    assert len(recs) == 3, recs
    assert [r["ts"] for r in recs] == sorted(r["ts"] for r in recs)
    for r in recs:
        for field in ("ts", "src", "sport", "dst", "dport", "proto", "id", "qr", "opcode",
                      "rcode", "aa", "tc", "rd", "ra", "qname", "qtype", "qclass", "an", "ns",
                      "ar", "len", "edns_udp", "do", "malformed"):
            assert field in r, (field, r)
        assert r["sport"] == 22772 and r["qtype"] == 0 and r["malformed"] == "qtype0", r
    # both directions of the loop, as a table
    rc, out, err = run("records", "--store", store(), "--where", "src=192.0.2.0/24", "--since",
                       "10m", "--format", "text", "--utc")
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["time", "src", "sport", "dst", "dport", "qr", "qname", "qtype",
                                "rcode", "len"], out
    assert len(lines) == 4 and all("TYPE0" in l and "RRQ" in l for l in lines[1:]), out
    rc, out, err = run("records", "--store", store(), "--where", "dport=22772", "--since",
                       "10m", "--format", "text")
    assert rc == 0 and len(out.splitlines()) == 4 and "FORMERR" in out, out
    rc, out, err = run("records", "--store", store(), "--where", "qname=*.example.com",
                       "--since", "10m")
    assert rc == 0 and json.loads(out)["weight"] == 25, out


def test_errors():
    missing = os.path.join(TMP, "missing.db")
    rc, out, err = run("top", "--store", missing, "--since", "1h")
    assert rc == 2, (rc, err)
    one_line_error(err, missing, "No such file")
    junk = os.path.join(TMP, "junk.db")
    with open(junk, "wb") as f:
        f.write(b"x" * 4096)
    rc, out, err = run("alerts", "--store", junk)
    assert rc == 2, (rc, err)
    one_line_error(err, junk, "not a dnsradar store")
    rc, out, err = run("alerts", "--store", store(), "--since", "5x")
    assert rc == 2
    one_line_error(err, "--since '5x': give")
    rc, out, err = run("records", "--store", store(), "--since", "40d")
    assert rc == 2
    one_line_error(err, "longer than the 31 days")
    rc, out, err = run("top", "--store", store(), "--by", "color")
    assert rc == 2
    one_line_error(err, "--by 'color'")
    rc, out, err = run("alerts", "--store", store(), "--state", "sleeping")
    assert rc == 2
    one_line_error(err, "--state 'sleeping'")
    rc, out, err = run("top", "--since", "1h")
    assert rc == 2
    one_line_error(err, "--store FILE")
    rc, out, err = run("records", "--since", "1h", "x.pcap")
    assert rc == 2
    one_line_error(err, "give --store FILE")
    rc, out, err = run("alerts", "--store", store(), "--from", "2026-13-01")
    assert rc == 2
    one_line_error(err, "--from '2026-13-01'")


def test_help():
    for cmd in ("top", "alerts", "records"):
        rc, out, err = run(cmd, "--help")
        assert rc == 0 and "--store FILE" in out and "--since" in out, (cmd, out)
    rc, out, err = run("--help")
    assert "top" in out and "alerts" in out, out


if __name__ == "__main__":
    sys.exit(runner.main(globals(), "drill"))
