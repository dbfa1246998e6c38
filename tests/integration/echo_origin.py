#!/usr/bin/env python3
"""echo_origin.py - a tiny HTTP/1.1 origin that tells what it received.

Run: echo_origin.py PORT LOGFILE.  Listens on 127.0.0.1:PORT, keep-alive.
Every request is logged as JSON lines to LOGFILE: {"event": "start", ...}
when its head is read, then "complete" once the whole body arrived or
"aborted" if the connection ended first -- so a test can prove that a
truncated request never reached the origin complete.

Endpoints (any method):
  /echo...         JSON: method, target, version, headers, body_len,
                   body_sha256, body_chunked
  /chunked?size=N  a chunked response of pattern(N) (close-delimited
                   for an HTTP/1.0 request, as a correct origin does);
                   &te=V (repeatable, may be empty) sends these
                   Transfer-Encoding lines instead of `chunked`
  /close?size=N    a close-delimited response (no Content-Length)
  /slow?ms=N       waits N ms before answering
  /drip?size=N&pause_ms=M  sends half of pattern(N) (Content-Length N),
                   pauses M ms, then the rest
  /bad             answers garbage that is no HTTP response
  /status?code=N   answers status N with an empty body
  /hop             answers with hop-by-hop headers (Connection: X-Hop,
                   X-Hop, Keep-Alive, Upgrade) and an end-to-end X-E2E
Any endpoint: ?close_after_ms=N answers normally (keep-alive) and then
closes the connection N ms later, like an origin's idle timeout.
"""

import hashlib
import http.server
import json
import socketserver
import sys
import threading
import time
import urllib.parse


def pattern(n):
    """Deterministic, incompressible-looking bytes, known to both sides."""
    out = bytearray()
    block = b"proxyd-pattern"
    i = 0
    while len(out) < n:
        block = hashlib.sha256(block + i.to_bytes(4, "big")).digest()
        out += block
        i += 1
    return bytes(out[:n])


class Log:
    def __init__(self, path):
        self.f = open(path, "a", buffering=1)
        self.lock = threading.Lock()

    def write(self, **entry):
        with self.lock:
            self.f.write(json.dumps(entry) + "\n")


class Truncated(Exception):
    pass


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "echo-origin"
    log = None                      # set in main()

    def log_message(self, fmt, *args):   # quiet; the JSON log says enough
        pass

    # Dispatch every method, including PROPFIND & co, to one handler.
    def __getattr__(self, name):
        if name.startswith("do_"):
            return self.handle_any
        raise AttributeError(name)

    # -------------------------------------------------------- body reading

    def _read_exact(self, n):
        data = self.rfile.read(n)
        if len(data) != n:
            raise Truncated()
        return data

    def _read_line(self):
        line = self.rfile.readline(65537)
        if not line.endswith(b"\n"):
            raise Truncated()
        return line

    def read_body(self):
        """(body, chunked?) per RFC 9112 framing; Truncated if cut short."""
        te = self.headers.get("Transfer-Encoding")
        if te is not None:
            if te.strip().lower() != "chunked":
                raise ValueError("unsupported transfer-encoding " + te)
            body = bytearray()
            while True:
                size = int(self._read_line().split(b";")[0].strip(), 16)
                if size == 0:
                    break
                body += self._read_exact(size)
                if self._read_line() not in (b"\r\n", b"\n"):
                    raise ValueError("bad chunk end")
            while self._read_line() not in (b"\r\n", b"\n"):
                pass                # trailers
            return bytes(body), True
        length = self.headers.get("Content-Length")
        if length is None:
            return b"", False
        return self._read_exact(int(length)), False

    # -------------------------------------------------------- responses

    def send(self, status, body=b"", ctype="application/octet-stream", extra=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        for k, v in extra:
            self.send_header(k, v)
        if status not in (204, 304) and not (100 <= status < 200):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and status not in (204, 304):
            self.wfile.write(body)

    def handle_any(self):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        tag = query.get("tag", [""])[0]
        self.log.write(event="start", method=self.command, target=self.path, tag=tag)
        try:
            body, chunked = self.read_body()
        except Truncated:
            self.log.write(event="aborted", method=self.command, target=self.path, tag=tag)
            self.close_connection = True
            return
        except ValueError as e:
            self.log.write(event="bad", method=self.command, target=self.path,
                           tag=tag, why=str(e), headers=list(self.headers.items()))
            self.close_connection = True
            self.send(400, b"bad body\n", "text/plain")
            return
        self.log.write(event="complete", method=self.command, target=self.path,
                       tag=tag, body_len=len(body))
        size = int(query.get("size", ["1024"])[0])
        path = url.path
        if path.startswith("/echo"):
            self.echo(body, chunked)
        elif path == "/chunked":
            te = urllib.parse.parse_qs(url.query, keep_blank_values=True).get("te")
            self.chunked(pattern(size), te or ["chunked"])
        elif path == "/close":
            self.close_delimited(pattern(size))
        elif path == "/slow":
            time.sleep(int(query.get("ms", ["1000"])[0]) / 1000.0)
            self.send(200, b"slow\n", "text/plain")
        elif path == "/drip":
            data = pattern(size)
            self.send_response(200)
            self.send_header("Content-Length", str(size))
            self.end_headers()
            self.wfile.write(data[:size // 2])
            self.wfile.flush()
            time.sleep(int(query.get("pause_ms", ["1000"])[0]) / 1000.0)
            self.wfile.write(data[size // 2:])
        elif path == "/bad":
            self.wfile.write(b"THIS IS NOT HTTP\r\n\r\n")
            self.close_connection = True
        elif path == "/status":
            self.send(int(query.get("code", ["200"])[0]))
        elif path == "/hop":
            self.send(200, b"hop\n", "text/plain",
                      extra=[("Connection", "X-Hop"), ("X-Hop", "1"),
                             ("Keep-Alive", "timeout=5"), ("Upgrade", "nonsense/1"),
                             ("X-E2E", "kept")])
        else:
            self.send(404, b"not found\n", "text/plain")
        if "close_after_ms" in query:
            self.wfile.flush()
            time.sleep(int(query["close_after_ms"][0]) / 1000.0)
            self.close_connection = True

    def echo(self, body, chunked):
        info = {
            "method": self.command,
            "target": self.path,
            "version": self.request_version,
            "headers": list(self.headers.items()),
            "body_len": len(body),
            "body_sha256": hashlib.sha256(body).hexdigest(),
            "body_chunked": chunked,
            "peer": "%s:%d" % self.client_address[:2],   # tells connection reuse
        }
        self.send(200, json.dumps(info).encode() + b"\n", "application/json")

    def chunked(self, data, te=("chunked",)):
        if self.request_version == "HTTP/1.0":
            # A correct origin never sends chunked to HTTP/1.0.
            self.close_delimited(data)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        for value in te:
            self.send_header("Transfer-Encoding", value)
        if not te[-1].replace(" ", "").lower().rstrip(",").endswith("chunked"):
            # Not chunked last: the body is delimited by the close.
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command == "HEAD":
            return
        step = 7000                 # uneven chunks cross buffer boundaries
        for i in range(0, len(data), step):
            piece = data[i:i + step]
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        self.wfile.write(b"0\r\n\r\n")

    def close_delimited(self, data):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self.close_connection = True


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


def main():
    port, log_path = int(sys.argv[1]), sys.argv[2]
    Handler.log = Log(log_path)
    Handler.timeout = 30            # no handler thread hangs forever
    server = Server(("127.0.0.1", port), Handler)
    server.serve_forever()


if __name__ == "__main__":
    main()
