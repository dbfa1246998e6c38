"""httpraw.py - a raw-socket HTTP/1.1 client for byte-exact requests.

Conn(port) opens a connection to the proxy; send() writes bytes exactly
as given; read_response() parses one response (Content-Length, chunked
or close-delimited body).  Every read is bounded by the timeout.
"""

import socket
import time

from harness import LOOPBACK, TestFailure, expect


class Closed(Exception):
    """The peer closed (or reset) before a full response arrived."""


class Response:
    def __init__(self, version, status, reason, headers, body):
        self.version, self.status, self.reason = version, status, reason
        self.headers = headers          # [(name, value)], as received
        self.body = body

    def header(self, name):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None

    def header_all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def __repr__(self):
        return "<%s %s %r>" % (self.status, self.reason, self.body[:80])


class Conn:
    def __init__(self, port, timeout=5.0, host=LOOPBACK):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self):
        try:
            data = self.sock.recv(65536)
        except ConnectionResetError:
            data = b""
        if not data:
            raise Closed("connection closed by the proxy (%d bytes unparsed: %r)"
                         % (len(self.buf), self.buf[:120]))
        self.buf += data

    def read_line(self):
        while b"\n" not in self.buf:
            self._fill()
        line, _, self.buf = self.buf.partition(b"\n")
        return line.rstrip(b"\r")

    def read_exact(self, n):
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def read_to_close(self):
        try:
            while True:
                self._fill()
        except Closed:
            pass
        data, self.buf = self.buf, b""
        return data

    def read_response(self, head_request=False):
        """One response; interim 1xx responses are skipped."""
        while True:
            line = self.read_line()
            parts = line.decode("latin-1").split(" ", 2)
            if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
                raise TestFailure("not an HTTP status line: %r" % line[:200])
            version, status = parts[0], int(parts[1])
            reason = parts[2] if len(parts) > 2 else ""
            headers = []
            while True:
                h = self.read_line()
                if not h:
                    break
                k, _, v = h.decode("latin-1").partition(":")
                headers.append((k.strip(), v.strip()))
            if 100 <= status < 200 and status != 101:
                continue
            resp = Response(version, status, reason, headers, b"")
            resp.body = self._read_body(resp, head_request)
            return resp

    def _read_body(self, resp, head_request):
        if head_request or resp.status in (204, 304) or 100 <= resp.status < 200:
            return b""
        te = resp.header("Transfer-Encoding")
        if te and te.lower().endswith("chunked"):
            body = b""
            while True:
                size = int(self.read_line().split(b";")[0], 16)
                if size == 0:
                    while self.read_line():
                        pass
                    return body
                body += self.read_exact(size)
                self.read_line()
        cl = resp.header("Content-Length")
        if cl is not None:
            return self.read_exact(int(cl))
        return self.read_to_close()

    def closed_by_peer(self, timeout):
        """True if the peer closes (EOF or reset) within timeout seconds,
        ignoring any bytes it sends first."""
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                self.sock.settimeout(max(0.01, deadline - time.monotonic()))
                if not self.sock.recv(65536):
                    return True
        except socket.timeout:
            return False
        except OSError:
            return True
        return False


def request(port, data, timeout=5.0, head_request=False):
    """Send data on a new connection and read one response."""
    with Conn(port, timeout) as c:
        c.send(data)
        try:
            return c.read_response(head_request)
        except Closed:
            raise TestFailure("proxy closed the connection without a response")
        except socket.timeout:
            raise TestFailure("no response within %ss" % timeout)


def expect_status(resp, status):
    expect(resp.status == status, "status %s, want %s (%r)" % (resp.status, status, resp.body[:200]))


def expect_error_reply(resp, status, lines=1):
    """The contract's error answer: status, text/plain, Connection: close,
    body `proxyd: <reason>\\n` on one line (up to 8 for a GOPROXY request
    that reached its mirrors: one per mirror, see goerr_tests)."""
    expect_status(resp, status)
    ctype = (resp.header("Content-Type") or "").split(";")[0].strip().lower()
    expect(ctype == "text/plain", "error reply Content-Type %r, want text/plain" % ctype)
    expect((resp.header("Connection") or "").lower() == "close",
           "error reply without Connection: close")
    body = resp.body
    expect(body.startswith(b"proxyd: ") and body.endswith(b"\n")
           and 1 <= body.count(b"\n") <= lines,
           "error body %r is not %s `proxyd: <reason>`"
           % (body[:200], "one line" if lines == 1 else "up to %d lines" % lines))
