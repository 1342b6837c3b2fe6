#!/usr/bin/env python3
"""System tests of the inputs (src/input/): a rotated set of 1,000 files
merged with a heap gives the same report as the one file it was cut from,
the merge keeps time order when --bpf skips a file's first packets, and
SIGINT or SIGTERM on standard input prints the report of what was read and
exits 128 + the signal.

usage: test_inputs.py PATH/TO/dnsradar
"""
import fcntl
import gzip
import json
import os
import random
import resource
import signal
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


if __name__ == "__main__":
    sys.exit(runner.main(globals(), "inputs"))
