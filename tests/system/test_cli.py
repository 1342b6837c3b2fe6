#!/usr/bin/env python3
"""System tests of the dnsradar binary: usage, bad input, every input form
(files, standard input, gzip, zstd, several files), filters and both output
formats, run on the captures in samples/ and tests/data.

usage: test_cli.py PATH/TO/dnsradar
"""
import gzip
import json
import os
import resource
import shutil
import struct
import subprocess
import sys

import runner  # tests/system/runner.py: the shared main

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("DR_SOURCE", os.path.dirname(os.path.dirname(HERE)))
DATA = os.environ.get("DR_TEST_DATA", os.path.join(SOURCE, "tests", "data"))
SAMPLE = os.path.join(SOURCE, "samples", "sample.pcap")
BIN = None
TMP = None

RECORD_FIELDS = ["frame", "ts", "src", "sport", "dst", "dport", "proto", "id", "qr",
                 "opcode", "rcode", "aa", "tc", "rd", "ra", "qname", "qtype", "qclass",
                 "an", "ns", "ar", "len", "edns_udp", "do", "malformed"]


def run(*args, stdin=None):
    p = subprocess.run([BIN] + list(args), input=stdin, capture_output=True)
    return p.returncode, p.stdout.decode("utf-8", "surrogateescape"), \
        p.stderr.decode("utf-8", "replace")


def records(*args, stdin=None):
    rc, out, err = run("records", "--no-progress", *args, stdin=stdin)
    return rc, [json.loads(line) for line in out.splitlines()], err


def analyze_json(*args):
    rc, out, err = run("analyze", "--no-progress", "--format", "json", *args)
    assert rc == 0, (rc, err)
    return json.loads(out)


def one_line_error(err, *needles):
    lines = err.strip().splitlines()
    assert len(lines) == 1, "expected one line on stderr, got %r" % err
    for n in needles:
        assert n in lines[0], "%r not in %r" % (n, lines[0])


def tmp(name, data=b""):
    path = os.path.join(TMP, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


# ---- usage -------------------------------------------------------------

def test_help_everywhere():
    for args in (["--help"], ["analyze", "--help"], ["records", "--help"]):
        rc, out, err = run(*args)
        assert rc == 0 and "Usage: dnsradar" in out, (args, rc, out, err)
    rc, out, _ = run("analyze", "--help")
    for opt in ("--format", "--top", "--bpf", "--where", "--dns-port", "--threads"):
        assert opt in out, opt


def test_bad_usage():
    rc, _, err = run()
    assert rc == 2 and "Usage" in err
    rc, _, err = run("frobnicate")
    assert rc == 2
    one_line_error(err, "frobnicate", "not a command")
    rc, _, err = run("analyze")
    assert rc == 2 and "no capture file" in err
    rc, _, err = run("analyze", "--top", "0", SAMPLE)
    assert rc == 2 and "--top" in err
    rc, _, err = run("analyze", "--format", "xml", SAMPLE)
    assert rc == 2 and "--format" in err
    rc, _, err = run("analyze", "--threads", "3", SAMPLE)
    assert rc == 2
    one_line_error(err.splitlines()[0], "--threads '3': give 1 or 2")
    rc, _, err = run("records", "--where", "colour=red", SAMPLE)
    assert rc == 2 and "unknown field" in err
    rc, _, err = run("records", "--dns-port", "99999", SAMPLE)
    assert rc == 2 and "--dns-port" in err


# ---- bad input ---------------------------------------------------------

def test_missing_file():
    rc, out, err = run("analyze", "/nonexistent/x.pcap")
    assert rc == 2 and out == ""
    one_line_error(err, "/nonexistent/x.pcap", "No such file")


def test_empty_file():
    path = tmp("empty.pcap")
    rc, out, err = run("records", path)
    assert rc == 2 and out == ""
    one_line_error(err, path, "empty")


def test_not_a_capture():
    path = tmp("notes.txt", b"this is not a capture file at all\n")
    rc, out, err = run("analyze", path)
    assert rc == 2 and out == ""
    one_line_error(err, path, "not a pcap or pcapng capture")
    rc, _, err = run("analyze", TMP)
    assert rc == 2
    one_line_error(err, TMP, "directory")


def test_header_cut_short():
    with open(SAMPLE, "rb") as f:
        data = f.read(10)
    path = tmp("header.pcap", data)
    rc, _, err = run("records", path)
    assert rc == 2
    one_line_error(err, path, "cut short")


def test_cut_mid_packet():
    """Everything before the cut is reported; the error says where."""
    with open(SAMPLE, "rb") as f:
        data = f.read()
    off, n = 24, 0
    while n < 100:
        caplen = struct.unpack("<I", data[off + 8:off + 12])[0]
        off += 16 + caplen
        n += 1
    path = tmp("cut.pcap", data[:off + 16 + 10])	# 10 bytes into packet 101
    rc, recs, err = records(path)
    assert rc == 2, rc
    assert len(recs) == 100 and recs[-1]["frame"] == 100, len(recs)
    one_line_error(err, path, "middle of packet 101", "byte offset %d" % off,
                   "100 packets before it were read")
    rc, out, err = run("analyze", "--no-progress", "--format", "json", path)
    assert rc == 2 and json.loads(out)["summary"]["packets"] == 100
    one_line_error(err, "middle of packet 101")


def test_damaged_record():
    with open(SAMPLE, "rb") as f:
        data = bytearray(f.read(4096))
    data[24 + 8:24 + 12] = struct.pack("<I", 0x7fffffff)
    path = tmp("damaged.pcap", bytes(data))
    rc, recs, err = records(path)
    assert rc == 2 and recs == []
    one_line_error(err, path, "damaged")


# ---- input forms -------------------------------------------------------

def test_stdin_gzip_zstd_match_plain():
    _, plain, _ = records(SAMPLE)
    assert len(plain) > 3000
    with open(SAMPLE, "rb") as f:
        raw = f.read()
    rc, from_stdin, _ = records("-", stdin=raw)
    assert rc == 0 and from_stdin == plain
    gz = tmp("sample.pcap.gz", gzip.compress(raw))
    rc, from_gz, _ = records(gz)
    assert rc == 0 and from_gz == plain
    rc, from_gz_stdin, _ = records("-", stdin=gzip.compress(raw))
    assert rc == 0 and from_gz_stdin == plain
    if shutil.which("zstd"):
        zst = os.path.join(TMP, "sample.pcap.zst")
        subprocess.run(["zstd", "-q", "-f", SAMPLE, "-o", zst], check=True)
        rc, from_zst, _ = records(zst)
        assert rc == 0 and from_zst == plain
    else:
        print("SKIP zstd not installed: zstd input not checked")


def test_damaged_gzip():
    with open(SAMPLE, "rb") as f:
        packed = gzip.compress(f.read())
    path = tmp("cut.pcap.gz", packed[:len(packed) // 2])
    rc, recs, err = records(path)
    assert rc == 2 and len(recs) > 100
    one_line_error(err, path, "gzip")


def split_pcap(src, a, b):
    """Odd packets to a, even packets to b."""
    with open(src, "rb") as f:
        data = f.read()
    outs = [bytearray(data[:24]), bytearray(data[:24])]
    off, i = 24, 0
    while off < len(data):
        caplen = struct.unpack("<I", data[off + 8:off + 12])[0]
        outs[i % 2] += data[off:off + 16 + caplen]
        off += 16 + caplen
        i += 1
    with open(a, "wb") as f:
        f.write(outs[0])
    with open(b, "wb") as f:
        f.write(outs[1])


def test_files_merged_in_time_order():
    a, b = os.path.join(TMP, "a.pcap"), os.path.join(TMP, "b.pcap")
    split_pcap(SAMPLE, a, b)
    rc, merged, _ = records(b, a)
    _, plain, _ = records(SAMPLE)
    assert rc == 0 and len(merged) == len(plain)
    assert [r["ts"] for r in merged] == sorted(r["ts"] for r in merged)
    assert {r["file"] for r in merged} == {0, 1}
    first = merged[0]
    assert first["file"] == 1 and first["frame"] == 1	# a.pcap holds packet 1
    strip = [{k: v for k, v in r.items() if k not in ("file", "frame")} for r in merged]
    assert strip == [{k: v for k, v in r.items() if k != "frame"} for r in plain]


def test_rotated_set_is_bounded():
    """200 gzip pieces of one capture read as one stream, holding open only
    the pieces that overlap in time: it runs with 32 file descriptors."""
    with open(SAMPLE, "rb") as f:
        data = f.read()
    header, off, pieces, cur = data[:24], 24, [], bytearray()
    n = 0
    while off < len(data):
        caplen = struct.unpack("<I", data[off + 8:off + 12])[0]
        cur += data[off:off + 16 + caplen]
        off += 16 + caplen
        n += 1
        if n % 17 == 0:
            pieces.append(cur)
            cur = bytearray()
    if cur:
        pieces.append(cur)
    paths = []
    for i, piece in enumerate(pieces):
        paths.append(tmp("rot-%03d.pcap.gz" % i, gzip.compress(header + bytes(piece))))
    assert len(paths) == 200
    limit = lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (32, 32))
    proc = subprocess.run([BIN, "records", "--no-progress"] + paths[::-1],
                          capture_output=True, preexec_fn=limit)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    merged = [json.loads(line) for line in out.decode().splitlines()]
    _, plain, _ = records(SAMPLE)
    strip = lambda rs, drop: [{k: v for k, v in r.items() if k not in drop} for r in rs]
    assert strip(merged, ("file", "frame")) == strip(plain, ("frame",))
    assert merged[0]["file"] == 199 and merged[0]["frame"] == 1	# given last


# ---- records -----------------------------------------------------------

def test_record_fields():
    _, recs, _ = records(SAMPLE)
    for field in RECORD_FIELDS:
        assert field in recs[0], field
    assert recs[0]["frame"] == 1 and recs[1]["frame"] == 2
    assert all(r["malformed"] is None for r in recs)
    roots = [r for r in recs if r["qname"] == "."]
    assert roots and all(r["qtype"] == 255 for r in roots)


def test_malformed_reasons():
    _, recs, _ = records(os.path.join(DATA, "malformed.pcap"))
    reasons = [r["malformed"] for r in recs]
    assert reasons[:7] == ["short_header", "pointer_loop", "bad_pointer", "bad_label",
                           "truncated", "trailing_bytes", "not_dns"], reasons
    cut = recs[7]	# snap length cut the message: fields before the cut stay
    assert cut["malformed"] == "truncated" and cut["id"] == 6 and cut["qr"] == 0


def test_tcp_and_fragments():
    _, recs, _ = records(os.path.join(DATA, "tcp-segments.pcap"))
    assert [(r["id"], r["frame"]) for r in recs] == [(0x3001, 3), (0x3002, 3), (0x3001, 7)]
    assert all(r["proto"] == "tcp" and r["malformed"] is None for r in recs)
    _, recs, _ = records(os.path.join(DATA, "ip-fragments.pcap"))
    frag = [r for r in recs if r["frag"]]
    assert len(frag) == 2 and {r["src"] for r in frag} == {"192.0.2.53", "2001:db8::53"}
    assert all(r["an"] == 6 and r["malformed"] is None for r in frag)


def test_oversized_frame():
    # A 100,000-byte raw IPv4 frame claiming the largest total length, with
    # a UDP length of 0: the message is the datagram's 65,507 octets, the
    # largest there is, and both thread modes agree (the ring's arena holds
    # one message of that size).
    payload = b"\x12\x34\x01\x00" + b"\x00" * (100000 - 4)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 65535, 1, 0, 64, 17, 0,
                     bytes([192, 0, 2, 1]), bytes([192, 0, 2, 53]))
    frame = ip + struct.pack("!HHHH", 4444, 53, 0, 0) + payload
    data = struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 262144, 101)
    data += struct.pack("<IIII", 1700000000, 0, len(frame), len(frame)) + frame
    path = tmp("oversized.pcap", data)
    _, recs, _ = records(path)
    assert [r["len"] for r in recs] == [65535 - 20 - 8], recs
    outs = [run("analyze", "--format", "json", "--threads", t, path) for t in ("1", "2")]
    assert outs[0][0] == 0 and outs[0][1] == outs[1][1]


def test_link_types():
    for name in ("link-ethernet-qinq", "link-raw", "link-sll", "link-sll2", "link-null"):
        rc, recs, _ = records(os.path.join(DATA, name + ".pcap"))
        assert rc == 0 and len(recs) == 1 and recs[0]["qname"] == "www.example.com", name


def test_nanoseconds():
    _, recs, _ = records(os.path.join(DATA, "nanosecond.pcap"))
    rc, out, _ = run("records", os.path.join(DATA, "nanosecond.pcap"))
    assert '"ts":1700000004.123456789' in out, out


def test_bpf():
    _, plain, _ = records(SAMPLE)
    rc, recs, _ = records("--bpf", "src host 203.0.113.77", SAMPLE)
    assert rc == 0 and recs and all(r["src"] == "203.0.113.77" for r in recs)
    assert len(recs) == sum(1 for r in plain if r["src"] == "203.0.113.77")
    assert recs[0]["frame"] == next(r["frame"] for r in plain if r["src"] == "203.0.113.77")
    rc, _, err = run("records", "--bpf", "this is not bpf", SAMPLE)
    assert rc == 2
    one_line_error(err, "--bpf")


def test_dns_port():
    path = os.path.join(DATA, "link-raw.pcap")
    with open(path, "rb") as f:
        data = bytearray(f.read())
    # move the query from port 53 to port 5300
    data[24 + 16 + 22:24 + 16 + 24] = struct.pack("!H", 5300)
    moved = tmp("port5300.pcap", bytes(data))
    _, recs, _ = records(moved)
    assert recs == []
    _, recs, _ = records("--dns-port", "5300", moved)
    assert len(recs) == 1 and recs[0]["dport"] == 5300


# ---- analyze -----------------------------------------------------------

def test_analyze_json_contract():
    doc = analyze_json(SAMPLE)
    assert set(doc) >= {"summary", "top", "alerts"}
    s = doc["summary"]
    _, recs, _ = records(SAMPLE)
    assert s["dns_messages"] == len(recs)
    assert s["queries"] == sum(1 for r in recs if r["qr"] == 0)
    assert s["responses"] == sum(1 for r in recs if r["qr"] == 1)
    assert s["malformed"] == 0 and s["packets"] == len(recs)
    assert s["first"] == recs[0]["ts"] and s["last"] == recs[-1]["ts"]
    assert s["qps_peak"] >= s["qps_avg"] > 0
    for table in ("sources", "destinations", "source_ports", "destination_ports",
                  "qnames", "domains", "qtypes", "rcodes", "response_sizes", "source_qps"):
        assert table in doc["top"], table
    top = doc["top"]["sources"]["rows"]
    assert len(top) == 10
    counts = {}
    for r in recs:
        counts[r["src"]] = counts.get(r["src"], 0) + 1
    best = sorted(counts.items(), key=lambda kv: -kv[1])[0]
    assert top[0]["key"] == best[0] and top[0]["count"] == best[1]
    qtypes = {row["key"]: row["count"] for row in doc["top"]["qtypes"]["rows"]}
    assert qtypes["ANY"] == sum(1 for r in recs if r["qtype"] == 255)
    doms = [row["key"] for row in doc["top"]["domains"]["rows"]]
    assert "example.com" in doms and "example.co.uk" in doms, doms


def test_analyze_where_drilldown():
    doc = analyze_json("--where", "src=203.0.113.77", SAMPLE)
    s = doc["summary"]
    assert s["dns_messages"] == 200 and s["where"] == ["src=203.0.113.77"]
    assert doc["top"]["sources"]["rows"][0]["key"] == "203.0.113.77"
    assert doc["top"]["destination_ports"]["rows"][0]["key"] == "53"
    doc = analyze_json("--where", "src=203.0.113.77", "--where", "qtype=ANY",
                       "--where", "dport=53", SAMPLE)
    assert doc["summary"]["dns_messages"] == 200
    doc = analyze_json("--where", "qname=*.example.co.uk", SAMPLE)
    assert doc["summary"]["dns_messages"] > 0
    assert all(r["key"].endswith("example.co.uk") for r in doc["top"]["qnames"]["rows"])
    doc = analyze_json("--where", "rcode=NXDOMAIN", SAMPLE)
    assert doc["top"]["rcodes"]["rows"][0]["key"] == "NXDOMAIN"


def test_analyze_text():
    rc, out, err = run("analyze", "--top", "3", SAMPLE)
    assert rc == 0, err
    for heading in ("Summary", "Alerts", "Top sources", "Top destinations",
                    "Top source ports", "Top destination ports", "Top query names",
                    "Top registered domains", "Query types", "Response codes",
                    "Response sizes", "Sources by peak queries per second"):
        assert heading in out, heading
    block = out.split("Top sources")[1].split("\n\n")[0].splitlines()
    assert len(block) == 1 + 1 + 3, block	# title rest, header, 3 rows
    widths = {len(line) for line in block[1:]}
    assert len(widths) == 1, block	# aligned columns


def test_analyze_empty_result():
    doc = analyze_json("--where", "src=192.0.2.254", SAMPLE)
    assert doc["summary"]["dns_messages"] == 0
    assert doc["summary"]["first"] is None
    rc, out, _ = run("analyze", "--where", "src=192.0.2.254", SAMPLE)
    assert rc == 0 and "no DNS messages" in out


# ---- detection options -------------------------------------------------

def test_thresholds_documented():
    """Every threshold, with its default, is in docs/detectors.md."""
    rc, out, _ = run("analyze", "--thresholds")
    assert rc == 0
    with open(os.path.join(SOURCE, "docs", "detectors.md")) as f:
        doc = f.read()
    rows = [line.split() for line in out.splitlines() if line.startswith("  ")]
    assert len(rows) >= 25
    for name, default, *_ in rows:
        assert "| `%s` | %s |" % (name, default) in doc, name
    rc, out, _ = run("analyze", "--set", "flood.source_pps=1234", "--thresholds")
    assert "flood.source_pps                   1234 " in out


def test_detection_options():
    rc, _, err = run("analyze", "--set", "flood.nope=1", SAMPLE)
    assert rc == 2
    one_line_error(err.splitlines()[0], "no threshold 'nope'")
    rc, _, err = run("analyze", "--local", "10.0.0.0/40", SAMPLE)
    assert rc == 2 and "--local" in err
    rc, _, err = run("analyze", "--config", "/nonexistent.conf", SAMPLE)
    assert rc == 2 and "/nonexistent.conf" in err
    conf = tmp("dr.conf", b"local = 10.0.0.0/8\nresolver = 10.3.9.200\n")
    doc = analyze_json("--config", conf, SAMPLE)
    # the sample's reflector, declared a resolver: only the pattern rule
    assert [a["evidence"]["rule"] for a in doc["alerts"]] == ["repeated large answers"]
    doc = analyze_json("--set", "reflection.enabled=0", SAMPLE)
    assert doc["alerts"] == []
    rc, out, _ = run("analyze", "--stats", SAMPLE)
    assert rc == 0 and "Memory budget" in out and "random_subdomain" in out
    doc = analyze_json("--stats", SAMPLE)
    assert doc["stats"]["memory"]["flood"] > 0
    # the detectors' thread and its ring, and none with one thread
    assert analyze_json("--stats", "--threads", "2", SAMPLE)["stats"]["memory"]["ring"] > 0
    assert analyze_json("--stats", "--threads", "1", SAMPLE)["stats"]["memory"]["ring"] == 0


def test_threads_same_report():
    """The tables, --where and the matched count are kept on the second
    thread too: the report is the same with the detectors off and with a
    drill-down."""
    off = []
    for d in ("reflection", "amplification", "random_subdomain", "flood", "loop"):
        off += ["--set", d + ".enabled=0"]
    for extra in (off, ["--where", "src=10.3.9.200"], ["--where", "qname=*.example.com"]):
        docs = [analyze_json("--threads", t, *extra, SAMPLE) for t in ("1", "2")]
        assert docs[0] == docs[1], extra
        assert docs[0]["summary"]["dns_messages"] > 0, extra


def test_sample_alert():
    """The sample's '. ANY' burst at one reflector is reported."""
    doc = analyze_json(SAMPLE)
    assert [(a["type"], a["key"]) for a in doc["alerts"]] == [("reflection", "10.3.9.200")]
    a = doc["alerts"][0]
    assert a["evidence"]["questions"][0]["qname"] == "."
    assert a["evidence"]["questions"][0]["qtype"] == "ANY"
    assert a["evidence"]["victims"][0]["address"] == "203.0.113.77"
    rc, out, _ = run("analyze", SAMPLE)
    alerts = out.split("Alerts (1)")[1].split("Top sources")[0]
    for word in ("reflection 10.3.9.200", "since", "size", "what", "do "):
        assert word in alerts, word


if __name__ == "__main__":
    sys.exit(runner.main(globals(), "cli"))
