#!/usr/bin/env python3
"""Debian's fail2ban-regex with contrib/fail2ban/filter.d/dnsradar.conf on
an alert log written by the service's outputs (tests/tools/alertlog: an
alert of every type, open, update and close): exactly the flood sources
and loop peers match, once each, at their open event's "detected" time;
amplification victims, reflectors, zones and flood targets never match,
nor do names and payloads crafted to look like a banned line. The jail
passes fail2ban-client's configuration test.

usage: test_fail2ban.py PATH/TO/alertlog
"""
import json
import os
import re
import shutil
import subprocess
import sys

import runner

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("DR_SOURCE", os.path.dirname(os.path.dirname(HERE)))
CONTRIB = os.path.join(SOURCE, "contrib", "fail2ban")
FILTER = os.path.join(CONTRIB, "filter.d", "dnsradar.conf")
JAIL = os.path.join(CONTRIB, "jail.d", "dnsradar.conf")
T0 = 1764590000.0
TIMEOUT = 60


def have(tool):
    if shutil.which(tool):
        return True
    print("SKIP %s not installed (scripts/install-deps.sh installs fail2ban)" % tool)
    return False


def write_log():
    """The log and what alertlog says of each alert: [(ban, type, key, detected)]."""
    log = os.path.join(TMP, "alerts.log")
    if os.path.exists(log):
        os.unlink(log)
    out = subprocess.run([BIN, log, "%.6f" % T0], capture_output=True, text=True,
                         timeout=TIMEOUT, check=True).stdout
    alerts = []
    for line in out.splitlines():
        ban, kind, key, detected = line.split()
        alerts.append((ban == "ban", kind, key, float(detected)))
    return log, alerts


def test_log_is_the_event_contract():
    log, alerts = write_log()
    with open(log, encoding="utf-8") as f:
        lines = f.read().splitlines()
    assert len(lines) == 3 * len(alerts), (len(lines), len(alerts))
    seen = {}
    for line in lines:
        ev = json.loads(line)
        assert set(ev) == {"event", "alert"}, ev.keys()
        a = ev["alert"]
        for k in ("type", "key", "start", "end", "detected", "severity", "packets", "bytes",
                  "peak_pps", "peak_bps", "evidence"):
            assert k in a, (k, line[:200])
        seen.setdefault((a["type"], a["key"]), []).append(ev["event"])
    for _, kind, key, _ in alerts:
        assert seen[(kind, key)] == ["open", "update", "close"], (kind, key, seen[(kind, key)])


def test_filter_matches_attackers_only():
    if not have("fail2ban-regex"):
        return
    log, alerts = write_log()
    p = subprocess.run(["fail2ban-regex", "-o", "<time> <ip>", log, FILTER],
                       capture_output=True, text=True, timeout=TIMEOUT)
    assert p.returncode == 0, p.stderr
    matched = []
    for line in p.stdout.splitlines():
        t, ip = line.split()
        matched.append((ip, float(t)))
    want = sorted((key, detected) for ban, _, key, detected in alerts if ban)
    assert len(want) >= 3, want
    assert sorted(matched) == want, "matched %s, want %s" % (sorted(matched), want)
    # Never a victim, our own host, a zone or a flood's target.
    keep = {key for ban, _, key, _ in alerts if not ban}
    assert not keep & {ip for ip, _ in matched}, keep & {ip for ip, _ in matched}


def test_every_line_dated():
    """fail2ban ignores lines it finds no time in, and counts findtime from
    the time it finds: every line must give its "detected"."""
    if not have("fail2ban-regex"):
        return
    log, alerts = write_log()
    p = subprocess.run(["fail2ban-regex", log, FILTER], capture_output=True, text=True,
                       timeout=TIMEOUT)
    assert p.returncode == 0, p.stderr
    n = 3 * len(alerts)
    bans = sum(1 for a in alerts if a[0])
    hits = re.search(r"^\|\s+\[(\d+)\] \"detected\":\{EPOCH\}$", p.stdout, re.M)
    assert hits and int(hits.group(1)) == n, p.stdout
    lines = re.search(r"^Lines: (\d+) lines, (\d+) ignored, (\d+) matched, (\d+) missed",
                      p.stdout, re.M)
    assert lines, p.stdout
    assert tuple(map(int, lines.groups())) == (n, 0, bans, n - bans), lines.group(0)


def test_jail_config():
    if not have("fail2ban-client") or not os.path.isdir("/etc/fail2ban"):
        return
    log, _ = write_log()
    conf = os.path.join(TMP, "fail2ban")
    if os.path.exists(conf):
        shutil.rmtree(conf)
    shutil.copytree("/etc/fail2ban", conf, ignore=shutil.ignore_patterns("jail.d", "*.local"))
    os.makedirs(os.path.join(conf, "jail.d"))
    shutil.copy(FILTER, os.path.join(conf, "filter.d"))
    with open(JAIL, encoding="utf-8") as f:
        jail = f.read()
    assert re.search(r"^maxretry\s*=\s*1$", jail, re.M), "maxretry must be 1"
    assert re.search(r"^action\s*=\s*nftables\[", jail, re.M), "the jail bans with nftables"
    jail = re.sub(r"^logpath\s*=.*$", "logpath   = " + log, jail, flags=re.M)
    with open(os.path.join(conf, "jail.d", "dnsradar.conf"), "w", encoding="utf-8") as f:
        f.write(jail)
    p = subprocess.run(["fail2ban-client", "-c", conf, "-t"], capture_output=True, text=True,
                       timeout=TIMEOUT)
    assert p.returncode == 0, p.stdout + p.stderr
    p = subprocess.run(["fail2ban-client", "-c", conf, "-d"], capture_output=True, text=True,
                       timeout=TIMEOUT)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "['set', 'dnsradar', 'maxretry', 1]" in p.stdout, p.stdout
    assert "['add', 'dnsradar'," in p.stdout, p.stdout


if __name__ == "__main__":
    sys.exit(runner.main(globals(), "fail2ban"))
