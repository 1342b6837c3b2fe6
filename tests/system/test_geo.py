#!/usr/bin/env python3
"""Sources by country and by AS (--geoip, --asn) against MaxMind's own test
databases in ../shared/data/maxmind-db, read in place: a water-torture
capture whose resolvers sit in known networks must be broken down exactly.

usage: test_geo.py PATH/TO/dnsradar
"""
import importlib.util
import json
import os
import random
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("DR_SOURCE", os.path.dirname(os.path.dirname(HERE)))
SHARED = os.environ.get("DR_SHARED", os.path.join(SOURCE, "..", "shared"))
MMDB = os.path.join(SHARED, "data", "maxmind-db")

spec = importlib.util.spec_from_file_location("gencap", os.path.join(SOURCE, "tools", "gencap.py"))
gencap = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gencap)

# resolver networks -> (how many resolvers, queries each)
NETS = {
    "81.2.69.%d": (range(144, 160), 30),	# GB in the country test database
    "89.160.20.%d": (range(130, 150), 20),	# SE
    "175.16.199.%d": (range(1, 11), 10),	# CN
    "1.0.0.%d": (range(1, 11), 5),		# AS15169 in the ASN test database
    "1.%d.0.1": (range(128, 134), 5),	# AS1221, six /24s (1.128.0.0/11)
}


def capture(path):
    rng = random.Random(5)
    out = gencap.Pcap(path)
    t = 1700000000.0
    for fmt, (hosts, each) in NETS.items():
        for h in hosts:
            src = [int(x) for x in (fmt % h).split(".")]
            for _ in range(each):
                t += 0.001
                q = gencap.dns_query(rng.getrandbits(16), "%08x.victim-example.com" %
                                     rng.getrandbits(32), 1)
                out.add(t, gencap.ether(gencap.ipv4(src, [192, 0, 2, 53], 17,
                                                    gencap.udp(1234, 53, q))))
    out.close()


def main():
    binary = os.path.abspath(sys.argv[1])
    if not os.path.isdir(MMDB):
        print("SKIP ../shared/data/maxmind-db is absent")
        print("0 passed, 0 failed")
        return 0
    work = tempfile.mkdtemp(prefix="dnsradar-geo-")
    path = os.path.join(work, "geo.pcap")
    capture(path)
    out = subprocess.run([binary, "analyze", "--no-progress", "--format", "json",
                          "--geoip", os.path.join(MMDB, "GeoIP2-Country-Test.mmdb"),
                          "--asn", os.path.join(MMDB, "GeoLite2-ASN-Test.mmdb"),
                          "--where", "qname=*.victim-example.com", path],
                         capture_output=True, check=True)
    doc = json.loads(out.stdout)
    failed = 0
    countries = {r["key"]: r for r in doc["top"]["countries"]["rows"]}
    want = {"GB": (16 * 30, 16, 1), "SE": (20 * 20, 20, 1), "CN": (10 * 10, 10, 1),
            "--": (10 * 5 + 6 * 5, 16, 7)}
    for cc, (messages, sources, prefixes) in want.items():
        r = countries.get(cc)
        got = r and (r["count"], r["sources"], r["prefixes"])
        if got != (messages, sources, prefixes):
            print("FAIL country %s: %r, want %r" % (cc, got, (messages, sources, prefixes)))
            failed += 1
    ases = {r.get("value"): r for r in doc["top"]["ases"]["rows"]}
    for asn, (messages, sources, prefixes, org) in {15169: (50, 10, 1, "Google"),
                                                     1221: (30, 6, 6, "Telstra")}.items():
        r = ases.get(asn)
        got = r and (r["count"], r["sources"], r["prefixes"])
        if got != (messages, sources, prefixes) or org not in r["key"]:
            print("FAIL AS%d: %r" % (asn, r))
            failed += 1
    text = subprocess.run([binary, "analyze", "--no-progress",
                           "--geoip", os.path.join(MMDB, "GeoIP2-Country-Test.mmdb"), path],
                          capture_output=True, check=True).stdout.decode()
    if "Sources by country" not in text or "Sources by autonomous system" in text:
        print("FAIL text report tables")
        failed += 1
    conf = os.path.join(work, "dr.conf")
    with open(conf, "w") as f:
        f.write("geoip = %s\nasn = %s\n" % (os.path.join(MMDB, "GeoIP2-Country-Test.mmdb"),
                                             os.path.join(MMDB, "GeoLite2-ASN-Test.mmdb")))
    via_config = subprocess.run([binary, "analyze", "--no-progress", "--format", "json",
                                 "--config", conf, "--where", "qname=*.victim-example.com", path],
                                capture_output=True, check=True)
    if json.loads(via_config.stdout)["top"] != doc["top"]:
        print("FAIL geoip/asn from a config file differ from the options")
        failed += 1
    bad = subprocess.run([binary, "analyze", "--geoip", path, path], capture_output=True)
    if bad.returncode != 2 or b"--geoip" not in bad.stderr:
        print("FAIL a capture given as --geoip: %r" % bad.stderr)
        failed += 1
    print("%d passed, %d failed" % (0 if failed else 1, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
