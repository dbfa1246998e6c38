"""defaultconf_tests.py - the Go use case out of the box: rules/default.conf
(and the built-in defaults, which must say the same) route GOPROXY
requests to the mirror, sumdb requests (sum.golang.org,
sum.golang.google.cn) to a mirror that proxies /sumdb/, modules matching
GONOPROXY (else GOPRIVATE) direct, plain HTTP and CONNECT direct.

Nothing here leaves 127.0.0.1: the proxies run a copy of
rules/default.conf with the local test mirror (modproxy_tests' mirror b,
plus a sumdb/sum.golang.org/supported file) in place of
https://proxy.golang.org; `-t` and `--explain` read the file itself,
with GONOPROXY and GOPRIVATE set and unset."""

import os
import re

from harness import LOOPBACK, expect, expect_eq, run, test
from modproxy_tests import (CMP, ERRORS, TOML, expect_status, fetch, go, go_ok, mirrors,
                            murl, version_of, workspace)
from parents import access_line, log_fields
from proxies import Proxyd
from route_tests import proxyd_only

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CONF = os.path.join(os.path.dirname(os.path.dirname(HERE)), "rules", "default.conf")
MIRROR = "https://proxy.golang.org"
NO_GO_ENV = {"GONOPROXY": None, "GOPRIVATE": None}


def go_env(**values):
    """proxyd's environment: GONOPROXY/GOPRIVATE as given, others unset."""
    env = dict(os.environ)
    for k in ("GONOPROXY", "GOPRIVATE"):
        env.pop(k, None)
    env.update(values)
    return env


def cli(env, *args, proc_env=None):
    r = run([env.proxyd_binary] + list(args), timeout=10, env=proc_env or go_env())
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


def explain(env, path, conf=DEFAULT_CONF, **go_vars):
    """--explain path, of conf (None: the built-in defaults): its fields."""
    args = ["--explain", path] + (["-c", conf] if conf else [])
    rc, out, err = cli(env, *args, proc_env=go_env(**go_vars))
    expect(rc == 0, "--explain %s (%s, %s) exited %d: %s%s"
           % (path, conf or "built-in", go_vars, rc, out, err))
    fields = {}
    for line in out.splitlines():
        k, _, v = line.partition(":")
        fields.setdefault(k.strip(), v.strip())
    fields["_out"] = out
    return fields


class DefaultConfProxyd(Proxyd):
    """proxyd on rules/default.conf, with only what must change for the
    test world: the listen port, logs, resolver files and the mirror."""

    def __init__(self, wd, binary, mirror, proc_env=None):
        self.mirror = mirror
        super().__init__(wd, binary, proc_env=proc_env)

    def config_text(self):
        with open(DEFAULT_CONF) as f:
            text = f.read()
        for key, value in (("listen", "%s:%d" % (LOOPBACK, self.port)),
                           ("access_log", self.access_log), ("error_log", self.error_log),
                           ("resolv_conf", self.resolv), ("hosts_file", self.hosts)):
            text, n = re.subn(r"(?m)^%s = .*$" % key, "%s = %s" % (key, value), text)
            expect(n == 1, "rules/default.conf: %d lines set %s, want 1" % (n, key))
        expect(MIRROR in text, "rules/default.conf names no " + MIRROR)
        return text.replace(MIRROR, self.mirror)


def default_proxy(env, **proc_env):
    """A started DefaultConfProxyd on mirror b (stop it when done)."""
    proxyd_only(env)
    mirrors(env)
    env.origin
    # Mirror b proxies the checksum database sum.golang.org too (the go
    # command asks /sumdb/sum.golang.org/supported before anything else).
    sums = env.wd.sub("mirror-trees", "b", "sumdb", "sum.golang.org", mkdir=True)
    env.wd.write(os.path.join(sums, "supported"), "")
    p = DefaultConfProxyd(env.wd, env.proxyd_binary, murl(env, "b"),
                          proc_env=dict(NO_GO_ENV, **proc_env))
    return p.start()


# ---------------------------------------------------------------- -t, --explain

@test("defaultconf_check")
def _(env):
    """-t accepts rules/default.conf and the built-in defaults, whatever
    GONOPROXY and GOPRIVATE say (GOPRIVATE=* shadows the go route, which
    is the environment's business, not an error); a bad glob in them is
    reported, with a line for the file."""
    proxyd_only(env)
    for go_vars in ({}, {"GOPRIVATE": "*"}, {"GONOPROXY": "corp.test", "GOPRIVATE": "x.test"},
                    {"GONOPROXY": "", "GOPRIVATE": "*.corp.test,git.example.test/team"}):
        for args in (["-t", "-c", DEFAULT_CONF], ["-t"]):
            rc, out, err = cli(env, *args, proc_env=go_env(**go_vars))
            expect(rc == 0 and "configuration OK" in out and err == "",
                   "proxyd %s with %s: exit %d, %r %r" % (" ".join(args), go_vars, rc, out, err))
    rc, out, err = cli(env, "-t", "-c", DEFAULT_CONF, proc_env=go_env(GOPRIVATE="a["))
    expect(rc == 1 and re.search(r'default\.conf:\d+: modules: bad glob "a\["', err),
           "GOPRIVATE=a[: exit %d, %r" % (rc, err))
    rc, out, err = cli(env, "-t", proc_env=go_env(GONOPROXY="a["))
    expect(rc == 1 and 'bad glob "a["' in err, "built-in, GONOPROXY=a[: exit %d, %r" % (rc, err))


@test("defaultconf_explain_module_paths")
def _(env):
    """--explain /PATH, of the file and of the built-in defaults: the
    module route, the mirrors, the cache state; GONOPROXY, else GOPRIVATE,
    takes the private route."""
    proxyd_only(env)
    cases = [
        # path, GONOPROXY/GOPRIVATE, route, mirrors
        ("/golang.org/x/text/@v/list", {}, "go", MIRROR),
        ("/github.com/!burnt!sushi/toml/@v/v1.2.1.zip", {}, "go", MIRROR),
        ("/sumdb/sum.golang.org/supported", {}, "sumdb", MIRROR),
        ("/sumdb/sum.golang.google.cn/lookup/golang.org/x/text@v0.3.0", {}, "sumdb", MIRROR),
        ("/golang.org/x/text/@latest", {"GOPRIVATE": "golang.org"}, "private", "direct"),
        ("/golang.org/x/text/@latest", {"GONOPROXY": "", "GOPRIVATE": "golang.org/x"},
         "private", "direct"),
        ("/golang.org/x/text/@latest", {"GONOPROXY": "corp.test", "GOPRIVATE": "golang.org"},
         "go", MIRROR),
        ("/corp.test/lib/@v/list", {"GONOPROXY": "corp.test", "GOPRIVATE": "golang.org"},
         "private", "direct"),
        ("/sumdb/sum.golang.org/latest", {"GOPRIVATE": "*"}, "sumdb", MIRROR),
    ]
    for conf in (DEFAULT_CONF, None):
        for path, go_vars, route, mirrors_line in cases:
            f = explain(env, path, conf, **go_vars)
            what = "%s (%s, %s)" % (path, conf or "built-in", go_vars)
            expect(f.get("route", "").split(" ")[0] == route,
                   "%s: route %r, want %s\n%s" % (what, f.get("route"), route, f["_out"]))
            expect_eq(f.get("mirrors"), mirrors_line, what + ": mirrors")
            expect_eq(f.get("cache"), "not configured (no cache_dir)", what + ": cache")
            expect("offline" in f, what + ": no offline line\n" + f["_out"])
            expect(f.get("request", "").startswith("GET " + path), what + ": request line")
        f = explain(env, "/golang.org/x/text/@latest", conf, GOPRIVATE="golang.org")
        expect("404" in f.get("direct", ""), "a direct module route does not say it answers "
               "404: %s" % f["_out"])
    f = explain(env, "/golang.org/x/text/@v/list", None)
    expect_eq(f.get("route"), "go (built-in, as in rules/default.conf)", "built-in route line")
    # Routes are one setting: a file without any has the built-in ones.
    conf = env.wd.write("no-routes.conf", "[proxyd]\nlisten = 127.0.0.1:3128\n")
    f = explain(env, "/golang.org/x/text/@v/list", conf)
    expect_eq(f.get("route"), "go (built-in, as in rules/default.conf)",
              "route of a module in a file without routes")
    conf = env.wd.write("own-routes.conf", "[proxyd]\nlisten = 127.0.0.1:3128\n"
                        "[route web]\nhosts = example.test\n")
    f = explain(env, "/golang.org/x/text/@v/list", conf)
    expect_eq(f.get("route"), "direct (built-in fallback)",
              "route of a module in a file with routes of its own")
    f = explain(env, "/golang.org/x/text/@v/list")
    expect(re.match(r"go \(%s:\d+\)$" % re.escape(DEFAULT_CONF), f.get("route", "")),
           "route line of the file: %r" % f.get("route"))
    # The commented mirror list of rules/default.conf, switched on.
    with open(DEFAULT_CONF) as src:
        text = src.read()
    alt = re.search(r"(?m)^#(upstream = mirror \S+ \| mirror \S+)$", text)
    expect(alt, "rules/default.conf has no commented alternative mirror list")
    text = re.sub(r"(?m)^upstream = mirror https://proxy\.golang\.org$", "", text)
    text = text.replace(alt.group(0), alt.group(1))
    conf = env.wd.write("default-mirror-list.conf", text)
    rc, out, err = cli(env, "-t", "-c", conf)
    expect(rc == 0, "the alternative mirror list does not load: %s" % err)
    f = explain(env, "/golang.org/x/text/@v/list", conf)
    expect_eq(f.get("mirrors"), "https://goproxy.cn | https://proxy.golang.org",
              "mirrors of the alternative list")
    expect("fallback" in f, "no fallback line for a list of mirrors:\n" + f["_out"])
    rc, out, err = cli(env, "--explain", "/github.com/Foo/bar/@v/list")
    expect(rc == 1 and "400" in out + err and "!f" in out + err,
           "a path the daemon refuses: exit %d, %r" % (rc, out + err))
    rc, out, err = cli(env, "--explain", "/favicon.ico")
    expect(rc == 1 and "404" in out + err, "no endpoint: exit %d, %r" % (rc, out + err))


# ---------------------------------------------------------------- the daemon

@test("defaultconf_go_mod_download")
def _(env):
    """GOPROXY=http://proxyd with nothing else: go mod download and build
    work from the mirror of the default config; the checksum database's
    supported goes to the sumdb route; plain HTTP goes direct."""
    p = default_proxy(env)
    try:
        src, genv = workspace(env, p.url)
        go_ok(src, genv, "mod", "download", what="default config")
        go_ok(src, genv, "build", "-o", "app", ".", what="default config")
        f = log_fields(access_line(p, "/@v/%s.zip" % version_of(CMP)))
        expect(f.get("route") == "go" and f.get("module") == CMP,
               "the zip of %s: %s" % (CMP, f))
        for name in ("sum.golang.org", "sum.golang.google.cn"):
            r = fetch(env, p.url + "/sumdb/%s/supported" % name)
            if name == "sum.golang.org":
                expect_status(r, 200, "sumdb supported")
            f = log_fields(access_line(p, "/sumdb/%s/supported" % name))
            expect(f.get("route") == "sumdb" and f.get("sumdb") == name,
                   "sumdb %s not on the sumdb route: %s" % (name, f))
        r = fetch(env, env.http_url("/1k"), proxy=p)
        expect_status(r, 200, "plain HTTP through the default config")
        f = log_fields(access_line(p, "GET " + env.http_url("/1k")))
        expect_eq(f.get("route"), "direct", "route of plain HTTP")
    finally:
        p.stop()


@test("defaultconf_goprivate_goes_direct")
def _(env):
    """proxyd started with GOPRIVATE (or GONOPROXY, which wins) answers
    those modules 404 "fetch it directly": a go command without the
    setting is told so, one with it never asks."""
    p = default_proxy(env, GOPRIVATE="github.com/google")
    try:
        src, genv = workspace(env, p.url, paths=(CMP,))
        r = go(src, genv, "mod", "download")
        expect(r.rc != 0 and "route 'private' says direct" in r.stderr,
               "go without GOPRIVATE, proxyd with it: exit %d, %s" % (r.rc, r.stderr[-800:]))
        src, genv = workspace(env, p.url, paths=(ERRORS, TOML))
        go_ok(src, genv, "mod", "download", what="modules GOPRIVATE does not name")
    finally:
        p.stop()
    p = default_proxy(env, GONOPROXY="github.com/pkg", GOPRIVATE="github.com/google")
    try:
        src, genv = workspace(env, p.url, paths=(CMP,))
        go_ok(src, genv, "mod", "download", what="GONOPROXY set: GOPRIVATE is not used")
        r = fetch(env, p.url + "/github.com/pkg/errors/@v/list")
        expect_status(r, 404, "a GONOPROXY module")
        expect(b"route 'private' says direct" in r.body, "404 body: %r" % r.body)
    finally:
        p.stop()


@test("defaultconf_go_checksums_through_proxyd")
def _(env):
    """With GOSUMDB at its default, the go command asks proxyd, not
    sum.golang.org, for the checksum database: supported goes to the
    sumdb route's mirror (200), and the lookup after it too.  The test
    mirror holds no real database, so the lookup's 404 fails the
    download, naming proxyd's URL rather than a dial to sum.golang.org."""
    p = default_proxy(env)
    try:
        src, genv = workspace(env, p.url, paths=(CMP,))
        genv.update(GOSUMDB="sum.golang.org", GONOSUMDB="", GOPRIVATE="", GONOPROXY="")
        r = go(src, genv, "mod", "download", CMP)
        expect(r.rc != 0 and "%s/sumdb/sum.golang.org/lookup/" % p.url in r.stderr
               and "dial tcp" not in r.stderr,
               "go with GOSUMDB=sum.golang.org: exit %d, %s" % (r.rc, r.stderr[-800:]))
        for kind in ("sumdb-supported", "sumdb-lookup"):
            f = log_fields(access_line(p, "/sumdb/sum.golang.org/", "kind=" + kind))
            expect_eq(f.get("route"), "sumdb", "route of the go command's " + kind)
    finally:
        p.stop()
