#!/usr/bin/env python3
"""Dependencies run one way: lib <- decode <- input <- core <- detect <-
report <- store <- service <- cli (STYLE.md; store/ is the history, service/
the long-running service's parts). Every #include "DIR/..." in src/ must
name its own directory or one below it; any other is an arrow running back
up, printed with its file and line.

usage: test_layers.py [SOURCE_DIR]
"""
import os
import re
import sys

LAYERS = ["lib", "decode", "input", "core", "detect", "report", "store", "action", "service", "cli"]
INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z]+)/')


def main():
    source = sys.argv[1] if len(sys.argv) > 1 else os.environ.get(
        "DR_SOURCE", os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    src = os.path.join(source, "src")
    bad = checked = 0
    for layer in os.listdir(src):
        if layer not in LAYERS:
            print("FAIL src/%s is not a layer of %s" % (layer, LAYERS))
            bad += 1
            continue
        rank = LAYERS.index(layer)
        for name in sorted(os.listdir(os.path.join(src, layer))):
            path = os.path.join(src, layer, name)
            with open(path, encoding="utf-8") as f:
                for lineno, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    checked += 1
                    target = m.group(1)
                    if target not in LAYERS or LAYERS.index(target) > rank:
                        print("FAIL src/%s/%s:%d includes %s/, above %s/" %
                              (layer, name, lineno, target, layer))
                        bad += 1
    print("%d includes checked, %d run back up" % (checked, bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
