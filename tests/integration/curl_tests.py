"""curl_tests.py - a real client through the proxy: `curl -x`."""

import hashlib
import json
import os
import re
import time

from echo_origin import pattern
from harness import TestFailure, expect, expect_eq, free_port, run, test, wait_until
from httpraw import expect_error_reply
from servers import BlackHole

_seq = [0]


class CurlResult:
    def __init__(self, proc, body, head_blocks, elapsed):
        self.rc = proc.returncode
        self.stderr = proc.stderr.decode(errors="replace")
        self.body = body
        self.blocks = head_blocks        # every response head, 1xx included
        self.status, self.headers = head_blocks[-1] if head_blocks else (None, [])
        self.elapsed = elapsed
        self.stdout = proc.stdout.decode(errors="replace")

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            raise TestFailure("origin answer is not JSON: %r" % self.body[:200])


def _parse_heads(raw):
    """curl -D output: one block per response (1xx, CONNECT's 200, final)."""
    blocks = []
    for block in re.split(rb"\r?\n\r?\n", raw):
        lines = block.decode("latin-1").splitlines()
        if not lines or not lines[0].startswith("HTTP/"):
            continue
        status = int(lines[0].split()[1])
        headers = [tuple(s.strip() for s in l.split(":", 1)) for l in lines[1:] if ":" in l]
        blocks.append((status, headers))
    return blocks


def curl(env, url, *args, proxy=None, timeout=30):
    """curl through the proxy; the body and every response head kept."""
    proxy = proxy or env.proxy
    _seq[0] += 1
    out = env.wd.sub("curl-%d.body" % _seq[0])
    heads = env.wd.sub("curl-%d.head" % _seq[0])
    argv = ["curl", "-sS", "--max-time", str(timeout), "--noproxy", "",
            "-x", proxy.url, "-o", out, "-D", heads] + list(args) + [url]
    started = time.monotonic()
    proc = run(argv, timeout=timeout + 10, env=env.client_env())
    elapsed = time.monotonic() - started
    body = _read_and_remove(out)
    blocks = _parse_heads(_read_and_remove(heads))
    return CurlResult(proc, body, blocks, elapsed)


def _read_and_remove(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return b""
    finally:
        if os.path.exists(path):
            os.remove(path)


def expect_ok(r, status=200):
    expect(r.rc == 0, "curl failed (exit %d): %s" % (r.rc, r.stderr.strip()))
    expect(r.status == status, "status: got %r, want %r (body: %r)"
           % (r.status, status, r.body[:200]))


def sha(data):
    return hashlib.sha256(data).hexdigest()


def data_file(env, name, size):
    path = env.wd.sub(name)
    if not os.path.exists(path):
        with open(path, "wb") as f:
            f.write(os.urandom(size))
    with open(path, "rb") as f:
        return path, f.read()


def echo_headers(info):
    return {k.lower(): v for k, v in info["headers"]}


# ---------------------------------------------------------------- downloads

@test("curl_get_1k")
def _(env):
    r = curl(env, env.http_url("/1k"))
    expect_ok(r)
    expect(r.body == env.origin.files["1k"], "body differs from the origin's /1k")


@test("curl_get_20m_sha256")
def _(env):
    r = curl(env, env.http_url("/20m"), timeout=60)
    expect_ok(r)
    expect_eq(len(r.body), 20 * 1024 * 1024, "body length")
    expect_eq(sha(r.body), sha(env.origin.files["20m"]), "sha256 of /20m")


@test("curl_head_large_resource")
def _(env):
    # (curl --head writes the head as the "body"; raw_head_then_get_*
    # checks that no body bytes follow a HEAD answer.)
    r = curl(env, env.http_url("/20m"), "--head", timeout=10)
    expect_ok(r)
    expect_eq(r.header("Content-Length"), str(20 * 1024 * 1024), "Content-Length of HEAD")
    expect(r.elapsed < 5, "HEAD took %.1fs (proxy waited for a body?)" % r.elapsed)


@test("curl_gzip_passthrough")
def _(env):
    r = curl(env, env.http_url("/gzipped"))     # no --compressed: bytes stay gzip
    expect_ok(r)
    expect_eq((r.header("Content-Encoding") or "").lower(), "gzip", "Content-Encoding")
    expect(r.body == env.origin.files["text.gz"], "gzip body was altered on the way")


@test("curl_204_no_content")
def _(env):
    r = curl(env, env.http_url("/nocontent"), timeout=10)
    expect_ok(r, 204)
    expect(r.body == b"", "204 with a body")
    expect(r.elapsed < 5, "204 took %.1fs (proxy waited for a body?)" % r.elapsed)


@test("curl_redirect_not_followed")
def _(env):
    r = curl(env, env.http_url("/redirect"))
    expect_ok(r, 302)
    want = "http://origin.test:%d/1k" % env.origin.nginx.http_port
    expect_eq(r.header("Location"), want, "Location")


@test("curl_chunked_response")
def _(env):
    r = curl(env, env.echo_url("/chunked?size=300000"))
    expect_ok(r)
    expect(r.body == pattern(300000), "chunked response body altered (%d bytes)" % len(r.body))


@test("curl_close_delimited_response")
def _(env):
    r = curl(env, env.echo_url("/close?size=300000"))
    expect_ok(r)
    expect(r.body == pattern(300000), "close-delimited body altered (%d bytes)" % len(r.body))


@test("curl_http10_client_gets_no_chunked")
def _(env):
    r = curl(env, env.echo_url("/chunked?size=100000"), "-0")
    expect_ok(r)
    te = r.header("Transfer-Encoding")
    expect(te is None, "HTTP/1.0 client got Transfer-Encoding: %s" % te)
    expect(r.body == pattern(100000), "body altered for the HTTP/1.0 client (%d bytes)" % len(r.body))


@test("curl_http10_get")
def _(env):
    r = curl(env, env.http_url("/1k"), "-0")
    expect_ok(r)
    expect(r.body == env.origin.files["1k"], "body differs")


# ---------------------------------------------------------------- uploads

@test("curl_post_5m")
def _(env):
    path, data = data_file(env, "post-5m.bin", 5 * 1024 * 1024)
    r = curl(env, env.echo_url("/echo"), "--data-binary", "@" + path,
             "-H", "Content-Type: application/octet-stream", timeout=60)
    expect_ok(r)
    info = r.json()
    expect_eq(info["method"], "POST", "method at origin")
    expect_eq(info["body_len"], len(data), "body length at origin")
    expect_eq(info["body_sha256"], sha(data), "body sha256 at origin")


@test("curl_chunked_upload")
def _(env):
    path, data = data_file(env, "chunked-1m.bin", 1024 * 1024 + 17)
    r = curl(env, env.echo_url("/echo"), "--data-binary", "@" + path,
             "-H", "Transfer-Encoding: chunked", timeout=60)
    expect_ok(r)
    info = r.json()
    expect_eq(info["body_len"], len(data), "body length at origin")
    expect_eq(info["body_sha256"], sha(data), "body sha256 at origin")


@test("curl_expect_100_continue")
def _(env):
    path, data = data_file(env, "expect-100k.bin", 100 * 1024)
    # Without a relayed (or proxy-made) 100, curl waits the full 8 s.
    r = curl(env, env.echo_url("/echo"), "--data-binary", "@" + path,
             "-H", "Expect: 100-continue", "--expect100-timeout", "8", timeout=30)
    expect_ok(r)
    expect(any(s == 100 for s, _ in r.blocks), "no 100 Continue reached the client")
    expect(r.elapsed < 6, "upload took %.1fs: the client waited for 100-continue" % r.elapsed)
    expect_eq(r.json()["body_sha256"], sha(data), "body sha256 at origin")


@test("curl_methods_passthrough")
def _(env):
    for method in ("PROPFIND", "PATCH", "OPTIONS", "DELETE", "PUT"):
        extra = ["--data-binary", "x=1"] if method in ("PATCH", "PUT") else []
        r = curl(env, env.echo_url("/echo"), "-X", method, *extra)
        expect_ok(r)
        expect_eq(r.json()["method"], method, "method at origin")


@test("curl_query_string_verbatim")
def _(env):
    r = curl(env, env.echo_url("/echo?a=%2F&b=c%20d&e=%7e~"), "--path-as-is")
    expect_ok(r)
    target = r.json()["target"]
    # Origin-form is expected, but absolute-form is legal too.
    expect(target.endswith("/echo?a=%2F&b=c%20d&e=%7e~"), "origin saw target %r" % target)


# ---------------------------------------------------------------- headers

@test("curl_hop_by_hop_headers_dropped")
def _(env):
    r = curl(env, env.echo_url("/echo"),
             "-H", "Connection: X-Foo", "-H", "X-Foo: 1",
             "-H", "Proxy-Connection: keep-alive", "-H", "Keep-Alive: timeout=5",
             "-H", "Proxy-Authorization: Basic dTpw", "-H", "TE: trailers",
             "-H", "Trailer: X-T", "-H", "Upgrade: nonsense/1",
             "-H", "X-End-To-End: kept")
    expect_ok(r)
    seen = echo_headers(r.json())
    for h in ("x-foo", "proxy-connection", "keep-alive", "proxy-authorization",
              "te", "trailer", "upgrade"):
        expect(h not in seen, "origin saw hop-by-hop header %s: %s" % (h, seen.get(h)))
    expect("x-foo" not in seen.get("connection", "").lower(),
           "origin saw Connection: %s" % seen.get("connection"))
    expect_eq(seen.get("x-end-to-end"), "kept", "end-to-end header at origin")


@test("curl_hop_by_hop_response_headers_dropped")
def _(env):
    r = curl(env, env.echo_url("/hop"))
    expect_ok(r)
    names = {k.lower() for k, _ in r.headers}
    for h in ("x-hop", "keep-alive", "upgrade"):
        expect(h not in names, "client got the origin's hop-by-hop %s" % h)
    expect("x-hop" not in (r.header("Connection") or "").lower(),
           "client got Connection: %s" % r.header("Connection"))
    expect_eq(r.header("X-E2E"), "kept", "end-to-end response header")


@test("curl_via_added")
def _(env):
    r = curl(env, env.echo_url("/echo"))
    expect_ok(r)
    via = echo_headers(r.json()).get("via")
    expect(via is not None, "origin saw no Via header")
    expect(re.match(r"^\s*(HTTP/)?1\.1\s+\S+", via), "malformed Via: %r" % via)


# ---------------------------------------------------------------- tunnels

@test("curl_connect_tunnel_http")
def _(env):
    r = curl(env, env.http_url("/1k"), "-p")
    expect_ok(r)
    expect(r.blocks and r.blocks[0][0] == 200, "CONNECT was not answered 200")
    expect(r.body == env.origin.files["1k"], "body through the tunnel differs")


@test("curl_https_via_connect")
def _(env):
    r = curl(env, env.https_url("/1k"), "--cacert", env.origin.ca)
    expect_ok(r)
    expect(r.body == env.origin.files["1k"], "body over TLS differs")


@test("curl_https_20m_via_connect")
def _(env):
    r = curl(env, env.https_url("/20m"), "--cacert", env.origin.ca, timeout=60)
    expect_ok(r)
    expect_eq(sha(r.body), sha(env.origin.files["20m"]), "sha256 of /20m over TLS")


# ---------------------------------------------------------------- connections

@test("curl_keepalive_reuse")
def _(env):
    argv = ["curl", "-sS", "-v", "--max-time", "20", "--noproxy", "", "-x", env.proxy.url,
            "-o", "/dev/null", env.http_url("/1k"),
            "-o", "/dev/null", env.http_url("/1k?second")]
    r = run(argv, timeout=30, env=env.client_env())
    err = r.stderr.decode(errors="replace")
    expect(r.returncode == 0, "curl failed: " + err[-500:])
    expect("Re-using existing connection" in err,
           "second request did not reuse the proxy connection")


# ---------------------------------------------------------------- upstream failures

@test("curl_upstream_refused_502")
def _(env):
    port = free_port()                     # nothing listens there
    r = curl(env, "http://%s:%d/" % (env.host("origin.test"), port), timeout=15)
    expect_error_reply(r, 502)


@test("curl_unknown_host_502")
def _(env):
    r = curl(env, "http://unknown.test/", timeout=15)
    expect_error_reply(r, 502)
    expect(r.elapsed < 5, "unknown host took %.1fs" % r.elapsed)


@test("curl_bad_upstream_response_502")
def _(env):
    r = curl(env, env.echo_url("/bad"), timeout=15)
    expect_error_reply(r, 502)


@test("curl_connect_timeout_504")
def _(env):
    hole = BlackHole()
    try:
        with env.own_proxy(connect_timeout="1s") as p:
            r = curl(env, "http://%s:%d/" % (env.host("blackhole.test"), hole.port),
                     proxy=p, timeout=15)
            expect_error_reply(r, 504)
            expect(0.8 <= r.elapsed < 5, "504 after %.1fs, connect_timeout is 1s" % r.elapsed)
    finally:
        hole.close()


@test("curl_response_timeout_504")
def _(env):
    with env.own_proxy(response_timeout="1s") as p:
        r = curl(env, env.echo_url("/slow?ms=4000"), proxy=p, timeout=15)
        expect_error_reply(r, 504)
        expect(0.8 <= r.elapsed < 3.5, "504 after %.1fs, response_timeout is 1s" % r.elapsed)


# ---------------------------------------------------------------- access log

@test("access_log_records_requests")
def _(env):
    r = curl(env, env.echo_url("/echo?logged=1"))
    expect_ok(r)
    r2 = curl(env, env.https_url("/1k"), "--cacert", env.origin.ca)
    expect_ok(r2)
    authority = "%s:%d" % (env.host("origin.test"), env.origin.nginx.https_port)

    def find():
        lines = env.proxy.access_lines()
        get = [l for l in lines if " GET " in l and "/echo?logged=1" in l
               and re.search(r"\b200\b", l)]
        conn = [l for l in lines if " CONNECT " in l and authority in l]
        return get and conn
    expect(wait_until(find, 3), "access log lacks the GET/CONNECT lines; tail: %r"
           % env.proxy.access_lines()[-5:])
