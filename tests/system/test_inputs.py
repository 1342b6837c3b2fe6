#!/usr/bin/env python3
"""System tests of the inputs (src/input/): a rotated set of 1,000 files
merged with a heap gives the same report as the one file it was cut from,
the merge keeps time order when --bpf skips a file's first packets,
SIGINT or SIGTERM on standard input prints the report of what was read and
exits 128 + the signal, and collect's report shows its sockets: what each
received, what the kernel dropped (a warning), a receive buffer smaller
than asked for (a warning). Loopback only.

usage: test_inputs.py PATH/TO/dnsradar
"""
import fcntl
import gzip
import json
import os
import random
import re
import resource
import shutil
import signal
import socket
import struct
import subprocess
import sys
import termios
import time

import runner  # tests/system/runner.py: the shared main

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("DR_SOURCE", os.path.dirname(os.path.dirname(HERE)))
SAMPLE = os.path.join(SOURCE, "samples", "sample.pcap")
BIN = None
TMP = None


def read_pcap(path):
    """The file header and the records (16-octet header + data) of a
    classic little-endian pcap file."""
    with open(path, "rb") as f:
        data = f.read()
    header, off, recs = data[:24], 24, []
    while off < len(data):
        caplen = struct.unpack("<I", data[off + 8:off + 12])[0]
        recs.append(data[off:off + 16 + caplen])
        off += 16 + caplen
    return header, recs


def write_pcap(path, header, recs):
    with open(path, "wb") as f:
        f.write(header)
        for r in recs:
            f.write(r)
    return path


def run(*args, **kw):
    p = subprocess.run([BIN] + list(args), capture_output=True, **kw)
    return p.returncode, p.stdout.decode("utf-8", "surrogateescape"), \
        p.stderr.decode("utf-8", "replace")


def report(paths, *flags, **kw):
    rc, out, err = run("analyze", "--no-progress", "--format", "json", *flags, *paths, **kw)
    assert rc == 0, (rc, err)
    doc = json.loads(out)
    del doc["summary"]["files"]	# the only field that names the input
    return doc


# ---- the merge ---------------------------------------------------------

def test_rotated_set_of_1000_files():
    """The sample cut into 1,000 consecutive files, named in a shuffled
    order, gives the JSON report of the sample itself, with at most 32 file
    descriptors (a file is open only while the merge is inside it)."""
    header, recs = read_pcap(SAMPLE)
    n = 1000
    assert len(recs) >= n
    d = os.path.join(TMP, "rot1000")
    os.mkdir(d)
    paths = []
    for i in range(n):
        piece = recs[i * len(recs) // n:(i + 1) * len(recs) // n]
        paths.append(write_pcap(os.path.join(d, "r%04d.pcap" % i), header, piece))
    random.Random(7).shuffle(paths)
    limit = lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (32, 32))
    for threads in ("1", "2"):
        whole = report([SAMPLE], "--threads", threads)
        merged = report(paths, "--threads", threads, preexec_fn=limit)
        assert merged == whole, threads
    # records: every message once, in time order, with its file and frame
    rc, out, err = run("records", "--no-progress", *paths, preexec_fn=limit)
    assert rc == 0, err
    lines = [json.loads(x) for x in out.splitlines()]
    assert len(lines) == len(recs)
    assert [r["ts"] for r in lines] == sorted(r["ts"] for r in lines)
    first = lines[0]
    assert paths[first["file"]].endswith("r0000.pcap") and first["frame"] == 1


def test_merge_order_with_bpf_skipping_first_packets():
    """A file whose first packets the filter rejects competes with its
    first packet that passes, not with the rejected one: file b's first
    packet (earliest of all) is filtered out, so a's packets, all earlier
    than b's second, come first."""
    header, recs = read_pcap(SAMPLE)
    # Messages to or from one resolver address, and one that is not.
    rc, out, _ = run("records", "--no-progress", SAMPLE)
    msgs = [json.loads(x) for x in out.splitlines()]
    keep = "198.51.100.53"
    assert rc == 0 and len(msgs) == len(recs)
    is_kept = [keep in (m["src"], m["dst"]) for m in msgs]
    first_out = is_kept.index(False)
    kept = [i for i, k in enumerate(is_kept) if k and i > first_out]
    a_idx, b_late = kept[:20], kept[20]
    a = write_pcap(os.path.join(TMP, "bpf-a.pcap"), header, [recs[i] for i in a_idx])
    b = write_pcap(os.path.join(TMP, "bpf-b.pcap"), header,
                   [recs[first_out], recs[b_late]])
    rc, out, err = run("records", "--no-progress", "--bpf", "host " + keep, a, b)
    assert rc == 0, err
    got = [json.loads(x) for x in out.splitlines()]
    assert len(got) == 21
    assert [r["ts"] for r in got] == sorted(r["ts"] for r in got), \
        [(r["file"], r["ts"]) for r in got][:3]
    assert got[-1]["file"] == 1 and got[-1]["frame"] == 2


# ---- signals -----------------------------------------------------------

def interrupted_run(args, sig, data):
    """Starts dnsradar ARGS - with its standard input a pipe kept open,
    writes data, waits until dnsradar has taken every byte out of the pipe,
    then sends sig. Returns (exit status, stdout, stderr)."""
    p = subprocess.Popen([BIN] + args + ["--no-progress", "-"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        p.stdin.write(data)
        p.stdin.flush()
        left = bytearray(4)
        deadline = time.time() + 30
        while True:	# bytes still in the pipe (FIONREAD works on either end)
            fcntl.ioctl(p.stdin.fileno(), termios.FIONREAD, left)
            if struct.unpack("i", left)[0] == 0 or time.time() > deadline:
                break
            time.sleep(0.01)
        time.sleep(0.2)	# and it waits in its next read
        p.send_signal(sig)
        out, err = p.communicate(timeout=30)	# closes stdin only after
    finally:
        if p.poll() is None:
            p.kill()
    return p.returncode, out.decode("utf-8", "surrogateescape"), err.decode("utf-8", "replace")


def test_signal_prints_the_report_of_what_was_read():
    """analyze reading a pipe that stays open: SIGINT gives the report of
    every packet written, marked interrupted, and exit 130; SIGTERM 143.
    The same on one thread and two, and for a gzip stream."""
    with open(SAMPLE, "rb") as f:
        data = f.read()
    _, recs = read_pcap(SAMPLE)
    whole = report([SAMPLE])
    assert whole.pop("warnings") == [] and whole.pop("warning_codes") == []
    for sig, status, name in ((signal.SIGINT, 130, "SIGINT"), (signal.SIGTERM, 143, "SIGTERM")):
        for threads, payload in (("1", data), ("2", data), ("2", gzip.compress(data))):
            rc, out, err = interrupted_run(["analyze", "--format", "json", "--threads", threads],
                                           sig, payload)
            assert rc == status, (name, threads, rc, err)
            assert err == "", err
            doc = json.loads(out)
            assert doc["summary"]["packets"] == len(recs), doc["summary"]
            assert doc.get("interrupted") == name, doc.get("interrupted")
            assert [w["code"] for w in doc["warning_codes"]] == ["interrupted"], doc["warnings"]
            assert doc["warnings"][0].startswith("interrupted by " + name), doc["warnings"]
            del doc["interrupted"], doc["summary"]["files"]
            del doc["warnings"], doc["warning_codes"]
            assert doc == whole	# nothing read was lost
    rc, out, err = interrupted_run(["analyze"], signal.SIGINT, data)
    assert rc == 130, (rc, err)
    head = out.splitlines()[:4]
    assert any("interrupted by SIGINT" in line for line in head), head


def test_signal_records():
    """records: every message read is printed, one line on stderr says the
    input was interrupted, exit 128 + the signal."""
    with open(SAMPLE, "rb") as f:
        data = f.read()
    _, recs = read_pcap(SAMPLE)
    for sig, status in ((signal.SIGINT, 130), (signal.SIGTERM, 143)):
        rc, out, err = interrupted_run(["records"], sig, data)
        assert rc == status, (rc, err)
        assert len(out.splitlines()) == len(recs)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and "interrupted" in lines[0], err


def test_signal_before_any_packet():
    """Nothing written yet: the report of nothing, exit 143."""
    rc, out, err = interrupted_run(["analyze", "--format", "json"], signal.SIGTERM, b"")
    assert rc == 143, (rc, err)
    doc = json.loads(out)
    assert doc["summary"]["packets"] == 0 and doc["interrupted"] == "SIGTERM"


# ---- collect's sockets -----------------------------------------------------

def collect_start(port, *flags):
    """dnsradar collect --listen 127.0.0.1:port, returned once it holds the
    port (a socket of ours can no longer bind it: collect sets no
    SO_REUSEADDR)."""
    p = subprocess.Popen([BIN, "collect", "--listen", "127.0.0.1:%d" % port] + list(flags),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_bound(p, port)
    return p


def wait_bound(p, port):
    deadline = time.time() + 10
    while time.time() < deadline and p.poll() is None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return
        time.sleep(0.02)
    p.kill()
    out, err = p.communicate()
    raise AssertionError("collect did not bind 127.0.0.1:%d: %s" % (port, err.decode()))


def collect_stop(p):
    """SIGINT: collect prints its report; (stdout, stderr)."""
    p.send_signal(signal.SIGINT)
    try:
        out, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 130, (p.returncode, err)
    return out.decode(), err.decode()


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def netflow5(seq):
    """A NetFlow v5 datagram of one flow record (72 octets)."""
    head = struct.pack(">HHIIIIBBH", 5, 1, 1000, 1700000000, 0, seq, 0, 0, 0)
    rec = struct.pack(">4s4s4sHHIIIIHHBBBBHHBBH", socket.inet_aton("192.0.2.1"),
                      socket.inet_aton("198.51.100.1"), bytes(4), 0, 0, 1, 100, 0, 0,
                      53, 40000, 0, 0, 17, 0, 0, 0, 0, 0, 0)
    return head + rec


def flooded_collect(fmt, sent=2000):
    """collect with a tiny receive buffer, stopped (SIGSTOP) while sent
    datagrams arrive, then let go and interrupted: (port, stdout)."""
    port = free_udp_port()
    p = collect_start(port, "--rcvbuf", "4096", "--format", fmt)
    try:
        p.send_signal(signal.SIGSTOP)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for i in range(sent):
                s.sendto(netflow5(i), ("127.0.0.1", port))
        time.sleep(0.2)
        p.send_signal(signal.SIGCONT)
        time.sleep(1.0)	# it reads what the buffer kept, and finds the queue dry
        out, err = collect_stop(p)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    return port, out


def test_collect_socket_drops():
    """Datagrams the kernel dropped while collect could not read are
    counted per socket, the report shows them (JSON flows.sockets, a text
    row) and warns; received and dropped make up all that was sent."""
    sent = 2000
    port, out = flooded_collect("json", sent)
    doc = json.loads(out)
    name = "127.0.0.1:%d" % port
    socks = doc["flows"]["sockets"]
    assert [k["address"] for k in socks] == [name], socks
    k = socks[0]
    assert k["drops"] > 0 and k["datagrams"] > 0, k
    assert k["datagrams"] + k["drops"] == sent, k
    assert k["octets"] == k["datagrams"] * len(netflow5(0)), k
    assert k["truncated"] == 0 and 0 < k["rcvbuf"] < 65536, k
    codes = [w for w in doc["warning_codes"] if w["code"] == "socket_drops"]
    assert codes == [{"code": "socket_drops", "count": k["drops"], "address": name,
                      "rcvbuf": k["rcvbuf"]}], doc["warning_codes"]
    said = [w for w in doc["warnings"] if "dropped by the kernel" in w]
    assert len(said) == 1 and name in said[0] and "raise --rcvbuf and net.core.rmem_max" \
        in said[0] and said[0].startswith("{:,} export datagrams".format(k["drops"])), said

    port, out = flooded_collect("text", sent)
    name = "127.0.0.1:%d" % port
    lines = out.splitlines()
    flows = lines[lines.index("Flow exports"):]
    head = next(i for i, l in enumerate(flows) if l.split()[:1] == ["socket"])
    assert flows[head].split() == ["socket", "datagrams", "octets", "kernel", "drops",
                                   "rcvbuf"], flows[head]
    row = flows[head + 1].split()
    assert row[0] == name, row
    got, drops = int(row[1].replace(",", "")), int(row[4].replace(",", ""))
    assert drops > 0 and got + drops == sent, row
    assert re.fullmatch(r"\d+(\.\d)? (B|KiB)", " ".join(row[5:])), row
    warned = [l for l in lines if "dropped by the kernel on " + name in l]
    assert len(warned) == 1 and warned[0].strip().startswith("{:,} ".format(drops)), warned


def test_collect_receive_buffer_note():
    """A receive buffer above net.core.rmem_max without CAP_NET_ADMIN is
    cut by the kernel: the report warns and says what to raise; a socket
    that received nothing still has its row."""
    try:
        with open("/proc/sys/net/core/rmem_max") as f:
            rmem_max = int(f.read())
    except (OSError, ValueError):
        print("SKIP test_collect_receive_buffer_note: net.core.rmem_max unreadable")
        return
    if rmem_max > 1 << 28:
        print("SKIP test_collect_receive_buffer_note: net.core.rmem_max is %d, above "
              "what --rcvbuf can ask beyond" % rmem_max)
        return
    # without CAP_NET_ADMIN (as root, setpriv takes it away) SO_RCVBUFFORCE
    # is refused and the kernel caps the buffer at rmem_max
    prefix = []
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            print("SKIP test_collect_receive_buffer_note: root, and no setpriv to drop "
                  "CAP_NET_ADMIN")
            return
        prefix = ["setpriv", "--bounding-set=-net_admin"]
    port = free_udp_port()
    p = subprocess.Popen(prefix + [BIN, "collect", "--listen", "127.0.0.1:%d" % port,
                                   "--rcvbuf", str(rmem_max * 4), "--format", "json"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_bound(p, port)
        out, err = collect_stop(p)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    doc = json.loads(out)
    name = "127.0.0.1:%d" % port
    k = doc["flows"]["sockets"]
    assert len(k) == 1 and k[0]["address"] == name and k[0]["datagrams"] == 0, k
    assert 0 < k[0]["rcvbuf"] < rmem_max * 4, k
    codes = [w for w in doc["warning_codes"] if w["code"] == "receive_buffer"]
    assert len(codes) == 1, doc["warning_codes"]
    said = [w for w in doc["warnings"] if "net.core.rmem_max" in w]
    assert len(said) == 1 and said[0].startswith(name + ": the kernel gave"), doc["warnings"]


if __name__ == "__main__":
    sys.exit(runner.main(globals(), "inputs"))
