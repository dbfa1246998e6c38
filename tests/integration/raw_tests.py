"""raw_tests.py - byte-exact requests on raw sockets: pipelining,
hostile input with the exact error status, limits, slowloris, tunnels."""

import json
import socket
import time

from harness import TestFailure, expect, expect_eq, test, wait_until
from httpraw import Closed, Conn, expect_error_reply, expect_status, request


def head(env, method="GET", path="/echo", version="HTTP/1.1", extra=b"", target=None):
    """A request head to the echo origin, absolute-form, CRLF lines."""
    target = target or ("http://%s%s" % (env.echo_authority(), path)).encode()
    return (b"%s %s %s\r\nHost: %s\r\n" % (method.encode(), target, version.encode(),
                                             env.echo_authority().encode())
            + extra + b"\r\n")


def hostile(env, data, status, port=None):
    """Send data on its own connection; expect the contract's error reply,
    then the connection closed by the proxy."""
    with Conn(port or env.proxy.port, timeout=10) as c:
        try:
            c.send(data)
        except OSError:
            pass                # it may answer and close before reading all
        try:
            resp = c.read_response()
        except Closed:
            raise TestFailure("proxy closed the connection without a response")
        except socket.timeout:
            raise TestFailure("no response within 10s")
        expect_error_reply(resp, status)
        expect(c.closed_by_peer(3), "connection still open after the %d reply" % status)


# ---------------------------------------------------------------- happy paths

@test("raw_get_origin_via_proxy")
def _(env):
    resp = request(env.proxy.port, head(env, path="/echo?raw=1"))
    expect_status(resp, 200)
    expect_eq(json.loads(resp.body)["method"], "GET", "method at origin")


@test("raw_pipelined_two_requests")
def _(env):
    both = head(env, path="/echo?n=1") + head(env, path="/echo?n=2")
    with Conn(env.proxy.port, timeout=10) as c:
        c.send(both)                        # one send(): both heads at once
        first, second = c.read_response(), c.read_response()
    expect_status(first, 200)
    expect_status(second, 200)
    t1, t2 = json.loads(first.body)["target"], json.loads(second.body)["target"]
    expect(t1.endswith("n=1") and t2.endswith("n=2"), "responses out of order: %s, %s" % (t1, t2))


@test("raw_pipelined_post_then_get")
def _(env):
    # The body of the first request must not be taken for the second head.
    body = b"GET /not-a-request HTTP/1.1\r\n\r\n"
    both = (head(env, "POST", path="/echo?n=1", extra=b"Content-Length: %d\r\n" % len(body))
            + body + head(env, path="/echo?n=2"))
    with Conn(env.proxy.port, timeout=10) as c:
        c.send(both)
        first, second = c.read_response(), c.read_response()
    expect_status(first, 200)
    expect_status(second, 200)
    expect_eq(json.loads(first.body)["body_len"], len(body), "first body length at origin")
    expect(json.loads(second.body)["target"].endswith("n=2"), "second response is not n=2")


@test("raw_response_body_streamed")
def _(env):
    # The origin sends half the body, then pauses 1.5 s: a streaming proxy
    # hands the first half on at once instead of buffering the response.
    size = 400000
    with Conn(env.proxy.port, timeout=10) as c:
        started = time.monotonic()
        c.send(head(env, path="/drip?size=%d&pause_ms=1500" % size))
        line = c.read_line()
        expect(b" 200 " in line + b" ", "status line %r" % line)
        while c.read_line():
            pass                            # rest of the head
        c.read_exact(size // 2)
        took = time.monotonic() - started
        expect(took < 1.2, "first half of the body arrived after %.1fs (buffered?)" % took)
        c.read_exact(size - size // 2)      # and the rest arrives too


@test("raw_request_body_streamed")
def _(env):
    # Head and half the body, then a pause: the origin must already have
    # the request (the proxy does not wait for the whole body).
    tag = "stream%d" % int(time.monotonic() * 1000)
    body = b"q" * 200000
    with Conn(env.proxy.port, timeout=10) as c:
        c.send(head(env, "POST", path="/echo?tag=" + tag,
                    extra=b"Content-Length: %d\r\n" % len(body)) + body[:100000])
        started = wait_until(lambda: env.origin.echo.events(tag), 2)
        expect(started, "origin saw nothing of a half-sent request after 2s (buffered?)")
        c.send(body[100000:])
        resp = c.read_response()
        expect_status(resp, 200)
        expect_eq(json.loads(resp.body)["body_len"], len(body), "body length at origin")


@test("raw_keepalive_sequential_requests")
def _(env):
    with Conn(env.proxy.port, timeout=10) as c:
        for i in range(3):
            c.send(head(env, path="/echo?seq=%d" % i))
            resp = c.read_response()
            expect_status(resp, 200)
            expect(json.loads(resp.body)["target"].endswith("seq=%d" % i), "wrong response")


@test("raw_head_then_get_same_connection")
def _(env):
    # A HEAD answer announces 20 MiB but carries no body: the next answer
    # on the connection must start right after its head.
    url = b"http://%s:%d" % (env.host("origin.test").encode(), env.origin.nginx.http_port)
    host = b"Host: %s:%d\r\n\r\n" % (env.host("origin.test").encode(), env.origin.nginx.http_port)
    with Conn(env.proxy.port, timeout=10) as c:
        c.send(b"HEAD " + url + b"/20m HTTP/1.1\r\n" + host)
        first = c.read_response(head_request=True)
        expect_status(first, 200)
        expect_eq(first.header("Content-Length"), str(20 * 1024 * 1024), "HEAD Content-Length")
        c.send(b"GET " + url + b"/1k HTTP/1.1\r\n" + host)
        second = c.read_response()
        expect_status(second, 200)
        expect(second.body == env.origin.files["1k"], "GET after HEAD got the wrong body")


@test("raw_upstream_connection_reused")
def _(env):
    # Client connections one after the other: a later request should ride
    # a pooled upstream connection (an origin-side peer seen before).
    # One worker, as pools are per event loop; a few tries, since the
    # proxy may pool the connection just after the client got its answer.
    with env.own_proxy(workers="1") as p:
        peers = []
        for i in range(6):
            resp = request(p.port, head(env, path="/echo?pool=%d" % i))
            expect_status(resp, 200)
            peer = json.loads(resp.body)["peer"]
            if peer in peers:
                return
            peers.append(peer)
            time.sleep(0.05)
    raise TestFailure("upstream connection never reused: peers %s" % peers)


@test("raw_stale_pooled_connection_retried")
def _(env):
    # The origin closes its side 100 ms after answering (as on an idle
    # timeout); the next bodiless request must still succeed, whether the
    # proxy noticed the close or retries on a fresh connection.
    with env.own_proxy(workers="1") as p:
        resp = request(p.port, head(env, path="/echo?close_after_ms=100"))
        expect_status(resp, 200)
        time.sleep(0.4)         # let the origin's close happen
        resp = request(p.port, head(env, path="/echo?after_stale=1"))
        expect_status(resp, 200)


@test("raw_connect_half_close")
def _(env):
    from servers import TcpEcho
    echo = TcpEcho()
    try:
        target = "%s:%d" % (env.host("echo.test"), echo.port)
        with Conn(env.proxy.port, timeout=10) as c:
            c.send(b"CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (target.encode(), target.encode()))
            resp = c.read_response(head_request=True)   # a 2xx CONNECT has no body
            expect_status(resp, 200)
            payload = bytes(range(256)) * 400
            c.send(payload)
            c.sock.shutdown(socket.SHUT_WR)            # half-close our side
            got = c.read_to_close()                    # echo, then the far EOF
            expect_eq(len(got), len(payload), "bytes back through the tunnel")
            expect(got == payload, "tunnel altered the bytes")
    finally:
        echo.close()


@test("raw_connect_half_close_before_connected")
def _(env):
    """printf 'CONNECT ...\\r\\n\\r\\nDATA' | nc: the head, the data and
    the half-close all arrive before the upstream is connected; the
    tunnel still comes up, carries the data and passes the EOF on."""
    from servers import TcpEcho
    echo = TcpEcho()
    try:
        target = "%s:%d" % (env.host("echo.test"), echo.port)
        payload = b"hello through a half-closed tunnel\n" * 50
        with Conn(env.proxy.port, timeout=10) as c:
            c.send(b"CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (target.encode(), target.encode())
                   + payload)
            c.sock.shutdown(socket.SHUT_WR)
            got = c.read_to_close()
        head_end = got.find(b"\r\n\r\n")
        expect(got.startswith(b"HTTP/1.1 200") and head_end > 0,
               "no 200 for a client that half-closed early: %r" % got[:80])
        expect_eq(got[head_end + 4:], payload, "bytes back through the tunnel")
    finally:
        echo.close()


# ---------------------------------------------------------------- hostile input

@test("raw_cl_and_te_400")
def _(env):
    hostile(env, head(env, "POST", extra=b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n")
            + b"0\r\n\r\n", 400)


@test("raw_two_content_lengths_400")
def _(env):
    hostile(env, head(env, "POST", extra=b"Content-Length: 5\r\nContent-Length: 6\r\n")
            + b"hello!", 400)


@test("raw_invalid_content_length_400")
def _(env):
    hostile(env, head(env, "POST", extra=b"Content-Length: 5x\r\n") + b"hello", 400)


@test("raw_negative_content_length_400")
def _(env):
    hostile(env, head(env, "POST", extra=b"Content-Length: -1\r\n"), 400)


@test("raw_te_gzip_501")
def _(env):
    hostile(env, head(env, "POST", extra=b"Transfer-Encoding: gzip, chunked\r\n")
            + b"0\r\n\r\n", 501)


@test("raw_invalid_chunk_size_400")
def _(env):
    hostile(env, head(env, "POST", extra=b"Transfer-Encoding: chunked\r\n")
            + b"zz\r\nhello\r\n0\r\n\r\n", 400)


@test("raw_origin_form_not_goproxy_404")
def _(env):
    # Origin-form requests are for proxyd itself (GOPROXY=http://proxyd):
    # a path that is no GOPROXY endpoint is 404, a bad module path 400,
    # another method 405.
    hostile(env, b"GET /echo HTTP/1.1\r\nHost: %s\r\n\r\n" % env.echo_authority().encode(), 404)
    hostile(env, b"GET /github.com/Foo/bar/@v/list HTTP/1.1\r\nHost: x\r\n\r\n", 400)
    hostile(env, b"POST /github.com/foo/bar/@v/list HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 405)


@test("raw_https_absolute_form_400")
def _(env):
    target = b"https://%s:%d/1k" % (env.host("origin.test").encode(), env.origin.nginx.https_port)
    hostile(env, head(env, target=target), 400)


@test("raw_connect_without_port_400")
def _(env):
    name = env.host("origin.test").encode()
    hostile(env, b"CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (name, name), 400)


@test("raw_expect_unknown_417")
def _(env):
    hostile(env, head(env, "POST", extra=b"Expect: teapot\r\nContent-Length: 2\r\n") + b"hi", 417)


@test("raw_obs_fold_400")
def _(env):
    hostile(env, head(env, extra=b"X-Folded: one\r\n  two\r\n"), 400)


@test("raw_bare_lf_400")
def _(env):
    data = head(env, extra=b"X-A: 1\nX-B: 2\r\n")
    hostile(env, data, 400)


@test("raw_nul_in_header_400")
def _(env):
    hostile(env, head(env, extra=b"X-A: a\x00b\r\n"), 400)


@test("raw_invalid_method_token_400")
def _(env):
    hostile(env, head(env, method="GE(T"), 400)


@test("raw_userinfo_in_uri_400")
def _(env):
    target = b"http://user:secret@%s/echo" % env.echo_authority().encode()
    hostile(env, head(env, target=target), 400)


@test("raw_space_in_target_400")
def _(env):
    target = b"http://%s/a b" % env.echo_authority().encode()
    hostile(env, head(env, target=target), 400)


@test("raw_bad_version_505")
def _(env):
    hostile(env, head(env, version="HTTP/3.0"), 505)


@test("raw_malformed_version_400")
def _(env):
    hostile(env, head(env, version="HTTQ/1.1"), 400)


@test("raw_request_line_too_long_414")
def _(env):
    hostile(env, head(env, path="/echo?" + "a" * 9000), 414)


@test("raw_too_many_headers_431")
def _(env):
    extra = b"".join(b"X-H%d: %d\r\n" % (i, i) for i in range(150))
    hostile(env, head(env, extra=extra), 431)


@test("raw_headers_too_large_431")
def _(env):
    extra = b"X-Big: " + b"b" * 20000 + b"\r\nX-Big2: " + b"c" * 20000 + b"\r\n"
    hostile(env, head(env, extra=extra), 431)


@test("raw_connect_port_not_allowed_403")
def _(env):
    target = b"%s:25" % env.host("origin.test").encode()
    hostile(env, b"CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (target, target), 403)


@test("raw_client_not_allowed_403")
def _(env):
    # 127.0.0.1 is outside 10.0.0.0/8 (no traffic goes to 10/8).
    with env.own_proxy(allow="10.0.0.0/8") as p:
        resp = request(p.port, head(env), timeout=10)
        expect_error_reply(resp, 403)


@test("raw_body_too_large_413")
def _(env):
    with env.own_proxy(max_body_size="1k") as p:
        resp = request(p.port, head(env, "POST", extra=b"Content-Length: 4096\r\n")
                       + b"z" * 4096, timeout=10)
        expect_error_reply(resp, 413)


@test("raw_over_max_clients_503")
def _(env):
    with env.own_proxy(max_clients="2") as p:
        holders = hold_connections(env, p.port, 2)
        try:
            hostile(env, head(env, path="/echo?third=1"), 503, port=p.port)
        finally:
            for c in holders:
                c.close()


def hold_connections(env, port, n):
    """n open client connections, each proven accepted by a full exchange.
    The readiness probe's connection may still count for a moment after
    it closed, so a refused attempt is retried briefly."""
    deadline = time.monotonic() + 3
    while True:
        conns = [Conn(port, timeout=10) for _ in range(n)]
        statuses = []
        for i, c in enumerate(conns):
            c.send(head(env, path="/echo?holder=%d" % i))
            statuses.append(c.read_response().status)
        if all(s == 200 for s in statuses):
            return conns
        for c in conns:
            c.close()
        if time.monotonic() > deadline:
            raise TestFailure("%d connections not served under max_clients=%d: %s"
                              % (n, n, statuses))
        time.sleep(0.1)


@test("raw_body_stall_408")
def _(env):
    tag = "stall%d" % int(time.monotonic() * 1000)
    with env.own_proxy(idle_timeout="1s") as p:
        started = time.monotonic()
        with Conn(p.port, timeout=10) as c:
            c.send(head(env, "POST", path="/echo?tag=" + tag,
                        extra=b"Content-Length: 100\r\n") + b"0123456789")
            try:
                resp = c.read_response()
            except Closed:
                raise TestFailure("closed without a 408 after the body stalled")
            took = time.monotonic() - started
            expect_error_reply(resp, 408)
            expect(0.8 <= took <= 4, "408 after %.1fs, idle_timeout is 1s" % took)
    events = [e["event"] for e in env.origin.echo.events(tag)]
    expect("complete" not in events, "origin saw a complete request: %s" % events)


@test("raw_truncated_chunked_never_completes")
def _(env):
    tag = "trunc%d" % int(time.monotonic() * 1000)
    data = (head(env, "POST", path="/echo?tag=" + tag, extra=b"Transfer-Encoding: chunked\r\n")
            + b"10\r\n12345678")                # 16 announced, 8 sent, then EOF
    with Conn(env.proxy.port, timeout=10) as c:
        c.send(data)
        c.sock.shutdown(socket.SHUT_WR)
        try:
            c.read_to_close()
        except OSError:
            pass
    # Give the proxy a moment to reach (or not reach) the origin.
    wait_until(lambda: any(e["event"] == "aborted" for e in env.origin.echo.events(tag)), 2)
    events = [e["event"] for e in env.origin.echo.events(tag)]
    expect("complete" not in events, "origin saw a complete request: %s" % events)


@test("raw_normal_request_after_hostile_batch")
def _(env):
    resp = request(env.proxy.port, head(env, path="/echo?after=1"))
    expect_status(resp, 200)


# ---------------------------------------------------------------- idle timeouts

@test("raw_keepalive_timeout_closes_idle_client")
def _(env):
    with env.own_proxy(keepalive_timeout="1s") as p:
        with Conn(p.port, timeout=10) as c:
            c.send(head(env, path="/echo?idle=1"))
            expect_status(c.read_response(), 200)
            started = time.monotonic()
            expect(c.closed_by_peer(5), "idle keep-alive connection still open after 5s")
            took = time.monotonic() - started
            expect(0.8 <= took <= 3.5, "closed after %.1fs, keepalive_timeout is 1s" % took)


@test("raw_tunnel_idle_timeout")
def _(env):
    from servers import TcpEcho
    echo = TcpEcho()
    try:
        with env.own_proxy(tunnel_idle_timeout="1s") as p:
            target = ("%s:%d" % (env.host("echo.test"), echo.port)).encode()
            with Conn(p.port, timeout=10) as c:
                c.send(b"CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (target, target))
                expect_status(c.read_response(head_request=True), 200)
                c.send(b"ping")
                expect_eq(c.read_exact(4), b"ping", "echo through the tunnel")
                started = time.monotonic()
                expect(c.closed_by_peer(6), "idle tunnel still open after 6s")
                took = time.monotonic() - started
                expect(0.8 <= took <= 3.5, "closed after %.1fs, tunnel_idle_timeout is 1s" % took)
    finally:
        echo.close()


# ---------------------------------------------------------------- slowloris

@test("raw_slowloris_header_timeout")
def _(env):
    with env.own_proxy(header_timeout="2s") as p:
        data = head(env, extra=b"X-Slow: " + b"s" * 200 + b"\r\n")
        started = time.monotonic()
        closed_at = None
        with Conn(p.port, timeout=10) as c:
            # One byte every 100 ms: each read makes progress, only the
            # whole-head deadline can stop it.
            for byte in data[:-2]:
                try:
                    c.send(bytes([byte]))
                except OSError:
                    closed_at = time.monotonic()
                    break
                if c.closed_by_peer(0.1):
                    closed_at = time.monotonic()
                    break
                if time.monotonic() - started > 8:
                    break
            if closed_at is None:
                raise TestFailure("still open after %.1fs of a slow head (header_timeout 2s)"
                                  % (time.monotonic() - started))
        took = closed_at - started
        expect(1.5 <= took <= 4.5, "closed after %.1fs, header_timeout is 2s" % took)
