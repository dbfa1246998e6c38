"""bench_tests.py - a smoke run of the benchmark (bench/run.sh): the
smallest mode (one row, one round of one second, no peers), so that the
harness keeps working; it measures nothing worth keeping."""

import json
import os
import sys

from harness import Proc, TestFailure, TestSkip, expect, test, which_or_skip

BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "bench", "run.sh")


def smoke_run(env, attempt):
    """One run of the smallest mode; (path of the report without its
    extension, {target: result}), the three files checked."""
    out = env.wd.sub("bench-out-%d" % attempt, mkdir=True)
    penv = dict(os.environ, PROXYD=env.proxyd_binary, BENCH_INSTALL="0")
    p = Proc("bench", ["timeout", "40", "bash", BENCH, "--quick", "--rows", "http-small",
                       "--duration", "1", "--out", out], env.wd.sub("bench-%d.log" % attempt),
             env=penv)
    status = p.wait(45)
    p.stop()
    if status != 0:
        raise TestFailure("bench/run.sh exited %s: %s" % (status, p.output(1500)))
    names = sorted(os.listdir(out))
    expect(len(names) == 3 and all(n.endswith(("-quick.md", "-quick.json", "-quick.png"))
                                   for n in names), "report files: %s" % names)
    base = os.path.join(out, names[0].rsplit(".", 1)[0])
    with open(base + ".json") as f:
        res = {e["target"]: e for e in json.load(f)["results"]}
    expect(set(res) == {"direct", "proxyd"}, "targets %s" % sorted(res))
    return base, res


@test("bench_quick_smoke")
def _(env):
    """--quick --rows http-small: a report (md, json, png) with a proxyd
    row whose ratio to direct is plausible, in well under 20 s."""
    if env.kind != "proxyd":
        raise TestSkip("the benchmark starts its own proxyd")
    for tool in ("wrk", "nginx", "gnuplot"):
        which_or_skip(tool)
    # Sanitizers slow proxyd several times over: only a sign of life then.
    low = 0.02 if os.environ.get("ASAN_OPTIONS") else 0.1
    for attempt in range(3):    # a burst of load elsewhere can skew one second
        base, res = smoke_run(env, attempt)
        ratio = res["proxyd"]["ratio"]
        if ratio is not None and low < ratio < 1.5:
            break
    expect(ratio is not None and low < ratio < 1.5, "proxyd/direct ratio %s, 3 times" % ratio)
    expect(res["proxyd"]["cpu"] and res["proxyd"]["cpu"] > 0, "no CPU per request measured")
    with open(base + ".png", "rb") as f:
        expect(f.read(8) == b"\x89PNG\r\n\x1a\n", "the chart is not a PNG")
    with open(base + ".md") as f:
        expect("| http-small | proxyd |" in f.read(), "no proxyd row in the Markdown table")
    print("# bench_quick_smoke: proxyd/direct %.2f, %.1f µs of proxyd CPU per request"
          % (ratio, res["proxyd"]["cpu"]), file=sys.stderr)
