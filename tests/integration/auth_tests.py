"""auth_tests.py - proxy authentication (auth_file): bcrypt, sha512-crypt
and yescrypt users with curl, git and go; 407 with a Basic challenge for
wrong, unknown and missing credentials; weak hashes refused at load with
file:line; users = on a route (403 naming it) and --explain --user; the
failure limit (429 + Retry-After); the GOPROXY endpoint's Authorization,
never sent on to a mirror; a removed user refused at once after SIGHUP;
unknown and known users failing in the same time; one check for 1,000
requests on a connection; an authenticated client's latency while 20
others authenticate at once."""

import base64
import ctypes
import json
import os
import signal
import statistics
import subprocess
import threading
import time

from admin_tests import scrape, value
from curl_tests import curl
from go_tests import go, go_workspace
from harness import (TestFailure, TestSkip, expect, expect_eq, free_port, run, test,
                     wait_until, which_or_skip)
from httpraw import Conn

_lc = {}


def crypt_hash(prefix, password):
    """A hash by libxcrypt itself (as mkpasswd and chpasswd make them)."""
    if "lib" not in _lc:
        lc = ctypes.CDLL("libcrypt.so.1")
        lc.crypt_gensalt.restype = ctypes.c_char_p
        lc.crypt_gensalt.argtypes = [ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p, ctypes.c_int]
        lc.crypt.restype = ctypes.c_char_p
        lc.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
        _lc["lib"] = lc
    lc = _lc["lib"]
    return lc.crypt(password.encode(), lc.crypt_gensalt(prefix.encode(), 0, None, 0)).decode()


def bcrypt_hash(user, password, cost=10):
    """htpasswd -B -C 10, as the README says."""
    which_or_skip("htpasswd")
    r = run(["htpasswd", "-nbB", "-C", str(cost), user, password], timeout=20)
    if r.returncode != 0:
        raise TestFailure("htpasswd failed: %s" % r.stderr)
    return r.stdout.decode().strip().split(":", 1)[1]


_seq = [0]


def users_file(env, lines):
    _seq[0] += 1
    return env.wd.write("auth/users-%d" % _seq[0], "".join(l + "\n" for l in lines))


def standard_users(env):
    return users_file(env, [
        "alice:%s:ci,dev" % bcrypt_hash("alice", "alice-pw"),
        "bob:%s" % crypt_hash("$6$", "bob-pw"),
        "carol:%s:ci" % crypt_hash("$y$", "carol-pw"),
    ])


def auth_proxy(env, path, routes=None, **settings):
    routes = routes or [("all", {"hosts": "*", "upstream": "direct"})]
    settings.setdefault("auth_realm", "test gateway")
    return env.own_proxy(auth_file=path, routes=routes, args=["-d"], **settings)


def proxyd_only(env):
    if env.kind != "proxyd":
        raise TestSkip("proxyd's auth_file")


def with_user(p, user, password):
    return "http://%s:%s@127.0.0.1:%d" % (user, password, p.port)


def basic(user, password):
    return "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()


def raw_request(p, url, auth=None, header="Proxy-Authorization", timeout=10):
    with Conn(p.port, timeout=timeout) as c:
        hostport = url.split("/")[2] if "://" in url else "127.0.0.1:%d" % p.port
        extra = ("%s: %s\r\n" % (header, auth)) if auth else ""
        c.send(("GET %s HTTP/1.1\r\nHost: %s\r\n%sConnection: close\r\n\r\n"
                % (url, hostport, extra)).encode())
        return c.read_response()


def error_log(p):
    try:
        with open(p.error_log, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def checks(p):
    return error_log(p).count("checked password of user")


@test("auth_users_file_refuses_weak_hashes")
def _(env):
    """Plain text, DES, MD5 crypt ($1$, $apr1$) and lines without a hash
    are refused by proxyd -t, each as users-file:line."""
    proxyd_only(env)
    path = users_file(env, [
        "# comment", "",
        "plain:secret",
        "des:abJnggxhB/yWI",
        "md5:$1$abcdefgh$G//4keteveJCmJpXBXQcJ.",
        "apr:$apr1$abcdefgh$Fb1K3BkF0D2p5iJmtH8vG/",
        "nohash",
        "good:%s" % crypt_hash("$6$", "pw"),
    ])
    conf = env.wd.write("auth/weak.conf", "[proxyd]\nauth_file = %s\n" % path)
    r = run([env.proxyd_binary, "-t", "-c", conf], timeout=20)
    err = r.stderr.decode()
    expect_eq(r.returncode, 1, "exit status of -t (%s)" % err)
    for line in (3, 4, 5, 6, 7):
        expect("%s:%d: " % (path, line) in err, "no %s:%d error in: %s" % (path, line, err))
    expect("%s:8:" % path not in err, "the sha512-crypt line was refused: %s" % err)
    expect("MD5" in err and "bcrypt" in err, "the errors do not say what is expected: %s" % err)


@test("auth_curl_bcrypt_sha512_yescrypt_users")
def _(env):
    """curl --proxy-user with each scheme: 200, and the access log names
    the user; GET and CONNECT (https) alike."""
    proxyd_only(env)
    with auth_proxy(env, standard_users(env)) as p:
        for user in ("alice", "bob", "carol"):
            r = curl(env, env.http_url("/1k"), "--proxy-user", "%s:%s-pw" % (user, user), proxy=p)
            expect_eq(r.status, 200, "status for %s" % user)
            r = curl(env, env.https_url("/1k"), "--proxy-user", "%s:%s-pw" % (user, user),
                     "--cacert", env.origin.ca, proxy=p)
            expect_eq(r.status, 200, "CONNECT status for %s" % user)
        ok = wait_until(lambda: all(any(" user=%s" % u in l and " 200 " in l
                                        for l in p.access_lines())
                                    for u in ("alice", "bob", "carol")), 3)
        expect(ok, "access log without user=: %s" % p.access_lines()[-6:])


@test("auth_407_wrong_unknown_missing")
def _(env):
    """Wrong password, unknown user, no credentials, not Basic: 407 with
    Proxy-Authenticate: Basic realm="..." and a one-line body."""
    proxyd_only(env)
    with auth_proxy(env, standard_users(env)) as p:
        url = env.http_url("/1k")
        for auth in (basic("alice", "nope"), basic("mallory", "x"), None, "Bearer abc"):
            r = raw_request(p, url, auth)
            expect_eq(r.status, 407, "status with %r" % auth)
            expect_eq(r.header("Proxy-Authenticate"), 'Basic realm="test gateway"',
                      "challenge with %r" % auth)
            expect(r.body.startswith(b"proxyd: ") and r.body.count(b"\n") == 1,
                   "body is not one line: %r" % r.body)
        # curl with a wrong password gets the 407 too.
        r = curl(env, url, "--proxy-user", "alice:wrong", proxy=p)
        expect_eq(r.status, 407, "curl status")


@test("auth_route_users_group_403_and_explain")
def _(env):
    """users = @ci on a route: alice (ci) passes, bob gets 403 naming the
    route, other routes take him; --explain --user says the same."""
    proxyd_only(env)
    path = standard_users(env)
    routes = [("ci-only", {"hosts": "echo.test", "upstream": "direct", "users": "@ci"}),
              ("all", {"hosts": "*", "upstream": "direct"})]
    with auth_proxy(env, path, routes=routes) as p:
        url = env.echo_url("/echo")
        r = raw_request(p, url, basic("alice", "alice-pw"))
        expect_eq(r.status, 200, "alice on ci-only")
        r = raw_request(p, url, basic("bob", "bob-pw"))
        expect_eq(r.status, 403, "bob on ci-only")
        expect(b"ci-only" in r.body, "403 does not name the route: %r" % r.body)
        r = raw_request(p, env.http_url("/1k"), basic("bob", "bob-pw"))
        expect_eq(r.status, 200, "bob on all")
        for user, want in (("carol", "allowed"), ("bob", "not allowed by route 'ci-only'"),
                           ("zed", "not in")):
            e = run([env.proxyd_binary, "-c", p.conf, "--explain", url, "--user", user], timeout=20)
            out = e.stdout.decode()
            expect(e.returncode == 0 and want in out, "--explain --user %s: %s" % (user, out))


@test("auth_git_clone_with_proxy_credentials")
def _(env):
    """git clone over http and https with http.proxy=http://user:pass@..."""
    proxyd_only(env)
    which_or_skip("git")
    with auth_proxy(env, standard_users(env)) as p:
        for scheme, port in (("http", env.origin.nginx.http_port),
                             ("https", env.origin.nginx.https_port)):
            dest = env.wd.sub("auth-clone-%s" % scheme)
            genv = env.client_env()
            genv.update(GIT_TERMINAL_PROMPT="0", GIT_CONFIG_NOSYSTEM="1",
                        GIT_CONFIG_GLOBAL="/dev/null")
            r = run(["git", "-c", "http.proxy=" + with_user(p, "carol", "carol-pw"),
                     "-c", "http.sslCAInfo=" + env.origin.ca, "clone", "-q",
                     "%s://git.test:%d/repo.git" % (scheme, port), dest],
                    timeout=60, env=genv)
            expect(r.returncode == 0, "git clone %s failed: %s" % (scheme, r.stderr[-600:]))
            expect(os.path.exists(os.path.join(dest, "README")), "no README in the clone")
        ok = wait_until(lambda: any("repo.git" in l and "user=carol" in l
                                    for l in p.access_lines()), 3)
        expect(ok, "no access line of carol's clone")


@test("auth_go_mod_download_with_proxy_credentials")
def _(env):
    """go mod download with HTTP_PROXY/HTTPS_PROXY=http://user:pass@..."""
    proxyd_only(env)
    which_or_skip("go")
    with auth_proxy(env, standard_users(env)) as p:
        src, genv, mods = go_workspace(env)
        genv.update(HTTP_PROXY=with_user(p, "bob", "bob-pw"),
                    HTTPS_PROXY=with_user(p, "bob", "bob-pw"))
        go(["go", "mod", "download"], src, genv)
        ok = wait_until(lambda: any(".zip" in l and "user=bob" in l for l in p.access_lines()), 3)
        expect(ok, "no access line of bob's module zips")


@test("auth_go_connect_https_goproxy_with_proxy_credentials")
def _(env):
    """go with HTTPS_PROXY=http://user:pass@proxyd fetches modules from an
    https GOPROXY through CONNECT tunnels carrying the credentials."""
    proxyd_only(env)
    which_or_skip("go")
    import modproxy_tests as mp
    with auth_proxy(env, standard_users(env)) as p:
        src, genv = mp.workspace(env, mp.tls_url(env), paths=(mp.ERRORS,))
        genv.update(HTTPS_PROXY=with_user(p, "carol", "carol-pw"), SSL_CERT_FILE=env.origin.ca)
        mp.go_ok(src, genv, "mod", "download")
        port = mp.mirrors(env).port("tls")
        ok = wait_until(lambda: any("CONNECT mirror.test:%d 200" % port in l and "user=carol" in l
                                    for l in p.access_lines()), 3)
        expect(ok, "no CONNECT line of carol: %s" % p.access_lines()[-3:])


@test("auth_apt_acquire_http_proxy")
def _(env):
    """apt's own http method (apt-helper download-file) with
    Acquire::http::Proxy=http://user:pass@proxyd: the file with good
    credentials, 407 with a wrong password."""
    proxyd_only(env)
    helper = "/usr/lib/apt/apt-helper"
    if not os.access(helper, os.X_OK):
        raise TestSkip("apt-helper is not installed")
    with auth_proxy(env, standard_users(env)) as p:
        for password, want in (("alice-pw", 0), ("nope", 100)):
            dest = env.wd.sub("auth-apt-%s" % password)
            r = run([helper, "-o", "Acquire::http::Proxy=" + with_user(p, "alice", password),
                     "-o", "APT::Sandbox::User=root", "-o", "Acquire::Retries=0",
                     "download-file", env.http_url("/1k"), dest], timeout=30, env=env.client_env())
            out = (r.stdout + r.stderr).decode(errors="replace")
            expect_eq(r.returncode, want, "apt-helper exit with %s (%s)" % (password, out[-400:]))
            if want == 0:
                expect_eq(os.path.getsize(dest), 1024, "downloaded size")
            else:
                expect("407" in out, "apt does not report the 407: %s" % out[-400:])


@test("auth_fail_limit_429_retry_after")
def _(env):
    """auth_fail_limit 3 failures in the window: the 4th request gets 429
    with Retry-After, even with good credentials."""
    proxyd_only(env)
    with auth_proxy(env, standard_users(env), auth_fail_limit=3, auth_fail_window="30s") as p:
        url = env.http_url("/1k")
        for i in range(3):
            expect_eq(raw_request(p, url, basic("bob", "wrong%d" % i)).status, 407, "failure %d" % i)
        r = raw_request(p, url, basic("bob", "bob-pw"))
        expect_eq(r.status, 429, "after 3 failures")
        ra = r.header("Retry-After")
        expect(ra is not None and ra.isdigit() and 25 <= int(ra) <= 30, "Retry-After %r" % ra)


@test("auth_goproxy_authorization_not_forwarded")
def _(env):
    """The GOPROXY endpoint takes Authorization: Basic (what go sends from
    .netrc), answers 407 without it, and sends neither header on to the
    mirror."""
    proxyd_only(env)
    mirror = "http://echo.test:%d/echo" % env.origin.echo.port
    routes = [("go", {"modules": "*", "upstream": "mirror " + mirror})]
    with auth_proxy(env, standard_users(env), routes=routes) as p:
        path = "/example.test/mod/@v/list"
        r = raw_request(p, path)
        expect_eq(r.status, 407, "without credentials")
        for header in ("Authorization", "Proxy-Authorization"):
            r = raw_request(p, path, basic("carol", "carol-pw"), header=header)
            expect_eq(r.status, 200, "with %s" % header)
            seen = json.loads(r.body)["headers"]
            names = [h[0].lower() if isinstance(h, list) else h.lower() for h in seen]
            expect("authorization" not in names and "proxy-authorization" not in names,
                   "credentials reached the mirror: %s" % seen)


@test("auth_reload_removed_user_refused_at_once")
def _(env):
    """A user removed from the file is refused right after SIGHUP, though
    the connection's and the worker's caches had them."""
    proxyd_only(env)
    path = users_file(env, ["dave:%s" % crypt_hash("$6$", "dave-pw"),
                            "erin:%s" % crypt_hash("$6$", "erin-pw")])
    with auth_proxy(env, path) as p:
        url = env.echo_url("/echo")
        with Conn(p.port, timeout=10) as c:
            for _ in range(2):
                c.send(("GET %s HTTP/1.1\r\nHost: echo.test\r\nProxy-Authorization: %s\r\n\r\n"
                        % (url, basic("dave", "dave-pw"))).encode())
                expect_eq(c.read_response().status, 200, "dave before the reload")
            with open(path, "w") as f:
                f.write("erin:%s\n" % crypt_hash("$6$", "erin-pw"))
            before = error_log(p).count("loaded:")
            p.proc.send_signal(signal.SIGHUP)
            expect(wait_until(lambda: error_log(p).count("loaded:") > before, 5),
                   "no reload: %s" % error_log(p)[-800:])
            # "loaded:" is logged before the workers have swapped in the
            # new snapshot (a pipe each): the next requests on the kept
            # connection turn to 407 within moments.
            deadline, status = time.monotonic() + 3, 200
            while status == 200 and time.monotonic() < deadline:
                c.send(("GET %s HTTP/1.1\r\nHost: echo.test\r\nProxy-Authorization: %s\r\n\r\n"
                        % (url, basic("dave", "dave-pw"))).encode())
                status = c.read_response().status
                if status == 200:
                    time.sleep(0.01)
            expect_eq(status, 407, "dave on the same connection after reload")
        expect_eq(raw_request(p, url, basic("dave", "dave-pw")).status, 407, "dave, new connection")
        expect_eq(raw_request(p, url, basic("erin", "erin-pw")).status, 200, "erin")


def timed_failure(p, url, auth):
    t0 = time.monotonic()
    r = raw_request(p, url, auth)
    if r.status != 407:
        raise TestFailure("expected 407, got %d" % r.status)
    return time.monotonic() - t0


@test("auth_timing_unknown_equals_wrong_password")
def _(env):
    """An unknown user costs what a wrong password of the costliest
    (bcrypt) user costs: medians within 25 %."""
    proxyd_only(env)
    with auth_proxy(env, standard_users(env), auth_fail_limit=0) as p:
        url = env.http_url("/1k")
        # Up to three tries: load on a shared machine comes in bursts.
        for attempt in range(3):
            known, unknown = [], []
            for i in range(9):
                known.append(timed_failure(p, url, basic("alice", "wrong%d" % i)))
                unknown.append(timed_failure(p, url, basic("nobody%d" % i, "wrong")))
            mk, mu = statistics.median(known), statistics.median(unknown)
            print("# auth timing: wrong password median %.1f ms, unknown user median %.1f ms"
                  % (mk * 1000, mu * 1000))
            if abs(mk - mu) <= 0.25 * max(mk, mu):
                break
        expect(abs(mk - mu) <= 0.25 * max(mk, mu),
               "medians %.1f ms (known) and %.1f ms (unknown) differ by more than 25 %%"
               % (mk * 1000, mu * 1000))


def keepalive_run(p, url, n, auth, conn=None):
    """n requests on one connection (conn, or a new one); seconds."""
    extra = "Proxy-Authorization: %s\r\n" % auth if auth else ""
    req = ("GET %s HTTP/1.1\r\nHost: %s\r\n%s\r\n" % (url, url.split("/")[2], extra)).encode()
    c = conn or Conn(p.port, timeout=10)
    try:
        t0 = time.monotonic()
        for _ in range(n):
            c.send(req)
            r = c.read_response()
            if r.status != 200:
                raise TestFailure("status %d on the keep-alive connection" % r.status)
        return time.monotonic() - t0
    finally:
        if conn is None:
            c.close()


def keepalive_compare(plain, p, url, cred, pc, ac):
    """20 interleaved pairs of 50 requests in alternating order: (time
    without auth, time with, the fastest 50 with / the fastest without).
    The fastest of each side: load on the shared machine comes in bursts
    and only ever makes a run slower."""
    pairs = []
    for i in range(20):
        if i % 2:
            a = keepalive_run(p, url, 50, cred, ac)
            b = keepalive_run(plain, url, 50, None, pc)
        else:
            b = keepalive_run(plain, url, 50, None, pc)
            a = keepalive_run(p, url, 50, cred, ac)
        pairs.append((b, a))
    return (sum(x[0] for x in pairs), sum(x[1] for x in pairs),
            min(x[1] for x in pairs) / min(x[0] for x in pairs))


def verifications(admin):
    """Password hashes proxyd verified, from its /metrics."""
    samples, _ = scrape(admin)
    return sum(value(samples, "proxyd_auth_verifications_total", result=r)
               for r in ("ok", "fail"))


@test("auth_keepalive_1000_requests_one_check")
def _(env):
    """1,000 authenticated requests on one connection: one password check
    (proxyd_auth_verifications_total on /metrics), and under 10 % more
    time than without auth (up to 3 measurements: a burst of load
    elsewhere can last a whole one)."""
    proxyd_only(env)
    url = env.http_url("/1k")
    cred = basic("alice", "alice-pw")
    admin = free_port()
    # One worker each, both with -d and metrics (an admin listener): the
    # two loops are alike.
    with env.own_proxy(routes=[("all", {"hosts": "*", "upstream": "direct"})],
                       workers=1, args=["-d"],
                       admin_listen="127.0.0.1:%d" % free_port()) as plain, \
            auth_proxy(env, standard_users(env), workers=1,
                       admin_listen="127.0.0.1:%d" % admin) as p, \
            Conn(plain.port, timeout=10) as pc, Conn(p.port, timeout=10) as ac:
        keepalive_run(plain, url, 50, None, pc)
        keepalive_run(p, url, 1, cred, ac)      # the check, paid once
        n0 = verifications(admin)
        for attempt in range(3):
            base, authed, ratio = keepalive_compare(plain, p, url, cred, pc, ac)
            print("# auth keep-alive: 1000 requests %.3fs without auth, %.3fs with, "
                  "fastest 50 %.3f" % (base, authed, ratio))
            if ratio <= 1.10:
                break
        n1 = verifications(admin)
    expect_eq(n0, 1, "password checks for the first request")
    expect_eq(n1, 1, "password checks for all requests on one connection")
    expect(ratio <= 1.10, "requests took %.1f %% more time with auth (1000 requests %.3fs with, "
           "%.3fs without)" % ((ratio - 1) * 100, authed, base))


@test("auth_latency_while_20_clients_authenticate")
def _(env):
    """An authenticated client's p99 stays under 50 ms while 20 clients
    authenticate with fresh bcrypt credentials at once (checks run off
    the event loop)."""
    proxyd_only(env)
    lines = ["alice:%s" % bcrypt_hash("alice", "alice-pw")]
    lines += ["u%d:%s" % (i, bcrypt_hash("u%d" % i, "pw%d" % i)) for i in range(20)]
    with auth_proxy(env, users_file(env, lines), workers=1, auth_fail_limit=0) as p:
        url = env.http_url("/1k")
        keepalive_run(p, url, 1, basic("alice", "alice-pw"))
        lat, errors = [], []
        stop = threading.Event()

        def fresh(i):
            try:
                r = raw_request(p, url, basic("u%d" % i, "pw%d" % i), timeout=30)
                if r.status != 200:
                    errors.append("u%d: %d" % (i, r.status))
            except Exception as e:      # reported below
                errors.append("u%d: %r" % (i, e))

        def measure():
            req = ("GET %s HTTP/1.1\r\nHost: %s\r\nProxy-Authorization: %s\r\n\r\n"
                   % (url, url.split("/")[2], basic("alice", "alice-pw"))).encode()
            with Conn(p.port, timeout=10) as c:
                while not stop.is_set():
                    t0 = time.monotonic()
                    c.send(req)
                    c.read_response()
                    lat.append(time.monotonic() - t0)
                    time.sleep(0.002)

        m = threading.Thread(target=measure, daemon=True)
        m.start()
        time.sleep(0.05)
        threads = [threading.Thread(target=fresh, args=(i,), daemon=True) for i in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=40)
        stop.set()
        m.join(timeout=10)
        expect(not errors, "fresh clients: %s" % errors[:5])
        expect(len(lat) >= 20, "only %d measured requests" % len(lat))
        lat.sort()
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
        print("# auth latency: %d requests while 20 authenticate, p99 %.1f ms, max %.1f ms, "
              "%d checks" % (len(lat), p99 * 1000, lat[-1] * 1000, checks(p)))
        expect(p99 < 0.050, "p99 %.1f ms >= 50 ms" % (p99 * 1000))
