"""envcmd_tests.py - `proxyd --env`: its output eval'd in bash, then curl,
git and `go mod download` run with only that environment (and what go
needs for its caches) against the test's servers: what the rules send
through the proxy shows in its access log, what they send direct does
not; the other formats say the same."""

import os
import shlex

from harness import LOOPBACK, expect, expect_eq, run, test, which_or_skip
from parents import access_line
from route_tests import proxyd_only


def env_output(env, p, *args):
    r = run([env.proxyd_binary, "--env", "-c", p.conf] + list(args), timeout=10)
    expect_eq(r.returncode, 0, "proxyd --env %s: %s" % (" ".join(args), r.stderr))
    return r.stdout.decode(), r.stderr.decode()


def sh_vars(text):
    """NAME -> value of `export NAME='...'` lines, read by bash itself."""
    r = run(["bash", "-c", text + "\nenv -0"], timeout=10, env={"PATH": os.environ["PATH"]})
    pairs = [kv.split("=", 1) for kv in r.stdout.decode().split("\0") if "=" in kv]
    return {k: v for k, v in pairs if k not in ("PATH", "PWD", "SHLVL", "_", "OLDPWD")}


def run_with(env, envtext, script, extra, timeout=90):
    """bash -c 'eval "$(proxyd --env)"; script' with a bare environment."""
    benv = {"PATH": os.environ["PATH"], "HOME": env.home, "LC_ALL": "C"}
    benv.update(extra)
    r = run(["bash", "-c", 'eval "$ENVTEXT"\n' + script], timeout=timeout,
            env=dict(benv, ENVTEXT=envtext))
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


@test("env_eval_then_curl_git_go")
def _(env):
    from modproxy_tests import CMP, ERRORS, TOML, mirrors, mod_proxy, murl, workspace
    from git_tests import repo_url
    proxyd_only(env)
    which_or_skip("go")
    mirrors(env)
    routes = [("local", {"hosts": LOOPBACK, "upstream": "direct"}),
              ("private", {"modules": "example.test/private", "upstream": "direct"}),
              ("go", {"modules": "github.com", "upstream": "mirror " + murl(env, "b")})]
    with mod_proxy(env, *routes) as p:
        text, warn = env_output(env, p)
        v = sh_vars(text)
        url = "http://%s:%d" % (LOOPBACK, p.port)
        expect_eq(v.get("HTTP_PROXY"), url, "HTTP_PROXY")
        expect_eq(v.get("https_proxy"), url, "https_proxy")
        expect_eq(v.get("NO_PROXY"), "localhost,127.0.0.1,::1", "NO_PROXY (%s)" % warn)
        expect_eq(v.get("no_proxy"), "localhost,127.0.0.1,::1", "no_proxy")
        expect_eq(v.get("GOPROXY"), url + ",direct", "GOPROXY")
        for k in ("GONOPROXY", "GOPRIVATE", "GONOSUMDB"):
            expect_eq(v.get(k), "example.test/private", k)
        expect("GOSUMDB" not in v, "no route sends sum.golang.org to a mirror: %r" % v)

        src, genv = workspace(env, "unused")
        extra = {k: genv[k] for k in ("GOPATH", "GOMODCACHE", "GOCACHE")}
        # The test modules are in no real checksum database, and the
        # toolchain must not be fetched: the two settings the rules
        # cannot give.
        extra.update(GOSUMDB="off", GOFLAGS="-mod=mod", GOTOOLCHAIN="local",
                     GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL="/dev/null",
                     GIT_TERMINAL_PROMPT="0", CA=env.origin.ca)
        clone = env.wd.sub("env-clone")
        script = "\n".join([
            "set -eo pipefail",
            "curl -sS --max-time 10 -o /dev/null -w '%%{http_code}\\n' %s"
            % shlex.quote(env.http_url("/1k?env=proxied")),
            "curl -sS --max-time 10 -o /dev/null -w '%%{http_code}\\n' %s"
            % shlex.quote("http://%s:%d/echo?env=direct" % (LOOPBACK, env.origin.echo.port)),
            "timeout 60 git -c http.sslCAInfo=\"$CA\" clone -q %s %s"
            % (shlex.quote(repo_url(env, "https")), shlex.quote(clone)),
            "cd %s && timeout 60 go mod download -x %s %s %s 2>&1 | tail -3"
            % (shlex.quote(src), CMP, ERRORS, TOML),
            "echo done"])
        rc, out, err = run_with(env, text, script, extra)
        expect(rc == 0 and out.strip().endswith("done"),
               "curl/git/go with the --env settings failed (%d): %s %s" % (rc, out, err[-1500:]))
        codes = out.split()[:2]
        expect_eq(codes, ["200", "200"], "curl statuses (proxied, direct)")
        access_line(p, "/1k?env=proxied")
        access_line(p, "CONNECT git.test:")
        for m in (CMP, ERRORS, TOML):
            access_line(p, "module=%s " % m, "kind=zip")
        expect(not any("env=direct" in l for l in p.access_lines()),
               "NO_PROXY=127.0.0.1 went through the proxy anyway")
        expect(os.path.isfile(os.path.join(clone, "README")), "the clone has its README")


@test("env_formats_say_the_same")
def _(env):
    proxyd_only(env)
    routes = [("parent", {"hosts": "parent.corp.test", "upstream": "http 127.0.0.1:9"}),
              ("corp", {"hosts": "corp.test, .in.test, 10.0.0.0/8, build.test:8443",
                        "modules": "git.corp.test/*", "upstream": "direct"})]
    with env.own_proxy(routes=routes) as p:
        text, warn = env_output(env, p)
        v = sh_vars(text)
        expect_eq(v["NO_PROXY"], "localhost,127.0.0.1,::1,.in.test,10.0.0.0/8,build.test:8443",
                  "NO_PROXY")
        for needle in ("corp.test left to the proxy: route parent", "10.0.0.0/8: a CIDR",
                       "build.test:8443: only Go and Python"):
            expect(needle in warn, "warning %r in %r" % (needle, warn))
        expect_eq(v["GONOPROXY"], "git.corp.test/*", "GONOPROXY")
        dotenv, _ = env_output(env, p, "--format", "dotenv")
        d = dict(l.split("=", 1) for l in dotenv.splitlines())
        expect_eq(d, v, "dotenv = sh")
        gh, _ = env_output(env, p, "--format", "github")
        expect_eq(dict(l.split("=", 1) for l in gh.splitlines()), v, "github = sh")
        fish, _ = env_output(env, p, "--format", "fish")
        expect(all(l.startswith("set -gx ") for l in fish.splitlines()), fish)
        expect("set -gx GOPRIVATE 'git.corp.test/*'" in fish, fish)
        r = run([env.proxyd_binary, "--env", "--format", "csh", "-c", p.conf], timeout=10)
        expect(r.returncode == 2 and b"expected sh, fish, dotenv or github" in r.stderr,
               "a bad --format: %r" % r.stderr)
