"""bench_tests.py - a smoke run of the benchmark (bench/run.sh): the
smallest mode (three rows, one round of one second each, no peers), so
that the harness keeps working; it measures nothing worth keeping."""

import json
import os
import sys

from harness import Proc, TestFailure, TestSkip, expect, test, which_or_skip

# http-small for a plausible ratio; the other two only have to work (the
# scaling row starts two proxyds of its own): about 10 s in all.
SMOKE_ROWS = "http-small,http-upload,scaling"
BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "bench", "run.sh")


def smoke_run(env, attempt):
    """One run of the smallest mode; (path of the report without its
    extension, {(row, target): result}), the three files checked."""
    out = env.wd.sub("bench-out-%d" % attempt, mkdir=True)
    penv = dict(os.environ, PROXYD=env.proxyd_binary, BENCH_INSTALL="0")
    p = Proc("bench", ["timeout", "50", "bash", BENCH, "--quick", "--rows", SMOKE_ROWS,
                       "--duration", "1", "--out", out], env.wd.sub("bench-%d.log" % attempt),
             env=penv)
    status = p.wait(55)
    p.stop()
    if status != 0:
        raise TestFailure("bench/run.sh exited %s: %s" % (status, p.output(1500)))
    names = sorted(os.listdir(out))
    expect(len(names) == 3 and all(n.endswith(("-quick.md", "-quick.json", "-quick.png"))
                                   for n in names), "report files: %s" % names)
    base = os.path.join(out, names[0].rsplit(".", 1)[0])
    with open(base + ".json") as f:
        res = {(e["row"], e["target"]): e for e in json.load(f)["results"]}
    want = {(r, t) for r in ("http-small", "http-upload") for t in ("direct", "proxyd")}
    want |= {("scaling", t) for t in ("direct", "proxyd-1w", "proxyd-2w")}
    expect(set(res) == want, "rows and targets %s" % sorted(res))
    return base, res


@test("bench_quick_smoke")
def _(env):
    """--quick --rows http-small,http-upload,scaling: a report (md, json,
    png) with a proxyd http-small row whose ratio to direct is plausible,
    an http-upload row that carried bodies at some rate and CPU, and a
    scaling row with 1 and 2 workers that says where each ran, in well
    under 20 s."""
    if env.kind != "proxyd":
        raise TestSkip("the benchmark starts its own proxyd")
    for tool in ("wrk", "nginx", "gnuplot"):
        which_or_skip(tool)
    # Sanitizers slow proxyd several times over: only a sign of life then.
    low = 0.02 if os.environ.get("ASAN_OPTIONS") else 0.1
    for attempt in range(3):    # a burst of load elsewhere can skew one second
        base, res = smoke_run(env, attempt)
        ratio = res[("http-small", "proxyd")]["ratio"]
        if ratio is not None and low < ratio < 1.5:
            break
    expect(ratio is not None and low < ratio < 1.5, "proxyd/direct ratio %s, 3 times" % ratio)
    for row, target in (("http-small", "proxyd"), ("http-upload", "proxyd"),
                        ("scaling", "proxyd-1w"), ("scaling", "proxyd-2w")):
        e = res[(row, target)]
        expect(e["median"] and e["cpu"] and e["cpu"] > 0,
               "%s %s: %s, %s µs per request" % (row, target, e["median"], e["cpu"]))
    up = res[("http-upload", "proxyd")]["ratio"]
    expect(up is not None and 0 < up < 1.5, "http-upload proxyd/direct ratio %s" % up)
    two = res[("scaling", "proxyd-2w")]
    expect(two["ratio"] is not None and two["ratio"] > 0, "scaling 2w/1w ratio %s" % two["ratio"])
    # where proxyd ran, and with fewer than 4 CPUs, that it cannot show scaling
    notes = " ".join(res[("scaling", "proxyd-1w")]["notes"])
    expect("CPU" in notes and ("cannot show scaling" in notes) == (len(os.sched_getaffinity(0)) < 4),
           "scaling notes: %s" % notes)
    with open(base + ".png", "rb") as f:
        expect(f.read(8) == b"\x89PNG\r\n\x1a\n", "the chart is not a PNG")
    with open(base + ".md") as f:
        md = f.read()
    for line in ("| http-small | proxyd |", "| http-upload | proxyd |", "| scaling | proxyd-2w |"):
        expect(line in md, "no %r in the Markdown table" % line)
    print("# bench_quick_smoke: proxyd/direct %.2f, %.1f µs of proxyd CPU per request; "
          "upload %.2f of direct, %.0f µs per request; scaling 2w/1w %.2f"
          % (ratio, res[("http-small", "proxyd")]["cpu"], up,
             res[("http-upload", "proxyd")]["cpu"], two["ratio"]), file=sys.stderr)
