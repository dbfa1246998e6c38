"""fuzz_tests.py - a short run of the event-loop fuzzer
(tests/fuzz/evloop_fuzz.py) against the proxyd under test: random client
byte streams and upstream behaviours through a real proxyd process, with
bandwidth/rate/max_conns/failover/mirror routes and SIGTERM mid-traffic.

Two runs: a fixed seed (the same traffic every time) and a random one,
printed so that a failure can be run again; then a replay of every
reproducer kept in tests/fuzz/repro/ (bugs found before: regressions).  The test fails on any
finding (a sanitizer report, a crash, a hang, an unclean exit) and names
the reproducer the driver saved under /tmp/proxyd-evloop-findings.

EVLOOP_FUZZ_SECONDS sets each run's budget (default 12)."""

import os
import random
import sys

from harness import Proc, TestFailure, TestSkip, test

FUZZ_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fuzz")
FUZZ = os.path.join(FUZZ_DIR, "evloop_fuzz.py")
REPRO = os.path.join(FUZZ_DIR, "repro")
FIXED_SEED = 20
OUT = "/tmp/proxyd-evloop-findings"


def driver(env, name, args, timeout):
    """Run the driver; (exit status, output)."""
    if env.kind != "proxyd":
        raise TestSkip("drives proxyd's own configuration, not " + env.kind)
    argv = [sys.executable, FUZZ, "--proxyd", env.proxyd_binary] + args
    print("# %s: %s" % (name, " ".join(argv)), flush=True)
    p = Proc(name, argv, env.wd.sub(name + ".log"))
    status = p.wait(timeout)
    if status is None:
        p.stop()
        raise TestFailure("the fuzz driver did not finish within %.0fs: %s"
                          % (timeout, p.output(1500)))
    p.stop()
    return status, p.output(20000)


def run_fuzz(env, seed, name):
    seconds = float(os.environ.get("EVLOOP_FUZZ_SECONDS", "12"))
    # The budget, then the last epoch's shutdown, then narrowing a finding.
    status, text = driver(env, "evloop-fuzz-" + name,
                          ["--seed", str(seed), "--seconds", str(seconds), "--out", OUT,
                           "--narrow-seconds", "30"], seconds + 90)
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


@test("fuzz_evloop_repro")
def fuzz_evloop_repro(env):
    dirs = sorted(d for d in os.listdir(REPRO) if os.path.isdir(os.path.join(REPRO, d))) \
        if os.path.isdir(REPRO) else []
    if not dirs:
        raise TestSkip("no reproducers in " + REPRO)
    still = []
    for d in dirs:
        status, text = driver(env, "evloop-repro-" + d,
                              ["--replay", os.path.join(REPRO, d), "--repeat", "2"], 120)
        if status == 1:
            still.append("%s: %s" % (d, " ".join(l for l in text.splitlines()
                                                  if l.startswith("FINDING"))))
        elif status != 0:
            raise TestFailure("replaying %s failed (exit %s): %s" % (d, status, text[-1500:]))
    if still:
        raise TestFailure("still reproduce: " + "; ".join(still))
