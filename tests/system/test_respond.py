#!/usr/bin/env python3
"""The response, end to end, with the real nftables. Two network
namespaces joined by a veth pair: an attacker floods the victim's port 53
from two addresses, a receiver in the victim counts what arrives, and
`dnsradar run` captures on the victim's side of the pair.

- dry-run (the default): the action is logged with the exact nft command
  and listed by `dnsradar actions`, and nothing changes: no table, the
  flood still arrives;
- --act, as user nobody (CAP_NET_ADMIN kept): the set of table inet
  dnsradar gains the attacker's address and port with a timeout, the
  flood stops arriving while it goes on, the allow-listed attacker is
  never banned and still arrives; the element is removed after the
  alert's close plus the hold time; the metrics count it all;
- restart: SIGTERM leaves the ban to its timeout and the state file holds
  it; after `nft flush ruleset` and an orphan element added by hand, a
  new run recreates the table, applies the ban again, removes the orphan,
  and lifts the ban when its hold ends; a ban lifted by hand
  (`dnsradar actions lift`) is gone at once.

Needs root (namespaces, capture, nftables); skipped, visibly, without it.

usage: test_respond.py PATH/TO/dnsradar
"""
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import runner  # noqa: E402

BIN = TMP = None
WAIT = 30.0
QUIET = 60.0	# seconds without firing that close an alert (DR_ALERT_QUIET)

SENDER = r"""
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
print(n)
"""

RECEIVER = r"""
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


def sh(*argv, check=True, **kw):
    return subprocess.run(list(argv), check=check, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=120, **kw)


class Pair:
    """Attacker namespace (10.77.N.2 and .3) and victim (10.77.N.1)."""

    def __init__(self, n):
        self.n = n
        self.a, self.b = "drrA%d_%d" % (n, os.getpid() % 10000), "drrB%d_%d" % (n, os.getpid() % 10000)
        self.dev_a, self.dev_b = "drrA%d" % n, "drrB%d" % n
        self.victim = "10.77.%d.1" % n
        self.attacker, self.allowed = "10.77.%d.2" % n, "10.77.%d.3" % n
        self.procs = []

    def __enter__(self):
        self.down()
        sh("ip", "netns", "add", self.a)
        sh("ip", "netns", "add", self.b)
        sh("ip", "link", "add", self.dev_a, "netns", self.a, "type", "veth", "peer", "name",
           self.dev_b, "netns", self.b)
        for ns, dev, addrs in ((self.a, self.dev_a, (self.attacker, self.allowed)),
                               (self.b, self.dev_b, (self.victim,))):
            sh("ip", "netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1")
            for addr in addrs:
                sh("ip", "-n", ns, "addr", "add", addr + "/24", "dev", dev)
            sh("ip", "-n", ns, "link", "set", dev, "up")
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        self.counts = os.path.join(TMP, "counts-%d.json" % self.n)
        self.procs.append(subprocess.Popen(self.in_b(sys.executable, "-c", RECEIVER, self.counts),
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        return self

    def in_a(self, *argv):
        return ["ip", "netns", "exec", self.a] + list(argv)

    def in_b(self, *argv):
        return ["ip", "netns", "exec", self.b] + list(argv)

    def flood(self, src, pps, secs):
        p = subprocess.Popen(self.in_a(sys.executable, "-c", SENDER, src, self.victim, str(pps),
                                       str(secs)), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        self.procs.append(p)
        return p

    def received(self, src):
        try:
            with open(self.counts) as f:
                return json.load(f).get(src, 0)
        except (OSError, ValueError):
            return 0

    def nft(self, *args, check=True):
        return sh(*self.in_b("nft", *args), check=check)

    def elements(self, set_name="src4"):
        """(address, port) -> seconds left, of a set of table inet dnsradar."""
        out = self.nft("-j", "list", "set", "inet", "dnsradar", set_name, check=False)
        if out.returncode:
            return None
        found = {}
        for item in json.loads(out.stdout)["nftables"]:
            for e in item.get("set", {}).get("elem", []):
                el = e["elem"]
                val = el["val"]["concat"]
                found[(val[0], val[1])] = el.get("expires", 0)
        return found

    def down(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        for ns in (self.a, self.b):
            sh("ip", "netns", "del", ns, check=False)

    def __exit__(self, *exc):
        self.down()


class Service:
    def __init__(self, pair, args):
        self.pair = pair
        self.port = random.randint(20000, 40000)
        self.err = open(os.path.join(TMP, "run-%d.err" % random.getrandbits(32)), "w+")
        argv = [BIN, "run", "-i", pair.dev_b, "--http", "127.0.0.1:%d" % self.port,
                "--set", "flood.source_pps=200"] + args
        self.proc = subprocess.Popen(pair.in_b(*argv), stdout=subprocess.DEVNULL, stderr=self.err)
        self.wait_said("running")

    def said(self):
        self.err.flush()
        with open(self.err.name) as f:
            return f.read()

    def wait_said(self, text, seconds=WAIT):
        deadline = time.time() + seconds
        while time.time() < deadline:
            if text in self.said():
                return
            if self.proc.poll() is not None:
                raise AssertionError("run exited %d before saying %r:\n%s" %
                                     (self.proc.returncode, text, self.said()))
            time.sleep(0.1)
        raise AssertionError("run did not say %r in %.0f s:\n%s" % (text, seconds, self.said()))

    def actions(self):
        out = sh(*self.pair.in_b(BIN, "actions", "--json", "--api",
                                 "http://127.0.0.1:%d" % self.port))
        return json.loads(out.stdout)

    def actions_text(self):
        return sh(*self.pair.in_b(BIN, "actions", "--api", "http://127.0.0.1:%d" % self.port)
                  ).stdout.decode()

    def metric(self, name):
        out = sh(*self.pair.in_b(sys.executable, "-c",
                                 "import urllib.request,sys;sys.stdout.write(urllib.request."
                                 "urlopen('http://127.0.0.1:%d/metrics').read().decode())"
                                 % self.port)).stdout.decode()
        for line in out.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[-1])
        raise AssertionError("no metric %s" % name)

    def stop(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("run did not stop on %s:\n%s" % (sig, self.said()))


def wait_for(what, fn, seconds=WAIT, svc=None):
    deadline = time.time() + seconds
    while time.time() < deadline:
        got = fn()
        if got:
            return got
        time.sleep(0.2)
    raise AssertionError("%s: not within %.0f s%s" % (what, seconds,
                                                      ":\n" + svc.said() if svc else ""))


def state_dir(name):
    d = os.path.join(TMP, name)
    os.makedirs(d, exist_ok=True)
    return d


def test_dry_run_changes_nothing():
    with Pair(1) as p:
        svc = Service(p, ["--set", "respond.state=%s/actions.json" % state_dir("dry")])
        try:
            f = p.flood(p.attacker, 1000, 12)
            svc.wait_said("respond: action 1 would run:", 20)
            said = svc.said().splitlines()
            line = next(l for l in said if "dry-run: action" in l)
            assert line.endswith("dry-run: action 1 for alert 1 flood %s: drop-source %s to port 53"
                                 % (p.attacker, p.attacker)), line
            want = ("respond: action 1 would run: nft add element inet dnsradar src4 "
                    "'{ %s . 53 timeout 3600s }'" % p.attacker)
            assert any(l.endswith(want) for l in said), said
            doc = svc.actions()
            assert doc["acting"] is False, doc
            assert [(a["state"], a["kind"], a["address"]) for a in doc["actions"]] == [
                ("dry-run", "drop-source", p.attacker)], doc
            text = svc.actions_text()
            assert "dry-run: none is run" in text and "drop-source %s to port 53" % p.attacker \
                in text, text
            before = p.received(p.attacker)
            time.sleep(2)
            assert p.received(p.attacker) > before + 500, "the flood stopped arriving in dry-run"
            assert p.nft("list", "table", "inet", "dnsradar", check=False).returncode != 0, \
                "dry-run made the table"
            wait_for("dry-run counted",
                     lambda: svc.metric('dnsradar_actions_total{result="dry_run"}') == 1, 5)
            assert svc.metric("dnsradar_response_acting") == 0
            f.wait(timeout=WAIT)
        finally:
            svc.stop()
        assert not os.path.exists(os.path.join(TMP, "dry", "actions.json")), \
            "dry-run wrote a state file"


def test_act_bans_then_lifts():
    with Pair(2) as p:
        os.chmod(TMP, 0o755)	# nobody must reach its state folder
        state = os.path.join(state_dir("act"), "resp", "actions.json")
        svc = Service(p, ["--act", "--allow", p.allowed, "--hold", "3", "--user", "nobody",
                          "--set", "respond.state=%s" % state])
        try:
            f1 = p.flood(p.attacker, 1000, 14)
            f2 = p.flood(p.allowed, 1000, 14)
            els = wait_for("the ban in the set", lambda: p.elements(), 20)
            assert list(els) == [(p.attacker, 53)], els
            left = els[(p.attacker, 53)]
            assert 3500 <= left <= 3600, "timeout left %r" % left
            time.sleep(1)	# packets in flight
            stopped = p.received(p.attacker)
            time.sleep(2)
            assert p.received(p.attacker) == stopped, "the banned flood still arrives"
            a2 = p.received(p.allowed)
            time.sleep(1)
            assert p.received(p.allowed) > a2 + 300, "the allow-listed sender was stopped"
            assert "allowlist covers" in svc.said(), svc.said()
            doc = svc.actions()
            assert doc["acting"] is True
            assert [(a["state"], a["address"], a["backend"]) for a in doc["actions"]] == [
                ("active", p.attacker, "nftables")], doc
            with open(state) as fh:
                rec = json.load(fh)
            assert [a["address"] for a in rec["actions"]] == [p.attacker], rec
            wait_for("applied counted",
                     lambda: svc.metric('dnsradar_actions_total{result="applied"}') == 1, 5)
            assert svc.metric('dnsradar_actions_total{result="allowlisted"}') >= 1
            assert svc.metric("dnsradar_actions_in_force") == 1
            f1.wait(timeout=WAIT)
            f2.wait(timeout=WAIT)
            ended = time.time()
            # the alert closes QUIET s after the last packet; then the hold
            wait_for("the ban lifted", lambda: p.elements() == {}, QUIET + 30)
            took = time.time() - ended
            assert took >= QUIET - 5, "lifted %.0f s after the flood, before the alert closed" % took
            svc.wait_said("lifted: drop-source %s" % p.attacker, 5)
            # published once a second
            wait_for("lifted counted", lambda: svc.metric('dnsradar_actions_total{result="lifted"}')
                     == 1 and svc.metric("dnsradar_actions_in_force") == 0, 5)
            # traffic arrives again
            before = p.received(p.attacker)
            p.flood(p.attacker, 100, 1).wait(timeout=WAIT)
            time.sleep(0.5)
            assert p.received(p.attacker) > before, "traffic did not come back after the lift"
        finally:
            svc.stop()


def test_restart_reconciles():
    with Pair(3) as p:
        state = os.path.join(state_dir("restart"), "actions.json")
        args = ["--act", "--hold", "25", "--set", "respond.state=%s" % state]
        svc = Service(p, args)
        try:
            f = p.flood(p.attacker, 1000, 6)
            wait_for("the ban in the set", lambda: p.elements(), 20)
            f.wait(timeout=WAIT)	# over: the next run sees no attack to hold the ban
        finally:
            assert svc.stop() == 0
        assert list(p.elements()) == [(p.attacker, 53)], "SIGTERM took the ban away"
        with open(state) as fh:
            rec = json.load(fh)["actions"]
        assert [a["address"] for a in rec] == [p.attacker] and rec[0]["lift_at"], rec
        # someone flushes the ruleset, and leaves an element of ours no record knows
        p.nft("flush", "ruleset")
        assert p.elements() is None
        svc = Service(p, args)
        try:
            svc.wait_said("1 actions from before the restart")
            wait_for("the ban applied again", lambda: (p.elements() or {}).get((p.attacker, 53)))
            p.nft("add", "element", "inet", "dnsradar", "src4", "{ 10.77.3.9 . 53 timeout 600s }")
            # the orphan goes at the next comparison (every 30 s)
            assert ("10.77.3.9", 53) in p.elements()
            wait_for("the orphan removed",
                     lambda: p.elements() is not None and ("10.77.3.9", 53) not in p.elements(), 40, svc)
            assert "not in the record: lifting them" in svc.said(), svc.said()
            # the ban ends with its hold, counted from the first run's stop
            wait_for("the ban lifted at its hold", lambda: p.elements() == {}, 30)
            # a ban lifted by hand
            p.flood(p.attacker, 1000, 5)
            wait_for("a new ban", lambda: p.elements())
            ident = svc.actions()["actions"][0]["id"]
            out = sh(*p.in_b(BIN, "actions", "lift", str(ident), "--api",
                             "http://127.0.0.1:%d" % svc.port))
            assert b"lifting" in out.stdout, out.stdout
            wait_for("lifted by hand", lambda: p.elements() == {}, 5)
            assert "lifted by hand" in svc.said()
            bad = sh(*p.in_b(BIN, "actions", "lift", "999", "--api",
                             "http://127.0.0.1:%d" % svc.port), check=False)
            assert bad.returncode == 2 and b"no such action" in bad.stderr, bad.stderr
        finally:
            svc.stop()


def main():
    if os.geteuid() != 0:
        print("SKIP: test_respond needs root (network namespaces, capture, nftables)")
        return 0
    for tool in ("ip", "nft"):
        if subprocess.run(["sh", "-c", "command -v " + tool], stdout=subprocess.DEVNULL).returncode:
            print("SKIP: test_respond needs %s (scripts/install-deps.sh installs it)" % tool)
            return 0
    return runner.main(globals(), "respond")


if __name__ == "__main__":
    sys.exit(main())
