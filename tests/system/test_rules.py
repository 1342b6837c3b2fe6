#!/usr/bin/env python3
"""dnsradar rules and analyze --rules. The alert objects are the real
ones: `analyze --format json` on the labelled scenario captures
(tools/gencap.py) of all five attacks, put in a store laid out by
src/store/schema.h (read from the header, as test_drill does). For each,
`dnsradar rules ID --store` must print the commands the policy gives the
alert's evidence (checked here from the evidence's own fields: the flood's
source, the loop's peer and port, the reflector's victims, the
amplification's victim, the attacked zone), the same text analyze --rules
prints for the capture, and refuse a bad id, run, store or setting with
one line and exit 2.

When run as root with ip and tcpreplay, also on a store `dnsradar run`
wrote from a flood replayed through a veth pair (namespaces of the test's
own): SKIP is printed otherwise.

usage: test_rules.py PATH/TO/dnsradar
"""
import json
import os
import re
import sqlite3
import subprocess
import sys
import time

import runner

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("DR_SOURCE", os.path.dirname(os.path.dirname(HERE)))
GENCAP = os.path.join(SOURCE, "tools", "gencap.py")
SCENARIOS = ["flood", "loop", "amplification", "random_subdomain", "reflection"]
TIMEOUT = 120
_cache = {}


def run(*args):
    p = subprocess.run([BIN] + list(args), capture_output=True, text=True, timeout=TIMEOUT)
    return p.returncode, p.stdout, p.stderr


def scenario(name):
    path = os.path.join(TMP, name + ".pcap")
    if not os.path.exists(path + ".truth"):
        subprocess.run([sys.executable, GENCAP, "scenario", name, path], check=True,
                       capture_output=True, timeout=TIMEOUT)
    with open(path + ".truth") as f:
        return path, json.load(f)


def analyzed(name):
    """The alert objects analyze writes for a scenario."""
    if name not in _cache:
        path, truth = scenario(name)
        rc, out, err = run("analyze", "--no-progress", "--format", "json", *truth["flags"], path)
        assert rc == 0, err
        _cache[name] = json.loads(out)["alerts"]
        assert _cache[name], name
    return _cache[name]


def schema():
    with open(os.path.join(SOURCE, "src", "store", "schema.h"), encoding="utf-8") as f:
        text = f.read()
    body = text[text.index("#define DR_STORE_SCHEMA \\"):]
    body = body[:body.index("#endif")]
    body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
    return "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', body)).encode().decode("unicode_escape")


def store():
    """Run 1 holds the five scenarios' alerts as ids 1..5 (in SCENARIOS'
    order); run 2 an alert 1 of its own (a flood from another source)."""
    path = os.path.join(TMP, "store.db")
    if os.path.exists(path):
        return path
    db = sqlite3.connect(path)
    db.executescript(schema())
    db.execute("INSERT INTO meta VALUES('schema_version', '1')")
    rows = [(1, i + 1, analyzed(name)[0]) for i, name in enumerate(SCENARIOS)]
    other = json.loads(json.dumps(analyzed("flood")[0]))
    other["key"] = other["evidence"]["source"] = "192.0.2.77"
    rows.append((2, 1, other))
    for run_id, aid, obj in rows:
        obj = dict(obj, id=aid)
        db.execute("INSERT INTO alerts VALUES(?, ?, ?, ?, 'closed', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   (run_id, aid, obj["type"], obj["key"], obj["start"], obj["end"],
                    obj["detected"], obj["severity"], obj["packets"], obj["bytes"],
                    obj["peak_pps"], obj["peak_bps"], obj["end"], json.dumps(obj)))
    db.commit()
    db.close()
    return path


def rules(aid, *more):
    rc, out, err = run("rules", str(aid), "--store", store(), *more)
    assert rc == 0 and err == "", (rc, err)
    return out


def test_flood_drops_the_source():
    ev = analyzed("flood")[0]["evidence"]
    out = rules(1, "--run", "1")
    assert out.startswith("alert 1 of run 1: flood %s, severity " % ev["source"]), out
    assert "  drop-source %s to port %d\n" % (ev["source"], ev["port"]) in out, out
    assert ("    ipset:\n      ipset -exist add dnsradar-src4 %s,udp:%d timeout 3600\n"
            "      undo: ipset -exist del dnsradar-src4 %s,udp:%d\n"
            % (ev["source"], ev["port"], ev["source"], ev["port"])) in out, out
    # the setup once, with the rule the element hangs on
    assert out.count("setup, once, before the commands above:") == 1
    assert ("iptables -w 5 -t filter -C INPUT -p udp -m set --match-set dnsradar-src4 src,dst "
            "-j DROP 2>/dev/null || iptables -w 5 -t filter -I INPUT") in out
    assert "rate-limit" not in out.split("setup")[0], "a flood by source is not rate-limited"


def test_latest_run_by_default():
    out = rules(1)
    assert out.startswith("alert 1 of run 2: flood 192.0.2.77,"), out
    assert "ipset -exist add dnsradar-src4 192.0.2.77,udp:53 timeout 3600" in out


def test_loop_drops_only_the_peers_port():
    ev = analyzed("loop")[0]["evidence"]
    out = rules(2, "--run", "1")
    want = "ipset -exist add dnsradar-peer4 %s,udp:%d,%s timeout 3600\n" % (
        ev["peer"], ev["peer_port"], ev["server"])
    assert want in out, out
    assert "drop-peer %s port %d to %s port %d" % (ev["peer"], ev["peer_port"], ev["server"],
                                                   ev["server_port"]) in out


def test_amplification_drops_reflected_answers():
    ev = analyzed("amplification")[0]["evidence"]
    out = rules(3, "--run", "1")
    assert "drop-reflected to %s/32 from port 53 over 512 octets, and fragments" % ev["victim"] in out
    assert "ipset -exist add dnsradar-refl4 %s timeout 3600\n" % ev["victim"] in out, out
    # Flowspec, by each BGP backend of the table
    assert "  flowspec to %s/32" % ev["victim"] in out
    assert ("    exabgp:\n      announce flow route { match { destination %s/32; protocol udp; "
            "source-port =53; packet-length >512; } then { discard; } }\n" % ev["victim"]) in out, out
    assert ("global rib add -a ipv4-flowspec match destination %s/32 fragment is-fragment then "
            "discard\n" % ev["victim"]) in out, out
    assert "--sport 53 -m set --match-set dnsradar-refl4 dst -m length --length 513:65535" in out


def test_random_subdomain_rate_limits_for_the_servers():
    zone = analyzed("random_subdomain")[0]["evidence"]["zone"]
    out = rules(4, "--run", "1")
    assert "  rrl %s\n    files:\n" % zone in out, out
    assert "zone:add(\"%s\")" % zone in out
    assert "addDynBlockSMT({\"%s\"}, \"dnsradar\", 3600)" % zone in out
    assert "  - domain: %s\n" % zone in out
    assert "rate-limit { nxdomains-per-second 100; slip 2; window 15; };" in out
    assert "undo: rm -f '/var/lib/dnsradar/rules/rrl-%s.conf'" % zone in out
    assert "setup" not in out	# nothing to set up for a file


def test_reflection_drops_responses_to_its_victims():
    alert = analyzed("reflection")[0]
    out = rules(5, "--run", "1")
    victims = [v["address"] for v in alert["evidence"]["victims"]]
    assert victims and alert["evidence"]["destinations"] == len(victims), alert["evidence"]
    for v in victims:
        assert "ipset -exist add dnsradar-resp4 %s,udp:53,%s timeout 3600\n" % (alert["key"], v) in out, out
    assert out.count("  drop-responses from %s to " % alert["key"]) == len(victims)


def test_analyze_rules_prints_the_same():
    for i, name in enumerate(SCENARIOS):
        path, truth = scenario(name)
        rc, out, err = run("analyze", "--no-progress", "--rules", *truth["flags"], path)
        assert rc == 0, err
        section = out[out.index("\nRules (the default response policy"):]
        mine = rules(i + 1, "--run", "1")
        body = mine.split("\n", 1)[1]	# the store's header names its run
        # the rrl file's first line names the alert: 1 in the capture, i + 1 in the store
        body = body.replace("alert %d, 100 NXDOMAIN" % (i + 1), "alert 1, 100 NXDOMAIN")
        assert body.split("setup, once")[0] in section, (name, section, mine)
        assert "alert 1: %s %s, severity" % (truth["expected"][0]["type"],
                                             truth["expected"][0]["key"]) in section


def test_config_changes_names_and_policy():
    conf = os.path.join(TMP, "dnsradar.conf")
    with open(conf, "w") as f:
        f.write("interface = eth0   # the service's own lines are left alone\n"
                "respond.set_prefix = edge\nrespond.hook = forward\n"
                "respond.flood = rate-limit\nrespond.ttl = 10m\n")
    out = rules(1, "--run", "1", "-c", conf)
    assert "no action: the evidence fits none of the policy's actions" in out, out
    with open(conf, "a") as f:
        f.write("respond.flood = drop-source\n")
    out = rules(1, "--run", "1", "--config", conf)
    assert "ipset -exist add edge-src4 " in out and " timeout 600\n" in out, out
    assert "-I FORWARD -p udp -m set --match-set edge-src4 src,dst -j DROP" in out
    ev = analyzed("flood")[0]["evidence"]
    with open(conf, "a") as f:
        f.write("allow = %s/32\n" % ev["source"])
    out = rules(1, "--run", "1", "-c", conf)
    assert "no action: every address it would act on is allow-listed (1)" in out, out


def one_line_exit_2(args, want):
    rc, out, err = run(*args)
    assert rc == 2 and out == "", (rc, out, err)
    lines = err.splitlines()
    assert lines and want in lines[0], err
    return lines


def test_refusals():
    db = store()
    one_line_exit_2(["rules", "abc", "--store", db], "'abc' is not an alert id")
    one_line_exit_2(["rules", "0", "--store", db], "'0' is not an alert id")
    one_line_exit_2(["rules", "99", "--store", db], "no alert 99 in %s" % db)
    one_line_exit_2(["rules", "5", "--run", "2", "--store", db], "no alert 5 of run 2 in")
    one_line_exit_2(["rules", "1", "--run", "x", "--store", db], "--run 'x': give a run number")
    one_line_exit_2(["rules", "1"], "give the store with --store FILE")
    one_line_exit_2(["rules", "--store", db], "give the alert's id")
    one_line_exit_2(["rules", "1", "--store", os.path.join(TMP, "none.db")],
                    "none.db: No such file or directory")
    conf = os.path.join(TMP, "bad.conf")
    with open(conf, "w") as f:
        f.write("# fine\n\nrespond.hook = sideways\n")
    one_line_exit_2(["rules", "1", "--store", db, "-c", conf],
                    "rules: %s:3: respond.hook = sideways: give input" % conf)
    notdb = os.path.join(TMP, "notdb")
    with open(notdb, "w") as f:
        f.write("not sqlite at all, just text\n" * 20)
    one_line_exit_2(["rules", "1", "--store", notdb], "notdb: file is not a database")
    path, truth = scenario("flood")
    one_line_exit_2(["analyze", "--rules", "--format", "json", path], "--rules prints text")
    rc, out, err = run("rules", "--help")
    assert rc == 0 and out.startswith("Usage: dnsradar rules ALERT-ID --store FILE"), out


def test_store_of_dnsradar_run():
    """A flood replayed through a veth pair into `dnsradar run --store`."""
    if os.geteuid() != 0 or any(subprocess.run(["sh", "-c", "command -v " + t],
                                               stdout=subprocess.DEVNULL).returncode
                                for t in ("ip", "tcpreplay")):
        print("  SKIP test_store_of_dnsradar_run: needs root, ip and tcpreplay")
        return
    tag = "drrl%d" % (os.getpid() % 100000)
    a, b = tag + "A", tag + "B"
    path, truth = scenario("flood")
    want = truth["expected"][0]
    db = os.path.join(TMP, "run.db")
    sh = lambda *argv: subprocess.run(argv, check=True, capture_output=True, timeout=TIMEOUT)
    try:
        sh("ip", "netns", "add", a)
        sh("ip", "netns", "add", b)
        sh("ip", "link", "add", tag + "a", "netns", a, "type", "veth", "peer", "name",
           tag + "b", "netns", b)
        for ns, dev in ((a, tag + "a"), (b, tag + "b")):
            sh("ip", "-n", ns, "link", "set", dev, "up")
        err = open(os.path.join(TMP, "run.err"), "w+")
        svc = subprocess.Popen(["ip", "netns", "exec", b, BIN, "run", "-i", tag + "b",
                                "--store", db, "--user", "root"] + truth["flags"],
                               stdout=subprocess.DEVNULL, stderr=err)
        try:
            deadline = time.time() + 30
            while "running" not in open(err.name).read():
                assert svc.poll() is None and time.time() < deadline, open(err.name).read()
                time.sleep(0.1)
            sh("ip", "netns", "exec", a, "tcpreplay", "-q", "-i", tag + "a", path)
            time.sleep(2)
        finally:
            svc.terminate()
            svc.wait(timeout=30)
    finally:
        for ns in (a, b):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=TIMEOUT)
    rc, out, errtext = run("rules", "1", "--store", db)
    assert rc == 0, errtext
    assert out.startswith("alert 1 of run 1: %s %s, severity" % (want["type"], want["key"])), out
    assert "ipset -exist add dnsradar-src4 %s,udp:53 timeout 3600" % want["key"] in out, out


if __name__ == "__main__":
    sys.exit(runner.main(globals(), "rules"))
