#!/usr/bin/env python3
"""System tests of the report's warnings: a capture cut short, an
unsupported link type, fragments and VLAN frames a --bpf filter leaves out,
a capture with no DNS on the ports read, tables that overflow, each seen in
the JSON ("warnings", "warning_codes") and at the top of the text report;
and the average query rate never above the peak, on every capture in
tests/data and ../shared/data. The captures are written here, with
tools/gencap.py's packet builders.

usage: test_warnings.py PATH/TO/dnsradar
"""
import json
import os
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("DR_SOURCE", os.path.dirname(os.path.dirname(HERE)))
DATA = os.environ.get("DR_TEST_DATA", os.path.join(SOURCE, "tests", "data"))
SHARED = os.environ.get("DR_SHARED", os.path.join(os.path.dirname(SOURCE), "shared"))
sys.path.insert(0, os.path.join(SOURCE, "tools"))
import gencap  # noqa: E402

import runner  # tests/system/runner.py: the shared main

BIN = None
TMP = None
CLIENT, SERVER = [192, 0, 2, 10], [198, 51, 100, 53]


def run(*args):
    p = subprocess.run([BIN, "analyze", "--no-progress"] + list(args), capture_output=True)
    return p.returncode, p.stdout.decode("utf-8", "surrogateescape"), \
        p.stderr.decode("utf-8", "replace")


def both(*args, rc=0):
    """The JSON document and the text report of one analysis."""
    code, out, err = run("--format", "json", *args)
    assert code == rc, (code, err)
    doc = json.loads(out)
    code, text, err2 = run(*args)
    assert code == rc, (code, err2)
    assert len(doc["warnings"]) == len(doc["warning_codes"]), doc
    return doc, text, err


def warning(doc, code):
    """The sentence and the code object of the one warning of this code."""
    hits = [i for i, w in enumerate(doc["warning_codes"]) if w["code"] == code]
    assert len(hits) == 1, (code, doc["warnings"])
    return doc["warnings"][hits[0]], doc["warning_codes"][hits[0]]


def text_warnings(text):
    """The lines of the text report's Warnings block, which must come
    before the summary and the alerts."""
    assert "\nWarnings (" in text, text[:400]
    head, _, rest = text.partition("\nWarnings (")
    assert "Summary" not in head and "Alerts" not in head, head
    block = rest.split("\n\n")[0].splitlines()[1:]
    assert rest.index("Summary") > 0 and rest.index("Summary") < rest.index("Alerts")
    return [line.strip() for line in block]


def queries(path, n, link=gencap.LINK_ETHERNET, sport=40000, dport=53, frame=None,
            start=1700000000.0):
    pc = gencap.Pcap(path, link=link)
    for i in range(n):
        q = gencap.dns_query(i, "host%d.example.com" % i, 1)
        pkt = gencap.ipv4(CLIENT, SERVER, 17, gencap.udp(sport + i % 7 if sport != dport
                                                         else sport, dport, q))
        pc.add(start + i * 0.01, frame(pkt) if frame else gencap.ether(pkt))
    pc.close()
    return path


def tmp(name):
    return os.path.join(TMP, name)


# ---- the warnings ------------------------------------------------------

def test_cut_short():
    """A capture cut in the middle of packet 6: the report says so on
    stdout, names the packet and byte, and still exits 2 with its line on
    stderr after the report."""
    path = queries(tmp("whole.pcap"), 10)
    with open(path, "rb") as f:
        data = f.read()
    rec = (len(data) - 24) // 10	# every record has the same length
    cut = tmp("cut.pcap")
    with open(cut, "wb") as f:
        f.write(data[:24 + 5 * rec + 20])
    doc, text, err = both(cut, rc=2)
    assert doc["summary"]["packets"] == 5
    sentence, code = warning(doc, "cut_short")
    assert code["packet"] == 6 and code["offset"] == 24 + 5 * rec and code["count"] == 5, code
    assert code["file"] == cut and "cut short" in code["reason"], code
    assert "packet 6" in sentence and "byte %d" % (24 + 5 * rec) in sentence, sentence
    assert "covers the 5 packets before it" in sentence, sentence
    assert any("packet 6" in line for line in text_warnings(text))
    assert len(err.strip().splitlines()) == 1 and "cut short" in err, err
    doc, _, _ = both(path)
    assert doc["warnings"] == [] and doc["warning_codes"] == []


def test_unsupported_link_type():
    """12 frames of link type 147 (a user DLT): said with the type."""
    path = queries(tmp("dlt147.pcap"), 12, link=147)
    doc, text, _ = both(path)
    sentence, code = warning(doc, "link_unsupported")
    assert code["count"] == 12 and code["link_type"] == 147, code
    assert sentence.startswith("12 frames of link type 147 were not decoded"), sentence
    assert any(line.startswith("12 frames of link type 147") for line in text_warnings(text))


def large_answers(path, n, ipv6=False):
    """n DNS answers of about 3,000 octets from port 53, in IPv4 (or IPv6)
    fragments: only the first fragment carries the UDP header."""
    pc = gencap.Pcap(path)
    for i in range(n):
        q = gencap.dns_query(i, "big%d.example.com" % i, 16)
        r = gencap.dns_response(q, answers=12, rdata_len=250)
        seg = gencap.udp(53, 40000 + i, r)
        t = 1700000000.0 + i * 0.01
        if ipv6:
            src, dst = [0x20, 0x01, 0x0d, 0xb8] + [0] * 11 + [53], [0x20, 0x01, 0x0d, 0xb8] + [0] * 11 + [10]
            for off in range(0, len(seg), 1448):
                chunk = seg[off:off + 1448]
                more = 1 if off + 1448 < len(seg) else 0
                fh = struct.pack("!BBHI", 17, 0, off | more, 1000 + i)
                pc.add(t, gencap.ether(gencap.ipv6(src, dst, 44, fh + chunk), 0x86dd))
        else:
            for frag in gencap.fragments4(SERVER, CLIENT, 17, seg, 1000 + i):
                pc.add(t, gencap.ether(frag))
    pc.close()
    return path


def test_bpf_hides_fragments():
    """--bpf 'udp port 53' keeps the first fragment of each large answer
    and leaves out the rest: the report says how many and how to keep
    them; with the suggested filter, the answers are whole again."""
    for v6 in (False, True):
        path = large_answers(tmp("frags%d.pcap" % v6), 4, ipv6=v6)
        doc, text, _ = both("--bpf", "udp port 53", path)
        sentence, code = warning(doc, "bpf_fragments")
        assert code["count"] == 8, (v6, code, doc["decode"])
        assert doc["decode"]["bpf_filtered_fragments"] == 8
        assert "'udp port 53' left out 8 non-first IP fragments" in sentence, sentence
        assert "ip[6:2] & 0x1fff != 0" in sentence, sentence
        assert any("non-first IP fragments" in line for line in text_warnings(text))
        keep = "udp port 53 or (ip[6:2] & 0x1fff != 0) or (ip6[6] == 44)"
        doc, _, _ = both("--bpf", keep, path)
        assert doc["warnings"] == [], doc["warnings"]
        assert doc["summary"]["responses"] == 4, doc["summary"]


def test_bpf_hides_vlan_frames():
    """802.1Q-tagged DNS frames that 'udp port 53' does not match: the
    report says so and gives the filter that matches both."""
    path = queries(tmp("vlan.pcap"), 6, frame=lambda p: gencap.ether(p, vlans=[(0x8100, 42)]))
    doc, text, _ = both("--bpf", "udp port 53", path)
    sentence, code = warning(doc, "bpf_vlan")
    assert code["count"] == 6, code
    assert "6 VLAN-tagged frames" in sentence, sentence
    assert "'udp port 53 or (vlan and udp port 53)'" in sentence, sentence
    assert any("VLAN-tagged" in line for line in text_warnings(text))
    assert doc["summary"]["dns_messages"] == 0
    doc, _, _ = both("--bpf", "udp port 53 or (vlan and udp port 53)", path)
    assert doc["warnings"] == [] and doc["summary"]["dns_messages"] == 6, doc["warnings"]
    # a filter that names vlan is taken to mean it
    doc, _, _ = both("--bpf", "vlan and host 203.0.113.1", path)
    assert doc["warnings"] == [], doc["warnings"]


def test_no_dns_on_the_ports_read():
    """DNS on 5353 only: the report names the ports it saw, busiest first,
    and suggests --dns-port; with it, the messages are read."""
    pc = gencap.Pcap(tmp("mixed.pcap"))
    for i in range(30):
        q = gencap.dns_query(i, "printer%d.local" % i, 12)
        pc.add(1700000000.0 + i * 0.01, gencap.ether(gencap.ipv4(CLIENT, SERVER, 17,
                                                                   gencap.udp(5353, 5353, q))))
    for i in range(4):
        seg = gencap.tcp(50000 + i, 443, 1, 0x18, b"x" * 40)
        pc.add(1700000001.0 + i * 0.01, gencap.ether(gencap.ipv4(CLIENT, SERVER, 6, seg)))
    pc.close()
    doc, text, _ = both(tmp("mixed.pcap"))
    sentence, code = warning(doc, "no_dns")
    assert code["count"] == 34, code
    ports = doc["decode"]["other_ports"]
    assert ports[0] == {"proto": "udp", "port": 5353, "packets": 30}, ports
    assert {"proto": "tcp", "port": 443, "packets": 4} in ports, ports
    assert len(ports) <= 5
    assert "ports read (53)" in sentence and "UDP 5353 (30 packets)" in sentence, sentence
    assert "TCP 443 (4 packets)" in sentence and "--dns-port 5353" in sentence, sentence
    assert any("--dns-port 5353" in line for line in text_warnings(text))
    doc, _, _ = both("--dns-port", "5353", tmp("mixed.pcap"))
    assert doc["warnings"] == [] and doc["summary"]["dns_messages"] == 30, doc["warnings"]


def test_tables_overflow():
    """More distinct names than the name tables hold (16,384 by default):
    the report says those tables' counts are estimates, without --set."""
    path = tmp("names.pcap")
    pc = gencap.Pcap(path)
    for i in range(20000):
        q = gencap.dns_query(i & 0xffff, "n%d.example.com" % i, 1)
        pc.add(1700000000.0 + i * 0.001,
               gencap.ether(gencap.ipv4(CLIENT, SERVER, 17, gencap.udp(40000, 53, q))))
    pc.close()
    doc, text, _ = both(path)
    sentence, code = warning(doc, "table_overflow")
    assert code["table"] == "qnames" and code["count"] == 20000, code
    assert doc["top"]["qnames"]["approximate"] is True
    assert sentence.startswith("the qnames table overflowed (about "), sentence
    assert "estimates with error bounds" in sentence, sentence
    assert any("qnames table overflowed" in line for line in text_warnings(text))


# ---- the average rate --------------------------------------------------

CAPTURE_MAGIC = {b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1",
                 b"\xa1\xb2\x3c\x4d", b"\x0a\x0d\x0d\x0a"}


def captures(root):
    for d, _, files in os.walk(root):
        for f in sorted(files):
            path = os.path.join(d, f)
            try:
                with open(path, "rb") as fh:
                    if fh.read(4) in CAPTURE_MAGIC:
                        yield path
            except OSError:
                continue


def test_average_rate_within_peak():
    """The average is taken over the seconds the peak is: never above it
    (dnsjit/pellets.pcap gave 31.0 against 27), on every capture."""
    roots = [DATA]
    if os.path.isdir(os.path.join(SHARED, "data")):
        roots.append(os.path.join(SHARED, "data"))
    else:
        print("skip: %s absent, tests/data only" % os.path.join(SHARED, "data"))
    checked = 0
    for root in roots:
        for path in captures(root):
            code, out, _ = run("--format", "json", path)
            if not out:
                continue	# not readable at all: nothing to compare
            s = json.loads(out)["summary"]
            checked += 1
            assert s["qps_avg"] <= s["qps_peak"], (path, s["qps_avg"], s["qps_peak"])
    pellets = os.path.join(SHARED, "data", "dnsjit", "pellets.pcap")
    if os.path.exists(pellets):
        code, out, _ = run("--format", "json", pellets)
        s = json.loads(out)["summary"]
        assert s["qps_peak"] == 27 and s["qps_avg"] <= 27, s
    assert checked > 0
    print("     %d captures" % checked)
    # three queries in each of two seconds a second apart: 3 per second
    pc = gencap.Pcap(tmp("rate.pcap"))
    for t in (0.1, 0.5, 0.9, 1.0, 1.4, 1.95):
        q = gencap.dns_query(1, "a.example.com", 1)
        pc.add(1700000000 + t, gencap.ether(gencap.ipv4(CLIENT, SERVER, 17,
                                                         gencap.udp(40000, 53, q))))
    pc.close()
    code, out, _ = run("--format", "json", tmp("rate.pcap"))
    s = json.loads(out)["summary"]
    assert s["qps_avg"] == 3.0 and s["qps_peak"] == 3, s


if __name__ == "__main__":
    sys.exit(runner.main(globals(), "warnings"))
