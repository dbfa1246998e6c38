"""bodyread_tests.py - bodies read 64 KiB at a time (bev_read_more()).

libevent 2.1 reads 4 KiB per read event; proxyd reads the rest the
socket holds itself, on the upstream side (response bodies) and on the
client side (request bodies).  What that read meets besides bytes must
come out as before: a connection reset after some of a body is passed
on and then reported (the access log says what happened, the client
sees a cut body, never a complete one), and other clients are served.
The resets are real: SO_LINGER 0 on close sends a TCP RST."""

import hashlib
import os
import socket
import struct
import threading
import time

from curl_tests import curl, sha
from echo_origin import pattern
from harness import LOOPBACK, expect, expect_eq, rss_kib, test, wait_until
from httpraw import Conn
from parents import _Server, log_fields
from raw_tests import head
from request_tests import checked_proxy, expect_one_line, still_serves, uniq

KIB = 1024


def reset(sock):
    """Close with an RST instead of a FIN."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def read_head(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        d = conn.recv(4096)
        if not d:
            return None
        data += d
    return data


class ResettingOrigin(_Server):
    """Answers one request with `head`, then `sent` bytes of body in big
    writes, then resets the connection."""

    def __init__(self, head_bytes, sent):
        self.head_bytes, self.sent = head_bytes, sent
        self.done = threading.Event()
        super().__init__()

    def handle(self, conn):
        if read_head(conn) is None:
            return
        conn.sendall(self.head_bytes + pattern(self.sent))
        time.sleep(0.3)         # let proxyd read it all before the RST
        reset(conn)
        self.done.set()


def resetting_get(env, p, origin, tag):
    r = curl(env, "http://%s:%d/x?tag=%s" % (LOOPBACK, origin.port, tag), proxy=p,
             timeout=10)
    expect(origin.done.wait(5), "the origin never sent its reset")
    return r


@test("body_upstream_reset_mid_length_body")
def _(env):
    """Content-Length 1 MiB, 300 KiB sent, then an RST: the client gets
    a cut body (curl: partial file), the access log line says the
    upstream failed, and proxyd serves the next client."""
    origin = ResettingOrigin(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (1024 * KIB),
                             300 * KIB)
    try:
        with checked_proxy(env) as p:
            tag = uniq("rstlen")
            r = resetting_get(env, p, origin, tag)
            expect(r.rc != 0, "curl took a cut body as complete (%d bytes)" % len(r.body))
            expect(len(r.body) < 1024 * KIB, "client got %d bytes" % len(r.body))
            line = expect_one_line(p, tag)
            note = log_fields(line).get("note", "")
            expect("upstream" in note, "access log note does not blame the upstream: %s" % line)
            still_serves(env, p, "after an upstream reset mid-body")
    finally:
        origin.close()


@test("body_upstream_reset_mid_close_delimited_body")
def _(env):
    """No Content-Length (the close ends the body), 300 KiB, then an
    RST: a reset is not an end, so the access log line says the upstream
    failed, and an HTTP/1.1 client can tell (its body is not ended
    cleanly: curl fails)."""
    origin = ResettingOrigin(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", 300 * KIB)
    try:
        with checked_proxy(env) as p:
            tag = uniq("rstclose")
            r = resetting_get(env, p, origin, tag)
            line = expect_one_line(p, tag)
            note = log_fields(line).get("note", "")
            expect("upstream" in note, "access log note does not blame the upstream: %s" % line)
            expect(len(r.body) <= 300 * KIB, "client got %d bytes of 300 KiB" % len(r.body))
            expect(r.rc != 0, "curl took a reset body as complete (%d bytes)" % len(r.body))
            still_serves(env, p, "after an upstream reset of a close-delimited body")
    finally:
        origin.close()


@test("body_upload_8m_intact_length_and_chunked")
def _(env):
    """8 MiB request bodies, with Content-Length and chunked, reach the
    origin byte for byte."""
    body = pattern(8 * 1024 * KIB)
    path = env.wd.sub("upload-8m.bin")
    with open(path, "wb") as f:
        f.write(body)
    with checked_proxy(env, max_body_size="0") as p:
        for extra in ([], ["-H", "Transfer-Encoding: chunked"]):
            tag = uniq("up8m")
            r = curl(env, env.echo_url("/echo?tag=" + tag), "--data-binary", "@" + path,
                     "-H", "Expect:", *extra, proxy=p, timeout=30)
            expect(r.rc == 0, "curl exit %d: %s" % (r.rc, r.stderr.strip()))
            info = r.json()
            expect_eq(info["body_len"], len(body), "bytes the origin got %s" % extra)
            expect_eq(info["body_sha256"], sha(body), "body the origin got %s" % extra)


@test("body_upload_client_reset_midway")
def _(env):
    """A client sends 600 KiB of a 4 MiB body and resets: one access log
    line, the origin sees its request cut (never a complete one), and
    proxyd serves the next client."""
    with checked_proxy(env) as p:
        tag = uniq("uprst")
        c = Conn(p.port, timeout=10)
        c.send(head(env, method="POST", path="/echo?tag=" + tag,
                    extra=b"Content-Length: %d\r\n" % (4096 * KIB)))
        c.send(pattern(600 * KIB))
        expect(wait_until(lambda: env.origin.echo.events(tag), 5),
               "the request never reached the origin")
        time.sleep(0.2)
        reset(c.sock)
        line = expect_one_line(p, tag)
        expect(log_fields(line).get("note"), "no note on a reset upload: %s" % line)
        events = wait_until(lambda: [e for e in env.origin.echo.events(tag)
                                     if e.get("event") in ("aborted", "complete")], 5)
        expect(events, "the origin never saw the upload end")
        expect_eq(events[0]["event"], "aborted", "how the origin saw the cut upload")
        still_serves(env, p, "after a client reset mid-upload")


@test("body_upstream_reset_mid_chunked_body_http10_client")
def _(env):
    """An HTTP/1.0 client gets a chunked answer as its data alone, ended
    by the close: when the origin resets mid-body, the client's
    connection is reset too, never closed as if the body were whole."""
    chunk = b"%x\r\n%s\r\n" % (64 * KIB, pattern(64 * KIB))
    origin = ResettingOrigin(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                             + chunk * 4, 0)
    try:
        with checked_proxy(env) as p:
            tag = uniq("rst10")
            s = socket.create_connection((LOOPBACK, p.port), timeout=10)
            s.sendall(b"GET http://%s:%d/x?tag=%s HTTP/1.0\r\n\r\n"
                      % (LOOPBACK.encode(), origin.port, tag.encode()))
            got, how = b"", "closed cleanly"
            try:
                while True:
                    d = s.recv(65536)
                    if not d:
                        break
                    got += d
            except ConnectionResetError:
                how = "reset"
            finally:
                s.close()
            expect(origin.done.wait(5), "the origin never sent its reset")
            expect_eq(how, "reset", "how the HTTP/1.0 client's cut body ended (%d bytes)"
                      % len(got))
            line = expect_one_line(p, tag)
            expect("upstream" in log_fields(line).get("note", ""),
                   "access log note does not blame the upstream: %s" % line)
    finally:
        origin.close()


def sanitized():
    """Is this a sanitizer run (ci.sh sets ASAN_OPTIONS; a plain `make
    check` in a sanitizer build does not, so the binary is asked too)?"""
    if os.environ.get("ASAN_OPTIONS"):
        return True
    try:
        with open(os.environ.get("PROXYD", ""), "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


class SlowSink(_Server):
    """Reads a request head, waits `pause` seconds before reading its
    Content-Length body, answers the body's SHA-256."""

    def __init__(self, pause):
        self.pause = pause
        super().__init__()

    def handle(self, conn):
        data = read_head(conn)
        if data is None:
            return
        head, rest = data.split(b"\r\n\r\n", 1)
        n = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                n = int(line.split(b":")[1])
        time.sleep(self.pause)
        h = hashlib.sha256(rest)
        n -= len(rest)
        while n > 0:
            d = conn.recv(min(n, 1 << 20))
            if not d:
                return
            h.update(d)
            n -= len(d)
        body = h.hexdigest().encode()
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))


@test("body_upload_to_slow_origin_bounded_and_whole")
def _(env):
    """A 48 MiB upload to an origin that reads nothing for 3 s: proxyd
    stops reading the client once its buffers are full (its RSS grows by
    a few MiB, not by the upload), then resumes, and the origin gets the
    body byte for byte."""
    body = pattern(48 * 1024 * KIB)
    path = env.wd.sub("upload-48m.bin")
    with open(path, "wb") as f:
        f.write(body)
    sink = SlowSink(3.0)
    try:
        with checked_proxy(env, max_body_size="0") as p:
            before = rss_kib(p.proc.pid)
            peak = [before]
            done = threading.Event()

            def watch():
                while not done.is_set():
                    peak[0] = max(peak[0], rss_kib(p.proc.pid))
                    time.sleep(0.05)
            t = threading.Thread(target=watch, daemon=True)
            t.start()
            r = curl(env, "http://%s:%d/up" % (LOOPBACK, sink.port), "--data-binary",
                     "@" + path, "-H", "Expect:", proxy=p, timeout=60)
            done.set()
            t.join()
            expect(r.rc == 0, "curl exit %d: %s" % (r.rc, r.stderr.strip()))
            expect_eq(r.body.decode(), sha(body), "SHA-256 of the body the origin got")
            grew = (peak[0] - before) / 1024.0
            print("# body_upload_to_slow_origin: RSS grew %.1f MiB at most" % grew)
            # ASan keeps freed memory in quarantine: bound the plain build.
            if not sanitized():
                expect(grew < 16, "proxyd's RSS grew %.1f MiB for a 48 MiB upload "
                       "held 3 s by its origin" % grew)
    finally:
        sink.close()


@test("body_connect_with_400k_sent_before_the_200")
def _(env):
    """A client that sends 400 KiB after its CONNECT head without waiting
    for the 200 fills proxyd's input past its bound before the tunnel
    exists (reading pauses there); the tunnel then carries every byte,
    in order, and the rest of the stream after it."""
    from servers import TcpEcho
    echo = TcpEcho()
    try:
        with checked_proxy(env) as p:
            target = ("%s:%d" % (env.host("echo.test"), echo.port)).encode()
            early, later = pattern(400 * KIB), pattern(300 * KIB)[::-1]
            c = Conn(p.port, timeout=10)
            try:
                sender = threading.Thread(target=lambda: c.sock.sendall(
                    b"CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (target, target)
                    + early + later), daemon=True)
                sender.start()
                resp = c.read_response(head_request=True)
                expect_eq(resp.status, 200, "CONNECT status")
                got = c.buf
                c.buf = b""
                while len(got) < len(early) + len(later):
                    d = c.sock.recv(65536)
                    if not d:
                        break
                    got += d
                sender.join(10)
                expect_eq(len(got), len(early) + len(later), "bytes back through the tunnel")
                expect(got == early + later, "the tunnel altered or reordered the bytes")
            finally:
                c.close()
            still_serves(env, p, "after a CONNECT with data sent early")
    finally:
        echo.close()
