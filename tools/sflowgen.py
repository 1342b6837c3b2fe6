#!/usr/bin/env python3
"""Turns a capture into the sFlow v5 an agent sampling it would export, so
the detectors can be tested on sampled headers (tests/system/
test_sflow_detect.py) and anyone can see what an sFlow feed of a capture
looks like to `dnsradar analyze`.

  sflowgen.py [options] IN.pcap OUT.pcap

IN is a classic pcap of Ethernet frames (micro- or nanosecond, either byte
order). OUT is a classic pcap of the export datagrams, Ethernet, from the
agent 192.0.2.200:6343 to the collector 192.0.2.100:6343.

  --rate N        sample 1 packet in N (default 10)
  --seed S        seed of the sampling (default 1): the same input, rate and
                  seed always write the same bytes
  --max-size B    UDP payload octets per datagram at most (default 1400)
  --max-delay S   a datagram goes out at the latest S seconds after the first
                  sample it holds (default 0.1), as an agent's flush timer
  --in-if I       input ifIndex of every sample, also the data source's
                  index (default 1)
  --out-if O      output ifIndex (default 2)
  --header H      octets of each frame kept in the sample (default 128)

Sampling is random, each packet kept with probability 1/N from a seeded
generator, not every Nth: the sFlow v5 specification (section 4.2.2) asks
agents for random sampling so that periodic traffic cannot fall in step
with the sampler. A loop of two alternating packets, sampled every 10th,
would show only one of its two directions.

Every sample is a flow sample (format 1) with sampling rate N, the sample
pool (packets the data source has seen so far), drops 0, the ifIndexes and
one raw packet header record: header protocol 1 (Ethernet), frame length
(the frame on the wire with its 4-octet FCS), stripped 4 (the FCS), and the
first H octets of the frame (fewer when the capture kept fewer). Samples
are packed into datagrams of at most --max-size octets with consecutive
sequence numbers and the agent's uptime; a datagram is stamped with the
time of the last packet it samples, or of its flush timer, whichever comes
first. Packets of another link type are an error.
"""
import argparse
import random
import struct
import sys

AGENT = bytes([192, 0, 2, 200])
COLLECTOR = bytes([192, 0, 2, 100])
SFLOW_PORT = 6343
AGENT_MAC = bytes([0x02, 0, 0, 0, 0, 0xc8])
COLLECTOR_MAC = bytes([0x02, 0, 0, 0, 0, 0x64])
LINK_ETHERNET = 1
FCS = 4
DATAGRAM_HEADER = 28	# version, address type, IPv4 address, sub-agent, sequence, uptime, count
UPTIME_BASE_MS = 3600 * 1000	# the agent has been up an hour when the capture starts


def read_pcap(path):
    """Yields (seconds, nanoseconds, frame, wire length) of a classic pcap."""
    with open(path, "rb") as f:
        head = f.read(24)
        if len(head) < 24:
            raise ValueError("%s: not a pcap file (shorter than its header)" % path)
        magic = struct.unpack("<I", head[:4])[0]
        formats = {0xa1b2c3d4: ("<", 1000), 0xa1b23c4d: ("<", 1),
                   0xd4c3b2a1: (">", 1000), 0x4d3cb2a1: (">", 1)}
        if magic not in formats:
            raise ValueError("%s: not a classic pcap file (magic %08x; pcapng is not read)"
                             % (path, magic))
        order, scale = formats[magic]
        link = struct.unpack(order + "I", head[20:24])[0] & 0x0fffffff
        if link != LINK_ETHERNET:
            raise ValueError("%s: link type %d, only Ethernet (1) is sampled" % (path, link))
        while True:
            rec = f.read(16)
            if not rec:
                return
            if len(rec) < 16:
                raise ValueError("%s: cut short in a packet header" % path)
            sec, frac, caplen, wirelen = struct.unpack(order + "IIII", rec)
            data = f.read(caplen)
            if len(data) < caplen:
                raise ValueError("%s: cut short in a packet" % path)
            yield sec, frac * scale, data, max(wirelen, caplen)


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def export_frame(payload, ident):
    """The datagram as the collector's capture shows it: Ethernet, IPv4, UDP
    (the UDP checksum left 0, as IPv4 allows)."""
    udp = struct.pack("!HHHH", SFLOW_PORT, SFLOW_PORT, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), ident & 0xffff, 0, 64, 17, 0,
                     AGENT, COLLECTOR)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return COLLECTOR_MAC + AGENT_MAC + b"\x08\x00" + ip + udp


def flow_sample(seq, source_index, rate, pool, in_if, out_if, frame, wirelen, header):
    """One flow sample (enterprise 0, format 1) of one raw packet header."""
    taken = frame[:header]
    pad = b"\0" * (-len(taken) % 4)
    raw = struct.pack("!IIII", 1, wirelen + FCS, FCS, len(taken)) + taken + pad
    record = struct.pack("!II", 1, len(raw)) + raw
    body = struct.pack("!IIIIIIII", seq, source_index & 0xffffff, rate, pool, 0,
                       in_if & 0x3fffffff, out_if & 0x3fffffff, 1) + record
    return struct.pack("!II", 1, len(body)) + body


class Agent:
    """Packs samples into datagrams and writes them, in time order, as a
    pcap."""

    def __init__(self, out, first_ts, max_size, max_delay):
        self.out = out
        self.first_ts = first_ts
        self.max_size = max_size
        self.max_delay = max_delay
        self.seq = 0
        self.samples = []
        self.size = DATAGRAM_HEADER
        self.opened = None	# time of the first sample waiting
        self.last = None	# time of the last one
        out.write(struct.pack("<IHHiIII", 0xa1b23c4d, 2, 4, 0, 0, 65535, LINK_ETHERNET))

    def add(self, ts, sample):
        if self.samples and (self.size + len(sample) > self.max_size or
                             ts[0] + ts[1] / 1e9 - self.opened > self.max_delay):
            self.flush()
        if not self.samples:
            self.opened = ts[0] + ts[1] / 1e9
        if DATAGRAM_HEADER + len(sample) > self.max_size:
            raise ValueError("--max-size %d holds no sample of %d octets"
                             % (self.max_size, len(sample)))
        self.samples.append(sample)
        self.size += len(sample)
        self.last = ts

    def flush(self):
        if not self.samples:
            return
        # the timer fires max_delay after the first sample; the datagram
        # is stamped with whichever comes first, the timer or the last sample
        sec, nsec = self.last
        limit = self.opened + self.max_delay
        if sec + nsec / 1e9 > limit:
            sec = int(limit)
            nsec = int(round((limit - sec) * 1e9))
        self.seq += 1
        uptime = UPTIME_BASE_MS + int((sec + nsec / 1e9 - self.first_ts) * 1000)
        payload = struct.pack("!IIIIIII", 5, 1, struct.unpack("!I", AGENT)[0], 0, self.seq,
                              uptime & 0xffffffff, len(self.samples)) + b"".join(self.samples)
        frame = export_frame(payload, self.seq)
        self.out.write(struct.pack("<IIII", sec, nsec, len(frame), len(frame)) + frame)
        self.samples = []
        self.size = DATAGRAM_HEADER


def convert(src, dst, rate, seed, max_size, max_delay, in_if, out_if, header):
    rng = random.Random("sflowgen-%d" % seed)
    pool = 0
    taken = 0
    with open(dst, "wb") as out:
        agent = None
        for sec, nsec, frame, wirelen in read_pcap(src):
            if agent is None:
                agent = Agent(out, sec + nsec / 1e9, max_size, max_delay)
            pool += 1
            if rng.randrange(rate):
                continue
            taken += 1
            agent.add((sec, nsec), flow_sample(taken, in_if, rate, pool & 0xffffffff, in_if,
                                               out_if, frame, wirelen, header))
        if agent is None:
            Agent(out, 0, max_size, max_delay)	# an empty capture: the header only
        else:
            agent.flush()
    return pool, taken


def main():
    p = argparse.ArgumentParser(usage="sflowgen.py [options] IN.pcap OUT.pcap",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("src")
    p.add_argument("dst")
    p.add_argument("--rate", type=int, default=10)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--max-size", type=int, default=1400)
    p.add_argument("--max-delay", type=float, default=0.1)
    p.add_argument("--in-if", type=int, default=1)
    p.add_argument("--out-if", type=int, default=2)
    p.add_argument("--header", type=int, default=128)
    a = p.parse_args()
    checks = [("--rate", a.rate, 1, 1 << 32), ("--max-size", a.max_size, 64, 65507),
              ("--in-if", a.in_if, 0, 0x3fffffff), ("--out-if", a.out_if, 0, 0x3fffffff),
              ("--header", a.header, 14, 65535)]
    for name, value, low, high in checks:
        if not low <= value < high:
            print("sflowgen.py: %s %d: must be from %d to %d" % (name, value, low, high - 1),
                  file=sys.stderr)
            return 2
    if not 0 <= a.max_delay <= 3600:
        print("sflowgen.py: --max-delay %g: must be from 0 to 3600 seconds" % a.max_delay,
              file=sys.stderr)
        return 2
    try:
        pool, taken = convert(a.src, a.dst, a.rate, a.seed, a.max_size, a.max_delay,
                              a.in_if, a.out_if, a.header)
    except (OSError, ValueError) as e:
        print("sflowgen.py: %s" % e, file=sys.stderr)
        return 2
    print("%s: %d of %d packets sampled at 1:%d" % (a.dst, taken, pool, a.rate),
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
