"""goerr_tests.py - what the go command shows when proxyd cannot serve a
module, `unavailable = notfound`, and module requests that never reach a
mirror (validation), with the mirrors of modproxy_tests (nginx serving
GOPROXY trees of Debian's golang-*-dev sources) and real `go`.

The error body rules are cmd/go/internal/web's (Go 1.19): text/plain in
UTF-8, shown up to the first blank line, 8 lines and 648 bytes."""

from harness import expect, expect_eq, free_port, test
from httpraw import Conn
from modproxy_tests import (CMP, body_text, expect_in_cache, fetch,
                            go, go_ok, mirrors, mod_proxy, module_lines, murl,
                            version_of, workspace)
from parents import SilentListener


def dead_url():
    return "http://127.0.0.1:%d" % free_port()


def expect_go_body(r, status, what):
    """r (curl) is proxyd's own error answer go shows whole."""
    expect(r.status == status, "%s: status %s, want %d (%r)" % (what, r.status, status,
                                                                  r.body[:300]))
    ctype = (r.header("Content-Type") or "").replace(" ", "").lower()
    expect_eq(ctype, "text/plain;charset=utf-8", "%s: Content-Type" % what)
    text = body_text(r)
    lines = text.split("\n")
    expect(text.endswith("\n") and "" not in lines[:-1],
           "%s: body has a blank line or no final newline: %r" % (what, text))
    expect(len(lines) - 1 <= 8 and len(r.body) <= 648,
           "%s: %d lines, %d bytes: %r" % (what, len(lines) - 1, len(r.body), text))
    expect(all(0x20 <= b < 0x7f or b == 0x0a for b in r.body),
           "%s: a byte go would refuse: %r" % (what, r.body))
    return text


@test("goerr_go_shows_mirror_outcomes")
def _(env):
    """Every mirror fails (refused, then silent past response_timeout):
    504, and go prints proxyd's body: the module@version.file, the route,
    each mirror with its outcome."""
    dead = dead_url()
    with SilentListener() as silent:
        s = "http://127.0.0.1:%d" % silent.port
        with mod_proxy(env, ("go", {"modules": "*",
                                    "upstream": "mirror %s | mirror %s" % (dead, s)})) as p:
            v = version_of(CMP)
            r = fetch(env, p.url + "/%s/@v/%s.zip" % (CMP, v))
            text = expect_go_body(r, 504, "zip with every mirror failing")
            want = ["proxyd: %s@%s.zip: route go: no mirror could serve it" % (CMP, v),
                    "mirror %s connect refused" % dead,
                    "mirror %s timeout after 1s" % s]
            expect_eq(text.splitlines(), want, "error body")
            src, genv = workspace(env, p.url, paths=(CMP,))
            g = go(src, genv, "mod", "download")
            expect(g.rc != 0, "go mod download succeeded with every mirror failing")
            expect("server response:" in g.stderr and "route go: no mirror could serve it"
                   in g.stderr and "mirror %s connect refused" % dead in g.stderr
                   and "[Truncated" not in g.stderr,
                   "go does not show proxyd's body whole: %s" % g.stderr[-1500:])
            print("# goerr_go_shows_mirror_outcomes: go says:\n# "
                  + "\n# ".join(g.stderr.strip().splitlines()[-6:]))
            f = module_lines(p, "zip", CMP)
            expect(f and f[-1]["status"] == 504, "access log of the zip: %s"
                   % [x["line"] for x in f])


@test("goerr_refusals_fit_go")
def _(env):
    """proxyd's other answers on the GOPROXY endpoint fit go's rules too:
    a deny route's 403, a malformed path's 400, a 500 turned 404."""
    with mod_proxy(env, ("offlimits", {"modules": "bad.test", "upstream": "deny"}),
                   ("go", {"modules": "*", "upstream": "mirror " + murl(env, "err"),
                           "unavailable": "notfound"})) as p:
        r = fetch(env, p.url + "/bad.test/x/@v/list")
        text = expect_go_body(r, 403, "deny route")
        expect(text.startswith("proxyd: bad.test/x/@v/list: route offlimits: ")
               and "says deny" in text, "403 body: %r" % text)
        r = fetch(env, p.url + "/github.com/Foo/bar/@v/list")
        text = expect_go_body(r, 400, "upper case in a module path")
        expect(text.count("\n") == 1 and "escape" in text, "400 body: %r" % text)
        # The mirror's own 500, with unavailable = notfound: 404, and
        # the body says why and what the mirror said.
        r = fetch(env, p.url + "/%s/@v/list" % CMP)
        text = expect_go_body(r, 404, "a mirror's 500 with unavailable = notfound")
        expect("no mirror could serve it (unavailable = notfound" in text
               and "mirror %s 500" % murl(env, "err") in text, "404 body: %r" % text)


@test("goerr_unavailable_notfound_falls_through")
def _(env):
    """GOPROXY=http://proxyd,http://mirror: with `unavailable = notfound`
    proxyd's dead mirrors answer 404 and go takes every module from the
    second entry; with the default go stops at proxyd's 502."""
    b = murl(env, "b")
    dead = dead_url()
    for mode, ok in (("notfound", True), ("error", False)):
        with mod_proxy(env, ("go", {"modules": "*", "upstream": "mirror " + dead,
                                    "unavailable": mode})) as p:
            src, genv = workspace(env, "%s,%s" % (p.url, b))
            g = go(src, genv, "mod", "download")
            lines = module_lines(p)
            expect(lines, "%s: proxyd was never asked" % mode)
            if ok:
                expect(g.rc == 0, "unavailable = notfound: go did not fall through: %s"
                       % g.stderr[-1200:])
                expect_in_cache(env, genv)
                for f in lines:
                    expect(f["status"] == 404, "%s: %s" % (mode, f["line"]))
            else:
                expect(g.rc != 0 and "502 Bad Gateway" in g.stderr
                       and "connect refused" in g.stderr,
                       "unavailable = error: go should stop at proxyd's 502: %s"
                       % g.stderr[-1200:])
                for f in lines:
                    expect(f["status"] == 502, "%s: %s" % (mode, f["line"]))


def raw_get(port, target, timeout=5):
    with Conn(port, timeout=timeout) as c:
        c.send(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        return c.read_response()


@test("goerr_invalid_paths_never_reach_a_mirror")
def _(env):
    """Raw requests with traversal attempts, NUL, bad escapes, a 256-byte
    element and a 1025-byte path: refused with 400/414 (404 for what is
    no endpoint), and the mirror sees none of them."""
    b = murl(env, "b")
    e255, e256 = b"a" * 255, b"a" * 256
    padded = b"/x.y/" + b"/".join([b"a" * 200] * 5)
    cases = [
        (b"/example.com/../../etc/@v/list", 400),
        (b"/example.com/%2e%2e/%2e%2e/etc/@v/list", 400),
        (b"/example.com/%2E%2E/x/@v/list", 400),
        (b"/x.y/z/@v/..%2f..%2fpasswd.info", 400),
        (b"//etc/passwd/@v/list", 400),
        (b"/x.y/z/@v/v1.0.0%00.zip", 400),
        (b"/x.y/z/@v/v1.0.0\x00.zip", 400),
        (b"/x.y/z/@v/v1.0.0%zz.info", 400),
        (b"/x.y/z/@v/v1.0.0%.info", 400),
        (b"/x.y/z%5c..%5c/@v/list", 400),
        (b"/sumdb/sum.test/../../x/supported", 400),
        (b"/x.y/" + e256 + b"/@v/list", 400),
        (b"/x.y/z/@v/v1.0.0-" + b"a" * 245 + b".info", 400),
        (padded + b"/" + b"a" * (1024 - len(padded) - 1 - 8) + b"/@v/list", 404),
        (padded + b"/" + b"a" * (1024 - len(padded) - 8) + b"/@v/list", 414),
        (b"/x.y/" + b"a" * 4000 + b"/@v/list", 414),
    ]
    with mod_proxy(env, ("go", {"modules": "*", "upstream": "mirror " + b})) as p:
        before = len(mirrors(env).requests("b"))
        for target, status in cases:
            r = raw_get(p.port, target)
            what = target[:60] + (b"... (%d bytes)" % len(target) if len(target) > 60 else b"")
            expect(r.status == status, "%r: status %s, want %d (%r)"
                   % (what, r.status, status, r.body[:200]))
        reached = mirrors(env).requests("b")[before:]
        # The longest valid path (1024 bytes, 200-byte elements) is the
        # one that may go on: the mirror has no such module (404).
        expect(len(reached) <= 1, "the mirror got refused requests: %s"
               % [x[1][:80] for x in reached])
        r = raw_get(p.port, b"/x.y/" + e255 + b"/@latest")
        expect(r.status == 404, "255-byte element: status %s (%r)" % (r.status, r.body[:200]))
        r = raw_get(p.port, ("/%s/@v/list" % CMP).encode())
        expect(r.status == 200, "a valid request after the refusals: %s" % r.status)
