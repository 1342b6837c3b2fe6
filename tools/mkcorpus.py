#!/usr/bin/env python3
"""Seeds the fuzz corpora from captures the project generates itself.

  mkcorpus.py CAPTURE_DIR FUZZ_CORPUS_DIR

fuzz/corpus/dns gets each frame's UDP/TCP payload bytes past the IP and
transport headers (most are DNS messages); fuzz/corpus/packet gets each
capture as the packet target's input: one byte of link type index, then
frames each preceded by a 2-byte length.
"""
import hashlib
import os
import struct
import sys

LINK_INDEX = {1: 0, 113: 1, 276: 2, 101: 3, 0: 4}


def frames(path):
    data = open(path, "rb").read()
    link = struct.unpack("<I", data[20:24])[0]
    off = 24
    out = []
    while off + 16 <= len(data):
        caplen = struct.unpack("<I", data[off + 8:off + 12])[0]
        out.append(data[off + 16:off + 16 + caplen])
        off += 16 + caplen
    return link, out


def dns_payload(frame, link):
    p = {1: 14, 113: 16, 276: 20, 101: 0, 0: 4}.get(link, 14)
    if link == 1:
        while frame[p - 2:p] in (b"\x81\x00", b"\x88\xa8"):
            p += 4
    ip = frame[p:]
    if not ip:
        return None
    if ip[0] >> 4 == 4:
        hl, proto = (ip[0] & 15) * 4, ip[9]
    elif ip[0] >> 4 == 6:
        hl, proto = 40, ip[6]
    else:
        return None
    l4 = ip[hl:]
    if proto == 17:
        return l4[8:]
    if proto == 6 and len(l4) >= 20:
        return l4[(l4[12] >> 4) * 4 + 2:]
    return None


def save(directory, blob):
    os.makedirs(directory, exist_ok=True)
    name = hashlib.sha1(blob).hexdigest()[:16]
    with open(os.path.join(directory, name), "wb") as f:
        f.write(blob)


def main():
    src, dst = sys.argv[1], sys.argv[2]
    for f in sorted(os.listdir(src)):
        if not f.endswith(".pcap"):
            continue
        link, fr = frames(os.path.join(src, f))
        blob = bytes([LINK_INDEX.get(link, 0)])
        for frame in fr:
            blob += struct.pack("!H", len(frame)) + frame
            payload = dns_payload(frame, link)
            if payload:
                save(os.path.join(dst, "dns"), payload)
        save(os.path.join(dst, "packet"), blob)


if __name__ == "__main__":
    main()
