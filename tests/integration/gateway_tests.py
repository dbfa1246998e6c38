"""gateway_tests.py - the rest of issue 12's gateway security: users = in
audit mode (served, logged with would_deny= naming the route, counted),
and npm installing a package through proxyd with and without proxy
credentials, from a tiny local registry (a packument and a tarball made
by `npm pack`, served by python3 -m http.server)."""

import base64
import hashlib
import json
import os
import shutil

from admin_tests import scrape, value
from auth_tests import auth_proxy, basic, proxyd_only, raw_request, standard_users
from harness import (LOOPBACK, Proc, TestFailure, TestSkip, expect, expect_eq, free_port,
                     run, test, wait_port, wait_until)
from parents import access_line, log_fields


@test("gateway_users_audit_served_and_logged")
def _(env):
    """users = @ci with action = report: bob (not in ci) is served, and
    the access log says would_deny="user bob not allowed by route
    'ci-only'"; proxyd_would_deny_total counts it as users; alice
    (in ci) has no would_deny."""
    proxyd_only(env)
    admin = free_port()
    routes = [("ci-only", {"hosts": "echo.test", "upstream": "direct", "users": "@ci",
                           "action": "report"})]
    with auth_proxy(env, standard_users(env), routes=routes,
                    admin_listen="%s:%d" % (LOOPBACK, admin)) as p:
        r = raw_request(p, env.echo_url("/echo?u=bob"), basic("bob", "bob-pw"))
        expect_eq(r.status, 200, "bob served in audit mode")
        f = log_fields(access_line(p, "/echo?u=bob "))
        expect_eq(f.get("would_deny"), "user bob not allowed by route 'ci-only'", "would_deny=")
        r = raw_request(p, env.echo_url("/echo?u=alice"), basic("alice", "alice-pw"))
        expect_eq(r.status, 200, "alice")
        f = log_fields(access_line(p, "/echo?u=alice "))
        expect_eq(f.get("would_deny"), None, "would_deny= of alice")
        samples, _ = scrape(admin)
        expect_eq(value(samples, "proxyd_would_deny_total", route="ci-only", reason="users"),
                  1.0, "proxyd_would_deny_total{reason=users}")


class NpmRegistry:
    """A registry of one package, tiny-proxyd-pkg 1.0.0, on the test name
    echo.test (which proxyd resolves to 127.0.0.1): its packument and the
    tarball `npm pack` made."""

    NAME = "tiny-proxyd-pkg"

    def __init__(self, env):
        self.port = free_port()
        root = env.wd.sub("npm-registry", mkdir=True)
        src = env.wd.sub("npm-src", mkdir=True)
        with open(os.path.join(src, "package.json"), "w") as f:
            json.dump({"name": self.NAME, "version": "1.0.0", "main": "index.js",
                       "license": "MIT"}, f)
        with open(os.path.join(src, "index.js"), "w") as f:
            f.write("module.exports = 'proxyd npm ok';\n")
        r = run(["npm", "pack", "--silent", "--pack-destination", src], timeout=60, cwd=src,
                env=npm_env(env))
        if r.returncode != 0:
            raise TestFailure("npm pack: %s" % r.stderr.decode(errors="replace")[-500:])
        tgz = os.path.join(src, "%s-1.0.0.tgz" % self.NAME)
        os.makedirs(os.path.join(root, self.NAME, "-"), exist_ok=True)
        shutil.copy(tgz, os.path.join(root, self.NAME, "-"))
        with open(tgz, "rb") as f:
            data = f.read()
        base = "http://echo.test:%d" % self.port
        doc = {"name": self.NAME, "dist-tags": {"latest": "1.0.0"}, "versions": {"1.0.0": {
            "name": self.NAME, "version": "1.0.0", "main": "index.js",
            "dist": {"tarball": "%s/%s/-/%s-1.0.0.tgz" % (base, self.NAME, self.NAME),
                     "shasum": hashlib.sha1(data).hexdigest(),
                     "integrity": "sha512-" + base64.b64encode(
                         hashlib.sha512(data).digest()).decode()}}}}
        # http.server serves a directory's index.html for /NAME/.
        with open(os.path.join(root, self.NAME, "index.html"), "w") as f:
            json.dump(doc, f)
        with open(os.path.join(root, self.NAME + ".json"), "w") as f:
            json.dump(doc, f)
        self.url = base + "/"
        self.proc = Proc("npm-registry", ["python3", "-m", "http.server", str(self.port),
                                          "--bind", LOOPBACK, "--directory", root],
                         env.wd.sub("npm-registry.log"))
        wait_port(self.port, self.proc)

    def stop(self):
        self.proc.stop()


def npm_env(env):
    e = env.client_env()
    for k in list(e):
        if k.lower() in ("http_proxy", "https_proxy", "npm_config_proxy",
                         "npm_config_https_proxy", "no_proxy"):
            del e[k]
    e["npm_config_update_notifier"] = "false"
    return e


def npm_install(env, reg, proxy_url, tag):
    prefix = env.wd.sub("npm-install-" + tag, mkdir=True)
    argv = ["timeout", "60", "npm", "install", "--no-audit", "--no-fund",
            "--registry", reg.url, "--proxy", proxy_url, "--https-proxy", proxy_url,
            "--noproxy", "", "--cache", os.path.join(prefix, ".cache"),
            "--fetch-retries", "0", "--prefix", prefix, reg.NAME]
    r = run(argv, timeout=90, env=npm_env(env), cwd=prefix)
    installed = os.path.join(prefix, "node_modules", reg.NAME, "index.js")
    return r, os.path.exists(installed)


@test("gateway_npm_install_with_and_without_credentials")
def _(env):
    """npm --proxy http://user:pass@proxyd installs from a local registry
    (the packument and the tarball through proxyd, user= in its log);
    without credentials it gets 407 and installs nothing."""
    proxyd_only(env)
    if shutil.which("npm") is None:
        raise TestSkip("npm is not installed")
    with auth_proxy(env, standard_users(env)) as p:
        reg = NpmRegistry(env)
        try:
            r, ok = npm_install(env, reg, "http://carol:carol-pw@%s:%d" % (LOOPBACK, p.port),
                                "auth")
            expect(r.returncode == 0 and ok, "npm install with credentials (%d): %s"
                   % (r.returncode, r.stderr.decode(errors="replace")[-600:]))
            want = "/%s/-/%s-1.0.0.tgz" % (reg.NAME, reg.NAME)
            expect(wait_until(lambda: any(want in l and "user=carol" in l
                                          for l in p.access_lines()), 3),
                   "no tarball line with user=carol: %s" % p.access_lines()[-3:])
            r, ok = npm_install(env, reg, "http://%s:%d" % (LOOPBACK, p.port), "anon")
            expect(r.returncode != 0 and not ok, "npm install without credentials worked")
            expect(wait_until(lambda: any(" 407 " in l or "status=407" in l
                                          for l in p.access_lines()), 3),
                   "no 407 in the access log: %s" % p.access_lines()[-3:])
        finally:
            reg.stop()
