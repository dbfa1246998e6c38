"""cache_tests.py - the module cache (cache_dir): its keys and their checks,
and real `go mod download` runs through proxyd against mirrors of its own
(an nginx per test that needs to stop it, with the modproxy tests' GOPROXY
trees built from Debian's golang-*-dev sources), with fresh GOMODCACHE."""

import os

from harness import TestSkip, expect, test
from packaging_tests import check
from route_tests import proxyd_only


# ---------------------------------------------------------------- config

def conf(env, name, text):
    return env.wd.write(name, "[proxyd]\n" + text)


ROUTE = "[route go]\nmodules = *\nupstream = mirror http://127.0.0.1:9\n"


@test("cache_config_dir_refused_with_file_line")
def _(env):
    """A cache_dir that is missing or not a directory is refused by -t
    (and so at start) with file:line; a good one passes."""
    proxyd_only(env)
    notdir = env.wd.write("cache-notdir", "x")
    for name, value, words in (("missing", env.wd.sub("cache-none"), "No such file"),
                               ("file", notdir, "expected a directory")):
        path = conf(env, "cache-%s.conf" % name, "cache_dir = %s\n" % value)
        rc, out = check(env, path)
        expect(rc != 0, "-t accepted cache_dir %s" % value)
        expect(("%s:2: cache_dir:" % path) in out and words in out,
               "no file:line message for %s: %r" % (name, out))
    good = env.wd.sub("cache-good", mkdir=True)
    path = conf(env, "cache-good.conf", "cache_dir = %s\ncache_max_size = 20g\n"
                "offline = off\n%s" % (good, ROUTE + "list_ttl = 5s\nnegative_ttl = 1m\n"
                                       "sumdb_latest_ttl = 10m\noffline = on\ncache = on\n"))
    rc, out = check(env, path)
    expect(rc == 0, "-t refused a good cache config: %r" % out)


@test("cache_config_bad_values_and_cache_without_dir")
def _(env):
    """Bad on/off and size values, and cache = on without cache_dir, are
    refused with file:line."""
    proxyd_only(env)
    path = conf(env, "cache-bad.conf", "cache_max_size = 20x\noffline = maybe\n"
                + ROUTE + "cache = on\nlist_ttl = soon\n")
    rc, out = check(env, path)
    expect(rc != 0, "-t accepted bad cache values")
    for want in (":2: cache_max_size: expected", ":3: offline: expected on or off",
                 ":4: route go: cache = on needs cache_dir", ":8: list_ttl: expected"):
        expect(want in out, "%r not in %r" % (want, out))


@test("cache_config_not_writable_refused")
def _(env):
    """A cache_dir the running user cannot write is refused (checked as
    uid 65534, the packaged unit's kind of user)."""
    proxyd_only(env)
    import packaging_tests as pt
    if os.geteuid() != 0 or not pt.unprivileged_can_run(env):
        raise TestSkip("needs root to run -t as another user")
    d = env.wd.sub("cache-ro", mkdir=True)
    os.chmod(d, 0o755)
    path = conf(env, "cache-ro.conf", "cache_dir = %s\n" % d)
    os.chmod(path, 0o644)
    rc, out = check(env, path, as_user=pt.NOBODY)
    expect(rc != 0 and "not writable" in out, "as nobody: %d %r" % (rc, out))
