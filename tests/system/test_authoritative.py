#!/usr/bin/env python3
"""An authoritative server doing its job raises nothing: Debian's BIND 9
(`named`) serves a zone of 2,000 names on 127.0.0.1 (an unprivileged port,
a temporary directory), `dnsperf` asks it for all of them from 127.0.0.2,
tcpdump captures the exchange on lo, and `dnsradar analyze --local
127.0.0.1/32` must raise no alert: named is a local host that is not a
resolver answering an outsider (127.0.0.2) hundreds of times a second, but
with many different names, AA set, RA clear and no amplification. Then the
same capture with the server declared (--authoritative) stays quiet, and
the same server with recursion offered to the outsider (RA set, answers it
is not authoritative for) is found: the test sees what it claims to.

Skips with a message when named, dnsperf or tcpdump is missing (Debian
packages bind9, dnsperf, tcpdump; scripts/install-deps.sh).

usage: test_authoritative.py PATH/TO/dnsradar
"""
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

NAMES = 2000
QPS = 400
SECONDS = 6


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ask(port, name, timeout=0.5):
    """One A query over UDP; the response's flags, or None."""
    q = struct.pack("!HHHHHH", 0x1234, 0, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\x00" + struct.pack("!HH", 1, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        try:
            s.sendto(q, ("127.0.0.1", port))
            data = s.recv(4096)
        except OSError:
            return None
    return struct.unpack("!H", data[2:4])[0]


def start_named(work, port, recursion):
    zone = os.path.join(work, "db.example.test")
    with open(zone, "w") as f:
        f.write("$TTL 300\n@ IN SOA ns1 hostmaster 1 3600 600 86400 300\n"
                "@ IN NS ns1\nns1 IN A 127.0.0.1\n")
        for i in range(NAMES):
            f.write("host%d IN A 192.0.2.%d\n" % (i, i % 250 + 1))
    conf = os.path.join(work, "named.conf")
    with open(conf, "w") as f:
        f.write("""options {
	directory "%(w)s";
	pid-file "%(w)s/named.pid";
	session-keyfile "%(w)s/session.key";
	listen-on port %(p)d { 127.0.0.1; };
	listen-on-v6 { none; };
	recursion %(r)s;
	%(allow)s
	dnssec-validation no;
};
controls { };
zone "example.test" { type primary; file "%(z)s"; };
""" % {"w": work, "p": port, "z": zone, "r": "yes" if recursion else "no",
       "allow": "allow-recursion { any; };" if recursion else ""})
    log = open(os.path.join(work, "named.log"), "w")
    proc = subprocess.Popen(["named", "-g", "-c", conf, "-n", "1"], stdout=log,
                            stderr=subprocess.STDOUT)
    for _ in range(100):
        if ask(port, "host1.example.test") is not None:
            return proc
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    proc.kill()
    with open(os.path.join(work, "named.log")) as f:
        raise AssertionError("named did not start:\n" + f.read()[-2000:])


def capture(work, port, queries, name):
    """Runs dnsperf from 127.0.0.2 against the server, captured on lo."""
    pcap = os.path.join(work, name + ".pcap")
    dump = subprocess.Popen(["tcpdump", "-i", "lo", "-U", "-n", "-w", pcap, "udp port %d" % port],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # tcpdump says "listening on lo" once it captures
    line = dump.stderr.readline()
    assert b"listening" in line, line
    data = os.path.join(work, name + ".queries")
    with open(data, "w") as f:
        f.write("".join("%s A\n" % q for q in queries))
    perf = subprocess.run(["dnsperf", "-s", "127.0.0.1", "-p", str(port), "-a", "127.0.0.2",
                           "-d", data, "-l", str(SECONDS), "-Q", str(QPS), "-c", "4"],
                          capture_output=True, text=True, timeout=60)
    assert perf.returncode == 0, perf.stderr
    time.sleep(0.3)
    dump.send_signal(signal.SIGINT)
    dump.wait(timeout=10)
    return pcap


def analyze(binary, port, pcap, *flags):
    out = subprocess.run([binary, "analyze", "--no-progress", "--format", "json",
                          "--dns-port", str(port), "--local", "127.0.0.1/32"] + list(flags) +
                         [pcap], capture_output=True, check=True)
    return json.loads(out.stdout)


def flags_seen(binary, port, pcap):
    """Counts of responses with AA and with RA set, and all responses."""
    out = subprocess.run([binary, "records", "--dns-port", str(port), "--where", "qr=response",
                          pcap], capture_output=True, check=True, text=True)
    aa = ra = n = 0
    for line in out.stdout.splitlines():
        r = json.loads(line)
        n += 1
        aa += r["aa"]
        ra += r["ra"]
    return aa, ra, n


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    binary = os.path.abspath(sys.argv[1])
    missing = [t for t in ("named", "dnsperf", "tcpdump") if not shutil.which(t)]
    if missing:
        print("SKIP %s not installed (scripts/install-deps.sh installs bind9, dnsperf, tcpdump)"
              % ", ".join(missing))
        return 0
    work = tempfile.mkdtemp(prefix="dnsradar-auth-")
    os.chmod(work, 0o755)
    failed = 0
    try:
        port = free_port()
        names = ["host%d.example.test" % i for i in range(NAMES)]

        named = start_named(work, port, recursion=False)
        try:
            pcap = capture(work, port, names, "authoritative")
        finally:
            named.terminate()
            named.wait(timeout=20)
        aa, ra, n = flags_seen(binary, port, pcap)
        print("named answered %d queries from 127.0.0.2: %d with AA, %d with RA" % (n, aa, ra))
        assert n >= QPS * (SECONDS - 2), "too few answers captured: %d" % n
        assert aa == n and ra == 0, (aa, ra, n)
        for flags in ([], ["--authoritative", "127.0.0.1"]):
            doc = analyze(binary, port, pcap, *flags)
            got = ["%s %s" % (a["type"], a["key"]) for a in doc["alerts"]]
            print("%s: alerts %s" % (" ".join(flags) or "undeclared", got or "none"))
            if got:
                failed += 1
                print("FAIL an authoritative server doing its job raised %s" % got)

        # The same server with recursion offered to anyone: RA is set on
        # every answer to the outsider, which is the evidence, and it is
        # found (the names are still its own, so nothing leaves the host).
        named = start_named(work, port, recursion=True)
        try:
            pcap = capture(work, port, names, "recursive")
        finally:
            named.terminate()
            named.wait(timeout=20)
        doc = analyze(binary, port, pcap)
        got = ["%s %s" % (a["type"], a["key"]) for a in doc["alerts"]]
        print("recursion offered: alerts %s" % (got or "none"))
        if got != ["reflection 127.0.0.1"]:
            failed += 1
            print("FAIL an open resolver answering an outsider must raise reflection 127.0.0.1")
        else:
            print("ok   evidence %s" % doc["alerts"][0]["evidence"]["abuse"])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("%s" % ("FAILED" if failed else "ok   BIND answering dnsperf raises nothing"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
