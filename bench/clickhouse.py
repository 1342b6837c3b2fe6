#!/usr/bin/env python3
"""Rows a second into ClickHouse from one sensor, and the sensor's CPU for
them, against the sensor's own SQLite store in the same run.

Starts Debian's clickhouse-server on loopback (data in a temporary folder)
and runs bench/storebench.c on an attack-shaped stream (a random source
and a random name under three zones under alert for every record, so that
every record is kept: ISP traffic under a random-subdomain attack) twice:
the SQLite store alone (the baseline), and the store with ClickHouse
beside it. The second run's first phase encodes, compresses and spools
every batch beside the SQLite writes (the server away); its second phase
is a sender alone emptying that spool into the server, as fast as it
takes it. Best of REPEAT by CPU seconds (getrusage). A benchmark is not a
test: nothing here asserts a duration.

    bench/clickhouse.py [RECORDS] [REPEAT]
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "system"))
import chserver  # noqa: E402

BENCH = os.path.join(ROOT, "build", "bench", "storebench")


def storebench(db, records, url=None):
    for p in (db, db + "-wal", db + "-shm"):
        if os.path.exists(p):
            os.unlink(p)
    shutil.rmtree(db + ".spool", ignore_errors=True)
    env = dict(os.environ)
    env.pop("DR_BENCH_CLICKHOUSE", None)
    if url:
        env["DR_BENCH_CLICKHOUSE"] = url
    out = subprocess.run([BENCH, db, str(records), "flood", "attack"], env=env, check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    cpu = float(re.search(r"; ([0-9.]+) CPU s", out).group(1))
    sent = re.search(r"clickhouse: .*?, (\d+) rows .* in ([0-9.]+) s: (\d+) rows/s, "
                     r"([0-9.]+) CPU s \(([0-9.]+) us a row\); (\d+) send errors", out)
    return cpu, sent and {"rows": int(sent.group(1)), "secs": float(sent.group(2)),
                          "rate": int(sent.group(3)), "cpu": float(sent.group(4)),
                          "us": float(sent.group(5)), "errors": int(sent.group(6))}, out


def main():
    records = int(sys.argv[1]) if len(sys.argv) > 1 else 500000
    repeat = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    ok, why = chserver.available()
    if not ok:
        print("clickhouse-server is not here: %s" % why)
        return 2
    if not os.path.exists(BENCH):
        subprocess.run(["sh", os.path.join(ROOT, "scripts", "build.sh"), "build"], check=True,
                       stdout=subprocess.DEVNULL)
    tmp = tempfile.mkdtemp(prefix="dnsradar-chbench-")
    srv = chserver.start(os.path.join(tmp, "ch"), 28123, 28900)
    try:
        db = os.path.join(tmp, "bench.db")
        base = best = None
        for i in range(repeat):
            cpu, _, _ = storebench(db, records)
            base = cpu if base is None else min(base, cpu)
            srv.query("DROP DATABASE IF EXISTS dnsradar")
            cpu, sent, out = storebench(db, records, srv.url + "?database=dnsradar")
            if not sent or sent["errors"]:
                print(out)
                return 1
            if best is None or cpu < best[0]:
                best = (cpu, sent)
        cpu, sent = best
        stored = srv.query("SELECT count() FROM dnsradar.records").strip()
        print("| records | SQLite alone, CPU s | SQLite + ClickHouse batches, CPU s | ratio |"
              " into ClickHouse, rows/s | sender CPU, us a row |")
        print("|---:|---:|---:|---:|---:|---:|")
        print("| %d | %.2f | %.2f | %.3f | %d | %.3f |" % (records, base, cpu, cpu / base,
                                                         sent["rate"], sent["us"]))
        print("(%d rows sent in %.2f s, %s records rows stored; clickhouse-server %s on the"
              " same machine)" % (sent["rows"], sent["secs"], stored,
                                  srv.query("SELECT version()").strip()))
    finally:
        srv.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
