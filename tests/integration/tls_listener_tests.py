"""tls_listener_tests.py - the HTTPS listener (listen = tls ADDR): curl
with --proxy https:// for http:// and https:// URLs (absolute form and a
CONNECT tunnel inside TLS), go with HTTPS_PROXY=https:// (CONNECT) and
GOPROXY=https:// with .netrc credentials on an auth_file listener, git
with http.proxy=https://; hostile clients (plain HTTP, garbage, a
ClientHello cut then silence, TLS 1.1 only); -t errors with file:line; a
new certificate on SIGHUP for new connections while an open one goes on;
client certificates (tls_client_ca) naming the user."""

import hashlib
import json
import os
import shutil
import socket
import ssl
import threading
import time

from curl_tests import curl, expect_ok
from git_tests import repo_url
from harness import (LOOPBACK, TestFailure, TestSkip, expect, expect_eq, run, test,
                     wait_until, which_or_skip)
from httpraw import Conn, read_until_closed
from parents import access_line, log_fields
from reload_tests import reload, rewrite
from servers import run_openssl
from transparent_tests import client_hello

_seq = [0]


def proxyd_only(env):
    if env.kind != "proxyd":
        raise TestSkip("proxyd's tls listener")


def ca_key(env):
    return os.path.join(os.path.dirname(env.origin.ca), "ca.key")


def make_cert(env, stem, cn, ext, ca=None):
    """A key and certificate for cn signed by ca ((pem, key); the test CA
    by default) with extension lines ext; returns (cert.pem, key)."""
    d = env.wd.sub("tls-listener", mkdir=True)
    key, csr, pem, extf = (os.path.join(d, stem + s) for s in (".key", ".csr", ".pem", ".ext"))
    with open(extf, "w") as f:
        f.write("basicConstraints = CA:FALSE\n" + "".join(l + "\n" for l in ext))
    ca_pem, ca_k = ca or (env.origin.ca, ca_key(env))
    steps = [
        ["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=" + cn],
        ["openssl", "x509", "-req", "-in", csr, "-CA", ca_pem, "-CAkey", ca_k,
         "-CAcreateserial", "-out", pem, "-days", "2", "-extfile", extf],
    ]
    run_openssl(steps)
    return pem, key


def server_cert(env, stem="proxy"):
    """A certificate for the proxy itself: 127.0.0.1, as clients dial it."""
    return make_cert(env, stem, "proxyd.test",
                     ["extendedKeyUsage = serverAuth", "subjectAltName = IP:127.0.0.1"])


def make_ca(env, stem):
    d = env.wd.sub("tls-listener", mkdir=True)
    key, pem = os.path.join(d, stem + ".key"), os.path.join(d, stem + ".pem")
    run_openssl([["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                  "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", pem,
                  "-days", "2", "-subj", "/CN=" + stem,
                  "-addext", "basicConstraints=critical,CA:TRUE",
                  "-addext", "keyUsage=critical,keyCertSign,cRLSign"]])
    return pem, key


def client_cert(env, cn, ca):
    _seq[0] += 1
    return make_cert(env, "client-%d" % _seq[0], cn, ["extendedKeyUsage = clientAuth"], ca=ca)


def tls_proxy(env, cert=None, **settings):
    proxyd_only(env)
    cert, key = cert or server_cert(env)
    settings.setdefault("routes", [("all", {"hosts": "*", "upstream": "direct"})])
    settings.setdefault("args", ["-d"])
    return env.own_proxy(tls=True, tls_cert=cert, tls_key=key, **settings)


class Via:
    """What curl() takes as proxy=: the tls listener's URL."""

    def __init__(self, url):
        self.url = url


def tls_curl(env, p, url, *args, timeout=30):
    return curl(env, url, "--proxy-cacert", env.origin.ca, *args,
                proxy=Via(p.tls_url), timeout=timeout)


def client_context(cafile, cert=None, key=None, **kw):
    ctx = ssl.create_default_context(cafile=cafile)
    if cert:
        ctx.load_cert_chain(cert, key)
    for k, v in kw.items():
        setattr(ctx, k, v)
    return ctx


class TlsConn(Conn):
    """httpraw.Conn over TLS to the tls listener."""

    def __init__(self, port, ctx, timeout=10.0):
        super().__init__(port, timeout=timeout)
        self.sock = ctx.wrap_socket(self.sock, server_hostname=LOOPBACK)


def get(c, url, extra=""):
    hostport = url.split("/")[2]
    c.send(("GET %s HTTP/1.1\r\nHost: %s\r\n%s\r\n" % (url, hostport, extra)).encode())
    return c.read_response()


def closed_without_answer(sock, timeout):
    """Wait for the proxy to close sock; what it sent before (b"" is the
    hoped-for answer), or None if it was still open after timeout."""
    data, closed = read_until_closed(sock, timeout)
    return data if closed else None


# ---------------------------------------------------------------- curl

@test("tls_listener_curl_http_and_https")
def _(env):
    """curl --proxy https://: an http:// URL (absolute form inside TLS)
    and an https:// URL (CONNECT, then the origin's TLS inside ours), and
    the plain listener next to it still plain."""
    with tls_proxy(env) as p:
        r = tls_curl(env, p, env.http_url("/1k"))
        expect_ok(r)
        expect_eq(len(r.body), 1024, "body length over http://")
        r = tls_curl(env, p, env.http_url("/20m"))
        expect_ok(r)
        expect(r.body == env.origin.files["20m"], "20 MiB over http:// differ")
        body = os.urandom(3 << 20)
        r = tls_curl(env, p, env.echo_url("/echo"), "--data-binary",
                     "@" + env.wd.write("tls-listener/post.bin", body))
        expect_ok(r)
        echo = json.loads(r.body)
        expect_eq(echo["body_sha256"], hashlib.sha256(body).hexdigest(), "uploaded body")
        r = tls_curl(env, p, env.https_url("/20m"), "--cacert", env.origin.ca)
        expect_ok(r)
        expect(r.body == env.origin.files["20m"], "20 MiB through the tunnel differ")
        r = curl(env, env.http_url("/1k"), proxy=p)
        expect_ok(r)
        want = "CONNECT origin.test:%d" % env.origin.nginx.https_port
        expect(wait_until(lambda: any(want in l for l in p.access_lines()), 3),
               "no CONNECT line: %s" % p.access_lines()[-3:])


@test("tls_listener_tunnel_half_close_and_bulk")
def _(env):
    """A CONNECT tunnel whose client side is TLS relays 4 MiB both ways
    byte for byte and passes the client's end on (close_notify, then the
    echo server's EOF back)."""
    with tls_proxy(env) as p:
        echo = env.origin.echo.port
        ctx = client_context(env.origin.ca)
        with TlsConn(p.tls_port, ctx, timeout=20) as c:
            c.send(b"CONNECT 127.0.0.1:%d HTTP/1.1\r\nHost: x\r\n\r\n" % echo)
            expect_eq(c.read_line(), b"HTTP/1.1 200 Connection established", "answer")
            c.read_line()
            body = os.urandom(4 << 20)
            req = b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body)
            c.send(req + body)
            r = c.read_response()
            expect_eq(r.status, 200, "echo status")
            expect(len(c.buf) == 0, "stray bytes")
            # Our close_notify reaches the origin as EOF; its close comes
            # back as proxyd's close_notify (unwrap waits for it), then FIN.
            plain = c.sock.unwrap()
            expect_eq(plain.recv(100), b"", "after close_notify")
        f = log_fields(access_line(p, "CONNECT 127.0.0.1:%d " % echo))
        expect(int(f.get("in", "0")) > len(body), "in= of the tunnel: %s" % f)


# ---------------------------------------------------------------- hostile

def raw(p, timeout=5):
    return socket.create_connection((LOOPBACK, p.tls_port), timeout=timeout)


@test("tls_listener_hostile_clients_closed_unanswered")
def _(env):
    """Plain HTTP, garbage and a TLS 1.1-only client on the tls port are
    closed without an answer (there is no TLS session to answer on), and
    the failure is in the debug log; the listener serves afterwards."""
    with tls_proxy(env) as p:
        for what, data in (("plain HTTP", b"GET http://origin.test/ HTTP/1.1\r\nHost: a\r\n\r\n"),
                           ("garbage", os.urandom(3000))):
            s = raw(p)
            try:
                s.sendall(data)
                got = closed_without_answer(s, 5)
            finally:
                s.close()
            expect(got is not None, "%s: still open after 5 s" % what)
            expect(b"HTTP/" not in got, "%s answered in plain text: %r" % (what, got[:80]))
        ctx = client_context(env.origin.ca)
        ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.maximum_version = ssl.TLSVersion.TLSv1_1
        try:
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        except ssl.SSLError:
            pass
        try:
            with TlsConn(p.tls_port, ctx):
                pass
            raise TestFailure("a TLS 1.1-only client got a session")
        except (ssl.SSLError, ConnectionResetError):
            pass
        expect(wait_until(lambda: "TLS handshake failed" in open(p.error_log).read(), 3),
               "no handshake failure in the debug log")
        expect_ok(tls_curl(env, p, env.http_url("/1k")))


def dribble(sock, data, every, stop):
    """Send data a byte every `every` s until it is sent or stop is set."""
    for i in range(len(data)):
        if stop.is_set():
            return
        try:
            sock.sendall(data[i:i + 1])
        except OSError:
            return
        time.sleep(every)


@test("tls_listener_cut_client_hello_closed_at_header_timeout")
def _(env):
    """Half a ClientHello then silence, and a ClientHello sent a byte
    every 0.2 s: each closed unanswered once header_timeout (1 s) has
    passed, not before and not much later (3 tries: a loaded machine)."""
    with tls_proxy(env, header_timeout="1s") as p:
        hello = client_hello(LOOPBACK)
        expect(len(hello) > 100, "ClientHello of %d bytes" % len(hello))
        for how in ("cut", "dribbled"):
            for attempt in range(3):
                s = raw(p, timeout=10)
                stop = threading.Event()
                t0 = time.monotonic()
                if how == "cut":
                    s.sendall(hello[:len(hello) // 2])
                else:
                    th = threading.Thread(target=dribble, args=(s, hello, 0.2, stop),
                                          daemon=True)
                    th.start()
                try:
                    got = closed_without_answer(s, 8)
                    took = time.monotonic() - t0
                finally:
                    stop.set()
                    s.close()
                expect(got == b"", "%s: answered or still open: %r" % (how, got))
                if 0.8 <= took <= 3.0:
                    break
            else:
                raise TestFailure("%s: closed after %.2f s, header_timeout is 1 s" % (how, took))


# ---------------------------------------------------------------- config

@test("tls_listener_config_errors_file_line")
def _(env):
    """proxyd -t: a tls listener without tls_cert, a missing key file, a
    key of another certificate, a key file given as tls_cert: each
    refused on the line of the key to change."""
    proxyd_only(env)
    cert, key = server_cert(env)
    other_cert, other_key = server_cert(env, "other")
    d = env.wd.sub("tls-listener", mkdir=True)
    cases = [
        ("listen = tls 127.0.0.1:1\n", 2, "needs tls_cert and tls_key"),
        ("listen = tls 127.0.0.1:1\ntls_cert = %s\ntls_key = %s/missing.key\n" % (cert, d),
         4, "cannot read"),
        ("listen = tls 127.0.0.1:1\ntls_cert = %s\ntls_key = %s\n" % (cert, other_key),
         4, "does not match"),
        ("listen = tls 127.0.0.1:1\ntls_cert = %s\ntls_key = %s\n" % (key, key),
         3, "tls_cert: expected PEM certificates"),
        ("listen = 127.0.0.1:1\ntls_cert = %s\n" % cert, 3, "tls_cert and tls_key together"),
        ("listen = tlsx 127.0.0.1:1\n", 2, "listen: expected"),
    ]
    for i, (text, line, want) in enumerate(cases):
        path = os.path.join(d, "bad-%d.conf" % i)
        with open(path, "w") as f:
            f.write("[proxyd]\n" + text)
        r = run([env.proxyd_binary, "-t", "-c", path], timeout=20)
        err = r.stderr.decode(errors="replace")
        expect(r.returncode != 0, "case %d accepted" % i)
        expect("%s:%d: " % (path, line) in err and want in err,
               "case %d: want %s:%d: ...%s..., got %r" % (i, path, line, want, err))
    good = os.path.join(d, "good.conf")
    with open(good, "w") as f:
        f.write("[proxyd]\nlisten = tls 127.0.0.1:1\ntls_cert = %s\ntls_key = %s\n"
                % (other_cert, other_key))
    r = run([env.proxyd_binary, "-t", "-c", good], timeout=20)
    expect(b"tls" not in r.stderr, "a good tls config refused: %r" % r.stderr)


def peer_serial(p, ca):
    ctx = client_context(ca)
    with TlsConn(p.tls_port, ctx) as c:
        return c.sock.getpeercert()["serialNumber"]


@test("tls_listener_reload_new_cert_keeps_open_connections")
def _(env):
    """SIGHUP with a new certificate: new connections get it, a
    connection opened before goes on with the old session; a reload
    with a key that does not match keeps the old configuration."""
    cert, key = server_cert(env, "reload-a")
    cert2, key2 = server_cert(env, "reload-b")
    # One worker: the swap reaches each worker after "loaded:" is logged.
    with tls_proxy(env, cert=(cert, key), workers=1) as p:
        before = peer_serial(p, env.origin.ca)
        ctx = client_context(env.origin.ca)
        with TlsConn(p.tls_port, ctx) as old:
            expect_eq(get(old, env.http_url("/1k")).status, 200, "before reload")
            p.settings["tls_cert"], p.settings["tls_key"] = cert2, key2
            rewrite(p)
            reload(p)
            expect(wait_until(lambda: peer_serial(p, env.origin.ca) != before, 5),
                   "new connections still get the old certificate")
            after = peer_serial(p, env.origin.ca)
            expect_eq(get(old, env.http_url("/1k")).status, 200, "old connection after reload")
            p.settings["tls_key"] = key     # cert2 with the old key
            rewrite(p)
            reload(p, expect_ok=False)
            expect_eq(peer_serial(p, env.origin.ca), after, "after a bad reload")
            expect_eq(get(old, env.http_url("/1k")).status, 200, "old connection at the end")


# ---------------------------------------------------------------- git, go

@test("tls_listener_git_clone")
def _(env):
    """git with http.proxy=https://... and http.proxySSLCAInfo clones over
    smart HTTP, plain (absolute form) and https (CONNECT)."""
    which_or_skip("git")
    with tls_proxy(env) as p:
        for scheme in ("http", "https"):
            _seq[0] += 1
            dest = env.wd.sub("tls-clone-%d" % _seq[0])
            genv = env.client_env()
            genv.update(GIT_TERMINAL_PROMPT="0", GIT_CONFIG_NOSYSTEM="1",
                        GIT_CONFIG_GLOBAL="/dev/null")
            r = run(["git", "-c", "http.proxy=" + p.tls_url,
                     "-c", "http.proxySSLCAInfo=" + env.origin.ca,
                     "-c", "http.sslCAInfo=" + env.origin.ca,
                     "clone", "-q", repo_url(env, scheme), dest], timeout=60, env=genv)
            try:
                expect(r.returncode == 0, "git clone %s: %s" % (scheme, r.stderr.decode()[-500:]))
                with open(os.path.join(dest, "README")) as f:
                    expect_eq(f.read(), "proxyd git test\n", "README")
            finally:
                shutil.rmtree(dest, ignore_errors=True)
        for want in ("/repo.git/info/refs", "CONNECT git.test:"):
            expect(wait_until(lambda: any(want in l for l in p.access_lines()), 3),
                   "no access line with %s" % want)


@test("tls_listener_go_https_proxy_connect")
def _(env):
    """go mod download with HTTPS_PROXY=https://proxyd from an https
    mirror: CONNECT inside TLS; go takes both CAs from SSL_CERT_FILE."""
    from modproxy_tests import CMP, TOML, go, mirrors, tls_url, workspace
    which_or_skip("go")
    mirrors(env)
    with tls_proxy(env) as p:
        src, genv = workspace(env, tls_url(env), paths=(CMP, TOML))
        genv.update(HTTPS_PROXY=p.tls_url, HTTP_PROXY=p.tls_url, NO_PROXY="",
                    SSL_CERT_FILE=env.origin.ca)
        r = go(src, genv, "mod", "download")
        expect(r.rc == 0, "go mod download: %s" % r.stderr[-800:])
        expect(wait_until(lambda: any("CONNECT mirror.test:" in l for l in p.access_lines()), 3),
               "no CONNECT: %s" % p.access_lines()[-3:])


@test("tls_listener_goproxy_netrc_credentials")
def _(env):
    """GOPROXY=https://proxyd on a listener with auth_file: go sends the
    .netrc credentials (NETRC) over https as Authorization: Basic and
    downloads; without them it gets 407 and fails."""
    from auth_tests import standard_users
    from modproxy_tests import CMP, go, mirrors, murl, workspace
    which_or_skip("go")
    mirrors(env)
    routes = [("go", {"modules": "*", "upstream": "mirror " + murl(env, "b")})]
    with tls_proxy(env, routes=routes, auth_file=standard_users(env)) as p:
        netrc = env.wd.write("tls-listener/netrc", "machine 127.0.0.1 login carol password carol-pw\n")
        src, genv = workspace(env, p.tls_url, paths=(CMP,))
        genv.update(SSL_CERT_FILE=env.origin.ca, NETRC="/nonexistent")
        r = go(src, genv, "mod", "download")
        expect(r.rc != 0 and "407" in r.stderr, "without .netrc: %d %s" % (r.rc, r.stderr[-400:]))
        src, genv = workspace(env, p.tls_url, paths=(CMP,))
        genv.update(SSL_CERT_FILE=env.origin.ca, NETRC=netrc)
        r = go(src, genv, "mod", "download")
        expect(r.rc == 0, "with .netrc: %s" % r.stderr[-800:])
        expect(wait_until(lambda: any("user=carol" in l and ".zip" in l
                                      for l in p.access_lines()), 3),
               "no zip served to user=carol: %s" % p.access_lines()[-3:])


# ---------------------------------------------------------------- client certificates

def cert_curl(env, p, url, cert=None, *args):
    extra = ["--proxy-cert", cert[0], "--proxy-key", cert[1]] if cert else []
    return tls_curl(env, p, url, *(extra + list(args)), timeout=20)


def log_user(p, needle):
    """user= of the access line with needle ("-" without one)."""
    return log_fields(access_line(p, needle)).get("user", "-")


@test("tls_listener_client_cert_names_user")
def _(env):
    """tls_client_ca without auth_file: a verified certificate's CN is the
    user (users = on a route, user= in the log, --explain --user); a
    certificate of another CA and no certificate fail the handshake."""
    ca = make_ca(env, "clients-ca")
    rogue = make_ca(env, "rogue-ca")
    ci, other = client_cert(env, "svc-ci", ca), client_cert(env, "svc-web", ca)
    forged = client_cert(env, "svc-ci", rogue)
    routes = [("ci-only", {"hosts": "echo.test", "upstream": "direct", "users": "svc-ci"}),
              ("all", {"hosts": "*", "upstream": "direct"})]
    with tls_proxy(env, routes=routes, tls_client_ca=ca[0]) as p:
        url = env.echo_url("/echo?who=ci")
        expect_ok(cert_curl(env, p, url, ci))
        expect_eq(log_user(p, "/echo?who=ci "), "svc-ci", "user= of the certificate")
        r = cert_curl(env, p, env.echo_url("/echo?who=web"), other)
        expect_eq(r.status, 403, "svc-web on ci-only")
        expect(b"ci-only" in r.body, "403 does not name the route: %r" % r.body)
        expect_ok(cert_curl(env, p, env.http_url("/1k"), other))
        for what, cert in (("another CA's certificate", forged), ("no certificate", None)):
            r = cert_curl(env, p, url, cert)
            expect(r.rc != 0 and r.status is None,
                   "%s: curl exit %d, status %s" % (what, r.rc, r.status))
        expect("client certificate" in open(p.error_log).read(),
               "the debug log does not say why the certificate was refused")
        for user, want in (("svc-ci", "allowed"), ("svc-web", "not allowed")):
            e = run([env.proxyd_binary, "-c", p.conf, "--explain", url, "--user", user], timeout=20)
            out = e.stdout.decode()
            expect(e.returncode == 0 and want in out, "--explain --user %s: %s" % (user, out))


@test("tls_listener_client_cert_or_password")
def _(env):
    """tls_client_ca with auth_file: a certificate needs no password; a
    client without one authenticates with Proxy-Authorization (407
    without it)."""
    from auth_tests import standard_users
    ca = make_ca(env, "clients-ca2")
    ci = client_cert(env, "svc-ci", ca)
    with tls_proxy(env, tls_client_ca=ca[0], auth_file=standard_users(env)) as p:
        expect_ok(cert_curl(env, p, env.echo_url("/echo?c=cert"), ci))
        expect_eq(log_user(p, "/echo?c=cert "), "svc-ci", "user= with a certificate")
        r = cert_curl(env, p, env.echo_url("/echo?c=none"))
        expect_eq(r.status, 407, "no certificate, no password")
        expect_ok(cert_curl(env, p, env.echo_url("/echo?c=pw"), None,
                            "--proxy-user", "carol:carol-pw"))
        expect_eq(log_user(p, "/echo?c=pw "), "carol", "user= with a password")


@test("tls_listener_tunnel_bandwidth_shaped")
def _(env):
    """bandwidth = 8m on a route also shapes a TLS client's tunnel (its
    relay of bufferevents asks the same buckets): 20 MiB through CONNECT
    take about 1.5 s past the first second's burst (+-15 %; 3 tries, and
    looser bounds under the sanitizers)."""
    mib = 1024 * 1024
    lo, hi = (0.85, 1.15) if not os.environ.get("ASAN_OPTIONS") else (0.6, 1.15)
    routes = [("limited", {"hosts": "origin.test", "upstream": "direct", "bandwidth": "8m"}),
              ("all", {"hosts": "*", "upstream": "direct"})]
    with tls_proxy(env, routes=routes) as p:
        for attempt in range(3):
            if attempt:
                time.sleep(1.2)     # the bucket refills: a burst again
            r = tls_curl(env, p, env.https_url("/20m"), "--cacert", env.origin.ca,
                         "-w", "%{time_total}")
            expect_ok(r)
            expect(r.body == env.origin.files["20m"], "20 MiB differ")
            rate = (len(r.body) - 8 * mib) / float(r.stdout.strip())
            print("# tls tunnel shaped: %.2f MiB/s past the burst" % (rate / mib))
            if lo * 8 * mib <= rate <= hi * 8 * mib:
                return
        raise TestFailure("%.2f MiB/s past the burst, want 8 MiB/s" % (rate / mib))
