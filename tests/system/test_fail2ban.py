#!/usr/bin/env python3
"""Debian's fail2ban-regex with contrib/fail2ban/filter.d/dnsradar.conf on
an alert log written by the service's outputs (tests/tools/alertlog: an
alert of every type, open, update and close): exactly the flood sources
and loop peers match, once each, at their open event's "detected" time;
amplification victims, reflectors, zones and flood targets never match,
nor do names and payloads crafted to look like a banned line. The jail
passes fail2ban-client's configuration test. filter.d/dnsradar-flood.conf
(the ipset jail's) matches the flood sources alone.

As root with ip and tcpreplay, and DR_DNSRADAR naming the binary, also on
the log of the real service: `dnsradar run --alert-log` on a veth pair (in
namespaces of the test's own) while a flood, a loop and an amplification
capture are replayed into it: each filter matches exactly the keys of the
alerts it is for.

usage: test_fail2ban.py PATH/TO/alertlog
"""
import json
import os
import re
import shutil
import subprocess
import sys
import time

import runner

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("DR_SOURCE", os.path.dirname(os.path.dirname(HERE)))
CONTRIB = os.path.join(SOURCE, "contrib", "fail2ban")
FILTER = os.path.join(CONTRIB, "filter.d", "dnsradar.conf")
JAIL = os.path.join(CONTRIB, "jail.d", "dnsradar.conf")
FLOOD_FILTER = os.path.join(CONTRIB, "filter.d", "dnsradar-flood.conf")
FLOOD_JAIL = os.path.join(CONTRIB, "jail.d", "dnsradar-flood.conf")
FLOOD_ACTION = os.path.join(CONTRIB, "action.d", "dnsradar-ipset.conf")
GENCAP = os.path.join(SOURCE, "tools", "gencap.py")
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


def regex(log, filt):
    """[(ip, time)] fail2ban-regex finds in log with the filter."""
    p = subprocess.run(["fail2ban-regex", "-o", "<time> <ip>", log, filt],
                       capture_output=True, text=True, timeout=TIMEOUT)
    assert p.returncode == 0, p.stderr
    matched = []
    for line in p.stdout.splitlines():
        t, ip = line.split()
        matched.append((ip, float(t)))
    return matched


def test_filter_matches_attackers_only():
    if not have("fail2ban-regex"):
        return
    log, alerts = write_log()
    matched = regex(log, FILTER)
    want = sorted((key, detected) for ban, _, key, detected in alerts if ban)
    assert len(want) >= 3, want
    assert sorted(matched) == want, "matched %s, want %s" % (sorted(matched), want)
    # Never a victim, our own host, a zone or a flood's target.
    keep = {key for ban, _, key, _ in alerts if not ban}
    assert not keep & {ip for ip, _ in matched}, keep & {ip for ip, _ in matched}


def test_flood_filter_matches_flood_sources_only():
    if not have("fail2ban-regex"):
        return
    log, alerts = write_log()
    matched = regex(log, FLOOD_FILTER)
    want = sorted((key, detected) for ban, kind, key, detected in alerts
                  if ban and kind == "flood")
    assert len(want) >= 2, want	# an IPv4 and an IPv6 source
    assert sorted(matched) == want, "matched %s, want %s" % (sorted(matched), want)
    loops = {key for ban, kind, key, _ in alerts if kind == "loop"}
    assert loops and not loops & {ip for ip, _ in matched}


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


def fail2ban_conf():
    """A copy of /etc/fail2ban without its jails, with both filters."""
    conf = os.path.join(TMP, "fail2ban")
    if os.path.exists(conf):
        shutil.rmtree(conf)
    shutil.copytree("/etc/fail2ban", conf, ignore=shutil.ignore_patterns("jail.d", "*.local"))
    os.makedirs(os.path.join(conf, "jail.d"))
    shutil.copy(FILTER, os.path.join(conf, "filter.d"))
    shutil.copy(FLOOD_FILTER, os.path.join(conf, "filter.d"))
    shutil.copy(FLOOD_ACTION, os.path.join(conf, "action.d"))
    return conf


def test_flood_jail_config():
    if not have("fail2ban-client") or not os.path.isdir("/etc/fail2ban"):
        return
    log, _ = write_log()
    conf = fail2ban_conf()
    with open(FLOOD_JAIL, encoding="utf-8") as f:
        jail = f.read()
    assert re.search(r"^enabled\s*=\s*false$", jail, re.M), "off until the operator picks it"
    assert re.search(r"^action\s*=\s*dnsradar-ipset\[", jail, re.M), "bans with ipset"
    jail = re.sub(r"^logpath\s*=.*$", "logpath   = " + log, jail, flags=re.M)
    jail = re.sub(r"^enabled\s*=.*$", "enabled   = true", jail, flags=re.M)
    with open(os.path.join(conf, "jail.d", "dnsradar-flood.conf"), "w", encoding="utf-8") as f:
        f.write(jail)
    p = subprocess.run(["fail2ban-client", "-c", conf, "-t"], capture_output=True, text=True,
                       timeout=TIMEOUT)
    assert p.returncode == 0, p.stdout + p.stderr
    p = subprocess.run(["fail2ban-client", "-c", conf, "-d"], capture_output=True, text=True,
                       timeout=TIMEOUT)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "['set', 'dnsradar-flood', 'maxretry', 1]" in p.stdout, p.stdout
    # the ban is an ipset element with the ban's time as its timeout, one
    # rule per protocol drops DNS from the set, for IPv6 too (not REJECT)
    act = next(l for l in p.stdout.splitlines() if "'multi-set', 'dnsradar-flood', 'action'" in l)
    assert ("['actionban', 'ipset -exist add <ipmset> <ip> timeout $([ \"<bantime>\" -le "
            "2147483 ] && echo \"<bantime>\" || echo 0)']") in act, act
    assert "-m multiport --dports 53 -m set --match-set <ipmset> src -j <blocktype>" in act, act
    assert "['protocol', 'udp,tcp']" in act, act
    assert "['blocktype', 'DROP']" in act and "['blocktype?family=inet6', 'DROP']" in act, act
    assert "REJECT" not in act, act


def test_real_service_log():
    """The service's own log: a flood, a loop and an amplification live."""
    dnsradar = os.environ.get("DR_DNSRADAR")
    if not dnsradar or os.geteuid() != 0 or not shutil.which("tcpreplay") or \
            not shutil.which("ip") or not shutil.which("fail2ban-regex"):
        print("  SKIP test_real_service_log: needs root, ip, tcpreplay, fail2ban-regex and "
              "DR_DNSRADAR")
        return
    tag = "drf2b%d" % (os.getpid() % 100000)
    a, b = tag + "A", tag + "B"
    log = os.path.join(TMP, "service-alerts.json")
    caps, flags = [], []
    for name in ("flood", "loop", "amplification"):
        path = os.path.join(TMP, name + ".pcap")
        subprocess.run([sys.executable, GENCAP, "scenario", name, path], check=True,
                       capture_output=True, timeout=TIMEOUT)
        with open(path + ".truth") as f:
            truth = json.load(f)
        caps.append((path, truth["expected"]))
        flags = truth["flags"]	# the same roles in every scenario
    sh = lambda *argv: subprocess.run(argv, check=True, capture_output=True, timeout=TIMEOUT)
    err = open(os.path.join(TMP, "run.err"), "w+")
    try:
        sh("ip", "netns", "add", a)
        sh("ip", "netns", "add", b)
        sh("ip", "link", "add", tag + "a", "netns", a, "type", "veth", "peer", "name",
           tag + "b", "netns", b)
        for ns, dev in ((a, tag + "a"), (b, tag + "b")):
            sh("ip", "-n", ns, "link", "set", dev, "up")
        svc = subprocess.Popen(["ip", "netns", "exec", b, dnsradar, "run", "-i", tag + "b",
                                "--alert-log", log, "--user", "root"] + flags,
                               stdout=subprocess.DEVNULL, stderr=err)
        try:
            deadline = time.time() + 30
            while "running" not in open(err.name).read():
                assert svc.poll() is None and time.time() < deadline, open(err.name).read()
                time.sleep(0.1)
            for path, _ in caps:
                sh("ip", "netns", "exec", a, "tcpreplay", "-q", "-i", tag + "a", path)
            time.sleep(2)
        finally:
            svc.terminate()
            assert svc.wait(timeout=30) == 0, open(err.name).read()
    finally:
        for ns in (a, b):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=TIMEOUT)
    with open(log, encoding="utf-8") as f:
        opened = [json.loads(l)["alert"] for l in f if '"event":"open"' in l]
    got = sorted((x["type"], x["key"]) for x in opened)
    want = sorted((e["type"], e["key"]) for _, exp in caps for e in exp)
    assert got == want, (got, want)
    detected = {x["key"]: x["detected"] for x in opened}
    floods = sorted((x["key"], detected[x["key"]]) for x in opened if x["type"] == "flood")
    attackers = sorted((x["key"], detected[x["key"]]) for x in opened
                       if x["type"] in ("flood", "loop"))
    assert floods and len(attackers) == 2, opened
    close = lambda m: [(ip, round(t, 3)) for ip, t in sorted(m)]
    assert close(regex(log, FLOOD_FILTER)) == close(floods)
    assert close(regex(log, FILTER)) == close(attackers)


def test_jail_config():
    if not have("fail2ban-client") or not os.path.isdir("/etc/fail2ban"):
        return
    log, _ = write_log()
    conf = fail2ban_conf()
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
