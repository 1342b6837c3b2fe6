"""The runner the CLI-level system tests share: every function of the
test module whose name starts with test_, in name order, each reported as
ok or FAIL with its traceback, with the module's BIN (the dnsradar binary
given on the command line) and TMP (a temporary directory, removed after)
set first.

usage, at the end of a test module:  sys.exit(runner.main(globals(), "NAME"))
"""
import os
import shutil
import sys
import tempfile
import traceback


def main(module, name):
    if len(sys.argv) != 2:
        print(module.get("__doc__") or "usage: %s PATH/TO/dnsradar" % sys.argv[0])
        return 2
    module["BIN"] = os.path.abspath(sys.argv[1])
    module["TMP"] = tempfile.mkdtemp(prefix="dnsradar-%s-" % name)
    tests = [v for k, v in sorted(module.items()) if k.startswith("test_") and callable(v)]
    passed = failed = 0
    try:
        for t in tests:
            try:
                t()
                passed += 1
                print("ok   %s" % t.__name__)
            except Exception:
                failed += 1
                print("FAIL %s" % t.__name__)
                traceback.print_exc()
    finally:
        shutil.rmtree(module["TMP"], ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0
