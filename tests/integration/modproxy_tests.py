"""modproxy_tests.py - proxyd as a GOPROXY endpoint (GOPROXY=http://proxyd):
the go command and curl against proxyd, which answers origin-form module
requests from the route's mirrors (nginx servers of servers.Mirrors,
GOPROXY trees built by gomodtree.py from Debian's golang-*-dev sources).

Mirrors: a = go-cmp only, under the base path /base; b = all three
modules plus a fake checksum database sum.test (static files); ka = b
again, alone in its access log (keep-alive counting); short = b closing
idle connections after 300ms; tls = b over https
with a certificate for mirror.test only (from the test CA); err = 500 for
everything, 410 under /gone.  Every go run has fresh caches, GOSUMDB=off
and no proxy settings unless the test says so."""

import os
import statistics

from curl_tests import CurlResult, _parse_heads, _read_and_remove
from go_tests import DEBIAN_MODULES, MAIN_GO
from gomodtree import build_tree, debian_module, escape_path
from harness import (LOOPBACK, TestFailure, expect, expect_eq, free_port, run, test,
                     wait_until, which_or_skip)
from httpraw import Conn
from parents import SilentListener, Stopwatch, access_line, log_fields
from route_tests import proxyd_only
from servers import Mirrors, issue_cert

SLACK = 0.7                  # scheduling, process start-up
TIMEOUTS = {"connect_timeout": "1s", "response_timeout": "1s"}
CMP, ERRORS, TOML = (p for p, _ in DEBIAN_MODULES)
PACKAGES = {CMP: CMP + "/cmp", ERRORS: ERRORS, TOML: TOML}
SUMDB = {
    "supported": b"",
    "latest": b"sum.test\n42\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n- sum.test fake\n",
    "lookup/github.com/google/go-cmp@v0.5.9":
        b"17\ngithub.com/google/go-cmp v0.5.9 h1:fake=\n"
        b"github.com/google/go-cmp v0.5.9/go.mod h1:fake=\n\n",
    "tile/8/0/000": bytes(range(256)) * 4,
}

_state = {"mirrors": None, "mods": None, "error": None, "seq": 0}


# ---------------------------------------------------------------- fixtures

def mirrors(env):
    """The mirror nginx, started once per run."""
    proxyd_only(env)
    if _state["error"]:
        raise TestFailure("mirror setup failed earlier: %s" % _state["error"])
    if _state["mirrors"] is None:
        try:
            env.origin                      # the test CA
            try:
                mods = [debian_module(p, pkg) for p, pkg in DEBIAN_MODULES]
            except RuntimeError as e:
                raise TestFailure(str(e))
            trees = env.wd.sub("mirror-trees", mkdir=True)
            a, b = os.path.join(trees, "a"), os.path.join(trees, "b")
            build_tree(os.path.join(a, "base"), [m for m in mods if m.path == CMP])
            build_tree(b, mods)
            for rel, data in SUMDB.items():
                path = os.path.join(b, "sumdb", "sum.test", rel)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "wb") as f:
                    f.write(data)
            cert, key = issue_cert(env.wd, ["mirror.test"], "mirror")
            _state["mirrors"] = Mirrors(env.wd, {
                "a": {"root": a},
                "b": {"root": b},
                "ka": {"root": b},
                "short": {"root": b, "conf": ["keepalive_timeout 300ms;"]},
                "tls": {"root": b, "tls": (cert, key)},
                "err": {"conf": ['location /gone/ { return 410 "gone\\n"; }',
                                 'location / { return 500 "mirror broken\\n"; }']},
            })
            _state["mods"] = mods
        except Exception as e:
            _state["error"] = e
            raise
    return _state["mirrors"]


def mirror_tree(env, name):
    """The GOPROXY tree mirror name serves ("a" has it under base/)."""
    mirrors(env)
    return os.path.join(env.wd.sub("mirror-trees"), name)


def murl(env, name, path=""):
    return "http://%s:%d%s" % (LOOPBACK, mirrors(env).port(name), path)


def mod_proxy(env, *routes, **settings):
    """A proxyd whose routes are (NAME, {modules/hosts, upstream, ...}),
    with the short timeouts unless a route says otherwise."""
    proxyd_only(env)
    which_or_skip("go")
    mirrors(env)
    return env.own_proxy(routes=[(n, dict(TIMEOUTS, **keys)) for n, keys in routes],
                         **settings)


def workspace(env, goproxy, paths=(CMP, ERRORS, TOML), main=None, require=None):
    """A fresh module requiring paths (all at the mirror's versions) and
    importing one package of each, with fresh Go caches; returns (src, genv)."""
    which_or_skip("go")
    mirrors(env)
    _state["seq"] += 1
    root = env.wd.sub("modproxy-go-%d" % _state["seq"], mkdir=True)
    src = os.path.join(root, "app")
    os.makedirs(src)
    require = require or [(m.path, m.version) for m in _state["mods"] if m.path in paths]
    with open(os.path.join(src, "go.mod"), "w") as f:
        f.write("module example.test/app\n\ngo 1.19\n\nrequire (\n"
                + "".join("\t%s %s\n" % r for r in require) + ")\n")
    if main is None:
        main = ("package main\n\nimport (\n"
                + "".join('\t_ "%s"\n' % PACKAGES.get(p, p) for p, _ in require)
                + ")\n\nfunc main() {}\n")
    with open(os.path.join(src, "main.go"), "w") as f:
        f.write(main)
    genv = env.client_env()
    genv.update(
        GOPATH=os.path.join(root, "gopath"),
        GOMODCACHE=os.path.join(root, "modcache"),
        GOCACHE=os.path.join(root, "gocache"),
        GOPROXY=goproxy, GOSUMDB="off", GONOSUMDB="*", GOFLAGS="-mod=mod",
        GOTOOLCHAIN="local", GO111MODULE="on", CGO_ENABLED="0",
    )
    return src, genv


class GoRun:
    def __init__(self, proc, elapsed):
        self.rc = proc.returncode
        self.stdout = proc.stdout.decode(errors="replace")
        self.stderr = proc.stderr.decode(errors="replace")
        self.elapsed = elapsed


def go(src, genv, *args, timeout=60):
    with Stopwatch() as sw:
        r = run(["timeout", str(timeout), "go"] + list(args), timeout=timeout + 10,
                env=genv, cwd=src)
    return GoRun(r, sw.elapsed)


def go_ok(src, genv, *args, what="go"):
    r = go(src, genv, *args)
    expect(r.rc == 0, "%s: go %s failed (%d): %s"
           % (what, " ".join(args), r.rc, r.stderr[-1200:]))
    return r


def expect_in_cache(env, genv, paths=(CMP, ERRORS, TOML)):
    for m in _state["mods"]:
        if m.path in paths:
            d = os.path.join(genv["GOMODCACHE"], escape_path(m.path) + "@" + m.version)
            expect(os.path.isdir(d), "%s@%s not extracted in the module cache"
                   % (m.path, m.version))


def version_of(path):
    return [m.version for m in _state["mods"] if m.path == path][0]


def fetch(env, url, *args, proxy=None, timeout=10):
    """curl url (origin-form to proxyd unless proxy is given)."""
    _state["seq"] += 1
    out = env.wd.sub("modproxy-curl-%d.body" % _state["seq"])
    heads = env.wd.sub("modproxy-curl-%d.head" % _state["seq"])
    argv = ["curl", "-sS", "--max-time", str(timeout), "-o", out, "-D", heads]
    argv += ["--noproxy", "", "-x", proxy.url] if proxy else ["--noproxy", "*"]
    with Stopwatch() as sw:
        proc = run(argv + list(args) + [url], timeout=timeout + 10, env=env.client_env())
    return CurlResult(proc, _read_and_remove(out), _parse_heads(_read_and_remove(heads)),
                      sw.elapsed)


def expect_status(r, status, what):
    expect(r.status == status, "%s: status %s, want %d (curl %d %s, body %r)"
           % (what, r.status, status, r.rc, r.stderr.strip(), r.body[:300]))


def module_lines(p, kind=None, module=None, settle=None):
    """proxyd's access log lines of module requests, as field dicts (with
    the status in "status"), optionally only one kind / module."""
    out = []
    for line in p.access_lines():
        f = log_fields(line)
        if "module" not in f and "sumdb" not in f:
            continue
        parts = line.split(" ")
        f["status"] = int(parts[4]) if len(parts) > 4 and parts[4].isdigit() else None
        f["line"] = line
        if (kind is None or f.get("kind") == kind) and (module is None or
                                                         f.get("module") == module):
            out.append(f)
    return out


def zip_line(p, module):
    """The access log line of module's zip (waits for it)."""
    lines = wait_until(lambda: module_lines(p, "zip", module), 3)
    expect(lines, "no access log line for the zip of %s; last lines: %s"
           % (module, p.access_lines()[-4:]))
    return lines[-1]


def expect_mirrors(f, want, what):
    expect_eq(f.get("mirrors"), want, "mirrors= of %s (%s)" % (what, f.get("line")))


def body_text(r):
    return r.body.decode(errors="replace")


# ---------------------------------------------------------------- fallback rules

@test("modproxy_comma_falls_back_on_404_and_410")
def _(env):
    """`,`: a module missing on the first mirror (404, or 410) comes from
    the next; one the first mirror has never reaches the second."""
    a, b, gone = murl(env, "a", "/base"), murl(env, "b"), murl(env, "err", "/gone")
    with mod_proxy(env, ("gone", {"modules": ERRORS, "upstream": "mirror %s, mirror %s"
                                  % (gone, b)}),
                   ("go", {"modules": "*", "upstream": "mirror %s, mirror %s" % (a, b)})) as p:
        src, genv = workspace(env, p.url)
        go_ok(src, genv, "mod", "download")
        expect_in_cache(env, genv)
        expect_mirrors(zip_line(p, CMP), "%s 200" % a, "go-cmp (on the first mirror)")
        expect_mirrors(zip_line(p, TOML), "%s 404, %s 200" % (a, b), "toml (second mirror)")
        expect_mirrors(zip_line(p, ERRORS), "%s 410, %s 200" % (gone, b), "errors (410 first)")
        for f in module_lines(p):
            expect(f["status"] == 200, "a module request was not served: %s" % f["line"])


@test("modproxy_comma_no_fallback_on_500")
def _(env):
    """`,` falls through on 404/410 only: a mirror's 500 reaches go as is
    and the next mirror is never asked."""
    err, b = murl(env, "err"), murl(env, "b")
    before = len(mirrors(env).requests("b"))
    with mod_proxy(env, ("go", {"modules": "*",
                                "upstream": "mirror %s, mirror %s" % (err, b)})) as p:
        r = fetch(env, p.url + "/%s/@v/list" % CMP)
        expect_status(r, 500, "list from a mirror answering 500")
        expect_eq(r.body, b"mirror broken\n", "the mirror's 500 body, passed through")
        src, genv = workspace(env, p.url, paths=(CMP,))
        g = go(src, genv, "mod", "download")
        expect(g.rc != 0, "go mod download succeeded past a 500 with ',': %s" % g.stderr)
        expect("500" in g.stderr, "go's error does not show the 500: %s" % g.stderr[-600:])
        lines = module_lines(p)
        expect(lines, "no module request in the access log")
        for f in lines:
            expect_mirrors(f, "%s 500" % err, "a request after a 500 with ','")
        expect_eq(len(mirrors(env).requests("b")), before, "requests the second mirror got")


@test("modproxy_pipe_falls_back_on_500")
def _(env):
    err, b = murl(env, "err"), murl(env, "b")
    with mod_proxy(env, ("go", {"modules": "*",
                                "upstream": "mirror %s | mirror %s" % (err, b)})) as p:
        src, genv = workspace(env, p.url)
        go_ok(src, genv, "mod", "download")
        expect_in_cache(env, genv)
        expect_mirrors(zip_line(p, TOML), "%s 500, %s 200" % (err, b), "toml zip")


@test("modproxy_pipe_dead_first_mirror")
def _(env):
    """`|` past a closed port: connection refused costs (almost) nothing."""
    dead, b = "http://127.0.0.1:%d" % free_port(), murl(env, "b")
    src, genv = workspace(env, b)
    reference = go_ok(src, genv, "mod", "download", what="straight to the mirror").elapsed
    with mod_proxy(env, ("go", {"modules": "*",
                                "upstream": "mirror %s | mirror %s" % (dead, b)})) as p:
        src, genv = workspace(env, p.url)
        t = go_ok(src, genv, "mod", "download").elapsed
        expect_in_cache(env, genv)
        print("# modproxy_pipe_dead_first_mirror: %.2fs (straight to the mirror %.2fs)"
              % (t, reference))
        expect(t - reference < 1.0, "a refused first mirror cost %.2fs (%.2fs vs %.2fs)"
               % (t - reference, t, reference))
        for f in module_lines(p):
            m = f.get("mirrors", "")
            expect(f["status"] == 200 and m.endswith(", %s 200" % b)
                   and (m.startswith(dead + " failed") or m.startswith(dead + " skipped")),
                   "request past the dead mirror: %s" % f["line"])
            expect(int(f.get("ms", "0")) < 1000, "took %sms: %s" % (f.get("ms"), f["line"]))


@test("modproxy_pipe_silent_first_mirror")
def _(env):
    """`|` past a mirror that accepts and never answers: each request
    loses response_timeout (1s), no more."""
    b = murl(env, "b")
    with SilentListener() as silent:
        s = "http://127.0.0.1:%d" % silent.port
        with mod_proxy(env, ("go", {"modules": "*",
                                    "upstream": "mirror %s | mirror %s" % (s, b)})) as p:
            r = fetch(env, p.url + "/%s/@v/list" % CMP)
            expect_status(r, 200, "list past a silent mirror")
            expect(0.9 <= r.elapsed < 1.0 + SLACK,
                   "list past a silent mirror took %.2fs, want about response_timeout (1s)"
                   % r.elapsed)
            src, genv = workspace(env, p.url, paths=(CMP,))
            g = go_ok(src, genv, "mod", "download")
            expect_in_cache(env, genv, (CMP,))
            lines = module_lines(p)
            print("# modproxy_pipe_silent_first_mirror: curl %.2fs; go %.2fs for %d requests"
                  % (r.elapsed, g.elapsed, len(lines)))
            for f in lines:
                expect(f.get("mirrors", "").startswith(s + " failed")
                       and f.get("mirrors", "").endswith(", %s 200" % b),
                       "request past the silent mirror: %s" % f["line"])
                expect(900 <= int(f.get("ms", "0")) < 1000 + SLACK * 1000,
                       "lost %sms, want about response_timeout: %s" % (f.get("ms"), f["line"]))
            expect(silent.accepted >= 1, "the silent mirror was never tried")


# ---------------------------------------------------------------- TLS mirrors

def tls_url(env, name="mirror.test"):
    return "https://%s:%d" % (name, mirrors(env).port("tls"))


@test("modproxy_https_mirror_ca_file")
def _(env):
    t = tls_url(env)
    with mod_proxy(env, ("go", {"modules": "*", "upstream": "mirror " + t}),
                   ca_file=env.origin.ca) as p:
        src, genv = workspace(env, p.url)
        go_ok(src, genv, "mod", "download")
        expect_in_cache(env, genv)
        expect_mirrors(zip_line(p, CMP), "%s 200" % t, "go-cmp zip over TLS")
        reqs = mirrors(env).requests("tls")
        expect(len({c for c, _, _ in reqs}) < len(reqs),
               "%d requests over %d TLS connections: no reuse"
               % (len(reqs), len({c for c, _, _ in reqs})))


@test("modproxy_https_mirror_hostname_mismatch_502")
def _(env):
    """The certificate names mirror.test; reached as mirror-alias.test
    (same address) the mirror must be refused."""
    t = tls_url(env, "mirror-alias.test")
    with mod_proxy(env, ("go", {"modules": "*", "upstream": "mirror " + t}),
                   ca_file=env.origin.ca) as p:
        r = fetch(env, p.url + "/%s/@v/list" % CMP)
        expect_status(r, 502, "list from a mirror with a wrong host name")
        expect("hostname mismatch" in body_text(r) and "mirror-alias.test" in body_text(r),
               "502 body does not say hostname mismatch: %r" % r.body)


@test("modproxy_https_mirror_untrusted_ca")
def _(env):
    """No ca_file: the system store does not know the test CA.  Alone the
    mirror gives 502; with `|` to a plain mirror go succeeds."""
    t, b = tls_url(env), murl(env, "b")
    with mod_proxy(env, ("tls-only", {"modules": CMP, "upstream": "mirror " + t}),
                   ("go", {"modules": "*", "upstream": "mirror %s | mirror %s" % (t, b)}),
                   proc_env={"SSL_CERT_FILE": None, "SSL_CERT_DIR": None}) as p:
        r = fetch(env, p.url + "/%s/@v/list" % CMP)
        expect_status(r, 502, "list from a mirror with an untrusted certificate")
        expect("certificate verify failed" in body_text(r),
               "502 body does not say certificate verify failed: %r" % r.body)
        src, genv = workspace(env, p.url, paths=(ERRORS, TOML))
        go_ok(src, genv, "mod", "download")
        expect_in_cache(env, genv, (ERRORS, TOML))
        # The TLS failures count: after fail_threshold (3) the mirror
        # may be "skipped (failing)" instead of tried again.
        lines = [f for f in module_lines(p) if f.get("route") == "go"]
        expect(any(f.get("mirrors", "").startswith(t + " failed (TLS")
                   and "certificate verify failed" in f.get("mirrors", "") for f in lines),
               "no request of route go shows the TLS failure: %s" % [f["line"] for f in lines])
        for f in lines:
            m = f.get("mirrors", "")
            expect(f["status"] == 200 and m.endswith(", %s 200" % b)
                   and (m.startswith(t + " failed (") or m.startswith(t + " skipped")),
                   "a request of route go: %s" % f["line"])


# ---------------------------------------------------------------- direct and deny routes

PRIVATE = "example.com/private/thing"


@test("modproxy_direct_route_not_proxied")
def _(env):
    routes = [("private", {"modules": "example.com/private, *.corp.test",
                           "upstream": "direct"}),
              ("offlimits", {"modules": "bad.test", "upstream": "deny"}),
              ("off-too", {"modules": "off.test", "upstream": "off"}),
              ("go", {"modules": "*", "upstream": "mirror " + murl(env, "b")})]
    with mod_proxy(env, *routes) as p:
        for path in (PRIVATE, "git.corp.test/lib"):
            r = fetch(env, p.url + "/%s/@v/list" % path)
            expect_status(r, 404, "list of " + path)
            expect("not proxied (route 'private' says direct)" in body_text(r)
                   and path in body_text(r), "404 body for %s: %r" % (path, r.body))
        # Leading path elements, not a string prefix.
        r = fetch(env, p.url + "/example.com/privateer/x/@v/list")
        expect(r.status == 404 and b"nginx" in r.body,
               "example.com/privateer is no example.com/private module: %s %r"
               % (r.status, r.body[:200]))
        r = fetch(env, p.url + "/bad.test/x/@v/list")
        expect_status(r, 403, "list of a module of a deny route")
        expect("route 'offlimits' says deny" in body_text(r), "403 body: %r" % r.body)

        r = fetch(env, p.url + "/off.test/x/@v/list")
        expect_status(r, 403, "list of a module of an off route")
        expect("route 'off-too' says off" in body_text(r), "403 body: %r" % r.body)

        require = [(PRIVATE, "v1.0.0")]
        src, genv = workspace(env, p.url, require=require)
        g = go(src, genv, "mod", "download")
        expect(g.rc != 0, "go mod download of a direct module succeeded through proxyd only")
        expect("not proxied" in g.stderr,
               "go's error does not show proxyd's reason: %s" % g.stderr[-800:])

        # ,direct: go falls through and fetches it itself (offline: its
        # go-get request dies on a refused HTTPS_PROXY, which shows it).
        src, genv = workspace(env, p.url + ",direct", require=require)
        dead = "http://127.0.0.1:%d" % free_port()
        genv.update(HTTPS_PROXY=dead, HTTP_PROXY=dead)
        g = go(src, genv, "mod", "download")
        expect(g.rc != 0, "direct fetch of a made-up module succeeded?")
        expect("not proxied" not in g.stderr and "go-get=1" in g.stderr
               and PRIVATE in g.stderr,
               "go did not fall through to direct: %s" % g.stderr[-800:])
        f = module_lines(p, module=PRIVATE)
        expect(f and all(x["status"] == 404 and x.get("route") == "private" for x in f),
               "proxyd's lines for the direct module: %s" % [x["line"] for x in f])


# ---------------------------------------------------------------- build

@test("modproxy_go_build_runs")
def _(env):
    a, b = murl(env, "a", "/base"), murl(env, "b")
    with mod_proxy(env, ("go", {"modules": "*",
                                "upstream": "mirror %s, mirror %s" % (a, b)})) as p:
        src, genv = workspace(env, p.url, main=MAIN_GO)
        go_ok(src, genv, "build", "-o", "app", ".")
        r = run([os.path.join(src, "app")], timeout=20)
        expect_eq(r.stdout.decode().strip(), "proxyd true ok", "program output")
        zip_line(p, ERRORS)


# ---------------------------------------------------------------- sumdb

@test("modproxy_sumdb_passthrough")
def _(env):
    """sumdb requests are routed by the database name (sum.test to b;
    other names to a, which has none) and pass through byte for byte."""
    a, b = murl(env, "a", "/base"), murl(env, "b")
    with mod_proxy(env, ("sums", {"modules": "sum.test", "upstream": "mirror " + b}),
                   ("go", {"modules": "*", "upstream": "mirror " + a})) as p:
        for rel, data in SUMDB.items():
            r = fetch(env, p.url + "/sumdb/sum.test/" + rel)
            expect_status(r, 200, "sumdb " + rel)
            expect(r.body == data, "sumdb %s: body differs (%d bytes, want %d)"
                   % (rel, len(r.body), len(data)))
            expect_eq(r.header("Content-Length"), str(len(data)), "Content-Length of " + rel)
        f = access_line(p, "/sumdb/sum.test/lookup/")
        fields = log_fields(f)
        expect(fields.get("sumdb") == "sum.test" and fields.get("kind") == "sumdb-lookup"
               and fields.get("route") == "sums", "log of the lookup: %s" % f)
        r = fetch(env, p.url + "/sumdb/other.test/supported")
        expect_status(r, 404, "supported of a database only mirror a is asked for")
        expect(any(l.get("sumdb") == "other.test" and l.get("route") == "go"
                   for l in module_lines(p)), "other.test not routed by its name")
        for bad in ("tile/8/0/0", "tile/0/0/000", "tile/8/0/x001", "nonsense"):
            r = fetch(env, p.url + "/sumdb/sum.test/" + bad)
            expect(r.status in (400, 404), "sumdb %s: status %s, want 400/404 (%r)"
                   % (bad, r.status, r.body[:200]))


# ---------------------------------------------------------------- protocol

@test("modproxy_protocol_checks")
def _(env):
    b = murl(env, "b")
    v = version_of(CMP)
    with mod_proxy(env, ("go", {"modules": "*", "upstream": "mirror " + b})) as p:
        def get(path, *args):
            return fetch(env, p.url + path, *args)

        r = get("/github.com/Foo/bar/@v/list")
        expect_status(r, 400, "upper case in a module path")
        expect("escape" in body_text(r) and body_text(r).count("\n") == 1,
               "400 body should be one line about escaping: %r" % r.body)
        for path, status in (("/favicon.ico", 404), ("/", 404),
                             ("/%s/@v/%s.tar" % (CMP, v), 404),
                             ("/%s/@v/v1.2.zip" % CMP, 400),
                             ("/%s/@v/v0.5.09.zip" % CMP, 400),
                             ("/%s/@v/v0.5.mod" % CMP, 400),
                             ("/%s/@v/v0.5.9+meta.zip" % CMP, 400),
                             ("/%s/@v/%s.zip" % (CMP, v), 200)):
            r = get(path)
            expect_status(r, status, path)
            if status != 200:
                expect(body_text(r).count("\n") == 1, "%s: body not one line: %r"
                       % (path, r.body))
        # .info also takes queries (go asks for @v/master.info): the
        # mirror's answer, its 404 here, passes through.
        r = get("/%s/@v/master.info" % CMP)
        expect(r.status == 404 and b"nginx" in r.body,
               "master.info: want the mirror's own 404, got %s %r" % (r.status, r.body[:200]))
        r = get("/%s/@v/list" % CMP, "-X", "POST", "--data", "x")
        expect_status(r, 405, "POST")
        # Responses pass through untouched: status, type, length, body.
        for suffix in ("list", v + ".info", v + ".mod", v + ".zip"):
            path = "/%s/@v/%s" % (CMP, suffix)
            want, got = fetch(env, b + path), get(path)
            expect_status(got, 200, path)
            for h in ("Content-Type", "Content-Length"):
                expect_eq(got.header(h), want.header(h), "%s of %s" % (h, path))
            expect(got.body == want.body, "%s: body differs from the mirror's" % path)
        # HEAD: the zip's length, no body (the next response on the same
        # connection starts right after the head).
        want = fetch(env, b + "/%s/@v/%s.zip" % (CMP, v))
        with Conn(p.port) as c:
            c.send(b"HEAD /%s/@v/%s.zip HTTP/1.1\r\nHost: x\r\n\r\n"
                   b"GET /%s/@v/list HTTP/1.1\r\nHost: x\r\n\r\n"
                   % (CMP.encode(), v.encode(), CMP.encode()))
            r = c.read_response(head_request=True)
            expect_eq(r.status, 200, "status of HEAD of the zip")
            expect_eq(r.header("Content-Length"), str(len(want.body)), "Content-Length of HEAD")
            r = c.read_response()
            expect(r.status == 200 and r.body.decode().split() == [v],
                   "GET after HEAD on one connection: %r" % r)
        r = get("/github.com/%21burnt%21sushi/toml/@v/list")
        expect_status(r, 200, "%21-escaped module path")
        expect_eq(r.body.decode().split(), [version_of(TOML)], "versions of toml")
        r = get("/github.com/!burnt!sushi/toml/@latest")
        expect_status(r, 200, "@latest with a literal '!'")


# ---------------------------------------------------------------- absolute form

@test("modproxy_absolute_form_goproxy_host")
def _(env):
    """GOPROXY=http://goproxy.test:N through HTTP_PROXY=proxyd, with a
    route `hosts = goproxy.test` listing mirrors: served from the mirrors
    (nothing listens on N)."""
    a, b = murl(env, "a", "/base"), murl(env, "b")
    n = free_port()
    with mod_proxy(env, ("gp", {"hosts": "goproxy.test",
                                "upstream": "mirror %s, mirror %s" % (a, b)})) as p:
        r = fetch(env, "http://goproxy.test:%d/%s/@v/list" % (n, CMP), proxy=p)
        expect_status(r, 200, "absolute-form list")
        expect_eq(r.body.decode().split(), [version_of(CMP)], "versions")
        src, genv = workspace(env, "http://goproxy.test:%d" % n)
        genv.update(HTTP_PROXY=p.url, HTTPS_PROXY=p.url)
        go_ok(src, genv, "mod", "download")
        expect_in_cache(env, genv)
        r = fetch(env, "http://goproxy.test:%d/favicon.ico" % n, proxy=p)
        expect_status(r, 404, "absolute-form path that is no GOPROXY endpoint")
        r = fetch(env, "http://goproxy.test:%d/github.com/Foo/bar/@v/list" % n, proxy=p)
        expect_status(r, 400, "absolute-form module path with upper case")
        f = zip_line(p, TOML)
        expect(f.get("route") == "gp" and f.get("mirrors") == "%s 404, %s 200" % (a, b),
               "log of the toml zip: %s" % f["line"])


# ---------------------------------------------------------------- via parents

@test("modproxy_mirrors_via_parent")
def _(env):
    """via = http PARENT: plain and https mirrors reached through CONNECT
    tunnels of a second proxyd."""
    b, t = murl(env, "b"), tls_url(env)
    with env.own_proxy() as parent:
        via = "http 127.0.0.1:%d" % parent.port
        with mod_proxy(env, ("tls", {"modules": ERRORS, "upstream": "mirror " + t, "via": via}),
                       ("go", {"modules": "*", "upstream": "mirror " + b, "via": via}),
                       ca_file=env.origin.ca) as p:
            src, genv = workspace(env, p.url)
            go_ok(src, genv, "mod", "download")
            expect_in_cache(env, genv)
            expect_mirrors(zip_line(p, ERRORS), "%s 200" % t, "errors zip")
            expect_mirrors(zip_line(p, CMP), "%s 200" % b, "go-cmp zip")
        # The tunnels are pooled mirror connections: the parent logs them
        # once they close, when the child proxyd has stopped.
        access_line(parent, "CONNECT 127.0.0.1:%d " % mirrors(env).port("b"))
        access_line(parent, "CONNECT mirror.test:%d " % mirrors(env).port("tls"))


# ---------------------------------------------------------------- keep-alive

@test("modproxy_mirror_keepalive")
def _(env):
    ms = mirrors(env)
    before = ms.requests("ka")
    with mod_proxy(env, ("go", {"modules": "*", "upstream": "mirror " + murl(env, "ka")})) as p:
        src, genv = workspace(env, p.url)
        go_ok(src, genv, "mod", "download")
        expect_in_cache(env, genv)
        reqs = wait_until(lambda: ms.requests("ka")[len(before):], 2)
        conns = {c for c, _, _ in reqs}
        print("# modproxy_mirror_keepalive: go: %d requests over %d connections"
              % (len(reqs), len(conns)))
        expect(len(reqs) >= 6 and len(conns) < len(reqs),
               "%d requests over %d connections to the mirror: no reuse" % (len(reqs), len(conns)))
        # One client connection, six sequential requests: no new
        # connection to the mirror beyond one.
        seen = {c for c, _, _ in ms.requests("ka")}
        v = version_of(CMP)
        urls = [p.url + "/%s/@v/%s" % (CMP, s) for s in ("list", v + ".info", v + ".mod")] * 2
        argv = ["curl", "-sS", "--fail", "--max-time", "10", "--noproxy", "*"]
        for u in urls:
            argv += ["-o", "/dev/null", u]
        r = run(argv, timeout=20, env=env.client_env())
        expect(r.returncode == 0, "curl: %s" % r.stderr.decode(errors="replace"))
        after = ms.requests("ka")[len(before) + len(reqs):]
        new = {c for c, _, _ in after} - seen
        expect(len(after) == 6 and len(new) <= 1,
               "6 sequential requests: %d reached the mirror over %d new connections"
               % (len(after), len(new)))


@test("modproxy_stale_pooled_mirror_connection")
def _(env):
    """The mirror closes idle connections after 300ms: the next request
    must not fail on the pooled, now closed, connection."""
    ms = mirrors(env)
    before = len(ms.requests("short"))
    with mod_proxy(env, ("go", {"modules": "*", "upstream": "mirror " + murl(env, "short")})) as p:
        url = p.url + "/%s/@v/list" % CMP
        expect_status(fetch(env, url), 200, "first request")
        wait_until(lambda: False, 0.7)
        r = fetch(env, url)
        expect_status(r, 200, "request after the mirror closed the idle connection")
        reqs = ms.requests("short")[before:]
        expect(len(reqs) == 2 and len({c for c, _, _ in reqs}) == 2,
               "requests at the mirror: %s" % reqs)


# ---------------------------------------------------------------- performance

@test("modproxy_perf_vs_direct")
def _(env):
    """go mod download of the three modules straight from the nginx
    mirror and through proxyd (median of 5 each, fresh caches)."""
    b = murl(env, "b")
    with mod_proxy(env, ("go", {"modules": "*", "upstream": "mirror " + b})) as p:
        direct, proxied = [], []
        for _ in range(5):
            for goproxy, times in ((b, direct), (p.url, proxied)):
                src, genv = workspace(env, goproxy)
                times.append(go_ok(src, genv, "mod", "download").elapsed)
                expect_in_cache(env, genv)
        md, mp = statistics.median(direct), statistics.median(proxied)
        print("# modproxy_perf: go mod download median %.3fs direct, %.3fs via proxyd, "
              "ratio %.2f (direct %s, proxyd %s)"
              % (md, mp, mp / md, " ".join("%.3f" % t for t in direct),
                 " ".join("%.3f" % t for t in proxied)))
        # The bound is about proxyd's cost; an AddressSanitizer build
        # (ci.sh's second run sets ASAN_OPTIONS) is allowed its own.
        bound = 2.5 if os.environ.get("ASAN_OPTIONS") else 1.5
        expect(mp / md <= bound, "through proxyd %.3fs vs %.3fs straight: ratio %.2f > %.1f"
               % (mp, md, mp / md, bound))
