"""go_tests.py - the go command fetching modules from a GOPROXY mirror
(nginx, goproxy.test) through the proxy, fully offline: the mirror is
built from Debian's golang-*-dev sources by gomodtree.py."""

import os
import urllib.parse

from gomodtree import build_tree, debian_module, escape_path
from harness import TestFailure, expect, expect_eq, run, test, wait_until, which_or_skip

# Small modules without dependencies; BurntSushi has upper case, so the
# mirror's path escaping (!burnt!sushi) is exercised too.
DEBIAN_MODULES = [
    ("github.com/google/go-cmp", "golang-github-google-go-cmp-dev"),
    ("github.com/pkg/errors", "golang-github-pkg-errors-dev"),
    ("github.com/BurntSushi/toml", "golang-github-burntsushi-toml-dev"),
]

MAIN_GO = """\
package main

import (
	"fmt"

	"github.com/BurntSushi/toml"
	"github.com/google/go-cmp/cmp"
	"github.com/pkg/errors"
)

func main() {
	var v struct{ Name string }
	if _, err := toml.Decode(`Name = "proxyd"`, &v); err != nil {
		panic(err)
	}
	fmt.Println(v.Name, cmp.Equal(1, 1), errors.New("ok").Error())
}
"""

_state = {"seq": 0, "modules": None}


def mirror_modules(env):
    """Build the GOPROXY tree once per run (nginx serves its directory)."""
    if _state["modules"] is None:
        try:
            mods = [debian_module(path, pkg) for path, pkg in DEBIAN_MODULES]
        except RuntimeError as e:
            raise TestFailure(str(e))
        build_tree(env.origin.goproxy_root, mods)
        _state["modules"] = mods
    return _state["modules"]


def write_app(src, mods):
    """A module in src that needs every one of mods."""
    os.makedirs(src)
    with open(os.path.join(src, "go.mod"), "w") as f:
        f.write("module example.test/app\n\ngo 1.19\n\nrequire (\n"
                + "".join("\t%s %s\n" % (m.path, m.version) for m in mods) + ")\n")
    with open(os.path.join(src, "main.go"), "w") as f:
        f.write(MAIN_GO)


def go_workspace(env):
    """A fresh module and fresh Go caches, so every module is fetched."""
    mods = mirror_modules(env)
    _state["seq"] += 1
    root = env.wd.sub("go-%d" % _state["seq"], mkdir=True)
    src = os.path.join(root, "app")
    write_app(src, mods)
    genv = env.client_env()
    genv.update(
        GOPATH=os.path.join(root, "gopath"),
        GOMODCACHE=os.path.join(root, "modcache"),
        GOCACHE=os.path.join(root, "gocache"),
        GOPROXY="http://%s:%d" % (env.host("goproxy.test"), env.origin.nginx.goproxy_port),
        GOSUMDB="off", GONOSUMDB="*", GOFLAGS="-mod=mod", GOTOOLCHAIN="local",
        GO111MODULE="on", CGO_ENABLED="0",
        HTTP_PROXY=env.proxy.url, HTTPS_PROXY=env.proxy.url,
    )
    return src, genv, mods


def go(argv, src, genv, timeout=120):
    r = run(["timeout", str(timeout)] + argv, timeout=timeout + 10, env=genv, cwd=src)
    if r.returncode != 0:
        raise TestFailure("%s failed (%d): %s" % (" ".join(argv), r.returncode,
                                                   r.stderr.decode(errors="replace")[-1000:]))
    return r.stdout.decode()


def expect_mirror_proxied(env, mods):
    """Every module zip was fetched through the proxy (access log)."""
    def missing():
        # The go command sends "!" as %21; compare decoded targets.
        lines = [urllib.parse.unquote(l) for l in env.proxy.access_lines()]
        return [m.path for m in mods
                if not any("goproxy.test" in l or env.host("goproxy.test") in l
                           for l in lines
                           if escape_path(m.path) + "/@v/" + m.version + ".zip" in l)]
    wait_until(lambda: not missing(), 3)
    left = missing()
    expect(not left, "no access log line for the zip of %s: the proxy was bypassed?" % left)


@test("go_mod_download_via_proxy")
def _(env):
    which_or_skip("go")
    src, genv, mods = go_workspace(env)
    go(["go", "mod", "download"], src, genv)
    for m in mods:
        d = os.path.join(genv["GOMODCACHE"], escape_path(m.path) + "@" + m.version)
        expect(os.path.isdir(d), "module %s@%s not extracted in the module cache" % (m.path, m.version))
    expect_mirror_proxied(env, mods)


@test("go_build_via_proxy")
def _(env):
    which_or_skip("go")
    src, genv, mods = go_workspace(env)
    go(["go", "build", "-o", "app", "."], src, genv)
    r = run([os.path.join(src, "app")], timeout=20)
    expect_eq(r.stdout.decode().strip(), "proxyd true ok", "program output")
    expect_mirror_proxied(env, mods)
