"""limit_tests.py - a route's limits: request rate with burst and a
bounded wait queue (429 + Retry-After), per-client rate, max_conns (wait,
then 503 + Retry-After; a full queue refuses at once), and bandwidth
shaping of plain and CONNECT downloads."""

import threading
import time

from curl_tests import curl, expect_ok, sha
from harness import TestFailure, expect, expect_eq, test, wait_until
from httpraw import expect_error_reply
from parents import Stopwatch, access_line, log_fields
from route_tests import proxyd_only, raw_get

MIB = 1024 * 1024


def limited_proxy(env, hosts="echo.test", **limits):
    route = dict({"hosts": hosts, "upstream": "direct", "connect_timeout": "1s"}, **limits)
    return env.own_proxy(routes=[("limited", route)])


def concurrent_gets(env, p, tags, source="127.0.0.1"):
    """One GET per tag, all released at once; [(tag, status, elapsed,
    Retry-After, body)] in tag order."""
    barrier = threading.Barrier(len(tags))
    results = [None] * len(tags)

    def one(i, tag):
        try:
            barrier.wait(timeout=5)
            t0 = time.monotonic()
            r = raw_get(env, p, env.echo_url("/echo?lim=" + tag), source=source, timeout=10)
            results[i] = (tag, r.status, time.monotonic() - t0, r.header("Retry-After"), r.body)
        except Exception as e:          # reported below
            results[i] = (tag, None, 0.0, None, repr(e).encode())
    threads = [threading.Thread(target=one, args=(i, t), daemon=True) for i, t in enumerate(tags)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=15)
    broken = [r for r in results if r is None or r[1] is None]
    if broken:
        raise TestFailure("requests without an answer: %s" % broken[:3])
    return results


def expect_retry_after(status, value, what):
    expect(value is not None and value.isdigit() and int(value) >= 1,
           "%s %d without a Retry-After of whole seconds >= 1 (got %r)" % (what, status, value))


@test("limit_rate_burst_queue_429")
def _(env):
    """rate 5/s, burst 5, queue 3 for 500ms; 20 at once: 5 served at once,
    a few after waiting for a token (at most queue, about rate x
    queue_timeout), the rest 429 + Retry-After."""
    proxyd_only(env)
    with limited_proxy(env, rate="5/s", burst=5, queue=3, queue_timeout="500ms") as p:
        with Stopwatch() as sw:
            res = concurrent_gets(env, p, ["r%d" % i for i in range(20)])
        now = [r for r in res if r[1] == 200 and r[2] < 0.15]
        waited = [r for r in res if r[1] == 200 and r[2] >= 0.15]
        refused = [r for r in res if r[1] == 429]
        other = [r for r in res if r[1] not in (200, 429)]
        print("# limit_rate: %d served at once, %d served after waiting (%s), %d refused 429, "
              "%d other; all done in %.2fs"
              % (len(now), len(waited), ", ".join("%.2fs" % r[2] for r in waited),
                 len(refused), len(other), sw.elapsed))
        expect(not other, "unexpected answers: %s" % [(r[1], r[4][:80]) for r in other])
        expect(5 <= len(now) <= 6, "%d served at once, want the burst (5)" % len(now))
        served = len(now) + len(waited)
        # burst + rate x queue_timeout = 7.5; one more for the refill
        # while the 20 connections were being made.
        expect(6 <= served <= 8, "%d served in all, want 6..8 (burst 5 + 5/s x 0.5s)" % served)
        expect(len(waited) <= 3, "%d served after waiting, more than the queue (3)" % len(waited))
        expect(refused, "no 429 at all")
        for r in refused:
            expect_retry_after(429, r[3], "429")
            expect(r[2] < 0.5 + 0.3, "a 429 came after %.2fs, past queue_timeout" % r[2])
            expect(b"rate" in r[4], "429 body %r does not say which limit" % r[4])
        expect(sw.elapsed < 1.5, "the 20 requests took %.2fs" % sw.elapsed)
        line = access_line(p, "/echo?lim=%s " % refused[0][0])
        expect(" 429 " in line and "note=" in line, "access log of a 429: %s" % line)
        if waited:
            line = access_line(p, "/echo?lim=%s " % waited[0][0])
            expect("wait" in line, "access log of a request that waited shows no wait: %s" % line)


@test("limit_client_rate_per_address")
def _(env):
    """client_rate 2/s, client_burst 2, no queue: a third request from
    127.0.0.1 gets 429 at once; 127.0.0.2 has its own bucket."""
    proxyd_only(env)
    with limited_proxy(env, client_rate="2/s", client_burst=2, queue=0) as p:
        got = []
        for i in range(3):
            with Stopwatch() as sw:
                r = raw_get(env, p, env.echo_url("/echo?cl=one-%d" % i))
            got.append((r.status, sw.elapsed, r.header("Retry-After")))
        expect_eq([g[0] for g in got], [200, 200, 429], "statuses from 127.0.0.1")
        expect(got[2][1] < 0.2, "the 429 with queue = 0 took %.2fs" % got[2][1])
        expect_retry_after(429, got[2][2], "client 429")
        # A CONNECT counts against the same bucket.
        r = raw_get(env, p, env.echo_authority(), method="CONNECT")
        expect_error_reply(r, 429)
        expect_retry_after(429, r.header("Retry-After"), "CONNECT 429")
        try:
            statuses = [raw_get(env, p, env.echo_url("/echo?cl=two-%d" % i),
                                source="127.0.0.2").status for i in range(2)]
        except OSError as e:
            print("# limit_client_rate: 127.0.0.2 not usable here (%s)" % e)
            return
        expect_eq(statuses, [200, 200], "statuses from 127.0.0.2 (its own bucket)")


def slow_in_background(env, p, ms, tag):
    """A GET of /slow on its own thread, holding an upstream connection;
    returns once the origin has it."""
    out = {}

    def go():
        try:
            out["resp"] = raw_get(env, p, env.echo_url("/slow?ms=%d&tag=%s" % (ms, tag)),
                                  timeout=10)
        except Exception as e:
            out["error"] = e
    t = threading.Thread(target=go, daemon=True)
    t.start()
    if not wait_until(lambda: env.origin.echo.events(tag) or "error" in out or "resp" in out, 5):
        raise TestFailure("the slow request never reached the origin")
    if "error" in out or ("resp" in out and out["resp"].status != 200):
        raise TestFailure("the slow request failed: %s" % (out.get("error") or out["resp"]))
    return t, out


@test("limit_max_conns_waits_in_queue")
def _(env):
    proxyd_only(env)
    with limited_proxy(env, max_conns=1, queue_timeout="2s") as p:
        t, out = slow_in_background(env, p, 500, "mc-wait")
        with Stopwatch() as sw:
            r = raw_get(env, p, env.echo_url("/echo?mc=second"))
        t.join(timeout=5)
        expect_eq(r.status, 200, "status of the second request (%r)" % r.body[:100])
        expect(0.25 <= sw.elapsed < 1.5,
               "second request took %.2fs: want it to wait for the first (~0.5s)" % sw.elapsed)
        expect(out.get("resp") is not None and out["resp"].status == 200, "slow request failed")


@test("limit_max_conns_queue_timeout_503")
def _(env):
    proxyd_only(env)
    with limited_proxy(env, max_conns=1, queue_timeout="200ms") as p:
        t, _ = slow_in_background(env, p, 800, "mc-503")
        with Stopwatch() as sw:
            r = raw_get(env, p, env.echo_url("/echo?mc=late"))
        t.join(timeout=5)
        expect_error_reply(r, 503)
        expect_retry_after(503, r.header("Retry-After"), "503")
        expect(0.15 <= sw.elapsed < 0.7,
               "503 after %.2fs, want after queue_timeout (0.2s)" % sw.elapsed)
        f = log_fields(access_line(p, "/echo?mc=late"))
        expect(f.get("route") == "limited" and f.get("note"), "access log of the 503: %s" % f)
        with open(env.origin.echo.log_path) as fh:
            expect("mc=late" not in fh.read(), "the refused request reached the origin")


@test("limit_queue_full_refuses_at_once")
def _(env):
    proxyd_only(env)
    with limited_proxy(env, max_conns=1, queue=0, queue_timeout="2s") as p:
        t, _ = slow_in_background(env, p, 600, "mc-full")
        with Stopwatch() as sw2:
            rc = raw_get(env, p, env.echo_authority(), method="CONNECT")
        with Stopwatch() as sw:
            r = raw_get(env, p, env.echo_url("/echo?mc=full"))
        t.join(timeout=5)
        expect_error_reply(r, 503)
        expect_retry_after(503, r.header("Retry-After"), "503")
        expect(sw.elapsed < 0.15, "503 with a full queue took %.2fs, want at once" % sw.elapsed)
        expect_error_reply(rc, 503)
        expect_retry_after(503, rc.header("Retry-After"), "CONNECT 503")
        expect(sw2.elapsed < 0.15, "CONNECT 503 took %.2fs, want at once" % sw2.elapsed)


# ---------------------------------------------------------------- bandwidth

BANDWIDTH = 8 * MIB      # bandwidth = 8m, bytes/s; the bucket holds one second


def check_shaped_download(env, url, *curl_args):
    with limited_proxy(env, hosts="origin.test", bandwidth="8m") as p:
        # curl's own clock (-w): the harness's wall time also counts
        # starting curl and waiting for it, ~0.1s that is not proxyd's.
        r = curl(env, url, "-w", "%{time_total}", *curl_args, proxy=p,
                 timeout=30)
        expect_ok(r)
        elapsed = float(r.stdout.strip())
        size = len(r.body)
        expect_eq(size, 20 * MIB, "body length")
        expect(sha(r.body) == sha(env.origin.files["20m"]), "body differs from /20m")
        # The first second's worth comes at once (a full bucket); the
        # rest at the rate: 12 MiB / 8 MiB/s = 1.5s.
        rate = (size - BANDWIDTH) / elapsed
        expected = (size - BANDWIDTH) / BANDWIDTH
        print("# limit_bandwidth %s: 20 MiB in %.2fs (expected %.2fs), %.2f MiB/s past the burst"
              % (url.split(":")[0], elapsed, expected, rate / MIB))
        expect(0.9 * BANDWIDTH <= rate <= 1.1 * BANDWIDTH,
               "20 MiB took %.2fs: %.2f MiB/s past the first second's burst, want 8 +-10%%"
               % (elapsed, rate / MIB))


@test("limit_bandwidth_plain")
def _(env):
    proxyd_only(env)
    check_shaped_download(env, env.http_url("/20m"))


@test("limit_bandwidth_connect")
def _(env):
    proxyd_only(env)
    check_shaped_download(env, env.https_url("/20m"), "--cacert", env.origin.ca)
