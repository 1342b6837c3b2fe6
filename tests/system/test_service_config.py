#!/usr/bin/env python3
"""dnsradar check-config lists every mistake of a file with its line, and
passes a good one; dnsradar run refuses a bad setting in one line, exit 2.
The systemd unit in contrib/ passes `systemd-analyze verify` (its
directives, its hardening options, its ExecStart), with the binary under
test in place of /usr/bin/dnsradar. The configuration it starts from,
contrib/dnsradar.conf, passes `dnsradar check-config` but for the
interface and paths that only exist on a real host.

usage: test_unit.py PATH/TO/dnsradar
"""
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("DR_SOURCE", os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, HERE)
import runner  # noqa: E402

BIN = TMP = None


def test_unit_verifies():
    if not shutil.which("systemd-analyze"):
        print("  SKIP: no systemd-analyze here")
        return
    with open(os.path.join(SOURCE, "contrib", "systemd", "dnsradar.service")) as f:
        unit = f.read()
    assert "Type=notify" in unit and "StateDirectory=dnsradar" in unit
    # the man page is not installed here: verify would run man(1) for it
    unit = "\n".join(l for l in unit.splitlines() if not l.startswith("Documentation="))
    path = os.path.join(TMP, "dnsradar.service")
    with open(path, "w") as f:
        f.write(unit.replace("/usr/bin/dnsradar", BIN) + "\n")
    out = subprocess.run(["systemd-analyze", "verify", path], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, timeout=60)
    assert out.returncode == 0 and not out.stdout.strip(), out.stdout.decode()


def test_sample_config_checks():
    conf = os.path.join(SOURCE, "contrib", "dnsradar.conf")
    out = subprocess.run([BIN, "check-config", conf], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, timeout=60)
    said = out.stderr.decode().splitlines()
    # every key is known and every value good: only the host-specific
    # checks may fail (eth0, /var/lib/dnsradar)
    host = [l for l in said if "no such interface" in l or "cannot be written" in l]
    rest = [l for l in said if l not in host and not l.endswith("mistake") and
            not l.endswith("mistakes")]
    assert rest == [], said


def check(text):
    path = os.path.join(TMP, "c%d.conf" % abs(hash(text)))
    with open(path, "w") as f:
        f.write(text)
    out = subprocess.run([BIN, "check-config", path], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, timeout=60)
    return path, out.returncode, out.stdout.decode(), out.stderr.decode().splitlines()


def test_check_config_lists_every_mistake():
    path, rc, out, err = check(
        "# a comment\n"
        "interface = lo\n"
        "listen = 127.0.0.1:2055\n"
        "flood.source_pps = fast\n"            # 4: not a number
        "colour = blue\n"                      # 5: no such key
        "store.retention = 0\n"                # 6: out of range
        "http = 0.0.0.0:8053\n"
        "local = 300.1.2.3/8\n"                # 8: bad CIDR
        "webhook = ftp://example.net/\n"       # 9: not http(s)
        "just words\n"                         # 10: no '='
        "listen = 127.0.0.1:9995\n"
        "store = /nonexistent-dir/x.db\n")
    assert rc == 2, (rc, err)
    lines = [l.split(":")[1] for l in err if l.startswith(path + ":") and
             l.split(":")[1].isdigit()]
    assert lines == ["4", "5", "6", "8", "9", "10"], err
    assert any("flood.source_pps = fast" in l for l in err), err
    assert any("no setting 'colour'" in l for l in err), err
    assert err[-1] == "%s: 8 mistakes" % path, err  # and http, store


def test_check_config_whole_file_checks():
    path, rc, out, err = check("listen = 127.0.0.1:2055\nhttp = 0.0.0.0:8053\n"
                               "interface = no-such-if0\nstore = /nonexistent-dir/x.db\n")
    assert rc == 2
    assert any("needs http_token" in l for l in err), err
    path, rc, out, err = check("interface = no-such-if0\nstore = /nonexistent-dir/x.db\n")
    assert any("no-such-if0: no such interface" in l for l in err), err
    assert any("cannot be written" in l for l in err), err


def test_check_config_good():
    path, rc, out, err = check("interface = lo\nlocal = 10.0.0.0/8\nstore = %s/s.db\n"
                               "http = 0.0.0.0:8053\nhttp_token = 0123456789abcdef0123\n"
                               "flood.source_pps = 3000\nstore.retention = 7\n" % TMP)
    assert rc == 0, err
    assert out.startswith(path + ": ok: 1 interfaces, 0 flow sockets"), out


def test_check_config_response():
    path, rc, out, err = check(
        "interface = lo\n"
        "act = perhaps\n"                      # 2: not yes/no
        "allow = 192.0.2.0/24\n"
        "allow = 10.0.0.300\n"                 # 4: not an address
        "respond.flood = ban-everyone\n"       # 5: no such action
        "respond.bgp = quagga\n"               # 6: no such backend
        "respond.hook = output\n"              # 7: no such hook
        "hold = forever\n"                     # 8: not seconds
        "respond.colour = blue\n")             # 9: no such setting
    assert rc == 2, (rc, err)
    lines = [l.split(":")[1] for l in err if l.startswith(path + ":") and
             l.split(":")[1].isdigit()]
    assert lines == ["2", "4", "5", "6", "7", "8", "9"], err
    assert any("no action 'ban-everyone'" in l for l in err), err
    assert any("give exabgp, gobgp or none" in l for l in err), err
    path, rc, out, err = check("interface = lo\nact = yes\nallow = 192.0.2.0/24\n"
                               "allow = 2001:db8::/32\nhold = 10m\nrespond.loop = none\n")
    assert rc == 0, err
    assert "response acting, firewall nftables, bgp none, 2 allowlist entries" in out, out


def test_run_bad_flag_one_line():
    out = subprocess.run([BIN, "run", "-i", "lo", "--set", "flood.source_pps=-1"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    err = out.stderr.decode().splitlines()
    assert out.returncode == 2 and len(err) == 1 and "flood.source_pps" in err[0], err
    out = subprocess.run([BIN, "run"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         timeout=60)
    assert out.returncode == 2 and "nothing to read" in out.stderr.decode()
    out = subprocess.run([BIN, "run", "-i", "lo", "--allow", "not-an-address"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    err = out.stderr.decode().splitlines()
    assert out.returncode == 2 and len(err) == 1 and "allow" in err[0], err


if __name__ == "__main__":
    sys.exit(runner.main(globals(), "unit"))
