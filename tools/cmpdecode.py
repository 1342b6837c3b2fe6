#!/usr/bin/env python3
"""Compares what two dnsradar binaries decode: runs
`analyze --format json --no-progress FILE` with each on every file under the
given directories (default: tests/data and ../shared/data beside the
checkout) and requires the same "decode" and "summary" members, or, for a
file that is not a capture, the same exit status and message.

    python3 tools/cmpdecode.py OLD_BINARY NEW_BINARY [DIR...]

Prints one line per difference and a count; exits 1 when any differ.
"""
import json
import os
import subprocess
import sys


def run(binary, path):
    p = subprocess.run([binary, "analyze", "--format", "json", "--no-progress", path],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    try:
        doc = json.loads(p.stdout)
    except ValueError:
        return None, (p.returncode, p.stderr.decode(errors="replace"))
    return {"decode": doc.get("decode"), "summary": doc.get("summary")}, p.returncode


def main():
    if len(sys.argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    old, new = sys.argv[1], sys.argv[2]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    dirs = sys.argv[3:] or [os.path.join(root, "tests", "data"),
                            os.path.join(root, "..", "shared", "data")]
    files = []
    for d in dirs:
        if not os.path.isdir(d):
            print(f"skipped (absent): {d}")
            continue
        for top, _, names in os.walk(d):
            files += [os.path.join(top, n) for n in names]
    files.sort()
    captures = others = differ = 0
    for path in files:
        a, b = run(old, path), run(new, path)
        if a != b:
            differ += 1
            print(f"DIFFERS: {path}")
            if a[0] and b[0]:
                for member in ("decode", "summary"):
                    for k in sorted(set(a[0][member] or {}) | set(b[0][member] or {})):
                        va, vb = (a[0][member] or {}).get(k), (b[0][member] or {}).get(k)
                        if va != vb:
                            print(f"  {member}.{k}: {va!r} -> {vb!r}")
        elif a[0] is not None:
            captures += 1
        else:
            others += 1
    print(f"{len(files)} files: {captures} captures with the same decode and summary, "
          f"{others} non-captures with the same error, {differ} differ")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
