#!/usr/bin/env python3
"""The systemd unit in contrib/ passes `systemd-analyze verify` (its
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


if __name__ == "__main__":
    sys.exit(runner.main(globals(), "unit"))
