"""failover_tests.py - a route's ordered upstreams: a dead first upstream
(refused, SYN black hole, a parent that accepts and never answers) gives
way to the next at once or after connect_timeout; all dead gives 502/504
within connect_timeout x upstreams; fail_threshold/fail_cooldown skip a
dead upstream, visible in the timing."""

import time

from curl_tests import curl
from harness import expect, expect_eq, free_port, test
from httpraw import expect_error_reply
from parents import SilentListener, Socks5Relay, Stopwatch, access_line, log_fields
from route_tests import proxyd_only, raw_get
from servers import BlackHole

SLACK = 0.7          # scheduling, curl start-up, TLS to the origin


def failover_proxy(env, upstream, **keys):
    route = dict({"hosts": "echo.test, origin.test", "upstream": upstream,
                  "connect_timeout": "1s"}, **keys)
    return env.own_proxy(routes=[("fo", route)])


def timed_get(env, p, tag):
    with Stopwatch() as sw:
        r = raw_get(env, p, env.echo_url("/echo?fo=" + tag))
    return r, sw.elapsed


def timed_https(env, p, tag):
    r = curl(env, env.https_url("/1k?fo=" + tag), "--cacert", env.origin.ca, proxy=p)
    return r, r.elapsed


def expect_served(r, elapsed, lo, hi, what):
    status = r.status
    ok = (r.rc == 0 and status == 200) if hasattr(r, "rc") else status == 200
    expect(ok, "%s: status %s, want 200 from the next upstream (%s)"
           % (what, status, getattr(r, "stderr", getattr(r, "body", b""))))
    expect(lo <= elapsed < hi, "%s took %.2fs, want %.1f..%.1fs" % (what, elapsed, lo, hi))


def expect_log_via(p, needle, via):
    f = log_fields(access_line(p, needle))
    expect_eq(f.get("via"), via, "via= of %s" % needle)


@test("failover_refused_first_upstream")
def _(env):
    proxyd_only(env)
    dead = free_port()
    with failover_proxy(env, "http 127.0.0.1:%d, direct" % dead) as p:
        r, t = timed_get(env, p, "refused-plain")
        expect_served(r, t, 0, 1.0, "plain GET")
        r, t = timed_https(env, p, "refused-tls")
        expect_served(r, t, 0, 1.0, "CONNECT")
        expect_log_via(p, "/echo?fo=refused-plain", "direct")
        expect_log_via(p, "CONNECT origin.test:", "direct")
        with open(p.error_log) as f:
            err = f.read()
        expect("route fo: http 127.0.0.1:%d failed" % dead in err and "trying direct" in err,
               "no failover line in the error log: %r" % err[-400:])


@test("failover_silent_http_parent_connect")
def _(env):
    """A parent that accepts the TCP connection but never answers the
    CONNECT costs one connect_timeout, then the next upstream serves."""
    proxyd_only(env)
    with SilentListener() as silent:
        with failover_proxy(env, "http 127.0.0.1:%d, direct" % silent.port) as p:
            r, t = timed_https(env, p, "silent-http")
            expect_served(r, t, 0.9, 1.0 + SLACK + 0.3, "CONNECT past a silent http parent")
            expect(silent.accepted >= 1, "the silent parent was never tried")
            expect_log_via(p, "CONNECT origin.test:", "direct")


@test("failover_silent_socks5_parent")
def _(env):
    """A SOCKS5 parent that never answers the greeting: plain and CONNECT
    both move on after connect_timeout."""
    proxyd_only(env)
    with SilentListener() as silent:
        with failover_proxy(env, "socks5 127.0.0.1:%d, direct" % silent.port) as p:
            r, t = timed_get(env, p, "silent-socks")
            expect_served(r, t, 0.9, 1.0 + SLACK, "plain GET past a silent socks5 parent")
            r, t = timed_https(env, p, "silent-socks-tls")
            expect_served(r, t, 0.9, 1.0 + SLACK + 0.3, "CONNECT past a silent socks5 parent")
            expect_log_via(p, "/echo?fo=silent-socks", "direct")


@test("failover_syn_black_hole_parent")
def _(env):
    proxyd_only(env)
    hole = BlackHole()
    try:
        with failover_proxy(env, "http 127.0.0.1:%d, direct" % hole.port) as p:
            r, t = timed_get(env, p, "blackhole")
            expect_served(r, t, 0.9, 1.0 + SLACK, "plain GET past a SYN black hole")
    finally:
        hole.close()


@test("failover_all_refused_502")
def _(env):
    proxyd_only(env)
    with failover_proxy(env, "http 127.0.0.1:%d, socks5 127.0.0.1:%d"
                        % (free_port(), free_port())) as p:
        r, t = timed_get(env, p, "all-refused")
        expect_error_reply(r, 502)
        expect(t < 1.0, "502 took %.2fs with every upstream refusing" % t)
        with Stopwatch() as sw:
            r = raw_get(env, p, "origin.test:%d" % env.origin.nginx.https_port, method="CONNECT")
        expect_error_reply(r, 502)
        expect(sw.elapsed < 1.0, "CONNECT 502 took %.2fs" % sw.elapsed)


@test("failover_all_silent_504_within_bound")
def _(env):
    """Two upstreams that never answer: the error comes after about
    2 x connect_timeout, not later."""
    proxyd_only(env)
    with SilentListener() as s1, SilentListener() as s2:
        with failover_proxy(env, "http 127.0.0.1:%d, socks5 127.0.0.1:%d"
                            % (s1.port, s2.port)) as p:
            with Stopwatch() as sw:
                r = raw_get(env, p, "origin.test:%d" % env.origin.nginx.https_port,
                            method="CONNECT")
            expect(r.status in (502, 504), "status %s, want 502/504" % r.status)
            expect_error_reply(r, r.status)
            expect(1.8 <= sw.elapsed < 2.0 + SLACK,
                   "error after %.2fs, want about 2 x connect_timeout (2s)" % sw.elapsed)
            expect(s1.accepted and s2.accepted, "not every upstream was tried (%d, %d)"
                   % (s1.accepted, s2.accepted))


@test("failover_threshold_skips_dead_upstream")
def _(env):
    """fail_threshold = 1: after one failure the dead upstream is skipped,
    so the next request costs ~0 instead of connect_timeout."""
    proxyd_only(env)
    with SilentListener() as silent:
        with failover_proxy(env, "socks5 127.0.0.1:%d, direct" % silent.port,
                            fail_threshold=1, fail_cooldown="30s") as p:
            times = []
            for i in range(3):
                r, t = timed_get(env, p, "skip-%d" % i)
                expect_eq(r.status, 200, "status of request %d" % i)
                times.append(t)
            print("# failover_threshold: request times %s" % ["%.2f" % t for t in times])
            expect(times[0] >= 0.9, "first request %.2fs: the dead upstream was not tried?"
                   % times[0])
            expect(times[1] < 0.3 and times[2] < 0.3,
                   "requests after the failure took %.2fs, %.2fs: dead upstream not skipped"
                   % (times[1], times[2]))
            expect_eq(silent.accepted, 1, "connections the skipped upstream got")


@test("failover_cooldown_ends")
def _(env):
    """fail_threshold = 2, fail_cooldown = 1s (connect_timeout 500ms):
    slow, slow, then skipped, and after the cooldown tried (slow) again."""
    proxyd_only(env)
    with SilentListener() as silent:
        with failover_proxy(env, "socks5 127.0.0.1:%d, direct" % silent.port,
                            connect_timeout="500ms", fail_threshold=2,
                            fail_cooldown="1s") as p:
            times = []
            for i in range(3):
                r, t = timed_get(env, p, "cool-%d" % i)
                expect_eq(r.status, 200, "status of request %d" % i)
                times.append(t)
            time.sleep(1.1)
            r, t = timed_get(env, p, "cool-3")
            expect_eq(r.status, 200, "status after the cooldown")
            times.append(t)
            print("# failover_cooldown: request times %s" % ["%.2f" % t for t in times])
            expect(times[0] >= 0.45 and times[1] >= 0.45,
                   "below the threshold each request must try the dead upstream: %s" % times)
            expect(times[2] < 0.2, "at the threshold not skipped: %.2fs" % times[2])
            expect(times[3] >= 0.45, "after the cooldown not tried again: %.2fs" % times[3])
            expect_eq(silent.accepted, 3, "connections the dead upstream got")


@test("failover_all_down_still_tried")
def _(env):
    """A route whose only upstream is marked down still tries it (unless
    all are down, a down upstream is skipped): once it is back, served."""
    proxyd_only(env)
    port = free_port()
    with failover_proxy(env, "socks5 127.0.0.1:%d" % port,
                        fail_threshold=1, fail_cooldown="30s") as p:
        r, _ = timed_get(env, p, "down-1")
        expect_error_reply(r, 502)
        with Socks5Relay(port=port):
            r, t = timed_get(env, p, "down-2")
            expect_eq(r.status, 200, "status once the upstream is back (%r)" % r.body[:120])
