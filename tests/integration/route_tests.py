"""route_tests.py - [route NAME] sections: which request takes which
route (hosts, regex, methods, ports, clients, $VAR lists), deny and the
fallback, the access log's route=/via= fields, --explain and -t."""

import os
import re
import socket

from curl_tests import curl, expect_ok
from harness import LOOPBACK, TestFailure, TestSkip, expect, expect_eq, run, test
from httpraw import Closed, Conn, expect_error_reply
from parents import access_line, expect_route, log_fields


def proxyd_only(env):
    if env.kind != "proxyd":
        raise TestSkip("[route] sections are proxyd's, not " + env.kind + "'s")


def raw_get(env, proxy, url, method="GET", source=LOOPBACK, timeout=10):
    """One request on its own connection from the source address."""
    sock = socket.create_connection((LOOPBACK, proxy.port), timeout=timeout,
                                    source_address=(source, 0))
    c = Conn.__new__(Conn)
    c.sock, c.buf = sock, b""
    with c:
        host = url.split("/")[2] if "://" in url else url
        c.send(b"%s %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (method.encode(), url.encode(),
                                                       host.encode()))
        try:
            return c.read_response(head_request=(method == "HEAD"))
        except Closed as e:
            raise TestFailure("no response to %s %s: %s" % (method, url, e))


def expect_denied(resp, route):
    expect_error_reply(resp, 403)
    want = b"proxyd: denied by route '%s'\n" % route.encode()
    expect_eq(resp.body, want, "403 body")


# ---------------------------------------------------------------- routing to parents

@test("route_two_routes_two_parents")
def _(env):
    """origin.test goes through parent A, echo.test through parent B, the
    rest direct: each parent's own access log shows only its share."""
    proxyd_only(env)
    with env.own_proxy() as pa, env.own_proxy() as pb:
        routes = [("via-a", {"hosts": "origin.test", "upstream": "http 127.0.0.1:%d" % pa.port}),
                  ("via-b", {"hosts": "echo.test", "upstream": "http 127.0.0.1:%d" % pb.port})]
        with env.own_proxy(routes=routes) as p:
            expect_ok(curl(env, env.http_url("/1k?leg=a"), proxy=p))
            expect_ok(curl(env, env.https_url("/1k?leg=a-tls"), "--cacert", env.origin.ca,
                           proxy=p))
            expect_ok(curl(env, env.echo_url("/echo?leg=b"), proxy=p))
            expect_ok(curl(env, env.http_url("/1k?leg=direct", name="git.test"), proxy=p))

            http, https = env.origin.nginx.http_port, env.origin.nginx.https_port
            expect_route(p, "/1k?leg=a ", "via-a", "http 127.0.0.1:%d" % pa.port)
            expect_route(p, "CONNECT origin.test:%d" % https, "via-a",
                         "http 127.0.0.1:%d" % pa.port)
            expect_route(p, "/echo?leg=b ", "via-b", "http 127.0.0.1:%d" % pb.port)
            f = expect_route(p, "/1k?leg=direct ", "direct", "direct")
            expect_eq(f.get("upstream"), "127.0.0.1:%d" % http, "upstream of the direct request")

            # The parents saw exactly their own traffic (absolute-form GET,
            # CONNECT chained as CONNECT).
            access_line(pa, "GET http://origin.test:%d/1k?leg=a " % http)
            access_line(pa, "CONNECT origin.test:%d " % https)
            access_line(pb, "GET http://%s/echo?leg=b " % env.echo_authority())
            a_lines, b_lines = "\n".join(pa.access_lines()), "\n".join(pb.access_lines())
            expect("leg=b" not in a_lines and "leg=direct" not in a_lines,
                   "parent A saw traffic of other routes: %s" % a_lines)
            expect("leg=a" not in b_lines and "leg=direct" not in b_lines,
                   "parent B saw traffic of other routes: %s" % b_lines)


# ---------------------------------------------------------------- deny and fallback

@test("route_deny_403_body")
def _(env):
    proxyd_only(env)
    routes = [("no-echo", {"hosts": "echo.test", "upstream": "deny"})]
    with env.own_proxy(routes=routes) as p:
        expect_denied(raw_get(env, p, env.echo_url("/echo?deny=1")), "no-echo")
        r = raw_get(env, p, env.echo_authority(), method="CONNECT")
        expect_denied(r, "no-echo")
        # Other hosts still pass (fallback direct).
        expect_eq(raw_get(env, p, env.http_url("/1k")).status, 200, "status of origin.test")
        with open(env.origin.echo.log_path) as f:
            expect("deny=1" not in f.read(), "a denied request reached the origin")
        line = access_line(p, "/echo?deny=1")
        f = log_fields(line)
        expect(f.get("route") == "no-echo" and f.get("via") in ("-", "deny") and " 403 " in line
               and "denied by route 'no-echo'" in f.get("note", ""),
               "access log of the denied request: %s" % line)


@test("route_off_403_body")
def _(env):
    """off, GOPROXY's word for deny, denies as deny does."""
    proxyd_only(env)
    routes = [("no-echo", {"hosts": "echo.test", "upstream": "off"})]
    with env.own_proxy(routes=routes) as p:
        expect_denied(raw_get(env, p, env.echo_url("/echo?off=1")), "no-echo")
        expect_denied(raw_get(env, p, env.echo_authority(), method="CONNECT"), "no-echo")
        expect_eq(raw_get(env, p, env.http_url("/1k")).status, 200, "status of origin.test")
        with open(env.origin.echo.log_path) as f:
            expect("off=1" not in f.read(), "a request to an off route reached the origin")


@test("route_fallback_deny")
def _(env):
    proxyd_only(env)
    routes = [("only-echo", {"hosts": "echo.test", "upstream": "direct"})]
    with env.own_proxy(routes=routes, fallback="deny") as p:
        expect_eq(raw_get(env, p, env.echo_url("/echo?fb=1")).status, 200, "echo.test status")
        expect_denied(raw_get(env, p, env.http_url("/1k")), "deny")
        expect_denied(raw_get(env, p, "origin.test:%d" % env.origin.nginx.https_port,
                              method="CONNECT"), "deny")
        expect_route(p, "/echo?fb=1", "only-echo", "direct")


@test("route_methods_restriction")
def _(env):
    proxyd_only(env)
    routes = [("read-only", {"hosts": "echo.test", "methods": "GET, HEAD",
                             "upstream": "direct"})]
    with env.own_proxy(routes=routes, fallback="deny") as p:
        expect_eq(raw_get(env, p, env.echo_url("/echo?m=get")).status, 200, "GET")
        expect_eq(raw_get(env, p, env.echo_url("/echo?m=head"), method="HEAD").status,
                  200, "HEAD")
        expect_denied(raw_get(env, p, env.echo_url("/echo?m=delete"), method="DELETE"), "deny")
        expect_denied(raw_get(env, p, env.echo_authority(), method="CONNECT"), "deny")


@test("route_ports_restriction")
def _(env):
    proxyd_only(env)
    echo_port = env.origin.echo.port
    routes = [("echo-port", {"ports": "%d, 1-79" % echo_port, "upstream": "direct"})]
    with env.own_proxy(routes=routes, fallback="deny") as p:
        expect_eq(raw_get(env, p, env.echo_url("/echo?port=1")).status, 200, "echo port")
        # Same host, another port: not this route.
        expect_denied(raw_get(env, p, "http://echo.test:%d/1k" % env.origin.nginx.http_port),
                      "deny")
        expect_denied(raw_get(env, p, "origin.test:%d" % env.origin.nginx.https_port,
                              method="CONNECT"), "deny")


@test("route_clients_restriction")
def _(env):
    """clients = 127.0.0.2/32: only a client from that address takes it."""
    proxyd_only(env)
    routes = [("from-two", {"clients": "127.0.0.2/32", "upstream": "deny"})]
    with env.own_proxy(routes=routes) as p:
        try:
            r2 = raw_get(env, p, env.echo_url("/echo?src=2"), source="127.0.0.2")
        except OSError as e:
            raise TestSkip("cannot bind 127.0.0.2 here: %s" % e)
        expect_denied(r2, "from-two")
        expect_eq(raw_get(env, p, env.echo_url("/echo?src=1")).status, 200,
                  "status for 127.0.0.1")
        expect_route(p, "/echo?src=1", "direct", "direct")


# ---------------------------------------------------------------- regex and $VAR

@test("route_regex_target")
def _(env):
    proxyd_only(env)
    routes = [("private", {"regex": r"^http://[^/]*/echo/private/", "upstream": "deny"}),
              ("tls-echo", {"regex": r"^echo\.test:[0-9]+$", "upstream": "deny"})]
    with env.own_proxy(routes=routes) as p:
        expect_denied(raw_get(env, p, env.echo_url("/echo/private/x")), "private")
        expect_eq(raw_get(env, p, env.echo_url("/echo/public/private/x")).status, 200,
                  "status of a path that only contains /private/")
        expect_denied(raw_get(env, p, env.echo_authority(), method="CONNECT"), "tls-echo")
        expect_eq(raw_get(env, p, env.echo_url("/echo?x=echo.test:1")).status, 200,
                  "status of a plain request (the CONNECT regex is anchored)")


@test("route_hosts_from_env_var")
def _(env):
    proxyd_only(env)
    routes = [("from-env", {"hosts": "$ROUTE_TEST_HOSTS", "upstream": "deny"})]
    with env.own_proxy(routes=routes, proc_env={"ROUTE_TEST_HOSTS": "echo.test, .nope.test"}) as p:
        expect_denied(raw_get(env, p, env.echo_url("/echo?env=1")), "from-env")
        expect_eq(raw_get(env, p, env.http_url("/1k")).status, 200, "origin.test status")
    # Unset: the route matches nothing (a warning, not an error).
    with env.own_proxy(routes=routes, proc_env={"ROUTE_TEST_HOSTS": None}) as p:
        expect_eq(raw_get(env, p, env.echo_url("/echo?env=0")).status, 200,
                  "status with the variable unset")
        expect_route(p, "/echo?env=0", "direct", "direct")


# ---------------------------------------------------------------- --explain and -t

EXPLAIN_CONF = """\
[proxyd]
listen = 127.0.0.1:3128
fallback = deny
connect_timeout = 4s

[route corp]
hosts = .corp.test, *.zap.test, 10.0.0.0/8, build.test:8443
upstream = http 127.0.0.1:3001, socks5 user:secret@127.0.0.1:3002, direct
connect_timeout = 1s
rate = 5/s
max_conns = 2

[route private]
regex = ^http://[^/]*/private/
methods = GET
upstream = deny

[route everything-else]
hosts = example.test
upstream = direct
"""


def explain(env, target, conf, proc_env=None):
    r = run([env.proxyd_binary, "--explain", target, "-c", conf], timeout=10, env=proc_env)
    out = r.stdout.decode(errors="replace")
    expect(r.returncode == 0, "--explain %s exited %d: %s%s"
           % (target, r.returncode, out, r.stderr.decode(errors="replace")))
    fields = {}
    for line in out.splitlines():
        k, _, v = line.partition(":")
        fields[k.strip()] = v.strip()
    return fields, out


@test("route_explain_targets")
def _(env):
    proxyd_only(env)
    conf = env.wd.write("explain.conf", EXPLAIN_CONF)
    cases = [
        # target, route, file line (None: built-in), matched
        ("http://a.corp.test/x", "corp", 6, "hosts"),
        ("deep.b.zap.test:443", "corp", 6, "hosts"),
        ("http://10.20.30.40:8080/", "corp", 6, "hosts"),
        ("build.test:8443", "corp", 6, "hosts"),
        ("http://other.test/private/key", "private", 13, "regex"),
        ("http://www.example.test/", "everything-else", 18, "hosts"),
        ("corp.test:443", "deny", None, None),           # ".corp.test": subdomains only
        ("zap.test:443", "deny", None, None),            # "*.zap.test": likewise
        ("build.test:443", "deny", None, None),          # wrong port
        ("http://other.test/public/", "deny", None, None),
    ]
    for target, route, line, matched in cases:
        f, out = explain(env, target, conf)
        want = ("%s (%s:%d)" % (route, conf, line)) if line else "%s (built-in fallback)" % route
        expect_eq(f.get("route"), want, "route of %s (output: %s)" % (target, out))
        if matched:
            expect_eq(f.get("matched"), matched, "matched of %s" % target)
    f, out = explain(env, "http://a.corp.test/", conf)
    expect_eq(f.get("upstreams"), "http 127.0.0.1:3001, socks5 127.0.0.1:3002, direct",
              "upstreams line")
    expect("secret" not in out, "--explain shows the parent's password: %s" % out)
    expect(re.match(r"connect 1s\b", f.get("timeouts", "")),
           "timeouts line %r: want the route's connect 1s" % f.get("timeouts"))
    lim = f.get("limits", "")
    expect("rate 5/s" in lim and "max_conns 2" in lim, "limits line %r" % lim)
    f, out = explain(env, "http://www.example.test/", conf)
    expect(re.match(r"connect 4s\b", f.get("timeouts", "")),
           "timeouts of a route without its own: %r, want [proxyd]'s connect 4s"
           % f.get("timeouts"))
    expect_eq(f.get("limits"), "none", "limits of a route without limits")
    f, out = explain(env, "http://x.test/private/a", conf)
    expect_eq(f.get("upstreams"), "deny", "upstreams of a deny route")


@test("route_explain_env_var")
def _(env):
    proxyd_only(env)
    conf = env.wd.write("explain-env.conf",
                        "[proxyd]\nlisten = 127.0.0.1:3128\nfallback = deny\n\n"
                        "[route np]\nhosts = $NO_PROXY\nupstream = direct\n")
    penv = dict(os.environ, NO_PROXY="internal.test,192.168.0.0/16")
    f, _ = explain(env, "http://a.internal.test/", conf, penv)
    expect_eq(f.get("route"), "np (%s:5)" % conf, "route with NO_PROXY set")
    f, _ = explain(env, "192.168.7.7:443", conf, penv)
    expect_eq(f.get("route"), "np (%s:5)" % conf, "route of an address in the CIDR")
    f, _ = explain(env, "http://elsewhere.test/", conf, penv)
    expect_eq(f.get("route"), "deny (built-in fallback)", "route of another host")


def check_conf(env, name, text):
    path = env.wd.write(name, text)
    r = run([env.proxyd_binary, "-t", "-c", path], timeout=10)
    return r.returncode, r.stderr.decode(errors="replace") + r.stdout.decode(errors="replace")


@test("route_check_shadowed_route")
def _(env):
    proxyd_only(env)
    rc, err = check_conf(env, "shadow.conf",
                         "[proxyd]\nlisten = 127.0.0.1:3128\n"
                         "[route all]\nupstream = direct\n\n"
                         "[route b]\nhosts = example.test\nupstream = direct\n")
    expect_eq(rc, 1, "exit status of -t")
    expect('shadow.conf:6: route "b" can never match: route "all" (line 3) takes all its '
           'traffic' in err, "shadowed route not reported as such: %r" % err)
    rc, err = check_conf(env, "shadow2.conf",
                         "[proxyd]\nlisten = 127.0.0.1:3128\n"
                         "[route star]\nhosts = *\nupstream = direct\n"
                         "[route late]\nhosts = late.test\nupstream = deny\n")
    expect_eq(rc, 1, "exit status of -t (hosts = * first)")
    expect(re.search(r'shadow2\.conf:6: route "late" can never match: route "star" \(line 3\)',
                     err), "route after hosts = * not reported: %r" % err)


@test("route_check_bad_regex_and_cidr")
def _(env):
    proxyd_only(env)
    rc, err = check_conf(env, "badre.conf",
                         "[proxyd]\nlisten = 127.0.0.1:3128\n\n"
                         "[route re]\nregex = ^http://[^/]*/(private\nupstream = deny\n\n"
                         "[route cl]\nclients = 10.0.0.0/33\nupstream = direct\n")
    expect_eq(rc, 1, "exit status of -t")
    expect(re.search(r"badre\.conf:5: regex: .*offset \d+", err),
           "bad regex not reported with file:line and offset: %r" % err)
    expect(re.search(r'badre\.conf:9: clients: .*"10\.0\.0\.0/33"', err),
           "bad CIDR not reported with file:line: %r" % err)
    rc, err = check_conf(env, "goodroutes.conf", EXPLAIN_CONF)
    expect_eq(rc, 0, "exit status of -t on a good file with routes (%s)" % err.strip())
