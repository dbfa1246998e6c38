"""fuzz_tests.py - a short run of the event-loop fuzzer
(tests/fuzz/evloop_fuzz.py) against the proxyd under test: random client
byte streams and upstream behaviours through a real proxyd process, with
bandwidth/rate/max_conns/failover/mirror routes and SIGTERM mid-traffic.

Two runs: a fixed seed (the same traffic every time) and a random one,
printed so that a failure can be run again.  The test fails on any
finding (a sanitizer report, a crash, a hang, an unclean exit) and names
the reproducer the driver saved under /tmp/proxyd-evloop-findings.

EVLOOP_FUZZ_SECONDS sets each run's budget (default 12)."""

import os
import random
import sys

from harness import Proc, TestFailure, TestSkip, test

FUZZ = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                    "fuzz", "evloop_fuzz.py")
FIXED_SEED = 20
OUT = "/tmp/proxyd-evloop-findings"


def run_fuzz(env, seed, name):
    if env.kind != "proxyd":
        raise TestSkip("drives proxyd's own configuration, not " + env.kind)
    seconds = float(os.environ.get("EVLOOP_FUZZ_SECONDS", "12"))
    log = env.wd.sub("evloop-fuzz-%s.log" % name)
    argv = [sys.executable, FUZZ, "--proxyd", env.proxyd_binary, "--seed", str(seed),
            "--seconds", str(seconds), "--out", OUT, "--narrow-seconds", "30"]
    print("# fuzz_evloop_%s: seed %d, %.0fs: %s" % (name, seed, seconds, " ".join(argv)),
          flush=True)
    p = Proc("evloop-fuzz-" + name, argv, log)
    # The budget, then the last epoch's shutdown, then narrowing a finding.
    status = p.wait(seconds + 90)
    if status is None:
        p.stop()
        raise TestFailure("the fuzz driver (seed %d) did not finish within %.0fs: %s"
                          % (seed, seconds + 90, p.output(1500)))
    p.stop()
    text = p.output(20000)
    summary = [l for l in text.splitlines() if l.startswith("# evloop_fuzz: seed")]
    if summary:
        print(summary[-1], flush=True)
    if status == 1:
        found = [l for l in text.splitlines() if l.startswith(("FINDING", "    #"))]
        raise TestFailure("seed %d: %s" % (seed, "\n".join(found) or text[-1500:]))
    if status != 0:
        raise TestFailure("the fuzz driver failed (exit %s): %s" % (status, text[-1500:]))


@test("fuzz_evloop_fixed_seed")
def fuzz_evloop_fixed_seed(env):
    run_fuzz(env, FIXED_SEED, "fixed_seed")


@test("fuzz_evloop_random_seed")
def fuzz_evloop_random_seed(env):
    run_fuzz(env, random.SystemRandom().randrange(1 << 31), "random_seed")
