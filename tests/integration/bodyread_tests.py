"""bodyread_tests.py - bodies read 64 KiB at a time (bev_read_more()).

libevent 2.1 reads 4 KiB per read event; proxyd reads the rest the
socket holds itself, on the upstream side (response bodies) and on the
client side (request bodies).  What that read meets besides bytes must
come out as before: a connection reset after some of a body is passed
on and then reported (the access log says what happened, the client
sees a cut body, never a complete one), and other clients are served.
The resets are real: SO_LINGER 0 on close sends a TCP RST."""

import socket
import struct
import threading
import time

from curl_tests import curl, sha
from echo_origin import pattern
from harness import LOOPBACK, expect, expect_eq, test, wait_until
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
