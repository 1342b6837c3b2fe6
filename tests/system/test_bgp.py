#!/usr/bin/env python3
"""The BGP backends against real BGP speakers and route servers: two
network namespaces joined by a veth pair, the speaker's (10.1.0.1,
AS 65001) and the route server's (10.1.0.2, AS 65000). bgp_driver opens
the exabgp or gobgp backend, applies, lists and lifts actions; the routes
are read where they arrive:

- ExaBGP (its process `dnsradar exabgp-bridge SOCKET`) to BIRD 2: the
  blackhole /32 and /128 with community (65535,666) in master4/master6,
  the Flowspec rules (UDP from port 53 longer than 512, and fragments) in
  flowtab4/flowtab6, during and not after the lift; ExaBGP stopped and
  started again, and its bridge killed: the routes come back through the
  backend's re-announce; no bridge connected: the message that says what
  to put in exabgp.conf;
- gobgpd (gobgp CLI) to BIRD 2 (BIRD connects: gobgpd's own connect to a
  passive peer takes 5-9 s), with list() reading gobgpd's RIB;
- ExaBGP to gobgpd as the route server (`gobgp global rib -a ipv4-flowspec`);
- end to end: the amplification scenario of tools/gencap.py replayed by
  tcpreplay into a third namespace's veth, `dnsradar run --act` with
  `respond.bgp = exabgp`, then `respond.bgp = gobgp`, capturing on the other end: the
  victim's Flowspec rules and blackhole route appear in BIRD during the
  attack, and SIGTERM with `respond.lift_on_stop = yes` withdraws them (needs
  tcpreplay too).

Needs root, ip, bird, birdc, exabgp, gobgpd and gobgp; without them it
prints SKIP and why, and passes. The namespaces are the test's own (named
after its pid), removed in a finally; every wait polls with a limit.

usage: test_bgp.py PATH/TO/dnsradar PATH/TO/bgp_driver
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("DR_SOURCE", os.path.dirname(os.path.dirname(HERE)))
GENCAP = os.path.join(SOURCE, "tools", "gencap.py")
TIMEOUT = 30	# seconds any one command may run
UP = 20		# seconds a BGP session may take to come up

BLACKHOLE_COMMUNITY = "(65535,666)"
FLOW4_UDP = "flow4 { dst 198.51.100.8/32; proto 17; sport 53; length > 512; }"
FLOW4_FRAG = "flow4 { dst 198.51.100.8/32; fragment !!is_fragment; }"
FLOW6_UDP = "flow6 { dst 2001:db8::9/128; next header 17; sport 53; length > 512; }"
FLOW6_FRAG = "flow6 { dst 2001:db8::9/128; fragment !!is_fragment; }"


class Skip(Exception):
    pass


def sh(*cmd, check=True):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT)
    if check and r.returncode != 0:
        raise AssertionError("%s: rc %d: %s%s" % (" ".join(cmd), r.returncode, r.stdout,
                                                  r.stderr))
    return r


def wait_for(what, fn, limit=UP):
    end = time.monotonic() + limit
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > end:
            raise AssertionError("no %s after %d s" % (what, limit))
        time.sleep(0.1)


class Net:
    """Namespaces TAG-s (the speaker, 10.1.0.1, 2001:db8:1::1) and TAG-r
    (the route server, 10.1.0.2, 2001:db8:1::2), one veth between them."""

    def __init__(self):
        self.tag = "drbgp%d" % os.getpid()
        self.s, self.r = self.tag + "s", self.tag + "r"

    def __enter__(self):
        try:
            sh("ip", "netns", "add", self.s)
            sh("ip", "netns", "add", self.r)
            sh("ip", "link", "add", "bgps", "netns", self.s, "type", "veth",
               "peer", "name", "bgpr", "netns", self.r)
            for ns, dev, n in ((self.s, "bgps", 1), (self.r, "bgpr", 2)):
                sh("ip", "-n", ns, "link", "set", "lo", "up")
                sh("ip", "-n", ns, "addr", "add", "10.1.0.%d/24" % n, "dev", dev)
                sh("ip", "-n", ns, "addr", "add", "2001:db8:1::%d/64" % n, "dev", dev,
                   "nodad")
                sh("ip", "-n", ns, "link", "set", dev, "up")
        except Exception:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        for ns in (self.s, self.r):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=TIMEOUT)


class Daemon:
    """A process in a namespace, its output in a log file; stopped by stop()."""

    def __init__(self, ns, cmd, log, env=None):
        self.log = log
        with open(log, "ab") as out:
            self.p = subprocess.Popen(["ip", "netns", "exec", ns] + cmd, stdout=out,
                                      stderr=subprocess.STDOUT, env=env,
                                      start_new_session=True)

    def stop(self, sig=signal.SIGTERM):
        if self.p.poll() is None:
            self.p.send_signal(sig)
            try:
                self.p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(timeout=10)

    def text(self):
        with open(self.log, errors="replace") as f:
            return f.read()


class Bird:
    def __init__(self, net, work, active):
        self.net, self.sock = net, os.path.join(work, "bird.sock")
        conf = os.path.join(work, "bird.conf")
        # passive for ExaBGP (0.2 s to Established); active for gobgpd,
        # whose own connect to a passive peer takes 5-9 s
        session = ("connect delay time 1; connect retry time 2; error wait time 1, 5;"
                   if active else "passive on;")
        with open(conf, "w") as f:
            f.write("""log "%s" all;
router id 10.1.0.2;
protocol device { }
flow4 table flowtab4;
flow6 table flowtab6;
protocol bgp spk {
    local 10.1.0.2 as 65000;
    neighbor 10.1.0.1 as 65001;
    %s
    ipv4 { import all; export none; };
    ipv6 { import all; export none; };
    flow4 { table flowtab4; import all; export none; };
    flow6 { table flowtab6; import all; export none; };
}
""" % (os.path.join(work, "bird.log"), session))
        self.d = Daemon(net.r, ["bird", "-f", "-c", conf, "-s", self.sock,
                                "-P", os.path.join(work, "bird.pid")],
                        os.path.join(work, "bird.out"))

    def cli(self, *args):
        return sh("ip", "netns", "exec", self.net.r, "birdc", "-s", self.sock, *args,
                  check=False).stdout

    def established(self):
        return "Established" in self.cli("show", "protocols", "spk")

    def routes(self):
        return "\n".join(self.cli("show", "route", "all", "table", t)
                         for t in ("master4", "master6", "flowtab4", "flowtab6"))

    def stop(self):
        self.d.stop()


def exabgp_conf(work, binary, sock, peer_as):
    conf = os.path.join(work, "exabgp.conf")
    with open(conf, "w") as f:
        f.write("""process dnsradar {
    run %s exabgp-bridge %s;
    encoder text;
}
neighbor 10.1.0.2 {
    router-id 10.1.0.1;
    local-address 10.1.0.1;
    local-as 65001;
    peer-as %d;
    family { ipv4 unicast; ipv6 unicast; ipv4 flow; ipv6 flow; }
    api { processes [ dnsradar ]; }
}
""" % (binary, sock, peer_as))
    return conf


class ExaBGP:
    def __init__(self, net, work, binary, sock, peer_as=65000):
        self.net, self.work, self.sock = net, work, sock
        self.conf = exabgp_conf(work, binary, sock, peer_as)
        self.start()

    def start(self):
        env = dict(os.environ)
        env.update({"exabgp.daemon.user": "root", "exabgp.daemon.daemonize": "false",
                    "exabgp.api.cli": "false",
                    "exabgp.log.destination": os.path.join(self.work, "exabgp.log")})
        self.d = Daemon(self.net.s, ["exabgp", self.conf], os.path.join(self.work, "exabgp.out"),
                        env=env)

    def bridges(self):
        """The pids of this ExaBGP's bridges (the socket path is the test's own)."""
        r = sh("pgrep", "-f", "exabgp-bridge " + self.sock, check=False)
        return [int(x) for x in r.stdout.split()]

    def stop(self):
        self.d.stop()


def gobgpd_conf(work, asn, router_id, peer, peer_as, passive):
    conf = os.path.join(work, "gobgpd.toml")
    fams = "".join('  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n'
                   '      afi-safi-name = "%s"\n' % f
                   for f in ("ipv4-unicast", "ipv6-unicast", "ipv4-flowspec", "ipv6-flowspec"))
    with open(conf, "w") as f:
        f.write("""[global.config]
  as = %d
  router-id = "%s"
  local-address-list = ["%s"]
[[neighbors]]
  [neighbors.config]
    neighbor-address = "%s"
    peer-as = %d
  [neighbors.transport.config]
    passive-mode = %s
%s""" % (asn, router_id, router_id, peer, peer_as, "true" if passive else "false", fams))
    return conf


class GoBGP:
    API = "127.0.0.1:50061"

    def __init__(self, ns, work, asn, router_id, peer, peer_as):
        self.ns = ns
        conf = gobgpd_conf(work, asn, router_id, peer, peer_as, True)
        self.d = Daemon(ns, ["gobgpd", "-f", conf, "-t", "toml", "--api-hosts", self.API],
                        os.path.join(work, "gobgpd.out"))

    def cli(self, *args):
        host, port = self.API.split(":")
        return sh("ip", "netns", "exec", self.ns, "gobgp", "-u", host, "-p", port, *args,
                  check=False).stdout

    def established(self):
        return "Establ" in self.cli("neighbor")

    def stop(self):
        self.d.stop()


class Driver:
    """bgp_driver in a namespace: one operation a line, one answer."""

    def __init__(self, driver, ns, backend, *settings):
        self.p = subprocess.Popen(["ip", "netns", "exec", ns, driver, backend] + list(settings),
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, bufsize=1)
        first = self.p.stdout.readline().strip()
        assert first == "open", "bgp_driver: %s %s" % (first, self.p.stderr.read())

    def op(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()
        out = []
        while True:
            ans = self.p.stdout.readline()
            assert ans, "bgp_driver ended: %s" % self.p.stderr.read()
            ans = ans.rstrip("\n")
            if ans in ("ok", "ok empty", "end") or ans.startswith("error"):
                return ans, out
            out.append(ans)

    def ok(self, line):
        ans, _ = self.op(line)
        assert ans == "ok", "%s: %s" % (line, ans)

    def prepared(self):
        """prepare as the worker calls it: "ok", "ok empty" (apply everything
        again) or an error."""
        return self.op("prepare")[0]

    def listed(self):
        """What the worker's reconciliation sees: prepare, then list."""
        ans = self.prepared()
        assert ans == "ok", "prepare: %s" % ans
        ans, out = self.op("list")
        assert ans == "end", "list: %s" % ans
        return sorted(out)

    def close(self):
        self.p.stdin.close()
        rc = self.p.wait(timeout=TIMEOUT)
        assert rc == 0, "bgp_driver: exit %d: %s" % (rc, self.p.stderr.read())


ACTIONS = ["blackhole 198.51.100.7", "blackhole 2001:db8::7", "flowspec 198.51.100.8 512",
           "flowspec 2001:db8::9 512"]
LISTED = sorted(["found blackhole 198.51.100.7/32 0", "found blackhole 2001:db8::7/128 0",
                 "found flowspec 198.51.100.8/32 512", "found flowspec 2001:db8::9/128 512"])
# the IPv6 routes need a next hop on the shared link: BIRD refuses one it
# cannot reach directly (self would be the speaker's IPv4 address)
SETTINGS = ["next_hop=2001:db8:1::1"]


def in_bird(text):
    """What of ours BIRD shows: each of the four actions, rule by rule."""
    have = set()
    blocks = text.split("\n")
    for i, line in enumerate(blocks):
        tail = "\n".join(blocks[i:i + 8])
        if line.startswith("198.51.100.7/32") and BLACKHOLE_COMMUNITY in tail:
            have.add("bh4")
        if line.startswith("2001:db8::7/128") and BLACKHOLE_COMMUNITY in tail:
            have.add("bh6")
        # discard: traffic-rate 0 (RFC 8955 7.3), as BIRD shows it
        for name, rule in (("fl4", FLOW4_UDP), ("fr4", FLOW4_FRAG), ("fl6", FLOW6_UDP),
                           ("fr6", FLOW6_FRAG)):
            if line.startswith(rule) and "(generic, 0x80060000, 0x0)" in tail:
                have.add(name)
    return have


ALL = {"bh4", "bh6", "fl4", "fr4", "fl6", "fr6"}


def test_exabgp_bird():
    with Net() as net:
        work = tempfile.mkdtemp(prefix="exa-", dir=TMP)
        sock = os.path.join(work, "run", "exabgp.sock")
        bird = Bird(net, work, active=False)
        drv = Driver(DRIVER, net.s, "exabgp", "exabgp_socket=" + sock, *SETTINGS)
        exa = None
        try:
            # no ExaBGP yet: the message says what to configure
            ans, _ = drv.op("apply blackhole 198.51.100.7")
            assert ans == ("error: no ExaBGP connected to %s: is `dnsradar exabgp-bridge %s` "
                           "in exabgp.conf's process?" % (sock, sock)), ans
            exa = ExaBGP(net, work, BIN, sock)
            wait_for("BIRD session with ExaBGP", bird.established)
            wait_for("bridge", lambda: drv.prepared().startswith("ok"))
            for a in ACTIONS:
                drv.ok("apply " + a)
            wait_for("routes in BIRD", lambda: in_bird(bird.routes()) == ALL)
            text = bird.routes()
            assert FLOW4_UDP in text and FLOW4_FRAG in text, text
            assert drv.listed() == LISTED, drv.listed()

            # ExaBGP stopped: its session and every route go; started again,
            # its new bridge connects, and the next apply announces first
            # all the backend applied before
            exa.stop()
            wait_for("routes gone with ExaBGP", lambda: not in_bird(bird.routes()))
            exa.start()
            wait_for("BIRD session with ExaBGP again", bird.established)
            wait_for("a bridge process", exa.bridges)
            wait_for("apply over the new bridge",
                     lambda: drv.op("apply blackhole 192.0.2.77")[0] == "ok")
            wait_for("routes back in BIRD", lambda: in_bird(bird.routes()) == ALL)
            drv.ok("lift blackhole 192.0.2.77")

            # again, the worker's way: its prepare says the speaker is new and
            # empty ("ok empty"), the backend forgets, the worker applies
            # everything again
            exa.stop()
            wait_for("routes gone with ExaBGP", lambda: not in_bird(bird.routes()))
            exa.start()
            wait_for("BIRD session with ExaBGP again", bird.established)
            wait_for("bridge again", lambda: drv.prepared() == "ok empty")
            ans, out = drv.op("list")
            assert ans == "end" and out == [], (ans, out)
            assert drv.prepared() == "ok"
            for a in ACTIONS:
                drv.ok("apply " + a)
            wait_for("routes back in BIRD", lambda: in_bird(bird.routes()) == ALL)

            # the bridge killed: ExaBGP starts another and keeps its routes;
            # applying them again over the new one changes nothing
            old = wait_for("a bridge process", exa.bridges)
            for pid in old:
                os.kill(pid, signal.SIGKILL)
            wait_for("a new bridge", lambda: exa.bridges() and exa.bridges() != old)
            wait_for("new bridge connected", lambda: drv.prepared() == "ok empty")
            assert in_bird(bird.routes()) == ALL, bird.routes()
            for a in ACTIONS:
                drv.ok("apply " + a)
            assert in_bird(bird.routes()) == ALL, bird.routes()

            for a in ACTIONS:
                drv.ok("lift " + a)
            wait_for("routes withdrawn from BIRD", lambda: not in_bird(bird.routes()))
            assert drv.listed() == [], drv.listed()
            # lifting what is not there succeeds
            drv.ok("lift blackhole 198.51.100.7")
        except Exception:
            for name in ("exabgp.log", "bird.log"):
                p = os.path.join(work, name)
                if os.path.exists(p):
                    print("--- %s (tail)\n%s" % (name, open(p, errors="replace").read()[-3000:]))
            raise
        finally:
            drv.close()
            if exa:
                exa.stop()
            bird.stop()


def test_gobgp_bird():
    with Net() as net:
        work = tempfile.mkdtemp(prefix="gobgp-", dir=TMP)
        bird = Bird(net, work, active=True)
        gobgp = GoBGP(net.s, work, 65001, "10.1.0.1", "10.1.0.2", 65000)
        try:
            wait_for("BIRD session with gobgpd", bird.established)
            drv = Driver(DRIVER, net.s, "gobgp", "gobgp_api=" + GoBGP.API, *SETTINGS)
            try:
                assert drv.listed() == []
                for a in ACTIONS:
                    drv.ok("apply " + a)
                wait_for("routes in BIRD", lambda: in_bird(bird.routes()) == ALL)
                # what a restarted service finds in force: ours, read back
                assert drv.listed() == LISTED, drv.listed()
                for a in ACTIONS:
                    drv.ok("lift " + a)
                wait_for("routes withdrawn from BIRD", lambda: not in_bird(bird.routes()))
                assert drv.listed() == []
            finally:
                drv.close()
            # gobgpd gone: a bounded failure with gobgp's words
            gobgp.stop()
            drv = Driver(DRIVER, net.s, "gobgp", "gobgp_api=" + GoBGP.API)
            try:
                ans, _ = drv.op("apply blackhole 198.51.100.7")
                assert ans.startswith("error: ") and "exit 1" in ans, ans
            finally:
                drv.close()
        finally:
            gobgp.stop()
            bird.stop()


def test_exabgp_gobgp_route_server():
    with Net() as net:
        work = tempfile.mkdtemp(prefix="exa-rs-", dir=TMP)
        sock = os.path.join(work, "exabgp.sock")
        rs = GoBGP(net.r, work, 65000, "10.1.0.2", "10.1.0.1", 65001)
        # ExaBGP first: its bridge waits for the service's socket
        exa = ExaBGP(net, work, BIN, sock)
        drv = None
        try:
            wait_for("gobgpd session with ExaBGP", rs.established)
            wait_for("a bridge process", exa.bridges)
            assert not os.path.exists(sock)
            drv = Driver(DRIVER, net.s, "exabgp", "exabgp_socket=" + sock, *SETTINGS)
            wait_for("bridge", lambda: drv.prepared().startswith("ok"))
            drv.ok("apply blackhole 198.51.100.7")
            drv.ok("apply flowspec 198.51.100.8 512")
            want_flow = ["[destination: 198.51.100.8/32][protocol: ==udp][source-port: ==53]"
                         "[packet-length: >512]", "[destination: 198.51.100.8/32]"
                         "[fragment: is-fragment]"]

            def flows():
                out = rs.cli("global", "rib", "-a", "ipv4-flowspec")
                return all(w in out for w in want_flow) and out.count("discard") >= 2

            def blackhole():
                out = rs.cli("global", "rib", "-a", "ipv4")
                return "198.51.100.7/32" in out and "blackhole" in out

            wait_for("flowspec rules in gobgpd", flows)
            wait_for("blackhole route in gobgpd", blackhole)
            # the route server's RIB holds them as learnt from a peer: not
            # a gobgp backend's own, so its list() leaves them alone
            seen = Driver(DRIVER, net.r, "gobgp", "gobgp_api=" + GoBGP.API)
            try:
                assert seen.listed() == [], seen.listed()
            finally:
                seen.close()

            # the service restarts: ExaBGP keeps its routes, the bridge joins
            # the new socket, whose backend lists nothing, so the worker
            # applies its records again
            drv.close()
            drv = Driver(DRIVER, net.s, "exabgp", "exabgp_socket=" + sock, *SETTINGS)
            wait_for("bridge after the service's restart",
                     lambda: drv.prepared().startswith("ok"))
            assert drv.listed() == []
            assert flows() and blackhole()
            drv.ok("apply blackhole 198.51.100.7")
            drv.ok("apply flowspec 198.51.100.8 512")

            drv.ok("lift blackhole 198.51.100.7")
            drv.ok("lift flowspec 198.51.100.8 512")
            wait_for("flowspec withdrawn",
                     lambda: "198.51.100.8" not in rs.cli("global", "rib", "-a", "ipv4-flowspec"))
            wait_for("blackhole withdrawn",
                     lambda: "198.51.100.7" not in rs.cli("global", "rib", "-a", "ipv4"))
        finally:
            if drv:
                drv.close()
            exa.stop()
            rs.stop()


def run_act(speaker):
    """dnsradar run --act, respond.bgp = SPEAKER: an amplification against 10.0.9.9
    replayed live; its Flowspec rules and blackhole route reach BIRD."""
    if not shutil.which("tcpreplay"):
        print("SKIP run --act with %s: no tcpreplay" % speaker)
        return
    with Net() as net:
        work = tempfile.mkdtemp(prefix="run-", dir=TMP)
        sock = os.path.join(work, "exabgp.sock")
        pcap = os.path.join(work, "amplification.pcap")
        subprocess.run([sys.executable, GENCAP, "scenario", "amplification", pcap], check=True,
                       timeout=TIMEOUT)
        with open(pcap + ".truth") as f:
            flags = json.load(f)["flags"]
        # the replayer's namespace, its veth's other end in the speaker's
        replay = net.tag + "a"
        sh("ip", "netns", "add", replay)
        svc = exa = gobgp = None
        bird = Bird(net, work, active=speaker == "gobgp")
        try:
            sh("ip", "link", "add", "cap", "netns", replay, "type", "veth", "peer", "name",
               "cap", "netns", net.s)
            for ns in (replay, net.s):
                sh("ip", "-n", ns, "link", "set", "cap", "up")
            err_path = os.path.join(work, "run.err")
            err = open(err_path, "w")
            svc = subprocess.Popen(
                ["ip", "netns", "exec", net.s, BIN, "run", "-i", "cap", "--act",
                 "--set", "respond.firewall=none", "--set", "respond.bgp=" + speaker,
                 "--set", "respond.exabgp_socket=" + sock,
                 "--set", "respond.gobgp_api=" + GoBGP.API,
                 "--set", "respond.next_hop=self",
                 "--set", "respond.amplification=flowspec,blackhole",
                 "--set", "respond.lift_on_stop=yes",
                 "--set", "respond.state=" + os.path.join(work, "actions.json")] + flags,
                stdout=subprocess.DEVNULL, stderr=err)

            def said():
                with open(err_path, errors="replace") as f:
                    return f.read()

            def running():
                assert svc.poll() is None, "run exited %d: %s" % (svc.returncode, said())
                return "running" in said()

            wait_for("dnsradar run", running)
            if speaker == "exabgp":
                exa = ExaBGP(net, work, BIN, sock)
            else:
                gobgp = GoBGP(net.s, work, 65001, "10.1.0.1", "10.1.0.2", 65000)
            wait_for("BIRD session with %s" % speaker, bird.established)
            # twice the capture's pace: twice its rates, half its 20 s
            rep = subprocess.run(["ip", "netns", "exec", replay, "tcpreplay", "-q",
                                  "--multiplier=2", "-i", "cap", pcap],
                                 capture_output=True, text=True, timeout=60)
            assert rep.returncode == 0, "tcpreplay: %s" % rep.stderr
            want = ["flow4 { dst 10.0.9.9/32; proto 17; sport 53; length > 512; }",
                    "flow4 { dst 10.0.9.9/32; fragment !!is_fragment; }", "10.0.9.9/32 "]

            def announced():
                text = bird.routes()
                return all(w in text for w in want) and BLACKHOLE_COMMUNITY in text

            wait_for("the victim's rules in BIRD", announced)
            svc.send_signal(signal.SIGTERM)
            rc = svc.wait(timeout=TIMEOUT)
            assert rc == 0, "run exited %d: %s" % (rc, said())
            wait_for("the victim's rules withdrawn",
                     lambda: "10.0.9.9" not in bird.routes())
        except Exception:
            if svc:
                print("--- run's stderr\n%s" % open(os.path.join(work, "run.err")).read()[-3000:])
            raise
        finally:
            if svc and svc.poll() is None:
                svc.kill()
                svc.wait()
            if exa:
                exa.stop()
            if gobgp:
                gobgp.stop()
            bird.stop()
            subprocess.run(["ip", "netns", "del", replay], capture_output=True, timeout=TIMEOUT)


def test_run_act_exabgp():
    run_act("exabgp")


def test_run_act_gobgp():
    run_act("gobgp")


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    global BIN, DRIVER, TMP
    BIN, DRIVER = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    try:
        if os.geteuid() != 0:
            raise Skip("not root (network namespaces)")
        for tool in ("ip", "bird", "birdc", "exabgp", "gobgpd", "gobgp", "pgrep"):
            if not shutil.which(tool):
                raise Skip("no %s (scripts/install-deps.sh installs it)" % tool)
    except Skip as e:
        print("SKIP test_bgp: %s" % e)
        return 0
    TMP = tempfile.mkdtemp(prefix="dnsradar-bgp-")
    # the bridge runs as ExaBGP's child, as root, from a path it can reach
    os.chmod(TMP, 0o755)
    tests = [v for k, v in sorted(globals().items()) if k.startswith("test_") and callable(v)]
    passed = failed = 0
    try:
        for t in tests:
            t0 = time.monotonic()
            try:
                t()
                passed += 1
                print("ok   %s (%.1f s)" % (t.__name__, time.monotonic() - t0))
            except Exception:
                failed += 1
                print("FAIL %s" % t.__name__)
                traceback.print_exc()
            sys.stdout.flush()
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
