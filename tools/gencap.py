#!/usr/bin/env python3
"""Writes deterministic DNS captures for dnsradar's sample, tests and bench.

  gencap.py sample OUT.pcap           a small, varied capture (the README's)
  gencap.py bench OUT.pcap [PACKETS]  a large capture for bench/ (1,000,000)
  gencap.py edge DIR                  captures of the cases the decoder must
                                      handle: link types, VLANs, fragments,
                                      TCP, IPv6 extension headers, damage
  gencap.py scenario NAME OUT.pcap    a labelled attack scenario on benign
                                      background with the usual traps; also
                                      writes OUT.truth (JSON: the analyze
                                      flags and the alerts expected, with the
                                      time each attack begins). NAME is one of
                                      benign, reflection, reflection-rotating,
                                      amplification,
                                      random_subdomain, flood, loop,
                                      random_subdomain_binary (a non-ASCII
                                      octet in each random label),
                                      random_subdomain_couk (random labels
                                      2-3 deep under victim.co.uk, mixed
                                      case, dots inside labels),
                                      isp-flows (the ISP seed for flow
                                      exporters: a customer's router
                                      reflecting about 25 Mbit/s for 60 s in
                                      180 s of an ISP's web, QUIC, DNS and
                                      NTP, bulk packets stored cut to their
                                      headers), isp-flows-benign (the same
                                      traffic without the attack)

Everything is derived from a fixed seed, so the same command always writes
the same bytes. No third-party packages: pcap and DNS are packed by hand.
"""
import heapq
import json
import os
import random
import struct
import sys

LINK_ETHERNET, LINK_RAW, LINK_SLL, LINK_SLL2, LINK_NULL = 1, 101, 113, 276, 0

QTYPES = [(1, 50), (28, 25), (65, 6), (12, 6), (15, 3), (16, 4), (33, 2), (2, 1),
          (6, 1), (255, 1), (43, 1)]
DOMAINS = ["example.com", "example.net", "example.org", "shop.example",
           "cdn.example.net", "mail.example.com", "bank.example.co.uk",
           "news.example.de", "video.example.jp", "api.example.io",
           "10.in-addr.arpa", "example.edu"]
LABELS = ["www", "mail", "api", "cdn", "img", "static", "login", "m", "ns1", "smtp"]


def name_wire(name):
    """Wire form of a dotted name, or of a list of labels given as bytes
    (octets of any value, a dot inside a label included)."""
    if isinstance(name, (list, tuple)):
        return b"".join(bytes([len(label)]) + label for label in name) + b"\x00"
    if name in (".", ""):
        return b"\x00"
    out = b""
    for label in name.rstrip(".").split("."):
        raw = label.encode()
        out += bytes([len(raw)]) + raw
    return out + b"\x00"


def dns_query(qid, name, qtype, edns=True, do=False, rd=True):
    hdr = struct.pack("!HHHHHH", qid, 0x0100 if rd else 0, 1, 0, 0, 1 if edns else 0)
    body = name_wire(name) + struct.pack("!HH", qtype, 1)
    if edns:
        body += b"\x00" + struct.pack("!HHIH", 41, 1232, 0x8000 if do else 0, 0)
    return hdr + body


def dns_response(query, rcode=0, answers=1, rdata_len=4, aa=False, tc=False, ra=True,
                 referral=False):
    qid, flags = struct.unpack("!HH", query[:4])
    qd_end = 12
    while query[qd_end] != 0:
        qd_end += 1 + query[qd_end]
    qd_end += 5
    question = query[12:qd_end]
    qtype = struct.unpack("!H", question[-4:-2])[0]
    flags = 0x8000 | (flags & 0x0100) | (0x0080 if ra else 0) | (0x0400 if aa else 0) | \
        (0x0200 if tc else 0) | (rcode & 0xf)
    body = question
    an = 0
    ns = 0
    if referral:	# no answer, the child zone's servers in authority
        for i in range(answers):
            ns_name = name_wire("ns%d.example" % i)
            body += b"\xc0\x0c" + struct.pack("!HHIH", 2, 1, 86400, len(ns_name)) + ns_name
            ns += 1
    elif rcode == 0:
        for i in range(answers):
            rtype = qtype if qtype in (1, 28, 16, 15, 2, 12, 6, 33, 65, 43) else 16
            rdata = bytes((i * 7 + j) & 0xff for j in range(rdata_len if rtype != 1 else 4))
            body += b"\xc0\x0c" + struct.pack("!HHIH", rtype, 1, 300, len(rdata)) + rdata
            an += 1
    if rcode == 3:
        soa = name_wire("ns.example") + name_wire("host.example") + struct.pack("!IIIII", 1, 2, 3, 4, 5)
        body += b"\xc0\x0c" + struct.pack("!HHIH", 6, 1, 300, len(soa)) + soa
        ns = 1
    ar = query[11]
    if ar:
        body += b"\x00" + struct.pack("!HHIH", 41, 1232, 0, 0)
    return struct.pack("!HHHHHH", qid, flags, 1, an, ns, ar) + body


def csum(data):
    if len(data) % 2:
        data += b"\x00"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def ipv4(src, dst, proto, payload, ident=0, ttl=64, frag=0):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, frag, ttl, proto, 0,
                      bytes(src), bytes(dst))
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + payload


def ipv6(src, dst, nh, payload, hops=64):
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload), nh, hops, bytes(src), bytes(dst)) + payload


def udp(sport, dport, payload):
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def tcp(sport, dport, seq, flags, payload):
    return struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, flags, 65535, 0, 0) + payload


def ether(payload, ethertype=0x0800, vlans=()):
    out = b"\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02"
    for tpid, vid in vlans:
        out += struct.pack("!HH", tpid, vid)
    return out + struct.pack("!H", ethertype) + payload


class Pcap:
    """A classic little-endian pcap writer that writes packets in time order:
    add() queues, advance(t) writes everything up to t, close() the rest."""

    def __init__(self, path, link=LINK_ETHERNET, snaplen=262144, nano=False):
        self.f = open(path, "wb")
        self.nano = nano
        magic = 0xa1b23c4d if nano else 0xa1b2c3d4
        self.f.write(struct.pack("<IHHiIII", magic, 2, 4, 0, 0, snaplen, link))
        self.heap = []
        self.seq = 0
        self.buf = []

    def add(self, ts, frame, caplen=None):
        """ts: seconds as a float, or (seconds, fraction) as integers."""
        if isinstance(ts, tuple):
            sec, frac = ts
        else:
            sec = int(ts)
            frac = int(round((ts - sec) * (1e9 if self.nano else 1e6)))
        data = frame if caplen is None else frame[:caplen]
        rec = struct.pack("<IIII", sec, frac, len(data), len(frame)) + data
        heapq.heappush(self.heap, (sec, frac, self.seq, rec))
        self.seq += 1

    def advance(self, ts):
        sec = int(ts)
        frac = int((ts - sec) * (1e9 if self.nano else 1e6))
        while self.heap and (self.heap[0][0], self.heap[0][1]) <= (sec, frac):
            self.buf.append(heapq.heappop(self.heap)[3])
        if len(self.buf) >= 4096:
            self.f.write(b"".join(self.buf))
            self.buf = []

    def close(self):
        while self.heap:
            self.buf.append(heapq.heappop(self.heap)[3])
        self.f.write(b"".join(self.buf))
        self.f.close()


def addr4(rng, net):
    return [net[0], net[1], rng.randrange(0, 256), rng.randrange(1, 255)]


def traffic(out, rng, count, start=1700000000.0, rate=20000.0):
    """Client queries to resolvers and their answers, on Ethernet."""
    resolvers4 = [[192, 0, 2, 53], [192, 0, 2, 54], [198, 51, 100, 53]]
    resolvers6 = [[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53]]
    clients4 = [addr4(rng, (10, rng.randrange(0, 4))) for _ in range(300)]
    clients6 = [[0x20, 0x01, 0x0d, 0xb8, 0, 1] + [rng.randrange(256) for _ in range(10)]
                for _ in range(60)]
    weights = [w for _, w in QTYPES]
    types = [t for t, _ in QTYPES]
    t = start
    n = 0
    qid = 1
    while n < count:
        t += rng.expovariate(rate / 2)
        v6 = rng.random() < 0.15
        if v6:
            client, server = rng.choice(clients6), rng.choice(resolvers6)
        else:
            client = clients4[min(int(rng.paretovariate(1.2)) - 1, len(clients4) - 1)]
            server = rng.choice(resolvers4)
        domain = DOMAINS[min(int(rng.paretovariate(1.0)) - 1, len(DOMAINS) - 1)]
        if rng.random() < 0.1:
            name = "%08x.%s" % (rng.getrandbits(32), domain)
        else:
            name = "%s.%s" % (rng.choice(LABELS), domain)
        qtype = rng.choices(types, weights)[0]
        sport = rng.randrange(1024, 65536)
        qid = (qid * 7919 + 1) & 0xffff
        q = dns_query(qid, name, qtype, edns=rng.random() < 0.8, do=rng.random() < 0.3)
        nx = name[0].isdigit() and rng.random() < 0.7
        r = dns_response(q, rcode=3 if nx else (2 if rng.random() < 0.01 else 0),
                         answers=rng.randrange(1, 4), rdata_len=rng.choice([4, 16, 40, 120]))
        out.advance(t)
        if v6:
            fq = ether(ipv6(client, server, 17, udp(sport, 53, q)), 0x86dd)
            fr = ether(ipv6(server, client, 17, udp(53, sport, r)), 0x86dd)
        else:
            fq = ether(ipv4(client, server, 17, udp(sport, 53, q), ident=qid))
            fr = ether(ipv4(server, client, 17, udp(53, sport, r), ident=qid ^ 0x5555, ttl=61))
        out.add(t, fq)
        out.add(t + rng.uniform(0.0002, 0.03), fr)
        n += 2
    return t


def sample(path):
    rng = random.Random(20261121)
    out = Pcap(path)
    t = traffic(out, rng, 3000, rate=400.0)
    # A burst of ". ANY" queries from a spoofed victim to one open resolver.
    victim, reflector = [203, 0, 113, 77], [10, 3, 9, 200]
    for i in range(200):
        t += 0.05
        out.advance(t)
        q = dns_query(0x1000 + i, ".", 255)
        r = dns_response(q, answers=14, rdata_len=60)
        out.add(t, ether(ipv4(victim, reflector, 17, udp(44444, 53, q), ident=i)))
        out.add(t + 0.001, ether(ipv4(reflector, victim, 17, udp(53, 44444, r), ident=i, ttl=63)))
    out.close()


def bench(path, packets):
    rng = random.Random(1000000)
    out = Pcap(path)
    traffic(out, rng, packets, rate=50000.0)
    out.close()


def edge(directory):
    os.makedirs(directory, exist_ok=True)
    c4, s4 = [192, 0, 2, 10], [192, 0, 2, 53]
    c6 = [0x20, 0x01, 0x0d, 0xb8] + [0] * 11 + [0x10]
    s6 = [0x20, 0x01, 0x0d, 0xb8] + [0] * 11 + [0x53]
    q = dns_query(0x1111, "www.example.com", 1)

    # Every link type and tag stack the decoder supports, one query each.
    frames = {
        "link-ethernet-qinq.pcap": (LINK_ETHERNET, ether(ipv4(c4, s4, 17, udp(1111, 53, q)), 0x0800,
                                                        vlans=[(0x88a8, 10), (0x8100, 20)])),
        "link-raw.pcap": (LINK_RAW, ipv4(c4, s4, 17, udp(1111, 53, q))),
        "link-sll.pcap": (LINK_SLL, struct.pack("!HHH8sH", 0, 1, 6, b"\x02" * 6 + b"\0\0", 0x86dd)
                          + ipv6(c6, s6, 17, udp(1111, 53, q))),
        "link-sll2.pcap": (LINK_SLL2, struct.pack("!HHIHBB8s", 0x0800, 0, 2, 1, 0, 6, b"\x02" * 8)
                           + ipv4(c4, s4, 17, udp(1111, 53, q))),
        "link-null.pcap": (LINK_NULL, struct.pack("<I", 2) + ipv4(c4, s4, 17, udp(1111, 53, q))),
    }
    for fname, (link, frame) in frames.items():
        p = Pcap(os.path.join(directory, fname), link=link)
        p.add(1700000000.25, frame)
        p.close()

    # IPv6 with extension headers and an IPv4/IPv6 fragmented response.
    p = Pcap(os.path.join(directory, "ip-fragments.pcap"))
    big_q = dns_query(0x2222, "big.example", 16)
    big = dns_response(big_q, answers=6, rdata_len=400)
    dgram = udp(53, 2222, big)
    p.add(1700000001.0, ether(ipv4(c4, s4, 17, udp(2222, 53, big_q), ident=77)))
    chunks = [dgram[i:i + 1480] for i in range(0, len(dgram), 1480)]
    for i, chunk in enumerate(reversed(chunks)):
        idx = len(chunks) - 1 - i
        more = 0x2000 if idx < len(chunks) - 1 else 0
        p.add(1700000001.1 + i * 0.001,
              ether(ipv4(s4, c4, 17, chunk, ident=99, frag=more | (idx * 1480 // 8))))
    hbh = bytes([17, 0, 1, 4, 0, 0, 0, 0])
    p.add(1700000001.2, ether(ipv6(c6, s6, 0, hbh + udp(3333, 53, big_q)), 0x86dd))
    ident = 0xabcdef01
    chunks = [dgram[i:i + 1232] for i in range(0, len(dgram), 1232)]
    for idx, chunk in enumerate(chunks):
        more = 1 if idx < len(chunks) - 1 else 0
        fh = struct.pack("!BBHI", 17, 0, (idx * 1232) | more, ident)
        p.add(1700000001.3 + idx * 0.001, ether(ipv6(s6, c6, 44, fh + chunk), 0x86dd))
    p.close()

    # DNS over TCP: handshake, two queries in one segment, an answer split
    # over three segments with a retransmission, FIN.
    p = Pcap(os.path.join(directory, "tcp-segments.pcap"))
    q1 = dns_query(0x3001, "one.example", 1, edns=False)
    q2 = dns_query(0x3002, "two.example", 28, edns=False)
    a1 = dns_response(q1, answers=3)
    stream_c = struct.pack("!H", len(q1)) + q1 + struct.pack("!H", len(q2)) + q2
    stream_s = struct.pack("!H", len(a1)) + a1
    t = 1700000002.0
    p.add(t, ether(ipv4(c4, s4, 6, tcp(40000, 53, 100, 0x02, b""))))
    p.add(t + 0.01, ether(ipv4(s4, c4, 6, tcp(53, 40000, 500, 0x12, b""))))
    p.add(t + 0.02, ether(ipv4(c4, s4, 6, tcp(40000, 53, 101, 0x18, stream_c))))
    p.add(t + 0.03, ether(ipv4(s4, c4, 6, tcp(53, 40000, 501, 0x10, stream_s[:1]))))
    p.add(t + 0.04, ether(ipv4(s4, c4, 6, tcp(53, 40000, 502, 0x10, stream_s[1:20]))))
    p.add(t + 0.05, ether(ipv4(s4, c4, 6, tcp(53, 40000, 502, 0x10, stream_s[1:20]))))
    p.add(t + 0.06, ether(ipv4(s4, c4, 6, tcp(53, 40000, 521, 0x18, stream_s[20:]))))
    p.add(t + 0.07, ether(ipv4(c4, s4, 6, tcp(40000, 53, 101 + len(stream_c), 0x11, b""))))
    p.close()

    # Malformed messages of every class, a flood payload, and a snaplen cut.
    p = Pcap(os.path.join(directory, "malformed.pcap"))
    bad = {
        "short_header": b"\x12\x34\x01\x00\x00",
        "pointer_loop": struct.pack("!HHHHHH", 1, 0, 1, 0, 0, 0) + b"\xc0\x0c\x00\x01\x00\x01",
        "bad_pointer": struct.pack("!HHHHHH", 2, 0, 1, 0, 0, 0) + b"\xc1\xff\x00\x01\x00\x01",
        "bad_label": struct.pack("!HHHHHH", 3, 0, 1, 0, 0, 0) + b"\x41\x00\x00\x01\x00\x01",
        "truncated": struct.pack("!HHHHHH", 4, 0x8180, 1, 3, 0, 0) + name_wire("a.example") + b"\x00\x01\x00\x01",
        "trailing_bytes": dns_query(5, "t.example", 1, edns=False) + b"junk",
        "not_dns": b"X" * 64,
    }
    for i, payload in enumerate(bad.values()):
        p.add(1700000003.0 + i * 0.01, ether(ipv4(c4, s4, 17, udp(4000 + i, 53, payload))))
    longq = dns_query(6, "a-rather-long-name-that-will-not-fit.in.the.snap.length.example", 1)
    p.add(1700000003.5, ether(ipv4(c4, s4, 17, udp(4100, 53, longq))), caplen=96)
    p.close()

    # Nanosecond timestamps.
    p = Pcap(os.path.join(directory, "nanosecond.pcap"), nano=True)
    p.add((1700000004, 123456789), ether(ipv4(c4, s4, 17, udp(5555, 53, q))))
    p.close()


# ---- labelled scenarios -------------------------------------------------

# The operator's space, its recursive resolvers and its authoritative server:
# every host allowed to answer DNS.
ROLE_FLAGS = ["--local", "10.0.0.0/8", "--local", "2001:db8::/32",
              "--resolver", "10.0.0.53", "--resolver", "2001:db8::53",
              "--authoritative", "10.0.0.80"]
RESOLVER4 = [10, 0, 0, 53]
RESOLVER6 = [0x20, 0x01, 0x0d, 0xb8] + [0] * 11 + [0x53]
AUTH_NS = [10, 0, 0, 80]	# an authoritative server of the operator's, declared
AUTH_UNDECLARED = [10, 0, 0, 81]	# ...and one nobody listed
CUSTOMER_NS = [10, 3, 7, 9]	# a customer's own small authoritative server
# The world's resolvers asking authoritative servers; the first four are
# big public ones that ask most.
WORLD_RESOLVERS = [[8, 8, 8, 8], [8, 8, 4, 4], [1, 1, 1, 1], [9, 9, 9, 9]] + \
    [[100 + i % 100, 20 + i % 7, i % 251, 1 + i % 199] for i in range(400)]
T0 = 1700100000.0


def arrivals(rng, rate, start, seconds):
    """Poisson arrival times at `rate` per second in [start, start+seconds)."""
    t = start
    while True:
        t += rng.expovariate(rate)
        if t >= start + seconds:
            return
        yield t


def fragments4(src, dst, proto, payload, ident, ttl=57, mtu_payload=1480):
    """IPv4 fragments of one datagram, first to last."""
    out = []
    for off in range(0, len(payload), mtu_payload):
        chunk = payload[off:off + mtu_payload]
        more = 0x2000 if off + mtu_payload < len(payload) else 0
        out.append(ipv4(src, dst, proto, chunk, ident=ident, ttl=ttl, frag=more | (off // 8)))
    return out


def exchange(out, t, client, server, sport, q, r, delay, v6=False, ttl=64):
    if v6:
        out.add(t, ether(ipv6(client, server, 17, udp(sport, 53, q), hops=ttl), 0x86dd))
        out.add(t + delay, ether(ipv6(server, client, 17, udp(53, sport, r)), 0x86dd))
    else:
        out.add(t, ether(ipv4(client, server, 17, udp(sport, 53, q), ttl=ttl)))
        out.add(t + delay, ether(ipv4(server, client, 17, udp(53, sport, r), ttl=61)))


def background(out, rng, start, seconds):
    """An ISP's ordinary DNS, with every trap that fools naive detectors."""
    clients = [[10, 1, rng.randrange(256), rng.randrange(1, 255)] for _ in range(250)]
    clients6 = [[0x20, 0x01, 0x0d, 0xb8, 0, 1] + [rng.randrange(256) for _ in range(10)]
                for _ in range(40)]
    auth = [[198, 51, 100, i] for i in range(1, 60)] + [[192, 0, 2, i] for i in range(1, 40)]
    names = ["www.example.com", "mail.example.net", "api.example.org", "shop.example",
             "static.example.com", "login.example.net", "news.example.de"]
    # ordinary clients
    for t in arrivals(rng, 150, start, seconds):
        q = dns_query(rng.getrandbits(16), rng.choice(names), rng.choice([1, 28, 65]))
        exchange(out, t, rng.choice(clients), RESOLVER4, rng.randrange(1024, 65536), q,
                 dns_response(q, answers=rng.randrange(1, 4)), rng.uniform(0.001, 0.02))
    # trap: a CGNAT address, hundreds of queries per second
    for t in arrivals(rng, 300, start, seconds):
        q = dns_query(rng.getrandbits(16), rng.choice(names), rng.choice([1, 28]))
        exchange(out, t, [10, 64, 0, 1], RESOLVER4, rng.randrange(1024, 65536), q,
                 dns_response(q, answers=2), rng.uniform(0.001, 0.02))
    # trap: the busy resolver fetching large DNSSEC answers, many fragmented
    for t in arrivals(rng, 120, start, seconds):
        server = rng.choice(auth)
        q = dns_query(rng.getrandbits(16), rng.choice(names), rng.choice([48, 43, 1]), do=True)
        r = dns_response(q, answers=rng.randrange(2, 8), rdata_len=rng.choice([200, 300, 400]))
        sport = rng.randrange(1024, 65536)
        out.add(t, ether(ipv4(RESOLVER4, server, 17, udp(sport, 53, q))))
        for i, frag in enumerate(fragments4(server, RESOLVER4, 17, udp(53, sport, r),
                                            rng.getrandbits(16))):
            out.add(t + 0.01 + i * 0.0001, ether(frag))
    # trap: a mail server's DNSBL look-ups: unique names, mostly NXDOMAIN
    for t in arrivals(rng, 160, start, seconds):
        ip = [rng.randrange(1, 224) for _ in range(4)]
        name = "%d.%d.%d.%d.zen.dnsbl-example.org" % tuple(reversed(ip))
        q = dns_query(rng.getrandbits(16), name, 1, edns=False)
        exchange(out, t, [10, 0, 1, 25], RESOLVER4, rng.randrange(1024, 65536), q,
                 dns_response(q, rcode=3 if rng.random() < 0.9 else 0), rng.uniform(0.002, 0.03))
    # trap: CDN-style unique host names that do resolve
    for t in arrivals(rng, 150, start, seconds):
        name = "%016x.edge.cdn-example.net" % rng.getrandbits(64)
        q = dns_query(rng.getrandbits(16), name, 1)
        exchange(out, t, rng.choice(clients), RESOLVER4, rng.randrange(1024, 65536), q,
                 dns_response(q, answers=2), rng.uniform(0.002, 0.03))
    # IPv6 clients of the IPv6 resolver
    for t in arrivals(rng, 60, start, seconds):
        q = dns_query(rng.getrandbits(16), rng.choice(names), 28)
        exchange(out, t, rng.choice(clients6), RESOLVER6, rng.randrange(1024, 65536), q,
                 dns_response(q), rng.uniform(0.001, 0.02), v6=True)
    # trap: authoritative servers inside --local answering the world's
    # resolvers: many different names, AA set, RA clear. The declared one
    # serves signed zones (large answers, most asked by the big resolvers);
    # the undeclared one, unsigned zones, with NXDOMAIN and referrals.
    def authoritative(server, rate, zones, hosts, size, heavy, big):
        for t in arrivals(rng, rate, start, seconds):
            asker = rng.choice(WORLD_RESOLVERS[:4] if rng.random() < heavy
                               else WORLD_RESOLVERS[4:])
            zone = rng.choice(zones)
            kind = rng.random()
            if kind < 0.08:
                name, rcode, referral = "nope%d.%s" % (rng.randrange(10 ** 6), zone), 3, False
            elif kind < 0.12:
                name, rcode, referral = "www.branch%d.%s" % (rng.randrange(20), zone), 0, True
            else:
                name, rcode, referral = "%s%d.%s" % (rng.choice(LABELS), rng.randrange(hosts),
                                                     zone), 0, False
            q = dns_query(rng.getrandbits(16), name, rng.choice([1, 1, 28, 15, 16]),
                          do=big, rd=False)
            r = dns_response(q, rcode=rcode, answers=rng.randrange(1, 3),
                             rdata_len=size if big else 4, aa=not referral, ra=False,
                             referral=referral)
            exchange(out, t, asker, server, rng.randrange(1024, 65536), q, r,
                     rng.uniform(0.0002, 0.002), ttl=rng.randrange(40, 60))
    authoritative(AUTH_NS, 60, ["hosted-example.com", "hosted-example.net", "shop-example.de"],
                  400, 300, 0.8, True)
    authoritative(AUTH_UNDECLARED, 40, ["isp-example.net", "customers-example.net"], 300, 4,
                  0.6, False)
    # trap: a customer's own small server for its zone, a few answers a second
    authoritative(CUSTOMER_NS, 6, ["family-example.org"], 60, 4, 0.5, False)
    # trap: a scanner probing the authoritative server from one port with
    # QTYPE 0 queries, a new ID and name each time, answered FORMERR or
    # REFUSED: errors both ways, but the scanner does not react to them
    for t in arrivals(rng, 60, start, seconds):
        qid = rng.getrandbits(16)
        q = dns_query(qid, "probe%d.hosted-example.com" % rng.randrange(10 ** 6), 0, edns=False)
        err = struct.pack("!HHHHHH", qid, 0x8000 | (1 if rng.random() < 0.7 else 5), 0, 0, 0, 0)
        out.add(t, ether(ipv4([203, 0, 113, 66], AUTH_NS, 17, udp(40125, 53, q), ttl=47)))
        out.add(t + 0.0003, ether(ipv4(AUTH_NS, [203, 0, 113, 66], 17, udp(53, 40125, err))))
    # the aggregate: jumbo-frame bulk traffic, stored cut to its headers
    bulk = ether(ipv4([10, 2, 0, 7], [198, 51, 100, 77], 6,
                      tcp(443, 50000, 1, 0x10, b"\0" * 8946)))
    for t in arrivals(rng, 2000, start, seconds):
        out.add(t, bulk, caplen=54)


# ---- the ISP seed, for flow exporters -------------------------------------

# The operator of the ISP seed: 10.0.0.0/8, two recursive resolvers and an
# authoritative server of its own (signed zones, large answers).
ISP_FLAGS = ["--local", "10.0.0.0/8", "--resolver", "10.0.0.53", "--resolver", "10.0.0.54",
             "--authoritative", "10.0.0.80"]
ISP_RESOLVERS = [[10, 0, 0, 53], [10, 0, 0, 54]]
ISP_AUTH = [10, 0, 0, 80]
ISP_ROUTER = [10, 20, 30, 40]	# the customer's reset router
ISP_VICTIMS = [[198, 18, 0, 10], [198, 18, 7, 20], [198, 19, 1, 30]]
ISP_SECONDS, ISP_ATTACK_AT, ISP_ATTACK_SECONDS = 180.0, 60.0, 60.0
HEADERS_TCP = 14 + 20 + 20	# what a capture cut to its headers keeps
HEADERS_UDP = 14 + 20 + 8


def isp_flows(name, path):
    """The ISP seed as a core router's flow exporter sees it: a customer's
    reset router reflecting about 25 Mbit/s of ". ANY" answers to three
    spoofed victims abroad, at two service ports each, for 60 s, hidden in
    180 s of an ISP's traffic (about 190 Mbit/s: seven times the attack). Bulk packets (TCP
    segments coalesced by the capturing host's GRO, QUIC datagrams, the
    attack's answers) are stored cut to their headers with their length on
    the wire, so the capture stays small while an exporter counts every
    octet. Returns the truth's expected alerts."""
    rng = random.Random("scenario-" + name)
    out = Pcap(path)
    end = T0 + ISP_SECONDS
    customers = [[10, 1 + rng.randrange(8), rng.randrange(256), rng.randrange(1, 255)]
                 for _ in range(600)]
    cgnat = [[10, 64, 0, i] for i in range(1, 5)]	# CGNAT outside addresses, many users each
    sites = [[203, 0, 113, i] for i in range(1, 60)] + [[192, 0, 2, i] for i in range(100, 140)]
    world_auth = [[198, 51, 100, i] for i in range(1, 80)]
    public_resolvers = [[8, 8, 8, 8], [8, 8, 4, 4], [1, 1, 1, 1], [9, 9, 9, 9]]
    names = ["www.example.com", "mail.example.net", "api.example.org", "shop.example",
             "static.example.com", "login.example.net", "news.example.de", "video.example.jp"]

    def user():
        return rng.choice(cgnat) if rng.random() < 0.3 else rng.choice(customers)

    # Web browsing, TCP 443 (and some 80): downloads in segments of up to 64
    # KB, one ACK for every four; about 200 Mbit/s.
    for start in arrivals(rng, 10, T0, ISP_SECONDS):
        client, site = user(), rng.choice(sites)
        cport, sport = rng.randrange(32768, 61000), 443 if rng.random() < 0.85 else 80
        down = ether(ipv4(site, client, 6, tcp(sport, cport, 1, 0x10, b"\0" * rng.choice(
            [16000, 32000, 48000, 64000])), ttl=57))
        ack = ether(ipv4(client, site, 6, tcp(cport, sport, 1, 0x10, b"")))
        out.add(start, ether(ipv4(client, site, 6, tcp(cport, sport, 0, 0x02, b""))))
        seconds = min(rng.expovariate(1 / 12.0), end - start - 0.1)
        for i, t in enumerate(arrivals(rng, rng.choice([2, 4, 6, 8]), start + 0.03, seconds)):
            out.add(t, down, caplen=HEADERS_TCP)
            if i % 4 == 3:
                out.add(t + 0.0002, ack)
    # QUIC, UDP 443: full-size datagrams down, a few up.
    for start in arrivals(rng, 2, T0, ISP_SECONDS):
        client, site = user(), rng.choice(sites)
        cport = rng.randrange(32768, 61000)
        down = ether(ipv4(site, client, 17, udp(443, cport, b"\0" * 1344), ttl=57))
        up = ether(ipv4(client, site, 17, udp(cport, 443, b"\0" * 40)))
        seconds = min(rng.expovariate(1 / 8.0), end - start - 0.1)
        for i, t in enumerate(arrivals(rng, 15, start, seconds)):
            out.add(t, down, caplen=HEADERS_UDP)
            if i % 5 == 4:
                out.add(t + 0.0003, up)
    # Customers (the CGNAT addresses among them) asking the ISP's resolvers.
    for t in arrivals(rng, 100, T0, ISP_SECONDS):
        q = dns_query(rng.getrandbits(16), rng.choice(names), rng.choice([1, 28]))
        exchange(out, t, user(), rng.choice(ISP_RESOLVERS), rng.randrange(1024, 65536), q,
                 dns_response(q, answers=rng.randrange(1, 4), rdata_len=16),
                 rng.uniform(0.001, 0.02))
    # ...and CGNAT users asking public resolvers abroad directly.
    for t in arrivals(rng, 60, T0, ISP_SECONDS):
        q = dns_query(rng.getrandbits(16), rng.choice(names), rng.choice([1, 28]))
        exchange(out, t, rng.choice(cgnat), rng.choice(public_resolvers), rng.randrange(1024, 65536),
                 q, dns_response(q, answers=rng.randrange(1, 4), rdata_len=16),
                 rng.uniform(0.01, 0.03))
    # The resolvers' upstream queries and the answers (large, signed).
    for t in arrivals(rng, 50, T0, ISP_SECONDS):
        q = dns_query(rng.getrandbits(16), rng.choice(names), rng.choice([1, 28, 48, 43]),
                      do=True, rd=False)
        r = dns_response(q, answers=rng.randrange(1, 5), rdata_len=rng.choice([40, 120, 250]),
                         aa=True, ra=False)
        exchange(out, t, rng.choice(ISP_RESOLVERS), rng.choice(world_auth),
                 rng.randrange(1024, 65536), q, r, rng.uniform(0.01, 0.08))
    # The ISP's authoritative server answering the world's resolvers (the
    # big public ones ask most): signed answers, many names.
    for t in arrivals(rng, 40, T0, ISP_SECONDS):
        asker = rng.choice(public_resolvers if rng.random() < 0.7 else WORLD_RESOLVERS[4:])
        q = dns_query(rng.getrandbits(16), "%s%d.isp-example.net" % (rng.choice(LABELS),
                                                                      rng.randrange(300)),
                      rng.choice([1, 28, 15]), do=True, rd=False)
        exchange(out, t, asker, ISP_AUTH, rng.randrange(1024, 65536), q,
                 dns_response(q, answers=rng.randrange(1, 3), rdata_len=300, aa=True, ra=False),
                 rng.uniform(0.0002, 0.002), ttl=rng.randrange(40, 60))
    # A mail server's DNSBL look-ups through the resolver: unique names,
    # mostly NXDOMAIN.
    for t in arrivals(rng, 60, T0, ISP_SECONDS):
        ip = [rng.randrange(1, 224) for _ in range(4)]
        q = dns_query(rng.getrandbits(16), "%d.%d.%d.%d.zen.dnsbl-example.org" %
                      tuple(reversed(ip)), 1, edns=False)
        exchange(out, t, [10, 0, 1, 25], ISP_RESOLVERS[0], rng.randrange(1024, 65536), q,
                 dns_response(q, rcode=3 if rng.random() < 0.9 else 0), rng.uniform(0.002, 0.03))
    # A customer's own small DNS server for its zone, a few answers a second.
    for t in arrivals(rng, 4, T0, ISP_SECONDS):
        q = dns_query(rng.getrandbits(16), "%s%d.family-example.org" % (
            rng.choice(LABELS), rng.randrange(60)), rng.choice([1, 28, 15]), rd=False)
        exchange(out, t, rng.choice(WORLD_RESOLVERS), [10, 3, 7, 9], rng.randrange(1024, 65536),
                 q, dns_response(q, aa=True, ra=False, rdata_len=16), rng.uniform(0.0002, 0.002))
    # NTP: customers' devices and the pool, 48-octet packets both ways.
    ntp = b"\x23" + b"\0" * 47
    for t in arrivals(rng, 20, T0, ISP_SECONDS):
        client, server = user(), rng.choice(sites[:8])
        port = 123 if rng.random() < 0.5 else rng.randrange(32768, 61000)
        out.add(t, ether(ipv4(client, server, 17, udp(port, 123, ntp))))
        out.add(t + rng.uniform(0.01, 0.05), ether(ipv4(server, client, 17, udp(123, port, ntp))))

    expected = []
    if name == "isp-flows":
        # The reflection: spoofed ". ANY" queries from the victims' service
        # ports, answered with about 1,380 octets each, 2,260 a second.
        attack_at = T0 + ISP_ATTACK_AT
        ports = [(v, p) for v in ISP_VICTIMS for p in rng.sample([80, 123, 443, 3074, 27015], 2)]
        for t in arrivals(rng, 2260, attack_at, ISP_ATTACK_SECONDS):
            victim, port = rng.choice(ports)
            q = dns_query(rng.getrandbits(16), ".", 255, edns=True)
            r = dns_response(q, answers=13, rdata_len=90)
            out.add(t, ether(ipv4(victim, ISP_ROUTER, 17, udp(port, 53, q), ttl=49)))
            out.add(t + 0.0004, ether(ipv4(ISP_ROUTER, victim, 17, udp(53, port, r), ttl=64)),
                    caplen=HEADERS_UDP + len(q))
        expected.append({"type": "reflection", "key": "10.20.30.40", "attack_start": attack_at,
                         "attack_end": attack_at + ISP_ATTACK_SECONDS,
                         "victims": [".".join(map(str, v)) for v in ISP_VICTIMS]})
    elif name != "isp-flows-benign":
        raise SystemExit("unknown scenario %r" % name)
    out.close()
    return ISP_FLAGS, expected


def scenario(name, path):
    if name.startswith("isp-flows"):
        flags, expected = isp_flows(name, path)
        write_truth(path, name, flags, expected)
        return
    rng = random.Random("scenario-" + name)
    out = Pcap(path)
    seconds, attack_at = 20.0, T0 + 5.0
    background(out, rng, T0, seconds)
    expected = []
    if name == "reflection":
        # a customer's reset router answering ". ANY" for spoofed victims abroad,
        # about 25 Mbit/s of answers
        router = [10, 20, 30, 40]
        victims = [[198, 18, 0, 10], [198, 18, 7, 20], [198, 19, 1, 30]]
        for t in arrivals(rng, 2800, attack_at, 8.0):
            victim = rng.choice(victims)
            q = dns_query(rng.getrandbits(16), ".", 255, edns=True)
            r = dns_response(q, answers=10, rdata_len=100)
            out.add(t, ether(ipv4(victim, router, 17, udp(3074, 53, q), ttl=49)))
            out.add(t + 0.0004, ether(ipv4(router, victim, 17, udp(53, 3074, r), ttl=64)))
        expected.append(("reflection", "10.20.30.40"))
    elif name == "reflection-rotating":
        # the operator's own authoritative server abused: the attacker
        # rotates through several large questions of its signed zones and
        # several spoofed victims, so no one question to one victim stands out
        questions = [("hosted-example.com", 255), ("hosted-example.com", 48),
                     ("hosted-example.net", 255), ("shop-example.de", 46),
                     ("hosted-example.net", 16), ("shop-example.de", 255)]
        victims = [[198, 18, 0, 10], [198, 18, 7, 20], [198, 19, 1, 30], [203, 0, 113, 200],
                   [192, 0, 2, 99]]
        for t in arrivals(rng, 300, attack_at, 8.0):
            victim = rng.choice(victims)
            qname, qtype = rng.choice(questions)
            q = dns_query(rng.getrandbits(16), qname, qtype, edns=True, do=True, rd=False)
            r = dns_response(q, answers=8, rdata_len=220, aa=True, ra=False)
            out.add(t, ether(ipv4(victim, AUTH_NS, 17, udp(80, 53, q), ttl=49)))
            out.add(t + 0.0003, ether(ipv4(AUTH_NS, victim, 17, udp(53, 80, r), ttl=64)))
        expected.append(("reflection", "10.0.0.80"))
    elif name == "amplification":
        victim = [10, 0, 9, 9]
        reflectors = [[203, 0, 113, i] for i in range(1, 120)] + \
            [[100, 100, i, 1] for i in range(1, 40)]
        for t in arrivals(rng, 400, attack_at, 10.0):
            src = rng.choice(reflectors)
            q = dns_query(rng.getrandbits(16), "big-zone.example", 46, do=True)
            r = dns_response(q, answers=9, rdata_len=300)
            for i, frag in enumerate(fragments4(src, victim, 17, udp(53, 27015, r),
                                                rng.getrandbits(16))):
                out.add(t + i * 0.0001, ether(frag))
        expected.append(("amplification", "10.0.9.9"))
    elif name == "random_subdomain":
        resolvers = [[198, 51, 100 + i % 3, 10 + i] for i in range(40)]
        alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
        for t in arrivals(rng, 600, attack_at, 10.0):
            label = "".join(rng.choice(alphabet) for _ in range(12))
            q = dns_query(rng.getrandbits(16), label + ".victim-example.com", 1)
            exchange(out, t, rng.choice(resolvers), AUTH_NS, rng.randrange(1024, 65536), q,
                     dns_response(q, rcode=3, aa=True), 0.0005)
        expected.append(("random_subdomain", "victim-example.com"))
    elif name == "random_subdomain_binary":
        # the bug report's water torture: one octet from 0x80 up (sometimes
        # a control octet too) in each random label, so no label is a host name
        resolvers = [[198, 51, 100 + i % 3, 10 + i] for i in range(40)]
        alphabet = b"abcdefghijklmnopqrstuvwxyz0123456789"
        for t in arrivals(rng, 600, attack_at, 10.0):
            label = bytearray(rng.choice(alphabet) for _ in range(12))
            label[rng.randrange(12)] = rng.randrange(0x80, 0x100)
            if rng.random() < 0.3:
                label[rng.randrange(12)] = rng.choice([0x00, 0x01, 0x09, 0x20, 0x7f])
            q = dns_query(rng.getrandbits(16), [bytes(label), b"victim-example", b"com"], 1)
            exchange(out, t, rng.choice(resolvers), AUTH_NS, rng.randrange(1024, 65536), q,
                     dns_response(q, rcode=3, aa=True), 0.0005)
        expected.append(("random_subdomain", "victim-example.com"))
    elif name == "random_subdomain_couk":
        # under a multi-label public suffix, random labels two and three
        # levels below the zone, in mixed case, one of them with a dot inside
        # (one label, not two) and some with an octet from 0x80 up
        resolvers = [[198, 51, 100 + i % 3, 10 + i] for i in range(40)]
        alphabet = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
        zone = [b"Victim", b"CO", b"uk"]
        for t in arrivals(rng, 600, attack_at, 10.0):
            labels = []
            levels = rng.choice([2, 3])
            dotted = rng.randrange(levels)
            for level in range(levels):
                label = bytearray(rng.choice(alphabet) for _ in range(rng.randrange(4, 11)))
                if level == dotted:
                    label[rng.randrange(1, len(label))] = ord(".")
                elif rng.random() < 0.3:
                    label[rng.randrange(len(label))] = rng.randrange(0x80, 0x100)
                labels.append(bytes(label))
            q = dns_query(rng.getrandbits(16), labels + zone, 1)
            exchange(out, t, rng.choice(resolvers), AUTH_NS, rng.randrange(1024, 65536), q,
                     dns_response(q, rcode=3, aa=True), 0.0005)
        expected.append(("random_subdomain", "victim.co.uk"))
    elif name == "flood":
        # a compromised web application's PHP "UDP flood" to port 53
        web, target = [10, 0, 5, 80], [198, 51, 100, 200]
        junk = b"X" * 512
        for t in arrivals(rng, 3000, attack_at, 8.0):
            out.add(t, ether(ipv4(web, target, 17, udp(47000, 53, junk))))
        expected.append(("flood", "10.0.5.80"))
    elif name == "loop":
        # "machine pong": a TFTP client answering FORMERR with an error, forever
        peer, port = [203, 0, 113, 9], 22772
        q = dns_query(0x4d2, "example.com", 1, edns=False)
        exchange(out, attack_at - 0.5, peer, AUTH_NS, port, q, dns_response(q, answers=2),
                 0.0003, ttl=52)
        err = b"\x00\x05\x00\x00RRQ must be sent first\x00"
        formerr = struct.pack("!HHHHHH", 0x0005, 0x8001, 0, 0, 0, 0)
        t = attack_at
        while t < attack_at + 10.0:
            out.add(t, ether(ipv4(peer, AUTH_NS, 17, udp(port, 53, err), ttl=52)))
            out.add(t + 0.0003, ether(ipv4(AUTH_NS, peer, 17, udp(53, port, formerr), ttl=64)))
            t += 0.002
        expected.append(("loop", "203.0.113.9"))
    elif name != "benign":
        raise SystemExit("unknown scenario %r" % name)
    out.close()
    write_truth(path, name, ROLE_FLAGS,
                [{"type": ty, "key": k, "attack_start": attack_at} for ty, k in expected])


def write_truth(path, name, flags, expected):
    truth = {"scenario": name, "flags": flags, "expected": expected}
    with open(path + ".truth", "w") as f:
        json.dump(truth, f, indent=1)
        f.write("\n")


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    mode, path = sys.argv[1], sys.argv[2]
    if mode == "sample":
        sample(path)
    elif mode == "bench":
        bench(path, int(sys.argv[3]) if len(sys.argv) > 3 else 1000000)
    elif mode == "edge":
        edge(path)
    elif mode == "scenario":
        if len(sys.argv) < 4:
            print(__doc__)
            return 2
        scenario(sys.argv[2], sys.argv[3])
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
