"""parent_tests.py - routes whose upstream is a parent proxy: a second
proxyd, Debian's tinyproxy (with and without BasicAuth) and dante-server
as http/socks5 parents, a recording SOCKS5 relay (names sent unresolved,
RFC 1929 credentials); git and go through a parent route."""

import json
import os
import shutil
import urllib.parse

from curl_tests import curl, expect_ok
from go_tests import go, go_workspace
from gomodtree import escape_path
from harness import expect, expect_eq, run, test, wait_until, which_or_skip
from httpraw import expect_error_reply
from parents import (DanteParent, Socks5Relay, TinyproxyParent, access_line, expect_route,
                     log_fields)
from route_tests import proxyd_only, raw_get


def parent_route(hosts, upstream, **keys):
    return [("parent", dict({"hosts": hosts, "upstream": upstream, "connect_timeout": "1s"},
                            **keys))]


def echo_json(resp):
    expect(resp.status == 200, "status %s (%r)" % (resp.status, resp.body[:200]))
    return json.loads(resp.body)


def echo_url_ip(env, path):
    """The echo origin by address: tinyproxy and danted resolve with the
    system resolver, which knows no *.test name."""
    return "http://127.0.0.1:%d%s" % (env.origin.echo.port, path)


# ---------------------------------------------------------------- proxyd as parent

@test("parent_proxyd_connect_and_plain")
def _(env):
    proxyd_only(env)
    with env.own_proxy() as parent:
        via = "http 127.0.0.1:%d" % parent.port
        with env.own_proxy(routes=parent_route("echo.test, origin.test", via)) as p:
            info = echo_json(raw_get(env, p, env.echo_url("/echo?pp=plain")))
            # The parent got absolute-form and sent origin-form on.
            expect_eq(info["target"], "/echo?pp=plain", "target at the origin")
            r = curl(env, env.https_url("/1k?pp=tls"), "--cacert", env.origin.ca, proxy=p)
            expect_ok(r)
            expect(r.body == env.origin.files["1k"], "body through the chained tunnel differs")
            https = env.origin.nginx.https_port
            access_line(parent, "GET http://%s/echo?pp=plain 200" % env.echo_authority())
            access_line(parent, "CONNECT origin.test:%d 200" % https)
            expect_route(p, "/echo?pp=plain", "parent", via)
            f = expect_route(p, "CONNECT origin.test:%d" % https, "parent", via)
            expect_eq(f.get("upstream"), "127.0.0.1:%d" % parent.port,
                      "upstream= of the chained CONNECT")


# ---------------------------------------------------------------- tinyproxy

def tinyproxy_parent(env, basic_auth=None):
    return TinyproxyParent(env.wd, connect_ports=[env.origin.nginx.https_port],
                           basic_auth=basic_auth)


def check_through_tinyproxy(env, tp, upstream, tag):
    via = "http 127.0.0.1:%d" % tp.port
    with env.own_proxy(routes=parent_route("127.0.0.1, localhost", upstream)) as p:
        info = echo_json(raw_get(env, p, echo_url_ip(env, "/echo?tp=" + tag)))
        headers = {k.lower(): v for k, v in info["headers"]}
        expect("tinyproxy" in headers.get("via", ""),
               "no Via: tinyproxy at the origin (%s): not through the parent?" % headers)
        expect("proxy-authorization" not in headers,
               "the parent's credentials reached the origin")
        url = "https://127.0.0.1:%d/1k?tp=%s" % (env.origin.nginx.https_port, tag)
        r = curl(env, url, "--cacert", env.origin.ca, proxy=p)
        expect_ok(r)
        expect(r.body == env.origin.files["1k"], "body through tinyproxy's tunnel differs")
        reqs = wait_until(lambda: [q for q in tp.requests() if "tp=" + tag in q
                                   or q.startswith("CONNECT ")], 3)
        expect(any(q.startswith("GET http://127.0.0.1:%d/echo?tp=%s "
                                % (env.origin.echo.port, tag)) for q in reqs),
               "tinyproxy logged no absolute-form GET: %s" % tp.requests())
        expect(any(q.startswith("CONNECT 127.0.0.1:%d " % env.origin.nginx.https_port)
                   for q in tp.requests()),
               "tinyproxy logged no CONNECT: %s" % tp.requests())
        expect_route(p, "/echo?tp=" + tag, "parent", via)
        expect_route(p, "CONNECT 127.0.0.1:%d" % env.origin.nginx.https_port, "parent", via)


@test("parent_tinyproxy_connect_and_plain")
def _(env):
    proxyd_only(env)
    tp = tinyproxy_parent(env)
    try:
        check_through_tinyproxy(env, tp, "http 127.0.0.1:%d" % tp.port, "open")
    finally:
        tp.stop()


@test("parent_tinyproxy_basic_auth")
def _(env):
    proxyd_only(env)
    tp = tinyproxy_parent(env, basic_auth=("user", "p-ss"))
    try:
        # Credentials are percent-decoded, as in a URL (%2D is '-').
        check_through_tinyproxy(env, tp, "http user:p%%2Dss@127.0.0.1:%d" % tp.port, "auth")
    finally:
        tp.stop()


@test("parent_tinyproxy_basic_auth_rejected")
def _(env):
    """A CONNECT the parent refuses for want of (good) credentials: 502
    naming authentication, the password nowhere."""
    proxyd_only(env)
    tp = tinyproxy_parent(env, basic_auth=("user", "pass"))
    try:
        https = "127.0.0.1:%d" % env.origin.nginx.https_port
        for upstream, what in (("http user:wrong@127.0.0.1:%d" % tp.port, "wrong password"),
                               ("http 127.0.0.1:%d" % tp.port, "no credentials")):
            with env.own_proxy(routes=parent_route("127.0.0.1", upstream)) as p:
                r = raw_get(env, p, https, method="CONNECT")
                expect_error_reply(r, 502)
                expect(b"authentication" in r.body,
                       "CONNECT with %s: 502 body %r does not mention authentication"
                       % (what, r.body))
                expect(b"wrong" not in r.body, "the password is in the reply: %r" % r.body)
                f = log_fields(access_line(p, "CONNECT " + https))
                expect("authentication" in f.get("note", ""),
                       "access log note of the refused CONNECT: %r" % f)
    finally:
        tp.stop()


@test("parent_tinyproxy_plain_auth_rejected")
def _(env):
    """A plain request the parent refuses with 407: the parent's demand
    for credentials is proxyd's failure (502 naming authentication), not
    a 407 for proxyd's own client.  (tinyproxy answers a wrong password
    with 401, which could as well be the origin's: only no credentials
    is checked here.)"""
    proxyd_only(env)
    tp = tinyproxy_parent(env, basic_auth=("user", "pass"))
    try:
        with env.own_proxy(routes=parent_route("127.0.0.1", "http 127.0.0.1:%d" % tp.port)) as p:
            r = raw_get(env, p, echo_url_ip(env, "/echo?tp=noauth"))
            expect(r.status == 502 and b"authentication" in r.body,
                   "plain GET without credentials: got %s %r, want 502 mentioning "
                   "authentication" % (r.status, r.body[:120]))
        with open(env.origin.echo.log_path) as f:
            expect("tp=noauth" not in f.read(), "the refused request reached the origin")
    finally:
        tp.stop()


# ---------------------------------------------------------------- SOCKS5

@test("parent_dante_socks5_connect_and_plain")
def _(env):
    proxyd_only(env)
    dante = DanteParent(env.wd)
    try:
        via = "socks5 127.0.0.1:%d" % dante.port
        with env.own_proxy(routes=parent_route("127.0.0.1, localhost", via)) as p:
            # A name (sent unresolved: danted resolves localhost itself).
            info = echo_json(raw_get(env, p, "http://localhost:%d/echo?dante=1"
                                     % env.origin.echo.port))
            expect_eq(info["target"], "/echo?dante=1", "target at the origin")
            url = "https://127.0.0.1:%d/1k?dante=2" % env.origin.nginx.https_port
            r = curl(env, url, "--cacert", env.origin.ca, proxy=p)
            expect_ok(r)
            expect(r.body == env.origin.files["1k"], "body through danted differs")
            for port in (env.origin.echo.port, env.origin.nginx.https_port):
                expect(wait_until(lambda: dante.connects_to(port), 3),
                       "danted logged no connect to port %d: %s" % (port, dante.log_lines()[-5:]))
            expect_route(p, "/echo?dante=1", "parent", via)
            expect_route(p, "CONNECT 127.0.0.1:%d" % env.origin.nginx.https_port, "parent", via)
    finally:
        dante.stop()


@test("parent_socks5_names_unresolved_with_auth")
def _(env):
    """RFC 1928 ATYP 3 (domain) for names, RFC 1929 user/password."""
    proxyd_only(env)
    with Socks5Relay(auth=("user", "s3cret")) as relay:
        upstream = "socks5 user:s3cret@127.0.0.1:%d" % relay.port
        with env.own_proxy(routes=parent_route("echo.test, origin.test", upstream)) as p:
            info = echo_json(raw_get(env, p, env.echo_url("/echo?socks=1")))
            expect_eq(info["target"], "/echo?socks=1", "target at the origin")
            r = curl(env, env.https_url("/1k?socks=2"), "--cacert", env.origin.ca, proxy=p)
            expect_ok(r)
            got = [(q.get("atyp"), q.get("host"), q.get("port"), q.get("user"))
                   for q in relay.requests]
            for want in ((3, "echo.test", env.origin.echo.port, "user"),
                         (3, "origin.test", env.origin.nginx.https_port, "user")):
                expect(want in got, "SOCKS5 relay got %s, want %s among them" % (got, want))
            expect_route(p, "/echo?socks=1", "parent", "socks5 127.0.0.1:%d" % relay.port)
        with env.own_proxy(routes=parent_route(
                "echo.test", "socks5 user:nope@127.0.0.1:%d" % relay.port)) as p:
            r = raw_get(env, p, env.echo_url("/echo?socks=bad"))
            expect_error_reply(r, 502)
            expect(b"nope" not in r.body, "the password is in the reply: %r" % r.body)


# ---------------------------------------------------------------- git and go via a parent

@test("parent_git_clone_https_via_parent_route")
def _(env):
    proxyd_only(env)
    which_or_skip("git")
    with env.own_proxy() as parent:
        via = "http 127.0.0.1:%d" % parent.port
        with env.own_proxy(routes=parent_route("git.test", via)) as p:
            dest = env.wd.sub("clone-parent")
            genv = env.client_env()
            genv.update(GIT_TERMINAL_PROMPT="0", GIT_CONFIG_NOSYSTEM="1",
                        GIT_CONFIG_GLOBAL="/dev/null")
            url = "https://git.test:%d/repo.git" % env.origin.nginx.https_port
            r = run(["git", "-c", "http.proxy=" + p.url, "-c", "http.sslCAInfo=" + env.origin.ca,
                     "clone", "-q", url, dest], timeout=60, env=genv)
            try:
                expect(r.returncode == 0, "git clone failed: %s" % r.stderr.decode(errors="replace"))
                with open(os.path.join(dest, "README")) as f:
                    expect_eq(f.read(), "proxyd git test\n", "README in the clone")
            finally:
                shutil.rmtree(dest, ignore_errors=True)
            connect = "CONNECT git.test:%d" % env.origin.nginx.https_port
            access_line(parent, connect + " 200")
            expect_route(p, connect, "parent", via)


@test("parent_go_mod_download_via_parent_route")
def _(env):
    proxyd_only(env)
    which_or_skip("go")
    with env.own_proxy() as parent:
        via = "http 127.0.0.1:%d" % parent.port
        with env.own_proxy(routes=parent_route("goproxy.test", via)) as p:
            src, genv, mods = go_workspace(env)
            genv.update(HTTP_PROXY=p.url, HTTPS_PROXY=p.url)
            go(["go", "mod", "download"], src, genv)
            for m in mods:
                d = os.path.join(genv["GOMODCACHE"], escape_path(m.path) + "@" + m.version)
                expect(os.path.isdir(d), "module %s not in the module cache" % m.path)
            # Every zip went through the route and the parent.
            for proxy in (p, parent):
                lines = [urllib.parse.unquote(l) for l in proxy.access_lines()]
                for m in mods:
                    zip_path = escape_path(m.path) + "/@v/" + m.version + ".zip"
                    hit = [l for l in lines if zip_path in l]
                    expect(hit, "%s has no access log line for %s" % (proxy.name, zip_path))
                    if proxy is p:
                        expect('route=parent via="%s"' % via in hit[0],
                               "zip not taken by the parent route: %s" % hit[0])
