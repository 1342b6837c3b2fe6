#!/usr/bin/env python3
"""Settings errors of the dnsradar binary: every bad --set, --config and
MaxMind database gives exit status 2 and one line on stderr naming the
setting (file and line for a config file) and what is allowed; a capacity
too large for memory is refused before anything is allocated; --thresholds
prints the values in force after every --config and --set.

usage: test_settings.py PATH/TO/dnsradar
"""
import os
import re
import subprocess
import sys

import runner  # tests/system/runner.py: the shared main

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("DR_SOURCE", os.path.dirname(os.path.dirname(HERE)))
SHARED = os.environ.get("DR_SHARED", os.path.join(SOURCE, "..", "shared"))
MMDB = os.path.join(SHARED, "data", "maxmind-db")
SAMPLE = os.path.join(SOURCE, "samples", "sample.pcap")
BIN = None
TMP = None


def run(*args):
    # A guard, not a measurement: the bug this replaces spun forever.
    p = subprocess.run([BIN, "analyze", "--no-progress"] + list(args),
                       capture_output=True, timeout=120)
    return p.returncode, p.stdout.decode("utf-8", "replace"), \
        p.stderr.decode("utf-8", "replace")


def refused(args, *needles):
    rc, out, err = run(*args)
    assert rc == 2, (args, rc, err)
    assert out == "", (args, out)
    lines = err.strip().splitlines()
    assert len(lines) == 1, "expected one line on stderr for %r, got %r" % (args, err)
    for n in needles:
        assert n in lines[0], "%r not in %r" % (n, lines[0])
    return lines[0]


def conf(name, text):
    path = os.path.join(TMP, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def mem_total():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no MemTotal in /proc/meminfo")


# ---- --set -------------------------------------------------------------

def test_set_out_of_range():
    for assignment, why in [
            ("reflection.top_share=2", "a share from 0 to 1"),
            ("flood.junk_share=-0.5", "a share from 0 to 1"),
            ("flood.source_pps=-1", "a rate from 0 to 1000000000 packets/s"),
            ("flood.source_pps=lots", "a rate from 0 to 1000000000 packets/s"),
            ("flood.min_seconds=0", "a whole number of seconds from 1 to 86400"),
            ("loop.min_seconds=4294967297", "a whole number of seconds from 1 to 86400"),
            ("amplification.min_reflectors=33", "a whole number of reflectors from 1 to 32"),
            ("reflection.min_size=100000", "a size from 0 to 65535 octets"),
            ("random_subdomain.min_distinct=0.5", "a whole number of names"),
            ("loop.enabled=perhaps", "0 or 1"),
    ]:
        refused(["--set", assignment, SAMPLE], "dnsradar: --set %s: %s" % (assignment, why))


def test_set_unknown():
    refused(["--set", "flood.nope=1", SAMPLE],
            "--set flood.nope=1: flood has no threshold 'nope'; it has source_pps",
            "sources, targets and enabled")
    refused(["--set", "floods.sources=1", SAMPLE], "--set floods.sources=1: no detector "
            "'floods'; there are reflection, amplification, random_subdomain, flood and loop")
    refused(["--set", "sources=1", SAMPLE], "--set sources=1", "reflection, amplification")


def test_capacity_wraps_and_memory():
    """Capacities of 2^32 and up wrapped to small tables; 999999999999
    spun at 100% CPU forever sizing its hash index. Both are refused."""
    for v in ("4294967296", "4294967297", "999999999999", "1e30"):
        refused(["--set", "flood.sources=" + v, SAMPLE],
                "--set flood.sources=%s: a whole number of sources from 1 to " % v)
    refused(["--set", "flood.sources=0", SAMPLE], "a whole number of sources from 1")
    refused(["--set", "loop.conversations=1.5", SAMPLE], "a whole number of conversations")
    # within the ceiling of 2^28 entries, above the memory of this machine
    # (a zone costs over a kilobyte: 2^28 of them, 300 GiB and more)
    if mem_total() < (1 << 28) * 1024:
        refused(["--set", "random_subdomain.zones=268435456", SAMPLE],
                "--set random_subdomain.zones=268435456: needs ", "GiB for its table; at most ",
                " zones fit in the memory budget")
    else:
        print("SKIP the memory refusal: this machine has %d octets" % mem_total())


def most_that_fit(setting, unit):
    """The largest capacity the validator lets one table have, from its
    own refusal of the ceiling; None when the ceiling fits."""
    rc, out, err = run("--set", "%s=%d" % (setting, 1 << 28), SAMPLE)
    m = re.search(r"at most (\d+) %s fit" % unit, err)
    return int(m.group(1)) if rc == 2 and m else None


def test_tables_together():
    """Each capacity fits, all of them together do not."""
    sources = most_that_fit("flood.sources", "sources")
    responders = most_that_fit("reflection.responders", "responders")
    if not sources or not responders:
        print("SKIP tables together: too much memory here")
        return
    # nine tenths of the budget each: each fits, the two do not
    refused(["--set", "flood.sources=%d" % (sources * 9 // 10), "--set",
             "reflection.responders=%d" % (responders * 9 // 10), SAMPLE],
            "the detectors' tables need ", "more than the memory budget")


# ---- --config ----------------------------------------------------------

def test_config_errors():
    refused(["--config", TMP, SAMPLE], "dnsradar: %s: is a directory" % TMP)
    refused(["--config", os.path.join(TMP, "absent.conf"), SAMPLE],
            "absent.conf: No such file or directory")
    # a file that opens but cannot be read
    refused(["--config", "/proc/self/mem", SAMPLE], "/proc/self/mem: cannot read it")
    if os.geteuid() != 0:
        path = conf("secret.conf", "flood.sources = 10\n")
        os.chmod(path, 0)
        refused(["--config", path, SAMPLE], "secret.conf: Permission denied")
    else:
        print("SKIP an unreadable config file: root reads every file")
    path = conf("range.conf", "# comment\nflood.sources = 100\nreflection.top_share = 2\n")
    refused(["--config", path, SAMPLE], "dnsradar: %s:3: reflection.top_share = 2: a share "
            "from 0 to 1" % path)
    path = conf("twice.conf", "local = 10.0.0.0/8\nlocal = 10.1.0.0/16\n"
                "flood.sources = 100\nflood.sources=200\n")
    refused(["--config", path, SAMPLE], "%s:4: flood.sources = 200: given twice in one file "
            "(first on line 3)" % path)
    path = conf("long.conf", "flood.source_pps = 1\nflood.sources = %s\n" % ("1" * 600))
    refused(["--config", path, SAMPLE], "%s:2: line longer than 510 characters" % path)
    path = conf("unknown.conf", "colour = red\n")
    refused(["--config", path, SAMPLE], "%s:1: colour = red: no setting 'colour'; a config "
            "file takes local, resolver, authoritative, geoip, asn" % path)
    path = conf("detector.conf", "flood.nope = 1\n")
    refused(["--config", path, SAMPLE], "%s:1: flood.nope = 1: flood has no threshold 'nope'"
            % path)
    path = conf("huge.conf", "flood.sources = 999999999999\n")
    refused(["--config", path, SAMPLE], "%s:1: flood.sources = 999999999999: a whole number "
            "of sources from 1 to " % path)


# ---- --thresholds ------------------------------------------------------

def values(out):
    rows = [line.split() for line in out.splitlines() if line.startswith("  ")]
    return {r[0]: r[1] for r in rows}


def test_thresholds_after_every_setting():
    """--thresholds shows what is in force after all of --config and --set,
    wherever it stands among them."""
    path = conf("ok.conf", "flood.sources = 100\nflood.source_pps = 300\nloop.enabled = 0\n")
    for args in (["--thresholds", "--config", path, "--set", "flood.source_pps=400"],
                 ["--config", path, "--thresholds", "--set", "flood.source_pps=400"],
                 ["--config", path, "--set", "flood.source_pps=400", "--thresholds"]):
        rc, out, err = run(*args)
        assert rc == 0, (args, err)
        v = values(out)
        assert v["flood.sources"] == "100", args
        assert v["flood.source_pps"] == "400", args
        assert "loop: " in out and "(disabled)" in out.split("loop: ")[1].splitlines()[0]
    # and a bad setting after it is still refused
    refused(["--thresholds", "--set", "reflection.top_share=2"], "a share from 0 to 1")
    rc, out, _ = run("--thresholds")
    assert "reflection.top_share               0.5      " in out
    assert "(a share from 0 to 1)" in out


def test_kinds_documented():
    """docs/detectors.md gives every threshold the kind its validator holds
    it to."""
    rc, out, _ = run("--thresholds")
    assert rc == 0
    with open(os.path.join(SOURCE, "docs", "detectors.md")) as f:
        doc = f.read()
    words = {"a rate": "rate", "a share": "share", "a factor": "factor", "a size": "octets",
             "a whole number of seconds": "whole seconds"}
    for line in out.splitlines():
        if not line.startswith("  "):
            continue
        name, allowed = line.split()[0], line[line.rindex("(a ") + 1:]
        kind = [w for p, w in words.items() if allowed.startswith(p)]
        kind = kind[0] if kind else "capacity" if "memory budget" in allowed or \
            allowed.startswith("a whole number of") and name.split(".")[1] in (
                "responders", "destinations", "zones", "sources", "targets",
                "conversations") else "count"
        assert "| `%s` | " % name in doc, name
        row = doc.split("| `%s` | " % name)[1].split("\n")[0]
        assert row.split(" | ")[1].startswith(kind), (name, kind, row)


def test_decode_settings():
    """The decoder's settings go through the same validator, in --set and
    config files, and take effect (its memory budget in --stats)."""
    refused(["--set", "decode.frag_memory=1", SAMPLE],
            "--set decode.frag_memory=1: a whole number of octets from 65536 to 4294967295")
    refused(["--set", "decode.frag_timeout=0", SAMPLE],
            "--set decode.frag_timeout=0: a whole number of seconds from 1 to 3600")
    refused(["--set", "decode.frags=1", SAMPLE],
            "the decoder has no setting 'frags'; it has frag_sets, frag_memory")
    path = conf("decode.conf", "decode.frag_memory = 65536\ndecode.tcp_memory = 65536\n")
    rc, small, _ = run("--stats", "--config", path, SAMPLE)
    assert rc == 0
    rc, full, _ = run("--stats", SAMPLE)
    assert rc == 0
    budget = lambda out: [l for l in out.splitlines() if l.strip().startswith("decoder")][0]
    assert budget(small) != budget(full), (budget(small), budget(full))
    rc, out, _ = run("--set", "decode.tcp_idle=30", "--thresholds")
    assert rc == 0 and re.search(r"decode\.tcp_idle +30 ", out), out


# ---- MaxMind databases -------------------------------------------------

def test_geo_kinds():
    if not os.path.isdir(MMDB):
        print("SKIP ../shared/data/maxmind-db is absent")
        return
    asn = os.path.join(MMDB, "GeoLite2-ASN-Test.mmdb")
    country = os.path.join(MMDB, "GeoIP2-Country-Test.mmdb")
    lite = os.path.join(MMDB, "GeoLite2-Country-Test.mmdb")
    refused(["--geoip", asn, SAMPLE], "--geoip %s: a 'GeoLite2-ASN' database" % asn,
            "wants a country database")
    refused(["--asn", country, SAMPLE], "--asn %s: a 'GeoIP2-Country' database" % country,
            "wants an ASN database")
    refused(["--asn", lite, SAMPLE], "'GeoLite2-Country'", "wants an ASN database")
    path = conf("geo.conf", "asn = %s\ngeoip = %s\n" % (asn, asn))
    refused(["--config", path, SAMPLE], "%s:2: geoip = %s: a 'GeoLite2-ASN' database" %
            (path, asn))
    rc, _, err = run("--geoip", country, "--asn", asn, SAMPLE)
    assert rc == 0, err
    rc, _, err = run("--geoip", lite, SAMPLE)
    assert rc == 0, err
    refused(["--geoip", TMP, SAMPLE], "--geoip %s: " % TMP)


if __name__ == "__main__":
    sys.exit(runner.main(globals(), "settings"))
