#!/usr/bin/env python3
"""main.py - run the integration suite.

    PROXYD=./proxyd/proxyd python3 tests/integration/main.py [-k SUBSTRING]... [--list]

Environment:
  PROXYD             the binary under test (default ./proxyd/proxyd)
  PROXY_UNDER_TEST   proxyd (default) | squid | tinyproxy  (harness self-check)
  KEEP_TMP=1         keep the temp dir (logs, configs) for a post-mortem

Prints `PASS name` / `FAIL name: why` per test and ends with
`integration: N passed, N failed`; exits 1 if anything failed.
"""

import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True      # no __pycache__ in the source tree

import harness                      # noqa: E402
from env import Env                 # noqa: E402

# Import order is run order; lifecycle_tests ends with the main proxy's
# clean-exit check, so it comes last.
import curl_tests                   # noqa: E402,F401
import raw_tests                    # noqa: E402,F401
import git_tests                    # noqa: E402,F401
import go_tests                     # noqa: E402,F401
import route_tests                  # noqa: E402,F401
import parent_tests                 # noqa: E402,F401
import failover_tests               # noqa: E402,F401
import modproxy_tests               # noqa: E402,F401
import goerr_tests                  # noqa: E402,F401
import sumdb_tests                  # noqa: E402,F401
import limit_tests                  # noqa: E402,F401
import request_tests                # noqa: E402,F401
import bodyread_tests               # noqa: E402,F401
import reload_tests                 # noqa: E402,F401
import logs_tests                   # noqa: E402,F401
import envcmd_tests                 # noqa: E402,F401
import packaging_tests              # noqa: E402,F401
import defaultconf_tests            # noqa: E402,F401
import docs_tests                   # noqa: E402,F401
import fuzz_tests                   # noqa: E402,F401
import admin_tests                  # noqa: E402,F401
import destpolicy_tests             # noqa: E402,F401
import auth_tests                   # noqa: E402,F401
import bench_tests                  # noqa: E402,F401
import splice_tests                 # noqa: E402,F401
import tunfast_tests                # noqa: E402,F401
import cache_tests                  # noqa: E402,F401
import transparent_tests            # noqa: E402,F401
import tls_listener_tests           # noqa: E402,F401
import gateway_tests                # noqa: E402,F401
import idle_tests                   # noqa: E402,F401
import lifecycle_tests              # noqa: E402,F401


def main():
    ap = argparse.ArgumentParser(description="proxyd integration tests")
    ap.add_argument("-k", action="append", default=[],
                    help="run only tests whose name contains this (repeatable)")
    ap.add_argument("--list", action="store_true", help="list test names and exit")
    ap.add_argument("--summary", metavar="FILE",
                    help="also write the FAIL lines and the counts line to FILE")
    args = ap.parse_args()

    selected = [(n, f) for n, f in harness.TESTS
                if not args.k or any(k in n for k in args.k)]
    if args.list:
        print("\n".join(n for n, _ in selected))
        return 0

    kind = os.environ.get("PROXY_UNDER_TEST", "proxyd")
    binary = os.path.abspath(os.environ.get("PROXYD", "./proxyd/proxyd"))
    wd = harness.Workdir()
    harness.install_cleanup(wd)
    print("# integration: %d tests against %s%s, temp dir %s"
          % (len(selected), kind, " (%s)" % binary if kind == "proxyd" else "", wd.path),
          flush=True)

    started = time.monotonic()
    env = Env(wd, kind, binary)
    try:
        passed, failed, skipped = harness.run_tests(env, selected, args.summary)
    finally:
        harness.stop_all()
    if skipped:
        print("# %d skipped" % skipped)
    print("# integration took %.0fs" % (time.monotonic() - started))
    counts = "integration: %d passed, %d failed" % (passed, failed)
    print(counts, flush=True)
    if args.summary:
        with open(args.summary, "a") as f:
            f.write(counts + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
