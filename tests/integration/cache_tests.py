"""cache_tests.py - the module cache (cache_dir): its keys and their checks,
and real `go mod download` runs through proxyd against mirrors of its own
(an nginx per test that needs to stop it, with the modproxy tests' GOPROXY
trees built from Debian's golang-*-dev sources), with fresh GOMODCACHE."""

import hashlib
import os
import socket
import subprocess
import threading
import time

import modproxy_tests as mp
from gomodtree import build_tree, escape_path
from harness import (LOOPBACK, TestSkip, expect, free_port, run, test, wait_until,
                     which_or_skip)
from httpraw import Conn
from packaging_tests import check
from route_tests import proxyd_only
from servers import Mirrors
import sumdb_fixture
import sumdb_tests as st


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


# ---------------------------------------------------------------- fixtures

_state = {"mods": None, "seq": 0}


class _SubWd:
    """A Workdir rooted in a subdirectory of the run's, so that a mirror
    nginx of a test's own keeps its files apart from the shared ones."""

    def __init__(self, wd, name):
        self.path = wd.sub(name, mkdir=True)

    def sub(self, *parts, mkdir=False):
        p = os.path.join(self.path, *parts)
        if mkdir:
            os.makedirs(p, exist_ok=True)
        return p


def modules(env):
    if _state["mods"] is None:
        mp.mirrors(env)                 # builds the modules (and checks go)
        _state["mods"] = mp._state["mods"]
    return _state["mods"]


def own_mirror(env, conf=()):
    """A GOPROXY tree of the three test modules and an nginx serving it
    (stopped by the harness at the end, or by the test): (mirror, root)."""
    proxyd_only(env)
    which_or_skip("go")
    _state["seq"] += 1
    wd = _SubWd(env.wd, "cache-mirror-%d" % _state["seq"])
    root = wd.sub("tree", mkdir=True)
    build_tree(root, modules(env))
    return Mirrors(wd, {"m": {"root": root, "conf": list(conf)}}), root


def cache_proxy(env, mirror, cache_dir, route=None, **settings):
    keys = dict(mp.TIMEOUTS, modules="*",
                upstream="mirror http://127.0.0.1:%d" % mirror.port("m"))
    keys.update(route or {})
    return env.own_proxy(routes=[("go", keys)], cache_dir=cache_dir, **settings)


def new_cache_dir(env):
    _state["seq"] += 1
    return env.wd.sub("cache-dir-%d" % _state["seq"], mkdir=True)


def zip_fixture(env, i):
    """A mirror of its own, an empty cache_dir, and the zip of module i:
    (mirror, tree, cache_dir, module, file name, request path)."""
    mirror, root = own_mirror(env)
    mod = modules(env)[i]
    name = mod.version + ".zip"
    return (mirror, root, new_cache_dir(env), mod, name,
            "/%s/@v/%s" % (escape_path(mod.path), name))


def mirror_paths(mirror):
    return [path for _, path, _ in mirror.requests("m")]


def cache_words(p, kind=None):
    """The cache= word of each module line (of kind) in p's access log."""
    return [f.get("cache") for f in mp.module_lines(p, kind)]


def entry(cache_dir, mod, name):
    return os.path.join(cache_dir, "mod", escape_path(mod.path), "@v", name)


def download(env, p, what, build=True):
    src, genv = mp.workspace(env, p.url)
    mp.go_ok(src, genv, "mod", "download", what=what)
    if build:
        mp.go_ok(src, genv, "build", "./...", what=what + " (build)")
    mp.expect_in_cache(env, genv)
    return src, genv


def entry_matches(cache_dir, mod, name, mirror_root):
    try:
        with open(entry(cache_dir, mod, name), "rb") as a, \
                open(os.path.join(mirror_root, escape_path(mod.path), "@v", name), "rb") as b:
            return a.read() == b.read()
    except OSError:
        return False


def expect_entry_good(cache_dir, mod, name, mirror_root):
    """The entry's body is the mirror's file, and its metadata says so."""
    body = entry(cache_dir, mod, name)
    with open(os.path.join(mirror_root, escape_path(mod.path), "@v", name), "rb") as f:
        want = f.read()
    with open(body, "rb") as f:
        got = f.read()
    expect(got == want, "%s: %d bytes cached, mirror has %d" % (body, len(got), len(want)))
    with open(body + ".meta") as f:
        meta = f.read()
    expect("sha256 %s\n" % hashlib.sha256(want).hexdigest() in meta and
           "size %d\n" % len(want) in meta and "status 200\n" in meta,
           "%s.meta: %r" % (body, meta))


# ---------------------------------------------------------------- fills and hits

@test("cache_cold_fill_then_restart_with_mirror_stopped")
def _(env):
    """go mod download through proxyd fills the cache (cache=fill, body and
    metadata byte for byte); a new proxyd on the same cache_dir with the
    mirror stopped serves a fresh GOMODCACHE from it (cache=hit) and go
    build works."""
    mirror, root = own_mirror(env)
    d = new_cache_dir(env)
    with cache_proxy(env, mirror, d) as p:
        download(env, p, "cold")
        words = cache_words(p, "zip")
        expect(words and all(w == "fill" for w in words), "zip lines: %s" % words)
        mod = modules(env)[0]
        zpath = "/%s/@v/%s.zip" % (escape_path(mod.path), mod.version)
        wait_until(lambda: os.path.exists(entry(d, mod, mod.version + ".zip.meta")), 5)
        out = run([env.proxyd_binary, "--explain", zpath, "-c", p.conf], timeout=20).stdout
        expect(b"cache:     cached, kept until evicted" in out, "--explain: %s" % out.decode())
    for mod in modules(env):
        for ext in ("mod", "zip"):
            wait_until(lambda: entry_matches(d, mod, mod.version + "." + ext, root), 5)
            expect_entry_good(d, mod, mod.version + "." + ext, root)
    mirror.proc.stop()
    with cache_proxy(env, mirror, d) as p:
        download(env, p, "warm, mirror stopped")
        words = cache_words(p)
        expect(words and all(w == "hit" for w in words), "lines: %s"
               % [f["line"] for f in mp.module_lines(p)])


@test("cache_flipped_byte_is_refetched")
def _(env):
    """A cached zip changed on disk (one byte flipped) is never served:
    the next request goes to the mirror again and stores a good entry."""
    mirror, root, d, mod, name, url = zip_fixture(env, 0)
    with cache_proxy(env, mirror, d) as p:
        r = mp.fetch(env, p.url + url)
        mp.expect_status(r, 200, "cold zip")
        wait_until(lambda: os.path.exists(entry(d, mod, name) + ".meta"), 5)
        with open(entry(d, mod, name), "r+b") as f:
            b = f.read(1)
            f.seek(0)
            f.write(bytes([b[0] ^ 0xff]))
        before = len(mirror_paths(mirror))
        r = mp.fetch(env, p.url + url)
        mp.expect_status(r, 200, "zip after the flip")
        with open(os.path.join(root, escape_path(mod.path), "@v", name), "rb") as f:
            expect(r.body == f.read(), "the flipped body was served")
        expect(len(mirror_paths(mirror)) == before + 1, "not refetched: %s"
               % mirror_paths(mirror))
        wait_until(lambda: cache_words(p, "zip")[-1:] == ["fill"], 3)
        # The store thread commits after the client got the last byte.
        wait_until(lambda: entry_matches(d, mod, name, root), 5)
        expect_entry_good(d, mod, name, root)


CUT_BODY = 100000


class _CuttingMirror:
    """A mirror that answers every GET with 200 and Content-Length, sends
    half the body, and closes (or sends answer, when given); counts
    requests."""

    def __init__(self, answer=None):
        self.answer = answer
        self.sock = socket.socket()
        self.sock.bind((LOOPBACK, 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.count = 0
        self.stop = False
        self.t = threading.Thread(target=self.serve, daemon=True)
        self.t.start()

    def serve(self):
        self.sock.settimeout(0.2)
        while not self.stop:
            try:
                c, _ = self.sock.accept()
            except OSError:
                continue
            with c:
                c.settimeout(5)
                try:
                    data = b""
                    while b"\r\n\r\n" not in data:
                        chunk = c.recv(4096)
                        if not chunk:
                            break
                        data += chunk
                    self.count += 1
                    c.sendall(self.answer or
                              b"HTTP/1.1 200 OK\r\nContent-Type: application/zip\r\n"
                              b"Content-Length: %d\r\n\r\n" % CUT_BODY
                              + b"x" * (CUT_BODY // 2))
                except OSError:
                    pass

    def close(self):
        self.stop = True
        self.t.join(5)
        self.sock.close()


@test("cache_mirror_cut_mid_zip_leaves_nothing")
def _(env):
    """A mirror that closes mid-body: the client sees a cut response,
    nothing is stored (no entry, no temporary file), and the next request
    goes to the mirror again."""
    proxyd_only(env)
    which_or_skip("curl")
    cut = _CuttingMirror()
    d = new_cache_dir(env)
    try:
        keys = dict(mp.TIMEOUTS, modules="*", upstream="mirror http://127.0.0.1:%d" % cut.port)
        with env.own_proxy(routes=[("go", keys)], cache_dir=d) as p:
            url = p.url + "/example.com/cut/@v/v1.0.0.zip"
            for i in (1, 2):
                r = mp.fetch(env, url)
                expect(r.rc != 0 or len(r.body) < CUT_BODY, "try %d: a whole body?" % i)
                expect(wait_until(lambda: cut.count == i, 3), "try %d: mirror asked %d times"
                       % (i, cut.count))
            time.sleep(0.3)             # the store thread's abort
            left = [os.path.join(a, f) for a, _, fs in os.walk(d) for f in fs]
            expect(not left, "files left in the cache: %s" % left)
    finally:
        cut.close()


@test("cache_path_traversal_never_touches_disk")
def _(env):
    """Requests with .., %2e%2e, an absolute path or NUL are refused and
    create nothing in cache_dir nor outside it, and reach no mirror."""
    mirror, _ = own_mirror(env)
    d = new_cache_dir(env)
    with cache_proxy(env, mirror, d) as p:
        for path in ("/../../etc/passwd/@v/list", "/%2e%2e/%2e%2e/x.com/@v/list",
                     "/example.com/%2e%2e/@v/v1.0.0.zip", "//etc/passwd/@v/list",
                     "/example.com/a%00b/@v/list", "/example.com/x/@v/..%2f..%2fv1.zip",
                     "/sumdb/../../etc/latest", "/sumdb/sum.test/tile/8/0/../../../x"):
            with Conn(p.port) as c:
                c.send(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n\r\n")
                status = c.read_response().status
            expect(status in (400, 404, 414), "%s: status %d" % (path, status))
        left = [os.path.join(a, f) for a, _, fs in os.walk(d) for f in fs]
        expect(not left, "files in the cache: %s" % left)
        expect(not mirror_paths(mirror), "reached the mirror: %s" % mirror_paths(mirror))


# ---------------------------------------------------------------- TTLs, stale, offline

def get(env, p, path):
    return mp.fetch(env, p.url + path, "-H", "Accept-Encoding: identity")


def list_path(mod):
    return "/%s/@v/list" % escape_path(mod.path)


def add_version(root, mod, version):
    with open(os.path.join(root, escape_path(mod.path), "@v", "list"), "a") as f:
        f.write(version + "\n")


@test("cache_list_ttl_expiry_shows_new_version")
def _(env):
    """@v/list is served from the cache within list_ttl (the mirror is not
    asked again, a version added meanwhile is not seen), and refetched
    after it (the new version appears)."""
    mirror, root = own_mirror(env)
    d = new_cache_dir(env)
    mod = modules(env)[0]
    with cache_proxy(env, mirror, d, route={"list_ttl": "2s"}) as p:
        r = get(env, p, list_path(mod))
        mp.expect_status(r, 200, "cold list")
        wait_until(lambda: os.path.exists(os.path.join(
            d, "mod", escape_path(mod.path), "@v", "list.meta")), 5)
        add_version(root, mod, "v9.9.9")
        r = get(env, p, list_path(mod))
        expect(b"v9.9.9" not in r.body, "within list_ttl: %r" % r.body)
        expect(cache_words(p, "list") == ["fill", "hit"], "lines: %s" % cache_words(p, "list"))
        expect(len([x for x in mirror_paths(mirror) if x.endswith("/list")]) == 1,
               "mirror asked again within the TTL: %s" % mirror_paths(mirror))
        time.sleep(2.2)
        r = get(env, p, list_path(mod))
        expect(b"v9.9.9" in r.body, "after list_ttl: %r" % r.body)
        expect(cache_words(p, "list")[-1] == "fill", "lines: %s" % cache_words(p, "list"))


@test("cache_negative_answers_kept_for_negative_ttl")
def _(env):
    """A 404 from the mirror is cached for negative_ttl: a second request
    within it is a hit (404, the mirror not asked), one after it asks the
    mirror again."""
    mirror, _ = own_mirror(env)
    d = new_cache_dir(env)
    path = "/example.com/nothing/@v/v1.0.0.mod"
    with cache_proxy(env, mirror, d, route={"negative_ttl": "2s"}) as p:
        for want in ("fill", "hit"):
            r = get(env, p, path)
            mp.expect_status(r, 404, "404 (%s)" % want)
            wait_until(lambda: os.path.exists(os.path.join(
                d, "mod", "example.com", "nothing", "@v", "v1.0.0.mod.meta")), 5)
        expect(cache_words(p, "mod") == ["fill", "hit"], "lines: %s" % cache_words(p, "mod"))
        expect(len(mirror_paths(mirror)) == 1, "mirror: %s" % mirror_paths(mirror))
        time.sleep(2.2)
        mp.expect_status(get(env, p, path), 404, "404 after negative_ttl")
        expect(len(mirror_paths(mirror)) == 2, "not asked again: %s" % mirror_paths(mirror))


@test("cache_stale_list_served_with_warning_when_mirror_fails")
def _(env):
    """An expired @v/list is served with Warning: 110 when the mirror is
    down (connect refused) or answers 5xx; an immutable entry is a plain
    hit."""
    mirror, root = own_mirror(env)
    d = new_cache_dir(env)
    mod = modules(env)[0]
    zpath = "/%s/@v/%s.zip" % (escape_path(mod.path), mod.version)
    with cache_proxy(env, mirror, d, route={"list_ttl": "1s"}) as p:
        mp.expect_status(get(env, p, list_path(mod)), 200, "cold list")
        mp.expect_status(get(env, p, zpath), 200, "cold zip")
        wait_until(lambda: os.path.exists(entry(d, mod, mod.version + ".zip.meta")), 5)
        mirror.proc.stop()
        time.sleep(1.2)
        r = get(env, p, list_path(mod))
        mp.expect_status(r, 200, "stale list, mirror down")
        expect(r.header("Warning") == '110 proxyd "Response is Stale"',
               "headers: %s" % r.headers)
        expect(mod.version.encode() in r.body, "body: %r" % r.body)
        r = get(env, p, zpath)
        mp.expect_status(r, 200, "zip, mirror down")
        expect(r.header("Warning") is None, "an immutable hit with a Warning")
        expect(cache_words(p)[-2:] == ["stale", "hit"], "lines: %s" % cache_words(p))
    err = Mirrors(_SubWd(env.wd, "cache-mirror-err-%d" % _state["seq"]),
                  {"m": {"conf": ['location / { return 502 "broken\\n"; }']}})
    try:
        with cache_proxy(env, err, d, route={"list_ttl": "1s"}) as p:
            r = get(env, p, list_path(mod))
            mp.expect_status(r, 200, "stale list, mirror 502")
            expect(r.header("Warning") is not None, "no Warning: %s" % r.headers)
    finally:
        err.proc.stop()


@test("cache_offline_serves_cache_only")
def _(env):
    """offline = on: a miss is a 404 whose text/plain body says "not in the
    cache (offline)" and no mirror is asked; what is cached (list and
    @latest too, whatever their age) is served."""
    mirror, _ = own_mirror(env)
    d = new_cache_dir(env)
    mod = modules(env)[0]
    with cache_proxy(env, mirror, d, route={"list_ttl": "1s"}) as p:
        mp.expect_status(get(env, p, list_path(mod)), 200, "cold list")
        wait_until(lambda: os.path.exists(os.path.join(
            d, "mod", escape_path(mod.path), "@v", "list.meta")), 5)
    time.sleep(1.2)
    before = len(mirror_paths(mirror))
    with cache_proxy(env, mirror, d, route={"list_ttl": "1s"}, offline="on") as p:
        r = get(env, p, "/%s/@v/%s.zip" % (escape_path(mod.path), mod.version))
        mp.expect_status(r, 404, "offline miss")
        expect(r.body.endswith(b"not in the cache (offline)\n") and
               r.body.count(b"\n") == 1 and
               (r.header("Content-Type") or "").startswith("text/plain"),
               "offline body: %r %s" % (r.body, r.headers))
        r = get(env, p, list_path(mod))
        mp.expect_status(r, 200, "offline list (expired)")
        expect(cache_words(p) == ["offline-miss", "hit"], "lines: %s" % cache_words(p))
    expect(len(mirror_paths(mirror)) == before, "offline asked the mirror")


# ---------------------------------------------------------------- single flight, sharing

def start_downloads(env, proxies, n):
    """n `go mod download` processes, round robin over proxies, started
    together; returns after all ended, with their results."""
    runs = []
    for i in range(n):
        src, genv = mp.workspace(env, proxies[i % len(proxies)].url)
        runs.append((src, genv))
    procs = [subprocess.Popen(["timeout", "120", "go", "mod", "download"], cwd=src, env=genv,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for src, genv in runs]
    results = []
    for p in procs:
        try:
            _, err = p.communicate(timeout=150)
        except subprocess.TimeoutExpired:
            p.kill()
            _, err = p.communicate()
        results.append((p.returncode, err.decode(errors="replace")))
    return results


@test("cache_single_flight_20_cold_downloads")
def _(env):
    """20 go mod download processes started together against a cold
    cache: every file reaches the mirror exactly once (its access log),
    and every download succeeds."""
    mirror, _ = own_mirror(env)
    d = new_cache_dir(env)
    with cache_proxy(env, mirror, d, workers=2) as p:
        results = start_downloads(env, [p], 20)
        bad = [err[-400:] for rc, err in results if rc != 0]
        expect(not bad, "%d downloads failed: %s" % (len(bad), bad[:2]))
        paths = mirror_paths(mirror)
        dup = sorted({x for x in paths if paths.count(x) > 1})
        expect(paths and not dup, "asked more than once: %s (all: %s)" % (dup, paths))
        words = cache_words(p, "zip")
        expect(len(words) == 20 * len(modules(env)) and words.count("fill") == len(modules(env)),
               "zip lines: %s" % words)


@test("cache_two_processes_fill_one_dir")
def _(env):
    """Two proxyd processes on one cache_dir, downloads through both at
    once: all succeed, every entry is whole and matches the mirror, and
    a third process with the mirror stopped serves from it."""
    mirror, root = own_mirror(env)
    d = new_cache_dir(env)
    with cache_proxy(env, mirror, d) as p1, cache_proxy(env, mirror, d) as p2:
        results = start_downloads(env, [p1, p2], 6)
        bad = [err[-400:] for rc, err in results if rc != 0]
        expect(not bad, "%d downloads failed: %s" % (len(bad), bad[:2]))
    for mod in modules(env):
        for ext in ("mod", "zip"):
            wait_until(lambda: entry_matches(d, mod, mod.version + "." + ext, root), 5)
            expect_entry_good(d, mod, mod.version + "." + ext, root)
    tmp = [f for a, _, fs in os.walk(d) for f in fs if f.startswith(".")]
    expect(not tmp, "temporary files left: %s" % tmp)
    mirror.proc.stop()
    with cache_proxy(env, mirror, d) as p:
        download(env, p, "third process, mirror stopped", build=False)


# ---------------------------------------------------------------- eviction

EVICT_MOD = "example.com/evict"
EVICT_SIZE = 10000


@test("cache_eviction_lru_under_small_cap")
def _(env):
    """cache_max_size = 55k and entries of about 10.25k: after six zips
    (v0 used again after v1..v4 were stored), the background evictor
    removes the two least recently used (v1, v2) down to 90 % of the cap;
    the rest stay, and a restart keeps the order (the metadata's mtime)."""
    mirror, root = own_mirror(env)
    vdir = os.path.join(root, EVICT_MOD, "@v")
    os.makedirs(vdir, exist_ok=True)
    for i in range(6):
        with open(os.path.join(vdir, "v1.0.%d.zip" % i), "wb") as f:
            f.write(bytes([i]) * EVICT_SIZE)
    d = new_cache_dir(env)
    meta = lambda i: os.path.join(d, "mod", EVICT_MOD, "@v", "v1.0.%d.zip.meta" % i)
    url = lambda i: "/%s/@v/v1.0.%d.zip" % (EVICT_MOD, i)
    with cache_proxy(env, mirror, d, cache_max_size="55k") as p:
        for i in list(range(5)) + [0, 5]:
            mp.expect_status(get(env, p, url(i)), 200, "v1.0.%d" % i)
            expect(wait_until(lambda: os.path.exists(meta(i)), 5), "v1.0.%d not stored" % i)
            time.sleep(0.05)            # distinct last-access times
        gone = wait_until(lambda: not os.path.exists(meta(1)) and not os.path.exists(meta(2)), 5)
        left = sorted(f for f in os.listdir(os.path.dirname(meta(0))) if f.endswith(".meta"))
        expect(gone, "v1.0.1 and v1.0.2 not evicted: %s" % left)
        expect(left == ["v1.0.%d.zip.meta" % i for i in (0, 3, 4, 5)], "left: %s" % left)
        expect(cache_words(p, "zip")[5] == "hit", "v0 again: %s" % cache_words(p, "zip"))
    # A new process: the last-access order survived (v3 used now).
    with cache_proxy(env, mirror, d, cache_max_size="55k") as p:
        for i in (3, 1, 2):
            mp.expect_status(get(env, p, url(i)), 200, "after restart v1.0.%d" % i)
            expect(wait_until(lambda: os.path.exists(meta(i)), 5), "v1.0.%d not stored" % i)
            time.sleep(0.05)
        gone = wait_until(lambda: not os.path.exists(meta(4)) and not os.path.exists(meta(0)), 5)
        left = sorted(f for f in os.listdir(os.path.dirname(meta(0))) if f.endswith(".meta"))
        expect(gone and left == ["v1.0.%d.zip.meta" % i for i in (1, 2, 3, 5)],
               "after restart, left: %s" % left)


# ---------------------------------------------------------------- --cache-verify

@test("cache_verify_removes_bad_entries")
def _(env):
    """proxyd --cache-verify: a flipped byte (mtime put back) and a cut
    body are removed (exit 1), a whole body copied over its file gets its
    metadata refreshed and is served again; a second run finds all good
    (exit 0)."""
    mirror, root = own_mirror(env)
    d = new_cache_dir(env)
    with cache_proxy(env, mirror, d) as p:
        download(env, p, "fill", build=False)
    mods = modules(env)
    for mod in mods:
        wait_until(lambda: os.path.exists(entry(d, mod, mod.version + ".zip.meta")), 5)
    flip, cut, copied = (entry(d, m, m.version + ".zip") for m in mods)
    st = os.stat(flip)
    with open(flip, "r+b") as f:
        f.seek(st.st_size // 2)
        b = f.read(1)
        f.seek(st.st_size // 2)
        f.write(bytes([b[0] ^ 1]))
    os.utime(flip, ns=(st.st_atime_ns, st.st_mtime_ns))
    with open(cut, "r+b") as f:
        f.truncate(100)
    with open(copied, "rb") as f:
        data = f.read()
    with open(copied + ".copy", "wb") as f:
        f.write(data)
    os.replace(copied + ".copy", copied)
    conf = env.wd.write("cache-verify-%d.conf" % _state["seq"], "[proxyd]\ncache_dir = %s\n" % d)
    r = run([env.proxyd_binary, "--cache-verify", "-c", conf], timeout=30)
    out = r.stdout.decode()
    expect(r.returncode == 1, "exit %d: %s" % (r.returncode, out))
    rel = lambda path: os.path.relpath(path, d)
    expect("removed %s: SHA-256 differs" % rel(flip) in out and
           "removed %s: size differs" % rel(cut) in out and
           "kept %s:" % rel(copied) in out and " 2 removed" in out, out)
    expect(not os.path.exists(flip + ".meta") and not os.path.exists(flip), "flipped kept")
    r = run([env.proxyd_binary, "--cache-verify", "-c", conf], timeout=30)
    expect(r.returncode == 0 and b" 0 removed" in r.stdout, r.stdout.decode())
    mirror.proc.stop()
    with cache_proxy(env, mirror, d) as p:
        m = mods[2]
        r = get(env, p, "/%s/@v/%s.zip" % (escape_path(m.path), m.version))
        mp.expect_status(r, 200, "the refreshed entry")
        expect(r.body == data, "refreshed entry body differs")


# ---------------------------------------------------------------- --cache-fill

@test("cache_fill_from_go_sum_then_offline_build")
def _(env):
    """proxyd --cache-fill go.sum fetches every module's .info, .mod and
    .zip (a /go.mod line: .info and .mod) through the configured route,
    prints what it fetched; a second run skips them all; a line that
    fails makes it exit 1; then an offline proxyd serves go mod download
    and go build with the mirror stopped."""
    mirror, _ = own_mirror(env)
    d = new_cache_dir(env)
    src, genv = mp.workspace(env, "http://127.0.0.1:%d" % mirror.port("m"))
    mp.go_ok(src, genv, "mod", "download", what="go.sum from the mirror")
    mp.go_ok(src, genv, "build", "./...", what="go.sum from the mirror (zip hashes)")
    gosum = os.path.join(src, "go.sum")
    conf = env.wd.write("cache-fill-%d.conf" % _state["seq"],
                        "[proxyd]\ncache_dir = %s\nerror_log = %s\n\n[route go]\nmodules = *\n"
                        "upstream = mirror http://127.0.0.1:%d\n"
                        % (d, env.wd.sub("cache-fill-error.log"), mirror.port("m")))
    r = run([env.proxyd_binary, "--cache-fill", gosum, "-c", conf], timeout=120)
    out = r.stdout.decode()
    n = len(modules(env))
    expect(r.returncode == 0 and "%d fetched, 0 skipped (cached), 0 failed" % (3 * n) in out,
           "first run (%d): %r %s" % (r.returncode, out, r.stderr.decode()[-500:]))
    for mod in modules(env):
        expect(os.path.exists(entry(d, mod, mod.version + ".zip.meta")), "%s not cached" % mod.path)
    r = run([env.proxyd_binary, "--cache-fill", gosum, "-c", conf], timeout=120)
    expect(r.returncode == 0 and b"0 fetched, %d skipped" % (3 * n) in r.stdout,
           "second run: %s" % r.stdout.decode())
    bad = env.wd.write("cache-fill-bad.txt", "example.com/none@v1.0.0\n")
    r = run([env.proxyd_binary, "--cache-fill", bad, "-c", conf], timeout=120)
    expect(r.returncode == 1 and b"failed /example.com/none/@v/v1.0.0.zip: 404" in r.stdout,
           "missing module: %d %s" % (r.returncode, r.stdout.decode()))
    mirror.proc.stop()
    with cache_proxy(env, mirror, d, offline="on") as p:
        download(env, p, "offline after --cache-fill")


@test("cache_first_use_after_start_checks_sha256")
def _(env):
    """After a restart an entry is hashed before its first use: a body
    changed on disk whose metadata was made to match its new file (what
    bit rot or a careless restore looks like) is removed, logged, and
    fetched again; the client gets the mirror's bytes."""
    mirror, root, d, mod, name, url = zip_fixture(env, 1)
    with cache_proxy(env, mirror, d) as p:
        mp.expect_status(get(env, p, url), 200, "cold")
        expect(wait_until(lambda: entry_matches(d, mod, name, root), 5), "not stored")
    body = entry(d, mod, name)
    with open(body, "r+b") as f:
        f.seek(10)
        b = f.read(1)
        f.seek(10)
        f.write(bytes([b[0] ^ 0x20]))
    st = os.stat(body)
    with open(body + ".meta") as f:
        lines = f.read().splitlines()
    lines = ["body %d %d %d" % (st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
             if l.startswith("body ") else l for l in lines]
    with open(body + ".meta", "w") as f:
        f.write("\n".join(lines) + "\n")
    with cache_proxy(env, mirror, d) as p:
        r = get(env, p, url)
        mp.expect_status(r, 200, "after the restart")
        with open(os.path.join(root, escape_path(mod.path), "@v", name), "rb") as f:
            expect(r.body == f.read(), "the changed body was served")
        expect(cache_words(p, "zip") == ["fill"], "lines: %s" % cache_words(p, "zip"))
        with open(p.error_log) as f:
            log = f.read()
        expect("SHA-256 differs from its metadata" in log, "error log: %s" % log[-500:])
        expect(wait_until(lambda: entry_matches(d, mod, name, root), 5), "not stored again")
        r = get(env, p, url)
        expect(cache_words(p, "zip")[-1] == "hit", "lines: %s" % cache_words(p, "zip"))


@test("cache_disk_full_client_still_served")
def _(env):
    """cache_dir on a 64k tmpfs: a 120k+ zip still reaches the client
    whole, nothing of it is stored (no entry, no temporary file), proxyd
    keeps serving, and the error log says so once (not per request)."""
    if os.geteuid() != 0:
        raise TestSkip("mounting a small tmpfs needs root")
    mirror, root = own_mirror(env)
    d = new_cache_dir(env)
    r = run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0755", "tmpfs", d], timeout=10)
    if r.returncode != 0:
        raise TestSkip("mount tmpfs: %s" % r.stderr.decode().strip())
    try:
        mod = modules(env)[0]          # go-cmp: its zip is over 100k
        name = mod.version + ".zip"
        url = "/%s/@v/%s" % (escape_path(mod.path), name)
        with open(os.path.join(root, escape_path(mod.path), "@v", name), "rb") as f:
            want = f.read()
        expect(len(want) > 64 * 1024, "the zip is only %d bytes" % len(want))
        with cache_proxy(env, mirror, d, workers=2) as p:
            for i in (1, 2, 3, 4, 5, 6):    # on both workers, most likely
                r = get(env, p, url)
                mp.expect_status(r, 200, "try %d" % i)
                expect(r.body == want, "try %d: %d bytes, want %d" % (i, len(r.body), len(want)))
            time.sleep(0.3)             # the store thread's abort
            left = [f for a, _, fs in os.walk(d) for f in fs if f.endswith(".zip") or
                    f.startswith(".")]
            expect(not left, "stored on a full disk: %s" % left)
            with open(p.error_log) as f:
                lines = [l for l in f.read().splitlines() if "No space left" in l]
            expect(len(lines) == 1, "disk-full lines: %s" % lines)
            mp.expect_status(get(env, p, "/%s/@v/%s.mod" % (escape_path(mod.path), mod.version)),
                             200, "a small file after")
    finally:
        run(["umount", "-l", d], timeout=10)


# ---------------------------------------------------------------- sumdb, absolute form

SUMDB_FILES = {
    "supported": b"",
    "latest": b"sum.test\n42\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n- sum.test fake\n",
    "lookup/github.com/google/go-cmp@v0.5.9": b"17\ngithub.com/google/go-cmp v0.5.9 h1:fake=\n\n",
    "tile/8/0/000": bytes(range(256)) * 4,
    "tile/8/0/001.p/5": bytes(range(160)),
}


@test("cache_sumdb_and_absolute_form_served_from_cache")
def _(env):
    """A proxied checksum database's supported, latest, lookup and tiles
    (full and partial) are kept, byte for byte (the empty `supported`
    too), and absolute-form requests for a GOPROXY host routed to mirrors
    (GET http://goproxy.test/... through the proxy) use the same cache;
    all of it is served with the mirror stopped."""
    mirror, root = own_mirror(env)
    for rel, data in SUMDB_FILES.items():
        path = os.path.join(root, "sumdb", "sum.test", rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    d = new_cache_dir(env)
    mod = modules(env)[0]
    absolute = "http://goproxy.test:%d/%s/@v/%s.mod" % (free_port(), escape_path(mod.path),
                                                        mod.version)
    route = {"hosts": "goproxy.test"}

    def fetch_all(p, word):
        for rel, data in SUMDB_FILES.items():
            r = get(env, p, "/sumdb/sum.test/" + rel)
            mp.expect_status(r, 200, "%s %s" % (word, rel))
            expect(r.body == data, "%s %s: %r" % (word, rel, r.body[:80]))
        r = mp.fetch(env, absolute, proxy=p)
        mp.expect_status(r, 200, "%s absolute form" % word)
        words = cache_words(p)
        expect(words == [word] * (len(SUMDB_FILES) + 1), "%s: %s" % (word, words))

    with cache_proxy(env, mirror, d, route=route) as p:
        fetch_all(p, "fill")
        for rel in SUMDB_FILES:
            wait_until(lambda: os.path.exists(os.path.join(d, "sumdb", "sum.test", rel + ".meta")), 5)
        wait_until(lambda: os.path.exists(entry(d, mod, mod.version + ".mod.meta")), 5)
    mirror.proc.stop()
    with cache_proxy(env, mirror, d, route=route) as p:
        fetch_all(p, "hit")


@test("cache_gzip_mirror_still_fills_identity")
def _(env):
    """A mirror that gzips for clients that accept it (as GCS-backed
    proxy.golang.org does): proxyd asks for the identity body when it
    caches, so a client sending Accept-Encoding: gzip still fills the
    cache, and the entry serves any client."""
    mirror, root = own_mirror(env, conf=["gzip on;", "gzip_min_length 1;",
                                         "gzip_types text/plain application/json;"])
    d = new_cache_dir(env)
    mod = modules(env)[0]
    path = "/%s/@v/%s.mod" % (escape_path(mod.path), mod.version)
    with open(os.path.join(root, path.lstrip("/")), "rb") as f:
        want = f.read()
    direct = mp.fetch(env, "http://127.0.0.1:%d%s" % (mirror.port("m"), path),
                      "-H", "Accept-Encoding: gzip")
    expect(direct.header("Content-Encoding") == "gzip", "the mirror does not gzip: %s"
           % direct.headers)
    with cache_proxy(env, mirror, d) as p:
        for word in ("fill", "hit"):
            r = mp.fetch(env, p.url + path, "-H", "Accept-Encoding: gzip")
            mp.expect_status(r, 200, word)
            expect(r.body == want and r.header("Content-Encoding") is None,
                   "%s: %r %s" % (word, r.body[:60], r.headers))
            wait_until(lambda: os.path.exists(entry(d, mod, mod.version + ".mod.meta")), 5)
        expect(cache_words(p) == ["fill", "hit"], "lines: %s" % cache_words(p))


CHUNKS = [b"PK" + bytes(range(200)), b"x" * 70000, b"end"]
CHUNKED_ANSWER = (b"HTTP/1.1 200 OK\r\nContent-Type: application/zip\r\n"
                  b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                  + b"".join(b"%x;ext=1\r\n%s\r\n" % (len(c), c) for c in CHUNKS)
                  + b"0\r\nX-Trailer: t\r\n\r\n")


@test("cache_chunked_answer_stored_as_its_data")
def _(env):
    """A mirror answering chunked (extensions, a trailer): the client gets
    it as it came, the entry holds the data alone, and the hit (with
    Content-Length) has the same body; an HTTP/1.0 client (dechunked)
    fills it the same way; a chunked body cut short stores nothing."""
    proxyd_only(env)
    want = b"".join(CHUNKS)
    for http10 in (False, True):
        m = _CuttingMirror(CHUNKED_ANSWER)
        d = new_cache_dir(env)
        try:
            keys = dict(mp.TIMEOUTS, modules="*", upstream="mirror http://127.0.0.1:%d" % m.port)
            with env.own_proxy(routes=[("go", keys)], cache_dir=d) as p:
                url = p.url + "/example.com/chunked/@v/v1.0.0.zip"
                args = ["--http1.0"] if http10 else []
                r = mp.fetch(env, url, *args)
                mp.expect_status(r, 200, "chunked fill (1.0: %s)" % http10)
                expect(r.body == want, "fill body: %d bytes" % len(r.body))
                body = os.path.join(d, "mod", "example.com", "chunked", "@v", "v1.0.0.zip")
                expect(wait_until(lambda: os.path.exists(body + ".meta"), 5), "not stored")
                with open(body, "rb") as f:
                    expect(f.read() == want, "stored body differs")
                r = mp.fetch(env, url)
                expect(r.body == want and r.header("Content-Length") == str(len(want)),
                       "hit: %d bytes, %s" % (len(r.body), r.headers))
                expect(cache_words(p) == ["fill", "hit"] and m.count == 1,
                       "lines %s, mirror asked %d times" % (cache_words(p), m.count))
        finally:
            m.close()
    cut = _CuttingMirror(CHUNKED_ANSWER[:len(CHUNKED_ANSWER) // 2])
    d = new_cache_dir(env)
    try:
        keys = dict(mp.TIMEOUTS, modules="*", upstream="mirror http://127.0.0.1:%d" % cut.port)
        with env.own_proxy(routes=[("go", keys)], cache_dir=d) as p:
            mp.fetch(env, p.url + "/example.com/chunked/@v/v1.0.0.zip")
            time.sleep(0.3)
            left = [f for a, _, fs in os.walk(d) for f in fs]
            expect(not left, "a cut chunked body left %s" % left)
    finally:
        cut.close()


# ---------------------------------------------------------------- checksum database

def sumdb_cache_proxy(env, mirror, db, cache_dir, latest_ttl="10m"):
    """A caching proxyd routing db's name to it and every module to mirror."""
    return env.own_proxy(routes=[
        ("sums", dict(mp.TIMEOUTS, modules=db.name, upstream="mirror " + db.url,
                      sumdb_latest_ttl=latest_ttl)),
        ("go", dict(mp.TIMEOUTS, modules="*",
                    upstream="mirror http://127.0.0.1:%d" % mirror.port("m")))],
        cache_dir=cache_dir)


def verified_tidy(env, p, db, what):
    """go mod tidy and go mod verify with the database on (GOSUMDB=<name>+<key>,
    GONOSUMDB and the rest unset), fresh GOPATH and GOMODCACHE; go.sum
    gets the database's hashes. Returns the tidy's seconds."""
    src, genv = st.verifying_workspace(env, p, db)
    t = mp.go_ok(src, genv, "mod", "tidy", what=what).elapsed
    mp.expect_in_cache(env, genv)
    r = mp.go_ok(src, genv, "mod", "verify", what=what + " (go mod verify)")
    expect("all modules verified" in r.stdout + r.stderr, "%s: go mod verify: %s"
           % (what, r.stdout + r.stderr))
    sums = {(l[0], l[1]) for l in st.go_sum_lines(src)}
    for path in (mp.CMP, mp.ERRORS, mp.TOML):
        v = mp.version_of(path)
        expect((path, v) in sums and (path, v + "/go.mod") in sums,
               "%s: go.sum lacks %s %s: %s" % (what, path, v, sorted(sums)))
    return t


def sumdb_words(p, db):
    """(kind, cache word) of each of p's checksum database lines."""
    return [(f.get("kind"), f.get("cache")) for f in mp.module_lines(p)
            if f.get("sumdb") == db.name]


@test("cache_sumdb_verified_then_from_cache_with_sumdb_stopped")
def _(env):
    """A real signed checksum database, GOSUMDB=<name>+<key>: go verifies
    every module through a caching proxyd (every database answer a fill:
    supported, lookups, tiles; go takes the signed tree head from the
    lookups, so it never asks latest here); with the database AND the
    mirror stopped, go verifies again with a fresh GOMODCACHE from the
    cache alone: lookups and full tiles are hits, supported and partial
    tiles too within sumdb_latest_ttl, and served stale (Warning: 110)
    once it has passed."""
    mirror, root = own_mirror(env)
    d = new_cache_dir(env)
    with sumdb_fixture.start(env, tree=root) as db:
        with sumdb_cache_proxy(env, mirror, db, d) as p:
            t = verified_tidy(env, p, db, "cold, verified")
            words = sumdb_words(p, db)
            kinds = {k for k, _ in words}
            expect({"sumdb-supported", "sumdb-lookup", "sumdb-tile"} <= kinds,
                   "database requests: %s" % words)
            expect(all(w == "fill" for _, w in words), "database requests: %s" % words)
            asked = len(db.requests())
        supported = os.path.join(d, "sumdb", db.name, "supported.meta")
        expect(wait_until(lambda: os.path.exists(supported), 5), "no %s" % supported)
    mirror.proc.stop()
    print("# cache_sumdb: cold verified tidy %.1fs, %d database requests" % (t, asked))
    with sumdb_cache_proxy(env, mirror, db, d) as p:
        t = verified_tidy(env, p, db, "database and mirror stopped, fresh entries")
        words = sumdb_words(p, db)
        expect(words and all(w == "hit" for _, w in words), "database requests: %s" % words)
        expect({"sumdb-lookup", "sumdb-tile"} <= {k for k, _ in words},
               "database requests: %s" % words)
        expect(all(w == "hit" for w in cache_words(p)), "lines: %s"
               % [f["line"] for f in mp.module_lines(p)])
    print("# cache_sumdb: verified tidy from the cache %.1fs" % t)
    time.sleep(1.1)
    with sumdb_cache_proxy(env, mirror, db, d, latest_ttl="1s") as p:
        verified_tidy(env, p, db, "database and mirror stopped, expired entries")
        words = sumdb_words(p, db)
        expect(("sumdb-supported", "stale") in words, "supported not stale: %s" % words)
        # A three-record tree has partial tiles only (.p/3): TTL'd too.
        expect(("sumdb-tile", "stale") in words, "no partial tile stale: %s" % words)
        expect(all(w in ("hit", "stale") for _, w in words), "database requests: %s" % words)
        expect(all(w == "hit" for k, w in words if k == "sumdb-lookup"),
               "an immutable entry not a plain hit: %s" % words)
        r = get(env, p, "/sumdb/%s/supported" % db.name)
        mp.expect_status(r, 200, "stale supported")
        expect(r.header("Warning") == '110 proxyd "Response is Stale"', "headers: %s"
               % r.headers)
