#!/usr/bin/env python3
"""Differential test of flow records: every NetFlow v5/v9 and IPFIX flow
record tshark's cflow dissector shows must come out of `dnsradar records
--flows` with the same addresses, ports, protocol, packets, octets,
sampling, interfaces, fragment flag and start/end times, record by record in
order within each frame; every sFlow flow sample whose sampled header or
IPv4/IPv6 data record we turn into a record must match tshark's sflow
fields (addresses, ports, protocol, rate, interfaces).

Captures: every pcap/pcapng of the netflow-v5, netflow-v9, ipfix and sflow
sections of ../shared/data/MANIFEST-files.tsv, at the port the MANIFEST
names (skipped with a message when absent); the akvorado captures that keep
templates and data in separate files, concatenated in the order an exporter
sends them (templates first); and two exports bench/flowgen writes (v5 and
v9), when the build made it. Each difference the two tools are entitled to
is listed one by one in KNOWN with the values on both sides and its reason;
anything else fails, and so does a KNOWN entry no longer seen.

usage: test_flows_tshark.py PATH/TO/dnsradar [PATH/TO/flowgen]
(flowgen defaults to bench/flowgen beside dnsradar, as the build puts it)
"""
import calendar
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("DR_SOURCE", os.path.dirname(os.path.dirname(HERE)))
SHARED = os.environ.get("DR_SHARED", os.path.join(SOURCE, "..", "shared"))
SECTIONS = ("netflow-v5", "netflow-v9", "ipfix", "sflow")
CAPTURE_ENDINGS = (".pcap", ".pcapng")

# Captures of one exporter cut into files by what they hold (akvorado's
# test data): read as one, in the order of their export times (header
# unix_secs and sequence), as the exporter sent them.
CHAINS = {
    "akvorado/chain-multiplesamplingrates.pcap": (
        "netflow__testdata__multiplesamplingrates-template.pcap",
        "netflow__testdata__multiplesamplingrates-options-template.pcap",
        "netflow__testdata__multiplesamplingrates-options-data.pcap",
        "netflow__testdata__multiplesamplingrates-data.pcap"),
    "akvorado/chain-options.pcap": (
        "netflow__testdata__options-template.pcap",
        "netflow__testdata__options-data.pcap",
        "netflow__testdata__template.pcap",
        "netflow__testdata__data.pcap"),
    "akvorado/chain-samplingrate.pcap": (
        "netflow__testdata__samplingrate-template.pcap",
        "netflow__testdata__samplingrate-data.pcap"),
    "akvorado/chain-icmp.pcap": (
        "netflow__testdata__icmp-template.pcap",
        "netflow__testdata__icmp-data.pcap"),
    "akvorado/chain-datalink.pcap": (
        "netflow__testdata__datalink-template.pcap",
        "netflow__testdata__datalink-data.pcap"),
    "akvorado/chain-mpls-cw.pcap": (
        "netflow__testdata__ethernet-over-mpls-with-control-word-template.pcap",
        "netflow__testdata__ethernet-over-mpls-with-control-word-data.pcap"),
    "akvorado/chain-srv6.pcap": (
        "netflow__testdata__ipfix-srv6-template.pcap",
        "netflow__testdata__ipfix-srv6-data.pcap"),
    "akvorado/chain-ipfixprobe.pcap": (
        "netflow__testdata__ipfixprobe-templates.pcap",
        "netflow__testdata__ipfixprobe-data.pcap"),
    "akvorado/chain-juniper-cpid.pcap": (
        "netflow__testdata__juniper-cpid-template.pcap",
        "netflow__testdata__juniper-cpid-data.pcap"),
}
CHAIN_PORTS = {"akvorado/chain-samplingrate.pcap": 8096, "akvorado/chain-icmp.pcap": 2100,
               "akvorado/chain-ipfixprobe.pcap": 4739}

# (capture, frame, record in the frame (1-based), field) ->
#     (dnsradar's value, tshark's value, why they differ).
# Each was checked by hand against the bytes.
COUNT = ("tshark trusts the v9 header's count (1) and stops after the first "
         "flowset; frame 1 holds five (templates 1024 and 2048, options template "
         "256, its data: samplingInterval 100, and one data record); we read every "
         "flowset to the end of the datagram (docs/decoding.md section 6)")
COUNT_RATE = ("the sampling interval 100 is in frame 1's options data, which tshark "
              "never reads (it stops at the header's count of 1)")
COUNT_TMPL = ("template 2048 (IPv6) is in frame 1 after the header's count; tshark "
              "never read it and shows this set as 'no template found'")
REVERSE = ("the template has RFC 5103 reverse counters (PEN 29305) after the "
           "forward ones; tshark names both cflow.octets/cflow.packets, so the test "
           "cannot tell them apart and takes the last (the reverse); we skip "
           "enterprise elements and keep the forward counts, which tshark -V shows "
           "as the first 'Octets'/'Packets' of the record")
RESTART = ("the two akvorado files come from two exports: the data's sysUptime is "
           "113 s behind the template's while unix_secs is 16 s ahead; we take an "
           "uptime that went back over 10 s for a restarted exporter and forget its "
           "templates (docs/decoding.md section 6), tshark keeps templates forever")
SESSION = ("frame 11 goes to another collector address (2a02:a90:4007::2:2, the "
           "template in frame 10 went to ::2:20); tshark keys templates by "
           "conversation, we by exporter address and observation domain "
           "(docs/decoding.md section 6)")
GRAYLOG9 = "graylog-plugin-netflow/netflow9.pcap"
PROBE = "akvorado/chain-ipfixprobe.pcap"
SRATE = "akvorado/chain-samplingrate.pcap"
KNOWN = {
    (GRAYLOG9, 1, 1, "extra"): ("192.168.1.11 > 192.168.1.255", None, COUNT),
    (GRAYLOG9, 7, 3, "extra"): ("fe80::5660:9ff:fed9:bc7e > ff02::1:ffd9:d469", None, COUNT_TMPL),
    (GRAYLOG9, 9, 1, "extra"): ("fe80::18a9:193f:f50e:20e > ff02::fb", None, COUNT_TMPL),
    (PROBE, 2, 1, "bytes"): (62, 128, REVERSE),
    (PROBE, 2, 2, "bytes"): (229, 0, REVERSE),
    (PROBE, 2, 3, "packets"): (28, 25, REVERSE),
    (PROBE, 2, 3, "bytes"): (21673, 1546, REVERSE),
    (PROBE, 2, 4, "packets"): (4, 1, REVERSE),
    (PROBE, 2, 4, "bytes"): (2304, 0, REVERSE),
    (SRATE, 2, 1, "missing"): (None, "232.131.215.65 > 142.183.180.65", RESTART),
    (SRATE, 2, 2, "missing"): (None, "79.155.191.171 > 52.8.152.113", RESTART),
    (SRATE, 2, 3, "missing"): (None, "227.213.252.241 > 244.67.213.115", RESTART),
    (SRATE, 2, 4, "missing"): (None, "193.133.148.63 > 236.171.21.37", RESTART),
    (SRATE, 2, 5, "missing"): (None, "53.238.225.56 > 229.205.50.161", RESTART),
    (SRATE, 2, 6, "missing"): (None, "82.58.106.145 > 136.191.168.37", RESTART),
    ("pmacct/112-IPFIXv10-CISCO-options-map-reassignment__traffic-00.pcap", 11, 1, "extra"):
        ("169.254.0.1 > 169.254.0.0", None, SESSION),
}
# every record of frames 2 to 8 but the two above: (frame, records)
for _frame, _n in ((2, 4), (3, 1), (4, 5), (5, 3), (6, 1), (7, 2), (8, 2)):
    for _i in range(1, _n + 1):
        KNOWN[(GRAYLOG9, _frame, _i, "sampling")] = (100, 1, COUNT_RATE)

FLOW_FIELDS = ("kind", "src", "dst", "sport", "dport", "proto", "packets", "bytes", "sampling",
               "in_if", "out_if", "fragment", "start", "end", "exporter")


def as_list(v):
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def first(d, *keys):
    """The first of keys that d holds (the first occurrence if repeated)."""
    for k in keys:
        if k in d:
            return as_list(d[k])[0]
    return None


def last(d, *keys):
    """The first of keys that d holds, its last occurrence: a template may
    repeat an element (pmacct's Huawei and Cisco SRv6 captures carry ports
    and protocol twice, zero for the IPv6 half and set for the IPv4 half
    whose addresses the record has); our decoder keeps the last, read in
    order."""
    for k in keys:
        if k in d:
            return as_list(d[k])[-1]
    return None


MONTHS = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}


def abs_ns(text):
    """tshark's 'Jan  1, 1970 00:00:00.000000000 UTC' as epoch nanoseconds."""
    m = re.match(r"(\w{3})\s+(\d+), (\d+) (\d+):(\d+):(\d+)(?:\.(\d+))? UTC$", text)
    if not m:
        raise ValueError("unreadable tshark time %r" % text)
    mon, day, year, hh, mm, ss, frac = m.groups()
    sec = calendar.timegm((int(year), MONTHS[mon], int(day), int(hh), int(mm), int(ss)))
    return sec * 10**9 + int((frac or "0").ljust(9, "0")[:9])


def rel_ms(text):
    """A relative time tshark shows in seconds ('33.122000000') as ms."""
    sec, _, frac = text.partition(".")
    return int(sec) * 1000 + int((frac or "0").ljust(9, "0")[:3])


def our_ns(v):
    """Our 'start'/'end' (6 or 9 decimals, exact) as epoch nanoseconds."""
    sec, _, frac = str(v).partition(".")
    return int(sec) * 10**9 + int((frac or "0").ljust(9, "0")[:9])


def run_tshark(path, port, proto):
    cmd = ["tshark", "-n", "-r", path, "-T", "json", "--no-duplicate-keys",
           "-J", "frame ip ipv6 %s" % proto]
    if port:
        cmd[4:4] = ["-d", "udp.port==%d,%s" % (port, proto)]
    out = subprocess.run(cmd, capture_output=True, check=False)
    if not out.stdout.strip():
        return []
    return json.loads(out.stdout.decode("utf-8", errors="surrogateescape"))


# ---- NetFlow v5/v9 and IPFIX as tshark shows them

class Exporter:
    """What a flow record's sampling rate depends on: options records seen
    before it, in frame order (RFC 3954 section 6.1, RFC 7011/5477)."""

    def __init__(self):
        self.rate = 0
        self.samplers = {}
        self.init_ms = None


def options_rate(f):
    """The sampling rate an options or data record states, or 0."""
    for k in ("cflow.sampling_interval", "cflow.sampler_random_interval"):
        v = first(f, k)
        if v is not None and int(v) > 0:
            return int(v)
    n, s = first(f, "cflow.sampling_packet_interval"), first(f, "cflow.sampling_packet_space")
    if n is not None and int(n) > 0:
        return (int(n) + int(s or 0)) // int(n)
    return 0


def flow_times(f, hdr):
    """(start_ns, end_ns) as tshark gives them, made absolute: v5/v9
    uptimes against the header's sysuptime and unix_secs, IPFIX uptimes
    against the exporter's systemInitTimeMilliseconds; None where tshark
    gives nothing absolute to compare with."""
    tree = first(f, "cflow.timedelta_tree") or {}
    out = []
    for rel, absk in (("cflow.timestart", "cflow.abstimestart"),
                      ("cflow.timeend", "cflow.abstimeend")):
        r, a = first(tree, rel), first(tree, absk)
        ms = None
        if r is not None:
            ms = rel_ms(r)
        elif a is not None and hdr["version"] != 10 and abs_ns(a) == 0:
            # tshark shows an uptime field whose value is 0 as the absolute
            # time 0 (packet-netflow.c tests msec_start for non-zero)
            ms = 0
        elif a is not None:
            out.append(abs_ns(a))
            continue
        if ms is None:
            out.append(None)
        elif hdr["version"] in (5, 9):
            # the export time in ms (v5's unix_nsecs below 1 ms is not
            # kept: the uptime fields it is set against count ms)
            export_ms = hdr["unix_secs"] * 1000 + hdr["unix_nsecs"] // 10**6
            out.append((export_ms - ((hdr["uptime_ms"] - ms) % 2**32)) * 10**6)
        elif hdr["init_ms"] is not None:
            out.append((hdr["init_ms"] + ms) * 10**6)
        else:
            out.append(None)
    return out


def cflow_records(packets, state):
    """{frame: [expected record, ...]} of every flow record tshark shows:
    a data record with IPv4 or IPv6 addresses."""
    result = {}
    for p in packets:
        layers = p["_source"]["layers"]
        frame = int(first(layers["frame"], "frame.number"))
        cf = first(layers, "cflow")
        if not isinstance(cf, dict):
            continue
        ip = first(layers, "ip") or first(layers, "ipv6") or {}
        sender = first(ip, "ip.src", "ipv6.src")
        ver = int(first(cf, "cflow.version") or 0)
        ts = first(cf, "cflow.timestamp_tree") or {}
        domain = first(cf, "cflow.source_id", "cflow.od_id") or "0"
        hdr = {
            "version": ver,
            "uptime_ms": rel_ms(first(cf, "cflow.sysuptime")) if "cflow.sysuptime" in cf else 0,
            "unix_secs": int(first(ts, "cflow.unix_secs") or 0),
            "unix_nsecs": int(first(ts, "cflow.unix_nsecs") or 0),
        }
        x = state.setdefault((sender, ver, domain), Exporter())
        if ver == 5:
            mode = int(first(cf, "cflow.samplingmode") or 0)
            rate = int(first(cf, "cflow.samplerate") or 0)
            x.rate = rate if mode and rate > 1 else 0
        records = []
        for key, val in cf.items():
            if key.startswith("pdu "):
                flows = as_list(val)
            elif key.startswith(("FlowSet ", "Set ")):
                flows = []
                for s in as_list(val):
                    for k2, v2 in s.items():
                        if k2.startswith("Flow "):
                            flows += as_list(v2)
            else:
                continue
            for f in flows:
                if not isinstance(f, dict):
                    continue
                rate = options_rate(f)
                init = last(f, "cflow.sys_init_time")
                src = last(f, "cflow.srcaddr")
                dst = last(f, "cflow.dstaddr")
                src6 = last(f, "cflow.srcaddrv6")
                dst6 = last(f, "cflow.dstaddrv6")
                if src is None and dst is None and src6 is None and dst6 is None:
                    # an options record: rates and the init time
                    sid = last(f, "cflow.sampler_id", "cflow.selector_id")
                    if rate and sid is not None:
                        x.samplers[int(sid)] = rate
                    elif rate:
                        x.rate = rate
                    if init is not None:
                        x.init_ms = abs_ns(init) // 10**6
                    continue
                if init is not None:
                    x.init_ms = abs_ns(init) // 10**6
                hdr["init_ms"] = x.init_ms
                if src is not None or dst is not None:
                    if (src6 or dst6) and src in (None, "0.0.0.0") and dst in (None, "0.0.0.0"):
                        src, dst = src6, dst6
                else:
                    src, dst = src6, dst6
                if not rate:
                    sid = last(f, "cflow.sampler_id", "cflow.selector_id")
                    if sid is not None:
                        rate = x.samplers.get(int(sid), 0)
                    else:
                        rate = x.rate
                foff = int(last(f, "cflow.fragment_offset") or 0)
                fflags = int(last(f, "cflow.ip_fragment_flags") or "0", 0)
                sport = int(last(f, "cflow.srcport") or 0)
                dport = last(f, "cflow.dstport")
                if dport is None:
                    dport = last(f, "cflow.icmp_type_code_ipv4", "cflow.icmp_type_code_ipv6")
                dport = int(dport or 0)
                start, end = flow_times(f, hdr)
                if start is None and end is not None:
                    start = end
                if end is None and start is not None:
                    end = start
                records.append({
                    "kind": "flow",
                    "src": src or ("0.0.0.0" if src6 is None else "::"),
                    "dst": dst or ("0.0.0.0" if dst6 is None else "::"),
                    "sport": sport,
                    "dport": dport,
                    "proto": int(last(f, "cflow.protocol") or 0),
                    "packets": int(last(f, "cflow.packets", "cflow.permanent_packets") or 0),
                    "bytes": int(last(f, "cflow.octets", "cflow.permanent_octets") or 0),
                    "sampling": rate or 1,
                    "in_if": int(last(f, "cflow.inputint", "cflow.ingress_physical_interface") or 0),
                    "out_if": int(last(f, "cflow.outputint", "cflow.egress_physical_interface") or 0),
                    "fragment": int(foff > 0 or (bool(fflags & 0x20) and not sport and not dport)),
                    "start": start,
                    "end": end,
                    "exporter": sender,
                })
        if records:
            result[frame] = records
    return result


# ---- sFlow as tshark shows it

def sflow_records(packets):
    """{frame: [expected record, ...]}: per flow sample, what we make of it.
    A sampled IPv4/IPv6 header of a UDP datagram to or from port 53 is a
    DNS message (a record of `records`, with sampling and exporter); any
    other sampled header makes nothing of ours: not TCP (we do not
    reassemble samples), not ICMP, not UDP to other ports (no DNS message,
    and a sample with a header never counts twice through its data
    records). Without a raw header, the first IPv4 or IPv6 data record
    (formats 3, 4) is one flow record of one packet of its length. Within
    a frame the DNS records come first (we print them apart), each kind in
    sample order."""
    result = {}
    for p in packets:
        layers = p["_source"]["layers"]
        frame = int(first(layers["frame"], "frame.number"))
        when = layers["frame"].get("frame.time_epoch")
        sf = first(layers, "sflow")
        if not isinstance(sf, dict):
            continue
        agent = first(sf, "sflow_245.agent", "sflow_245.agent.v6")
        records = []
        for key, val in sf.items():
            if not key.startswith(("Flow sample", "Expanded flow sample")):
                continue
            for s in as_list(val):
                rate = int(first(s, "sflow.flow_sample.sampling_rate") or 0)
                in_if = first(s, "sflow.flow_sample.input_interface",
                              "sflow.flow_sample.input_interface_value")
                out_tree = first(s, "sflow.flow_sample.output_interface_tree") or {}
                out_fmt = int(first(out_tree, "sflow.flow_sample.output_interface_format") or 0)
                out_if = first(out_tree, "sflow.flow_sample.output_interface_value")
                if out_if is None:
                    out_if = first(s, "sflow.flow_sample.output_interface_value")
                rec = None
                hdr = first(s, "Raw packet header")
                if isinstance(hdr, dict):
                    tree = first(hdr, "sflow_245.header_tree") or {}
                    ip = first(tree, "ip") or first(tree, "ipv6")
                    udp = first(tree, "udp")
                    if ip is None or udp is None:
                        continue
                    sport, dport = int(first(udp, "udp.srcport")), int(first(udp, "udp.dstport"))
                    if 53 not in (sport, dport):
                        continue
                    rec = {"kind": "dns", "src": first(ip, "ip.src", "ipv6.src"),
                           "dst": first(ip, "ip.dst", "ipv6.dst"), "sport": sport, "dport": dport}
                else:
                    for dk in ("IPv4 data", "IPv6 data"):
                        d = first(s, dk)
                        if isinstance(d, dict):
                            rec = {
                                "kind": "flow",
                                "src": first(d, "sflow_245.ipv4_src", "sflow_245.ipv6_src"),
                                "dst": first(d, "sflow_245.ipv4_dst", "sflow_245.ipv6_dst"),
                                "sport": int(first(d, "sflow_245.ip.source_port") or 0),
                                "dport": int(first(d, "sflow.ip.destination_port") or 0),
                                "proto": int(first(d, "sflow.ip_protocol") or 0),
                                "packets": 1,
                                "bytes": int(first(d, "sflow_245.ip.length") or 0),
                                "in_if": int(in_if, 0) if in_if is not None else 0,
                                "out_if": int(out_if, 0) if out_if is not None and out_fmt == 0 else 0,
                                "start": our_ns(when), "end": our_ns(when),
                            }
                            break
                if rec is None:
                    continue
                rec.update({"sampling": rate or 1, "exporter": agent})
                records.append(rec)
        if records:
            records.sort(key=lambda r: r["kind"] != "dns")
            result[frame] = records
    return result


def sflow_capture(path):
    """An sFlow datagram of five flow samples, each of a kind the decoder
    treats its own way: sampled Ethernet/IPv4/UDP DNS query (rate 512),
    Ethernet/IPv6/UDP DNS from port 53 (1024), Ethernet/IPv4/TCP to port 53
    (256: nothing of ours), an IPv4 data record (2048) and an IPv6 data
    record (128); as a pcap to UDP port 6343."""
    import ipaddress
    import struct

    def csum(b):
        s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
        s = (s >> 16) + (s & 0xffff)
        return ~(s + (s >> 16)) & 0xffff

    def ip4(a):
        return ipaddress.IPv4Address(a).packed

    def ip6(a):
        return ipaddress.IPv6Address(a).packed

    def ipv4(src, dst, proto, payload):
        h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0, 64, proto, 0,
                        ip4(src), ip4(dst))
        return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload

    def udp(sp, dp, payload):
        return struct.pack("!HHHH", sp, dp, 8 + len(payload), 0) + payload

    def eth(t, payload):
        return b"\x02" * 6 + b"\x04" * 6 + struct.pack("!H", t) + payload

    def rec(fmt, data):
        return struct.pack("!II", fmt, len(data)) + data

    def raw(h):
        return rec(1, struct.pack("!IIII", 1, len(h) + 4, 4, len(h)) + h + b"\0" * (-len(h) % 4))

    def data(fmt, src, dst, sp, dp, proto, length):
        a = ip4 if fmt == 3 else ip6
        n = 4 if fmt == 3 else 16
        return rec(fmt, struct.pack("!II%ds%dsIIII" % (n, n), length, proto, a(src), a(dst),
                                    sp, dp, 0, 0))

    def sample(seq, rate, inp, out, recs):
        body = struct.pack("!IIIIIIII", seq, 3, rate, seq * rate, 0, inp, out, len(recs))
        body += b"".join(recs)
        return struct.pack("!II", 1, len(body)) + body

    dns = bytes.fromhex("12340100000100000000000003777777076578616d706c6503636f6d0000010001")
    v6 = struct.pack("!IHBB16s16s", 0x60000000, 8 + len(dns), 17, 64, ip6("2001:db8::53"),
                     ip6("2001:db8::10")) + udp(53, 40001, dns)
    tcp = struct.pack("!HHIIBBHHH", 40002, 53, 1, 0, 0x50, 0x02, 1000, 0, 0)
    samples = [
        sample(1, 512, 3, 7, [raw(eth(0x0800, ipv4("192.0.2.10", "198.51.100.53", 17,
                                                   udp(40000, 53, dns))))]),
        sample(2, 1024, 4, 8, [raw(eth(0x86dd, v6))]),
        sample(3, 256, 5, 9, [raw(eth(0x0800, ipv4("192.0.2.11", "198.51.100.53", 6, tcp)))]),
        sample(4, 2048, 6, 10, [data(3, "203.0.113.5", "192.0.2.53", 5353, 53, 17, 80)]),
        sample(5, 128, 7, 11, [data(4, "2001:db8::5", "2001:db8::99", 443, 50000, 6, 1500)]),
    ]
    dg = struct.pack("!IIIIIII", 5, 1, 0x0a000009, 0, 1, 60000, len(samples)) + b"".join(samples)
    frame = eth(0x0800, ipv4("10.0.0.9", "10.0.0.1", 17, udp(50000, 6343, dg)))
    with open(path, "wb") as fh:
        fh.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        fh.write(struct.pack("<IIII", 1700000000, 250000, len(frame), len(frame)) + frame)


# ---- ours

def ours(binary, path, port):
    """{frame: [record, ...]}: flow records and DNS records from sampled
    headers, in the order they came out, and the exit status and stderr."""
    result = {}
    err = ""
    rc = 0
    for extra in ([], ["--flows"]):
        cmd = [binary, "records", "--no-progress"] + extra
        if port:
            cmd += ["--flow-port", str(port)]
        out = subprocess.run(cmd + [path], capture_output=True, check=False)
        rc = rc or out.returncode
        err = err or out.stderr.decode(errors="replace").strip()
        for line in out.stdout.decode("utf-8", errors="surrogateescape").splitlines():
            r = json.loads(line, parse_float=str)	# times exact
            if not extra and "sampling" not in r:
                continue	# a DNS message from a packet, not a sample
            result.setdefault(r["frame"], []).append(r)
    return result, rc, err


def compare_flows(theirs, mine):
    """Yields (frame, record, field, ours, theirs) for every difference."""
    for frame in sorted(set(theirs) | set(mine)):
        t_list, o_list = theirs.get(frame, []), mine.get(frame, [])
        for i in range(max(len(t_list), len(o_list))):
            if i >= len(o_list):
                yield frame, i + 1, "missing", None, "%s > %s" % (t_list[i]["src"], t_list[i]["dst"])
                continue
            if i >= len(t_list):
                yield frame, i + 1, "extra", "%s > %s" % (o_list[i]["src"], o_list[i]["dst"]), None
                continue
            t, o = t_list[i], o_list[i]
            for field in FLOW_FIELDS:
                if field not in t:
                    continue
                tv = t[field]
                ov = o.get(field, "dns" if field == "kind" else None)
                if field in ("start", "end"):
                    if tv is None:
                        continue	# tshark gave nothing absolute
                    ov = our_ns(ov)
                elif field in ("packets", "bytes") and "sampling" in o:
                    s = o["sampling"] or 1
                    # ours are scaled by sampling (DESIGN.md, the record):
                    # compared unscaled; a remainder is a difference
                    ov = ov // s if ov % s == 0 else "%d/%d" % (ov, s)
                    if field == "packets" and tv == 0:
                        # a record of no packets (NAT events, akvorado's
                        # nat.pcap) stands for one (src/decode/exporters.c)
                        tv = 1
                if field in ("src", "dst", "exporter") and ov is not None and tv is not None:
                    ov, tv = ov.lower(), tv.lower()
                if tv != ov:
                    yield frame, i + 1, field, ov, tv


def flow_captures():
    """(label, port, path, proto) of every capture to compare; temporary
    files for the chains and flowgen's exports."""
    data = os.path.join(SHARED, "data")
    tsv = os.path.join(data, "MANIFEST-files.tsv")
    if not os.path.isfile(tsv):
        print("SKIP %s is absent: no shared flow captures compared" % tsv)
    else:
        with open(tsv, encoding="utf-8") as fh:
            rows = [line.rstrip("\n").split("\t") for line in fh][1:]
        for row in rows:
            if len(row) < 11 or row[0] not in SECTIONS:
                continue
            local, summary = row[8], row[10]
            if not local.endswith(CAPTURE_ENDINGS):
                continue
            m = re.search(r"udp dst port (\d+)", summary)
            port = int(m.group(1)) if m else 0
            proto = "sflow" if row[0] == "sflow" else "cflow"
            yield local, port, os.path.join(data, local), proto
        for label, parts in sorted(CHAINS.items()):
            paths = [os.path.join(data, "akvorado", p) for p in parts]
            if not all(os.path.isfile(p) for p in paths):
                print("SKIP %s: a part is absent" % label)
                continue
            out = os.path.join(TMP, os.path.basename(label))
            subprocess.run(["mergecap", "-a", "-F", "pcap", "-w", out] + paths, check=True)
            yield label, CHAIN_PORTS.get(label, 2055), out, "cflow"
    if FLOWGEN and os.access(FLOWGEN, os.X_OK):
        for v in ("v5", "v9"):
            out = os.path.join(TMP, "flowgen-%s.pcap" % v)
            with open(out, "wb") as fh:
                subprocess.run([FLOWGEN, v, "3000"], stdout=fh, check=True)
            yield "flowgen %s 3000" % v, 2055, out, "cflow"
    else:
        print("SKIP flowgen not given or not built: no generated exports compared")
    out = os.path.join(TMP, "sflow-built.pcap")
    sflow_capture(out)
    yield "sflow built here", 6343, out, "sflow"


TMP = None
FLOWGEN = None


def main():
    global TMP, FLOWGEN
    if len(sys.argv) not in (2, 3):
        print(__doc__)
        return 2
    binary = sys.argv[1]
    # flowgen: given, else where the build puts it beside dnsradar
    FLOWGEN = sys.argv[2] if len(sys.argv) == 3 else os.path.join(
        os.path.dirname(os.path.abspath(binary)), "bench", "flowgen")
    if subprocess.run(["tshark", "--version"], capture_output=True).returncode != 0:
        print("SKIP tshark is not installed")
        return 0
    TMP = tempfile.mkdtemp(prefix="dnsradar-flows-tshark-")
    files = compared = records = failed = known_hit = 0
    used = set()
    begun = time.monotonic()
    try:
        for label, port, path, proto in flow_captures():
            files += 1
            packets = run_tshark(path, port, proto)
            if proto == "sflow":
                theirs = sflow_records(packets)
                if any("sflow" not in p["_source"]["layers"] for p in packets):
                    # NetFlow at the sFlow port (tcpdump's 30-PDU capture
                    # has five v5 datagrams): tshark decodes one protocol
                    # per port, so those frames are asked again as cflow
                    again = cflow_records(run_tshark(path, port, "cflow"), {})
                    for frame, recs in again.items():
                        theirs.setdefault(frame, recs)
            else:
                theirs = cflow_records(packets, {})
            mine, rc, err = ours(binary, path, port)
            if not theirs and not mine:
                continue
            compared += 1
            records += sum(len(v) for v in theirs.values())
            for frame, rec, field, ov, tv in compare_flows(theirs, mine):
                key = (label, frame, rec, field)
                if key in KNOWN and KNOWN[key][:2] == (ov, tv):
                    used.add(key)
                    known_hit += 1
                    continue
                failed += 1
                print("DIFF %s frame %d record %d %s: dnsradar %r, tshark %r%s" % (
                    label, frame, rec, field, ov, tv,
                    " (%s)" % err if err and field == "missing" else ""))
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
    for key in sorted(set(KNOWN) - used):
        print("STALE known difference no longer seen: %s frame %d record %d %s" % key)
        failed += 1
    print("compared %d tshark flow records in %d of %d captures in %.1f s; %d known differences"
          % (records, compared, files, time.monotonic() - begun, known_hit))
    print("%d differences not known" % failed)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
