#!/usr/bin/env python3
"""The ipset backend against the real kernel: two network namespaces the
test creates, joined by a veth pair (attacker 10.77.0.2 / fd77::2, victim
10.77.0.1 / fd77::1). fw_driver (tests/system/fw_driver.c, the backend's
operations as the response worker calls them) runs in the victim's
namespace; UDP datagrams to port 53 are sent from the attacker's and
counted by a receiver in the victim's.

Checked: a drop-source stops the attacker's datagrams (none counted) and
lifting it lets them through again; the element carries a timeout and is
gone after it; prepare run twice leaves each iptables rule once; list
gives back what was applied; a drop-peer stops only the peer's port; IPv6
through ip6tables; a failure carries ipset's own message.

End to end (with DR_DNSRADAR naming the binary): `dnsradar run --act`
with respond.firewall = ipset, as user nobody, captures on the victim's
side while 10.77.0.2 and the allow-listed 10.77.0.3 flood it: the set
gains 10.77.0.2 with a timeout of about an hour, its flood stops arriving
while the other's goes on, and the element is removed once the alert has
closed and the hold has passed.

Needs root, ip, ipset and iptables; without them it prints SKIP and why.

usage: test_ipset.py PATH/TO/fw_driver
"""
import json
import os
import random
import re
import signal
import subprocess
import sys
import time

import runner

TAG = "drfw%d" % (os.getpid() % 100000)
ATK, VIC = TAG + "atk", TAG + "vic"
DEV_A, DEV_V = TAG + "a", TAG + "v"	# not `vf`: an `ip link` keyword
TIMEOUT = 60

RECEIVER = r"""
import socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 53))
s.settimeout(1.5)
print("ready", flush=True)
n = 0
try:
    while True:
        s.recv(2048)
        n += 1
except socket.timeout:
    pass
print(n, flush=True)
"""

SENDER = r"""
import socket, sys
dst, sport, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.bind(("::" if fam == socket.AF_INET6 else "0.0.0.0", sport))
q = bytes.fromhex("1234010000010000000000000776696374696d036e65740000010001")
for _ in range(count):
    try:
        s.sendto(q, (dst, 53))
    except PermissionError:	# dropped in OUTPUT: the kernel says so to a local sender
        pass
"""


def sh(*argv, check=True):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT)
    if check and r.returncode:
        raise AssertionError("%s: exit %d: %s" % (" ".join(argv), r.returncode, r.stderr))
    return r


def vic(*argv, check=True):
    return sh("ip", "netns", "exec", VIC, *argv, check=check)


def driver(*args, check=True):
    return vic(BIN, "ipset", *args, check=check)


def received(dst="10.77.0.1", sport=40000, count=100, sender=ATK, receiver=VIC):
    """Datagrams the victim's receiver counted of `count` sent."""
    rx = subprocess.Popen(["ip", "netns", "exec", receiver, sys.executable, "-c", RECEIVER, dst],
                          stdout=subprocess.PIPE, text=True)
    try:
        assert rx.stdout.readline().strip() == "ready"
        sh("ip", "netns", "exec", sender, sys.executable, "-c", SENDER, dst, str(sport),
           str(count))
        out = rx.stdout.readline().strip()
        rx.wait(timeout=TIMEOUT)
        return int(out)
    finally:
        if rx.poll() is None:
            rx.kill()
            rx.wait()


def rules(prefix):
    """Every iptables and ip6tables rule naming the prefix's sets."""
    out = []
    for tool in ("iptables", "ip6tables"):
        for table in ("filter", "raw"):
            out += [l for l in vic(tool, "-t", table, "-S").stdout.splitlines()
                    if " %s-" % prefix in l]
    return out


def test_drop_source_stops_then_lift_restores():
    driver("-p", "t1", "prepare")
    assert received() == 100, "traffic before the ban"
    driver("-p", "t1", "apply", "drop-source", "10.77.0.2", "53", "60")
    saved = vic("ipset", "list", "t1-src4", "-output", "save").stdout
    m = re.search(r"^add t1-src4 10\.77\.0\.2,udp:53 timeout (\d+)$", saved, re.M)
    assert m and 50 <= int(m.group(1)) <= 60, saved
    assert received() == 0, "the ban drops every datagram"
    counters = vic("iptables", "-t", "filter", "-L", "INPUT", "-v", "-n", "-x").stdout
    assert re.search(r"^\s*100\s+\d+\s+DROP.*match-set t1-src4 src,dst", counters, re.M), counters
    listed = driver("-p", "t1", "list").stdout.splitlines()
    assert len(listed) == 1 and re.match(r"drop-source 10\.77\.0\.2 to port 53 left (5\d|60)$",
                                         listed[0]), listed
    driver("-p", "t1", "lift", "drop-source", "10.77.0.2", "53")
    assert received() == 100, "lifted: traffic again"
    driver("-p", "t1", "lift", "drop-source", "10.77.0.2", "53")	# absent: success
    assert driver("-p", "t1", "list").stdout == ""


def test_prepare_twice_no_duplicate_rules():
    driver("-p", "t2", "prepare")
    first = rules("t2")
    # a rule per set and family; drop-reflected's second for fragments,
    # drop-source's second in OUTPUT (a flood the host itself sends)
    assert len(first) == 16, first
    driver("-p", "t2", "prepare")
    assert rules("t2") == first
    assert len(set(first)) == len(first)
    # someone flushed the chain: prepare puts the rules back, once each
    vic("iptables", "-F", "INPUT")
    driver("-p", "t2", "prepare")
    assert sorted(rules("t2")) == sorted(first)


def test_element_times_out():
    driver("-p", "t3", "prepare")
    driver("-p", "t3", "apply", "drop-source", "10.77.0.2", "53", "2")
    assert received(count=50) == 0
    time.sleep(2.5)
    assert "10.77.0.2" not in vic("ipset", "list", "t3-src4").stdout
    assert received(count=50) == 50, "the element expired by itself"


def test_apply_refreshes_timeout():
    driver("-p", "t4", "prepare")
    driver("-p", "t4", "apply", "drop-source", "10.77.0.2", "53", "30")
    driver("-p", "t4", "apply", "drop-source", "10.77.0.2", "53", "900")
    saved = vic("ipset", "list", "t4-src4", "-output", "save").stdout
    m = re.search(r"^add t4-src4 10\.77\.0\.2,udp:53 timeout (\d+)$", saved, re.M)
    assert m and int(m.group(1)) > 800, saved
    driver("-p", "t4", "lift", "drop-source", "10.77.0.2", "53")


def test_drop_peer_only_that_port():
    driver("-p", "t5", "prepare")
    driver("-p", "t5", "apply", "drop-peer", "10.77.0.2", "5353", "10.77.0.1", "60")
    assert received(sport=5353, count=50) == 0
    assert received(sport=40001, count=50) == 50
    assert driver("-p", "t5", "list").stdout.strip().startswith(
        "drop-peer 10.77.0.2 port 5353 to 10.77.0.1 port 53 left")
    driver("-p", "t5", "lift", "drop-peer", "10.77.0.2", "5353", "10.77.0.1")
    assert received(sport=5353, count=50) == 50


def test_drop_source_of_the_host_itself():
    """Seed 003: the host's own web application floods a target's port 53."""
    driver("-p", "t7", "prepare")
    out = dict(dst="10.77.0.2", sender=VIC, receiver=ATK, count=50)
    assert received(**out) == 50
    driver("-p", "t7", "apply", "drop-source", "10.77.0.1", "53", "60")
    assert received(**out) == 0, "stopped on its way out"
    driver("-p", "t7", "lift", "drop-source", "10.77.0.1", "53")
    assert received(**out) == 50


def test_ipv6_drop_source():
    driver("-p", "t6", "prepare")
    assert received("fd77::1", count=50) == 50
    driver("-p", "t6", "apply", "drop-source", "fd77::2", "53", "60")
    assert received("fd77::1", count=50) == 0
    assert "drop-source fd77::2 to port 53" in driver("-p", "t6", "list").stdout
    driver("-p", "t6", "lift", "drop-source", "fd77::2", "53")
    assert received("fd77::1", count=50) == 50


FLOODER = r"""
import socket, sys, time
src, dst, pps, secs = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, 40053))
q = bytes.fromhex("123401000001000000000000076578616d706c6503636f6d0000010001")
end, n, t0 = time.time() + secs, 0, time.time()
while time.time() < end:
    s.sendto(q, (dst, 53))
    n += 1
    ahead = t0 + n / pps - time.time()
    if ahead > 0:
        time.sleep(ahead)
"""

COUNTER = r"""
import json, os, socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 53))
s.settimeout(0.2)
counts, out, last = {}, sys.argv[1], 0
while True:
    try:
        _, (a, _p) = s.recvfrom(2048)
        counts[a] = counts.get(a, 0) + 1
    except socket.timeout:
        pass
    if time.time() - last >= 0.2:
        with open(out + ".tmp", "w") as f:
            json.dump(counts, f)
        os.replace(out + ".tmp", out)
        last = time.time()
"""


def wait_for(what, fn, seconds, said=lambda: ""):
    deadline = time.time() + seconds
    while time.time() < deadline:
        got = fn()
        if got:
            return got
        time.sleep(0.2)
    raise AssertionError("%s: not within %.0f s\n%s" % (what, seconds, said()))


def test_run_act_bans_with_ipset():
    dnsradar = os.environ.get("DR_DNSRADAR")
    if not dnsradar:
        print("  SKIP test_run_act_bans_with_ipset: DR_DNSRADAR names no dnsradar binary")
        return
    os.chmod(TMP, 0o755)	# nobody must reach its state folder
    state = os.path.join(TMP, "act", "resp", "actions.json")
    os.makedirs(os.path.dirname(os.path.dirname(state)))
    counts = os.path.join(TMP, "counts.json")
    err = open(os.path.join(TMP, "run.err"), "w+")
    said = lambda: open(err.name).read()
    procs = [subprocess.Popen(["ip", "netns", "exec", VIC, sys.executable, "-c", COUNTER, counts],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]

    def got(src):
        try:
            with open(counts) as f:
                return json.load(f).get(src, 0)
        except (OSError, ValueError):
            return 0

    def members():
        out = vic("ipset", "list", "e2e-src4", "-output", "save", check=False).stdout
        return {m.group(1): int(m.group(2)) for m in
                re.finditer(r"^add e2e-src4 (\S+) timeout (\d+)$", out, re.M)}

    svc = subprocess.Popen(["ip", "netns", "exec", VIC, dnsradar, "run", "-i", DEV_V, "--act",
                            "--allow", "10.77.0.3", "--hold", "3", "--user", "nobody",
                            "--http", "127.0.0.1:%d" % random.randint(20000, 40000),
                            "--set", "flood.source_pps=200",
                            "--set", "respond.firewall=ipset", "--set", "respond.set_prefix=e2e",
                            "--set", "respond.state=" + state],
                           stdout=subprocess.DEVNULL, stderr=err)
    try:
        wait_for("dnsradar run running", lambda: "running" in said() or svc.poll() is not None,
                 30)
        assert svc.poll() is None, said()
        for src in ("10.77.0.2", "10.77.0.3"):
            procs.append(subprocess.Popen(["ip", "netns", "exec", ATK, sys.executable, "-c",
                                           FLOODER, src, "10.77.0.1", "1000", "14"]))
        els = wait_for("the ban in the set", members, 20, said)
        assert list(els) == ["10.77.0.2,udp:53"], els
        assert 3500 <= els["10.77.0.2,udp:53"] <= 3600, els
        assert any("-I INPUT" not in r and "e2e-src4 src,dst -j DROP" in r for r in rules("e2e"))
        time.sleep(1)	# packets in flight
        stopped = got("10.77.0.2")
        time.sleep(2)
        assert got("10.77.0.2") == stopped, "the banned flood still arrives"
        other = got("10.77.0.3")
        time.sleep(1)
        assert got("10.77.0.3") > other + 300, "the allow-listed sender was stopped"
        for p in procs[1:]:
            p.wait(timeout=TIMEOUT)
        # the alert closes 60 s after the last packet; then the hold of 3 s
        wait_for("the ban lifted", lambda: members() == {}, 100, said)
        assert "lifted: drop-source 10.77.0.2" in said(), said()
    finally:
        svc.send_signal(signal.SIGTERM)
        try:
            svc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            svc.kill()
            svc.wait()
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()


def test_failure_has_ipsets_message():
    r = driver("-p", "never", "apply", "drop-source", "10.77.0.2", "53", "60", check=False)
    assert r.returncode == 1
    assert ("fw_driver: ipset -exist add never-src4 10.77.0.2,udp:53 timeout 60: ipset v"
            in r.stderr and "does not exist (exit 1)" in r.stderr), r.stderr


def up():
    sh("ip", "netns", "add", ATK)
    sh("ip", "netns", "add", VIC)
    sh("ip", "link", "add", DEV_A, "netns", ATK, "type", "veth", "peer", "name", DEV_V,
       "netns", VIC)
    for ns, dev, last in ((ATK, DEV_A, "2"), (VIC, DEV_V, "1")):
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "-n", ns, "addr", "add", "10.77.0.%s/24" % last, "dev", dev)
        sh("ip", "-n", ns, "addr", "add", "fd77::%s/64" % last, "dev", dev, "nodad")
        if ns == ATK:	# the allow-listed sender of the end-to-end case
            sh("ip", "-n", ns, "addr", "add", "10.77.0.3/24", "dev", dev)
        sh("ip", "-n", ns, "link", "set", dev, "up")


def down():
    for ns in (ATK, VIC):
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=TIMEOUT)


def main():
    if os.geteuid() != 0:
        print("SKIP: test_ipset needs root (network namespaces, ipset, iptables)")
        return 0
    for tool in ("ip", "ipset", "iptables", "ip6tables"):
        if subprocess.run(["sh", "-c", "command -v " + tool], stdout=subprocess.DEVNULL).returncode:
            print("SKIP: test_ipset needs %s (scripts/install-deps.sh installs it)" % tool)
            return 0
    try:
        up()
        return runner.main(globals(), "ipset")
    finally:
        down()


if __name__ == "__main__":
    sys.exit(main())
