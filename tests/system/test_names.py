#!/usr/bin/env python3
"""System tests of names of any octets in the report: `dnsradar analyze`
prints query names and registered domains with BIND's escapes (\\DDD for
octets outside 0x21-0x7e, \\. for a dot inside a label), cut to 60
characters with "..." in the text report and in full in JSON; `records`
prints them in full; and, where tshark is installed, the octets behind our
escapes are the ones tshark decodes.

usage: test_names.py PATH/TO/dnsradar
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("DR_SOURCE", os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.join(SOURCE, "tools"))
sys.path.insert(0, HERE)
import gencap  # noqa: E402
from test_tshark_diff import tshark_name  # noqa: E402

BIN = None
TMP = None

# A long name of binary labels under victim.example.co.uk, asked most.
LONG = [b"\x00\x01bin\xff", b"abc.def", b"\xc3\xa9t\xc3\xa9", b"x" * 30, b"y" * 20,
        b"victim", b"example", b"co", b"uk"]
LONG_TEXT = ("\\000\\001bin\\255.abc\\.def.\\195\\169t\\195\\169." + "x" * 30 + "." +
             "y" * 20 + ".victim.example.co.uk")
# A short one with a dot inside a label and upper case (folded in tables).
DOTTED = [b"Www", b"a.b", b"Example", b"COM"]
DOTTED_TEXT = "www.a\\.b.example.com"


def capture():
    path = os.path.join(TMP, "names.pcap")
    out = gencap.Pcap(path)
    t = 1700200000.0
    client, server = [10, 1, 2, 3], [192, 0, 2, 53]
    for i in range(50):
        for labels in [LONG] * 3 + [DOTTED]:
            q = gencap.dns_query(i, labels, 1)
            gencap.exchange(out, t, client, server, 40000 + i, q,
                            gencap.dns_response(q, rcode=3), 0.001)
            t += 0.01
    out.close()
    return path


def run(*args):
    p = subprocess.run([BIN] + list(args), capture_output=True)
    assert p.returncode == 0, (args, p.returncode, p.stderr)
    return p.stdout.decode("utf-8", "surrogateescape")


def table_rows(text, title):
    """The key column of a text table, in rank order."""
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith(title))
    rows = []
    for line in lines[at + 2:]:
        if not line.startswith("  ") or not line.strip():
            break
        rows.append(line.split()[1])
    return rows


def test_text_cut_and_escaped():
    path = capture()
    text = run("analyze", "--no-progress", path)
    assert all(ch == "\n" or " " <= ch <= "~" for ch in text), "raw octets in the report"
    names = table_rows(text, "Top query names")
    assert len(names) == 2, names
    shown = names[0]
    assert len(shown) <= 60 and "..." in shown, shown
    head, tail = shown.split("...")
    assert LONG_TEXT.startswith(head) and LONG_TEXT.endswith(tail), shown
    assert tail.endswith(".victim.example.co.uk"), shown
    # never cut inside an escape: both sides end/start on whole characters
    assert not head.endswith("\\") and not head[-3:].startswith("\\"), head
    assert names[1] == DOTTED_TEXT, names
    domains = table_rows(text, "Top registered domains")
    assert domains == ["example.co.uk", "example.com"], domains


def test_json_in_full():
    path = capture()
    doc = json.loads(run("analyze", "--no-progress", "--format", "json", path))
    keys = [r["key"] for r in doc["top"]["qnames"]["rows"]]
    assert keys == [LONG_TEXT, DOTTED_TEXT], keys
    domains = [r["key"] for r in doc["top"]["domains"]["rows"]]
    assert domains == ["example.co.uk", "example.com"], domains


def test_records_and_tshark():
    path = capture()
    recs = [json.loads(line) for line in run("records", "--no-progress", path).splitlines()]
    assert recs[0]["qname"] == LONG_TEXT, recs[0]["qname"]
    assert recs[6]["qname"] == "Www.a\\.b.Example.COM", recs[6]["qname"]
    if not shutil.which("tshark"):
        print("SKIP tshark comparison: tshark not installed")
        return
    out = subprocess.run(["tshark", "-n", "-r", path, "-T", "fields", "-e", "dns.qry.name",
                          "-c", "8"], capture_output=True, check=True)
    theirs = out.stdout.decode("utf-8", "surrogateescape").splitlines()
    for frame, (ours, shown) in enumerate(zip(recs, theirs), 1):
        assert tshark_name(ours["qname"]) == shown, (frame, ours["qname"], shown)


def main():
    global BIN, TMP
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    BIN = os.path.abspath(sys.argv[1])
    TMP = tempfile.mkdtemp(prefix="dnsradar-names-")
    passed = failed = 0
    for name, fn in sorted(globals().items()):
        if name.startswith("test_") and callable(fn):
            try:
                fn()
                passed += 1
                print("ok   %s" % name)
            except Exception:
                failed += 1
                print("FAIL %s" % name)
                traceback.print_exc()
    shutil.rmtree(TMP, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
