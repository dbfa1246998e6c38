"""admin_tests.py - the admin listener (admin_listen): /healthz, /readyz
(503 while draining), /metrics (promtool-clean, counters that move by
exactly what real curl, CONNECT and GOPROXY traffic did), /proxy.pac
(evaluated by a real PAC engine, python3-pacparser, and compared with
`proxyd --explain`), admin_allow, and strict answers to bad requests."""

import contextlib
import json
import os
import re
import signal
import socket
import threading
import time

from curl_tests import curl, expect_ok
from harness import (LOOPBACK, TestFailure, expect, expect_eq, free_port, port_open,
                     run, test, wait_until, which_or_skip)
from httpraw import Conn
from route_tests import explain, proxyd_only

# Debian's python3-pacparser is built for the system interpreter.
SYSTEM_PYTHON = "/usr/bin/python3"


@contextlib.contextmanager
def admin_proxy(env, routes=(), **settings):
    """A proxyd with an admin listener; its port is p.admin_port."""
    proxyd_only(env)
    port = free_port()
    with env.own_proxy(routes=routes, admin_listen="%s:%d" % (LOOPBACK, port),
                       **settings) as p:
        p.admin_port = port
        yield p


def admin_get(port, path, method="GET", source=LOOPBACK, extra=b"", timeout=5):
    """One raw request to the admin listener; returns the Response."""
    sock = socket.create_connection((LOOPBACK, port), timeout=timeout,
                                    source_address=(source, 0))
    c = Conn.__new__(Conn)
    c.sock, c.buf = sock, b""
    with c:
        c.send(b"%s %s HTTP/1.1\r\nHost: admin\r\n%s\r\n" % (method.encode(), path.encode(),
                                                             extra))
        return c.read_response(head_request=(method == "HEAD"))


def admin_raw(port, data, timeout=5):
    """Send bytes as they are; the Response, or None if closed without one."""
    with Conn(port, timeout=timeout) as c:
        c.send(data)
        return c.read_response()


_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def scrape(port):
    """/metrics as {(name, ((label, value), ...)): float}, and the text."""
    return scrape_from(port, LOOPBACK)


def scrape_from(port, source):
    r = admin_get(port, "/metrics", source=source)
    expect_eq(r.status, 200, "/metrics status")
    expect((r.header("Content-Type") or "").startswith("text/plain; version=0.0.4"),
           "/metrics Content-Type %r" % r.header("Content-Type"))
    text = r.body.decode()
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        expect(m is not None, "not a sample line: %r" % line)
        labels = tuple(sorted(_LABEL.findall(m.group(2) or "")))
        samples[(m.group(1), labels)] = float(m.group(3))
    return samples, text


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def deltas(before, after, name, **labels):
    return value(after, name, **labels) - value(before, name, **labels)


def promtool_check(env, text):
    which_or_skip("promtool")
    path = env.wd.write("metrics-%d.txt" % int(time.monotonic() * 1000), text)
    with open(path, "rb") as f:
        r = run(["promtool", "check", "metrics"], timeout=20, input=f.read())
    out = (r.stdout + r.stderr).decode(errors="replace")
    expect(r.returncode == 0, "promtool check metrics failed: %s" % out[:1500])


def access_fields(p, n, timeout=5):
    """The first n access-log lines, once there are n, as field dicts."""
    expect(wait_until(lambda: len(p.access_lines()) >= n, timeout),
           "expected %d access-log lines, have %r" % (n, p.access_lines()))
    rows = []
    for line in p.access_lines()[:n]:
        f = dict(re.findall(r'(\w+)=("[^"]*"|\S+)', line))
        parts = line.split()
        f["method"], f["status"] = parts[2], int(parts[4])
        rows.append(f)
    return rows


@test("admin_metrics_promtool_and_exact_deltas")
def _(env):
    """Real traffic moves exactly the counters it should: 3 forwarded GETs,
    one refused upstream (502, refused), one CONNECT tunnel (gauge 1 while
    open, then 2xx), two GOPROXY requests (a mirror's 200 and a 404 for no
    endpoint), a 429 from a rate limit; bytes equal the access log's; and
    promtool accepts the exposition."""
    echo = env.origin.echo.port
    dead = free_port()
    mirror = "http://echo.test:%d/echo" % echo
    routes = [("web", {"hosts": "echo.test", "upstream": "direct"}),
              ("dead", {"hosts": "127.0.0.1", "ports": str(dead), "upstream": "direct"}),
              ("lim", {"hosts": "origin.test", "upstream": "direct", "rate": "1/m",
                       "burst": 1, "queue": 0}),
              ("gomods", {"modules": "*", "upstream": "mirror " + mirror})]
    # One worker: the three GETs share one pooled upstream connection.
    with admin_proxy(env, routes, workers=1) as p:
        port = p.admin_port
        before, _ = scrape(port)
        for i in range(3):
            expect_ok(curl(env, env.echo_url("/echo?m=%d" % i), proxy=p))
        r = curl(env, "http://127.0.0.1:%d/x" % dead, proxy=p)
        expect_eq(r.status, 502, "status through a refused upstream")
        expect_ok(curl(env, env.http_url("/1k"), proxy=p))
        r = curl(env, env.http_url("/1k"), proxy=p)
        expect_eq(r.status, 429, "second request over rate 1/m burst 1")
        r = run(["curl", "-sS", "--max-time", "10", "--noproxy", "*", "-o", "/dev/null",
                 "-w", "%{http_code}", p.url + "/github.com/x/y/@v/list"], timeout=20)
        expect_eq(r.stdout.decode(), "200", "GOPROXY list through the echo mirror")
        r = run(["curl", "-sS", "--max-time", "10", "--noproxy", "*", "-o", "/dev/null",
                 "-w", "%{http_code}", p.url + "/favicon.ico"], timeout=20)
        expect_eq(r.stdout.decode(), "404", "a GOPROXY path that is no endpoint")

        # A tunnel held open: both gauges see it.
        with Conn(p.port, timeout=5) as c:
            c.send(b"CONNECT echo.test:%d HTTP/1.1\r\nHost: echo.test\r\n\r\n" % echo)
            resp = c.read_response(head_request=True)
            expect_eq(resp.status, 200, "CONNECT status")
            c.send(b"GET /echo?t=1 HTTP/1.1\r\nHost: echo.test\r\n\r\n")
            expect_eq(c.read_response().status, 200, "GET inside the tunnel")
            mid, _ = scrape(port)
            expect_eq(value(mid, "proxyd_tunnels_open"), 1, "proxyd_tunnels_open")
            expect_eq(value(mid, "proxyd_client_connections_open"), 1,
                      "proxyd_client_connections_open")
        expect(wait_until(lambda: len(p.access_lines()) >= 9, 5), "tunnel not logged")
        after, text = scrape(port)
        promtool_check(env, text)

        d = lambda name, **kw: deltas(before, after, name, **kw)    # noqa: E731
        R = "proxyd_requests_total"
        expect_eq(d(R, route="web", kind="forward", code="2xx"), 3, "web forward 2xx")
        expect_eq(d(R, route="dead", kind="forward", code="5xx"), 1, "dead forward 5xx")
        expect_eq(d(R, route="lim", kind="forward", code="2xx"), 1, "lim forward 2xx")
        expect_eq(d(R, route="lim", kind="forward", code="4xx"), 1, "lim forward 4xx")
        expect_eq(d(R, route="web", kind="connect", code="2xx"), 1, "web connect 2xx")
        expect_eq(d(R, route="gomods", kind="goproxy", code="2xx"), 1, "gomods goproxy 2xx")
        expect_eq(d(R, route="-", kind="goproxy", code="4xx"), 1, "unrouted goproxy 4xx")
        total = sum(v for (n, _), v in after.items() if n == R) - \
            sum(v for (n, _), v in before.items() if n == R)
        expect_eq(total, 9, "requests counted in all")
        expect_eq(d("proxyd_upstream_attempts_total", route="web", upstream="direct"), 2,
                  "attempts of web's direct upstream (3 GETs on one pooled "
                  "connection, 1 CONNECT)")
        expect_eq(d("proxyd_upstream_attempts_total", route="dead", upstream="direct"), 1,
                  "attempts of dead's upstream")
        expect_eq(d("proxyd_upstream_failures_total", route="dead", upstream="direct",
                    reason="refused"), 1, "dead's refused failures")
        fails = sum(v for (n, _), v in after.items()
                    if n == "proxyd_upstream_failures_total")
        expect_eq(fails, 1, "failures in all")
        expect_eq(d("proxyd_upstream_attempts_total", route="gomods",
                    upstream="mirror " + mirror), 1, "mirror attempts")
        expect_eq(d("proxyd_limited_total", route="lim", limit="rate"), 1, "lim rate refusals")
        expect_eq(d("proxyd_request_duration_seconds_count", route="web"), 4,
                  "web duration observations")
        expect_eq(d("proxyd_upstream_connect_duration_seconds_count", route="web"), 2,
                  "web connect observations")
        rows = access_fields(p, 9)
        web_in = sum(int(f["in"]) for f in rows if f.get("route") == "web")
        web_out = sum(int(f["out"]) for f in rows if f.get("route") == "web")
        expect_eq(d("proxyd_bytes_total", route="web", direction="in"), web_in, "web bytes in")
        expect_eq(d("proxyd_bytes_total", route="web", direction="out"), web_out,
                  "web bytes out")
        expect(wait_until(lambda: value(scrape(port)[0], "proxyd_tunnels_open") == 0 and
                          value(scrape(port)[0], "proxyd_client_connections_open") == 0, 5),
               "gauges did not return to 0 after the clients left")
        expect(value(after, "process_open_fds") > 5, "process_open_fds")
        expect(value(after, "process_resident_memory_bytes") > 1 << 20,
               "process_resident_memory_bytes")
        expect(abs(value(after, "proxyd_config_last_reload_success_timestamp_seconds")
                   - time.time()) < 120, "last reload timestamp is not the start time")
        expect_eq(value(after, "proxyd_config_reloads_total", result="ok"), 0, "reloads ok")
        for (n, labels) in after:
            for k, v in labels:
                expect(not re.match(r"^\d+\.\d+\.\d+\.\d+(:\d+)?$", v) and "github.com" not in v,
                       "unbounded label value %s=%r in %s" % (k, v, n))


def slow_get_in_background(env, port, ms, tag):
    """A GET to the echo origin's /slow on its own thread, once it is in
    flight at the origin; returns (thread, result)."""
    result = {}
    target = "http://%s/slow?ms=%d&tag=%s" % (env.echo_authority(), ms, tag)

    def go():
        try:
            with Conn(port, timeout=15) as c:
                c.send(b"GET %s HTTP/1.1\r\nHost: %s\r\n\r\n"
                       % (target.encode(), env.echo_authority().encode()))
                result["resp"] = c.read_response()
        except Exception as e:          # reported by the test
            result["error"] = e
    t = threading.Thread(target=go, daemon=True)
    t.start()
    if not wait_until(lambda: env.origin.echo.events(tag), 5):
        raise TestFailure("the slow request never reached the origin")
    return t, result


@test("admin_readyz_503_while_draining_healthz_200")
def _(env):
    """/readyz is 200 while serving and 503 from SIGTERM until exit; the
    admin listener stays open through the drain with /healthz 200, while
    the proxy port is closed; the in-flight request still completes."""
    with admin_proxy(env, shutdown_timeout="5s") as p:
        port = p.admin_port
        # The proxy port listens a moment before the last worker runs.
        expect(wait_until(lambda: admin_get(port, "/readyz").status == 200, 5),
               "/readyz not 200 within 5 s of start")
        expect_eq(admin_get(port, "/healthz").status, 200, "/healthz before SIGTERM")
        tag = "admindrain%d" % int(time.monotonic() * 1000)
        t, result = slow_get_in_background(env, p.port, 2000, tag)
        p.proc.send_signal(signal.SIGTERM)
        expect(wait_until(lambda: not port_open(p.port), 2),
               "proxy port still accepting after SIGTERM")
        r = admin_get(port, "/readyz")
        expect_eq(r.status, 503, "/readyz while draining")
        h = admin_get(port, "/healthz")
        expect_eq(h.status, 200, "/healthz while draining")
        expect_eq(h.body, b"ok\n", "/healthz body")
        m = admin_get(port, "/metrics")
        expect_eq(m.status, 200, "/metrics while draining")
        expect(b"proxyd_client_connections_open 1\n" in m.body,
               "the draining request is not the one open client connection")
        t.join(10)
        expect("resp" in result and result["resp"].status == 200,
               "in-flight request not completed: %r" % result)
        status = p.proc.wait(5)
        expect_eq(status, 0, "exit status after the drain")
        expect(not port_open(port), "admin listener still open after exit")


@test("admin_allow_refuses_other_clients")
def _(env):
    """admin_allow = 127.0.0.1: a client from 127.0.0.2 gets 403 on every
    endpoint (the proxy port, under allow, still serves it); without
    admin_allow the allow list decides."""
    with admin_proxy(env, admin_allow="127.0.0.1/32") as p:
        for path in ("/healthz", "/metrics", "/proxy.pac", "/nope"):
            r = admin_get(p.admin_port, path, source="127.0.0.2")
            expect_eq(r.status, 403, "%s from 127.0.0.2" % path)
            expect(b"not allowed" in r.body, "403 body: %r" % r.body)
        expect_eq(admin_get(p.admin_port, "/healthz").status, 200, "/healthz from 127.0.0.1")
        expect_ok(curl(env, env.echo_url("/echo"), "--interface", "127.0.0.2", proxy=p))
    with admin_proxy(env, allow="127.0.0.2/32") as p:
        expect_eq(admin_get(p.admin_port, "/healthz", source="127.0.0.2").status, 200,
                  "from 127.0.0.2 with allow = 127.0.0.2/32")
        expect_eq(admin_get(p.admin_port, "/healthz").status, 403,
                  "from 127.0.0.1 with allow = 127.0.0.2/32")


@test("admin_bad_requests_precise_statuses")
def _(env):
    """The admin port reads requests as strictly as the proxy port: 405
    with Allow, 404, 400 (absolute form, bare LF, CL with TE), 505, 413
    for a body, 408 for a head that never ends; HEAD has no body."""
    with admin_proxy(env, header_timeout="1s") as p:
        port = p.admin_port
        r = admin_get(port, "/metrics", method="POST")
        expect_eq(r.status, 405, "POST")
        expect_eq(r.header("Allow"), "GET, HEAD", "Allow")
        expect_eq(admin_get(port, "/metricsx").status, 404, "unknown path")
        expect_eq(admin_get(port, "/healthz?verbose=1").status, 200, "a query is ignored")
        h = admin_get(port, "/healthz", method="HEAD")
        expect_eq((h.status, h.body, h.header("Content-Length")), (200, b"", "3"), "HEAD")
        cases = [
            (b"GET http://127.0.0.1/healthz HTTP/1.1\r\nHost: x\r\n\r\n", 400, "absolute form"),
            (b"GET /healthz HTTP/1.1\nHost: x\n\n", 400, "bare LF"),
            (b"GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n", 505, "HTTP/2.0"),
            (b"GET /healthz HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked"
             b"\r\n\r\n0\r\n\r\n", 400, "Content-Length with Transfer-Encoding"),
            (b"GET /healthz HTTP/1.1\r\nContent-Length: 4\r\n\r\nbody", 413, "a body"),
            (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n\r\n", 414, "long request line"),
        ]
        for data, status, what in cases:
            r = admin_raw(port, data)
            expect_eq(r.status, status, what)
        with Conn(port, timeout=5) as c:
            started = time.monotonic()
            c.send(b"GET /healthz HTTP/1.1\r\n")
            r = c.read_response()
            expect_eq(r.status, 408, "unfinished head")
            expect(time.monotonic() - started < 3, "408 took over 3 s (header_timeout 1s)")


# ---------------------------------------------------------------- PAC

PAC_ROUTES = [
    ("private", {"hosts": "git.corp.test, .intra.test, 10.0.0.0/8, [::1]:8080",
                 "modules": "git.corp.test", "upstream": "direct"}),
    ("gomods", {"modules": "*", "upstream": "mirror http://127.0.0.1:1"}),
    ("parent", {"hosts": "githubusercontent.test:443", "upstream": "http 127.0.0.1:9"}),
    ("api", {"hosts": "api.test", "regex": "^http://api\\.test/v1/", "upstream": "direct"}),
    ("ported", {"hosts": "ports.test", "ports": "8443", "upstream": "direct"}),
    ("blocked", {"hosts": "blocked.test", "upstream": "deny"}),
    ("lan", {"hosts": "192.168.0.0/16, .lan.test, fd00::/8", "upstream": "direct"}),
]
# Routes a PAC "DIRECT" may come from: hosts-only and direct.
PAC_DIRECT_ROUTES = {"private", "lan"}

# URL, the route --explain must name, what the PAC must answer.
PAC_TABLE = [
    ("http://git.corp.test/x", "private", "DIRECT"),
    ("https://GIT.Corp.Test/repo.git", "private", "DIRECT"),
    ("http://user@git.corp.test:8080/p", None, "DIRECT"),    # proxyd refuses userinfo
    ("http://sub.git.corp.test/", "private", "DIRECT"),
    ("http://a.intra.test/", "private", "DIRECT"),
    ("http://intra.test/", "direct", "PROXY"),
    ("http://10.1.2.3/", "private", "DIRECT"),
    ("http://11.1.2.3/", "direct", "PROXY"),
    ("http://[::1]:8080/", "private", "DIRECT"),
    ("http://[::1]:8081/", "direct", "PROXY"),
    ("https://githubusercontent.test/", "parent", "PROXY"),
    ("http://githubusercontent.test/", "direct", "PROXY"),
    ("http://api.test/v1/x", "api", "PROXY"),
    ("http://api.test/v2/x", "direct", "PROXY"),
    ("http://ports.test:8443/", "ported", "PROXY"),
    ("http://blocked.test/", "blocked", "PROXY"),
    ("http://192.168.1.5/", "lan", "DIRECT"),
    ("http://192.169.1.5/", "direct", "PROXY"),
    ("http://x.lan.test:9000/", "lan", "DIRECT"),
    ("http://[fd12::1]/", "lan", "DIRECT"),
    ("http://[fe80::1]/", "direct", "PROXY"),
    ("http://example.test/", "direct", "PROXY"),
    ("ftp://git.corp.test/f", None, "DIRECT"),
]

PAC_EVAL = r"""
import json, sys
import pacparser
pac, cases = sys.argv[1], json.load(open(sys.argv[2]))
pacparser.init()
pacparser.parse_pac_file(pac)
print(json.dumps([pacparser.find_proxy(url, host) for url, host in cases]))
pacparser.cleanup()
"""


def url_host(url):
    """The host a browser hands FindProxyForURL: no userinfo, no port."""
    hostport = url.split("/")[2].rsplit("@", 1)[-1]
    if hostport.startswith("["):
        return hostport[1:hostport.index("]")]
    return hostport.split(":")[0]


def explain_target(url):
    """What proxyd sees for url: an https URL is a CONNECT host:port."""
    if url.startswith("https://"):
        hostport = url.split("/")[2]
        return hostport if re.search(r"(\]|^[^\[]*):\d+$", hostport) else hostport + ":443"
    return url


def pac_answers(env, pac, urls):
    if not os.path.exists(SYSTEM_PYTHON):
        raise TestFailure("%s is missing (python3-pacparser)" % SYSTEM_PYTHON)
    path = env.wd.write("proxy-%d.pac" % int(time.monotonic() * 1000), pac)
    cases = env.wd.write("pac-cases.json", json.dumps([[u, url_host(u)] for u in urls]))
    script = env.wd.write("pac_eval.py", PAC_EVAL)
    r = run([SYSTEM_PYTHON, script, path, cases], timeout=20)
    expect(r.returncode == 0, "pacparser failed: %s" % r.stderr.decode(errors="replace")[-800:])
    return json.loads(r.stdout)


@test("admin_pac_agrees_with_explain")
def _(env):
    """The PAC served at /proxy.pac, run by pacparser for a table of URLs,
    answers DIRECT exactly where --explain picks a hosts-only direct route
    (and PROXY <listen address> elsewhere, fallback included); pac_proxy
    names what browsers are told."""
    with admin_proxy(env, PAC_ROUTES) as p:
        r = admin_get(p.admin_port, "/proxy.pac")
        expect_eq(r.status, 200, "/proxy.pac status")
        expect_eq(r.header("Content-Type"), "application/x-ns-proxy-autoconfig",
                  "/proxy.pac Content-Type")
        answers = pac_answers(env, r.body.decode(), [u for u, _, _ in PAC_TABLE])
        proxy = "PROXY %s:%d" % (LOOPBACK, p.port)
        for (url, route, want), got in zip(PAC_TABLE, answers):
            expect_eq(got, proxy if want == "PROXY" else want, "PAC answer for " + url)
            if route is None:
                continue
            fields, out = explain(env, explain_target(url), p.conf)
            name = fields.get("route", "").split()[0]
            expect_eq(name, route, "--explain route for %s" % url)
            expect(got != "DIRECT" or name in PAC_DIRECT_ROUTES,
                   "PAC DIRECT for %s, whose route %s is not hosts-only direct" % (url, name))
    with admin_proxy(env, PAC_ROUTES, pac_proxy="proxy.corp.test:3128") as p:
        r = admin_get(p.admin_port, "/proxy.pac")
        answers = pac_answers(env, r.body.decode(), ["http://example.test/",
                                                     "http://10.0.0.1/"])
        expect_eq(answers, ["PROXY proxy.corp.test:3128", "DIRECT"], "with pac_proxy")


@test("admin_reload_counts_and_serves_the_new_rules")
def _(env):
    """SIGHUP: proxyd_config_reloads_total{result} counts good and broken
    reloads, the success timestamp moves, a route kept by name keeps its
    counters (and a new route gets its own), and /proxy.pac and
    admin_allow follow the new file."""
    from reload_tests import reload, rewrite
    routes = [("web", {"hosts": "echo.test", "upstream": "direct"})]
    with admin_proxy(env, routes) as p:
        port = p.admin_port
        expect_ok(curl(env, env.echo_url("/echo?r=1"), proxy=p))
        before, _ = scrape(port)
        t0 = value(before, "proxyd_config_last_reload_success_timestamp_seconds")
        time.sleep(1.1)                 # the timestamp has whole seconds
        p.routes = [("lan", {"hosts": "lan.test", "upstream": "direct"})] + routes
        rewrite(p)
        reload(p)
        expect_ok(curl(env, env.echo_url("/echo?r=2"), proxy=p))
        after, text = scrape(port)
        promtool_check(env, text)
        expect_eq(value(after, "proxyd_config_reloads_total", result="ok"), 1, "ok reloads")
        expect(value(after, "proxyd_config_last_reload_success_timestamp_seconds") > t0,
               "the success timestamp did not move")
        expect_eq(value(after, "proxyd_requests_total", route="web", kind="forward",
                        code="2xx"), 2, "web's requests across the reload")
        pac = admin_get(port, "/proxy.pac").body.decode()
        expect('proxyd_dom(h, "lan.test", 0)' in pac, "the new route is not in the PAC")
        rewrite(p, "[route broken]\nhosts = bad..name\n")
        reload(p, expect_ok=False)
        rewrite(p, "")
        with open(p.conf) as f:
            text = f.read().replace("[proxyd]\n", "[proxyd]\nadmin_allow = 127.0.0.2/32\n", 1)
        with open(p.conf, "w") as f:
            f.write(text)
        reload(p)
        final, _ = scrape_from(port, "127.0.0.2")
        expect_eq(value(final, "proxyd_config_reloads_total", result="error"), 1,
                  "error reloads")
        expect_eq(value(final, "proxyd_config_reloads_total", result="ok"), 2, "ok reloads")
        expect_eq(admin_get(port, "/healthz").status, 403,
                  "127.0.0.1 after admin_allow = 127.0.0.2/32 was loaded")


@test("admin_check_reports_a_held_admin_port")
def _(env):
    """proxyd -t says where the admin port is held by another process,
    as `file:line: admin_listen: ...`, and passes once it is free."""
    proxyd_only(env)
    holder = socket.socket()
    holder.bind((LOOPBACK, 0))
    holder.listen(1)
    port = holder.getsockname()[1]
    conf = env.wd.write("admin-held.conf", "[proxyd]\nlisten = 127.0.0.1:%d\n"
                        "admin_listen = 127.0.0.1:%d\n" % (free_port(), port))
    try:
        r = run([env.proxyd_binary, "-t", "-c", conf], timeout=10)
        out = (r.stdout + r.stderr).decode(errors="replace")
        expect_eq(r.returncode, 1, "proxyd -t exit status with the admin port held")
        expect("%s:3: admin_listen: 127.0.0.1:%d: address already in use" % (conf, port)
               in out, "proxyd -t said: %s" % out)
    finally:
        holder.close()
    r = run([env.proxyd_binary, "-t", "-c", conf], timeout=10)
    expect_eq(r.returncode, 0, "proxyd -t once the admin port is free")
