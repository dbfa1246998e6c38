"""request_tests.py - regressions of the plain (non-CONNECT) request path:
bandwidth shaping meeting a bad chunked body (a use-after-free from the
shaping timer) or an origin's close (the end of the body lost), failover
of idempotent requests past a parent that never answers or closes, one
access log line per request whatever ended it (client gone, shutdown),
Transfer-Encoding normalized both ways, chunk sizes with leading zeros,
`upstream = off`, and HTTP/1.0 clients (forwarded as 1.1, a chunked
answer de-chunked for them, keep-alive honoured).

Every proxyd here is a checked_proxy(): after the test it must still be
running, exit 0 on SIGTERM and have printed no sanitizer report, so a
crash or an ASan/UBSan finding fails the test that caused it."""

import contextlib
import json
import socket
import threading
import time
import urllib.parse

from curl_tests import curl, sha
from echo_origin import pattern
from harness import LOOPBACK, TestFailure, expect, expect_eq, test, wait_until
from httpraw import Closed, Conn, expect_error_reply, expect_status, request
from parents import SilentListener, Stopwatch, _Server, access_line, log_fields
from raw_tests import head
from route_tests import proxyd_only, raw_get
from servers import TcpEcho

SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                   "SUMMARY: UndefinedBehaviorSanitizer", "AddressSanitizer:DEADLYSIGNAL")
KIB = 1024
_seq = [0]


def uniq(stem):
    _seq[0] += 1
    return "%s-%d-%d" % (stem, int(time.time() * 1000) % 10 ** 8, _seq[0])


# ---------------------------------------------------------------- a proxyd that must survive

def sanitizer_report(p):
    out = p.proc.output(400000) if p.proc else ""
    marks = [m for m in SANITIZER_MARKS if m in out]
    if not marks:
        return None
    at = min(out.find(m) for m in marks)
    return out[max(0, at - 200):at + 2500]


def death_note(p):
    """Why proxyd is gone, or None while it runs (waits a moment for a
    process that is still writing its sanitizer report)."""
    if p.proc is None or (p.alive() and p.proc.wait(1.5) is None):
        return None
    status = p.proc.wait(1)
    report = sanitizer_report(p)
    if status == 0 and report is None:
        return None
    return "proxyd exited with status %s: %s" % (status, report or p.diagnostics(2500))


def expect_survived(p, stopped=False):
    """proxyd still runs (unless the test stopped it), exits 0 on SIGTERM,
    and reported nothing."""
    if not stopped and not p.alive():
        raise TestFailure("proxyd died during the test: %s"
                          % (death_note(p) or "exit status 0, %s" % p.diagnostics(1500)))
    status = p.stop(grace=15)
    report = sanitizer_report(p)
    expect(report is None, "sanitizer report in proxyd's output: %s" % report)
    expect_eq(status, 0, "proxyd's exit status")


@contextlib.contextmanager
def checked_proxy(env, stopped=False, **settings):
    """env.own_proxy() whose death, exit status or sanitizer output after
    the block fails the test (stopped: the test ends proxyd itself); a
    failure inside the block while proxyd is dead says so, with the
    report, as that is the real cause."""
    proxyd_only(env)
    settings.setdefault("shutdown_timeout", "2s")
    with env.own_proxy(**settings) as p:
        try:
            yield p
        except Exception as e:
            note = death_note(p)
            if note:
                raise TestFailure("%s: %s -- %s" % (type(e).__name__, e, note))
            raise
        expect_survived(p, stopped)


def lines_with(p, needle):
    return [l for l in p.access_lines() if needle in l]


def status_of(line):
    parts = line.split(" ")
    return int(parts[4]) if len(parts) > 4 and parts[4].isdigit() else None


def expect_one_line(p, needle, settle=0.3):
    """Exactly one access log line holds needle (waits for it, then a
    moment more for a duplicate); returns it."""
    access_line(p, needle)
    time.sleep(settle)
    got = lines_with(p, needle)
    expect(len(got) == 1, "%d access log lines for %s, want exactly 1: %s"
           % (len(got), needle, got))
    return got[0]


def still_serves(env, p, what):
    r = raw_get(env, p, env.echo_url("/echo?alive=" + uniq("later")))
    expect(r.status == 200, "%s: a later request got %s (%r)" % (what, r.status, r.body[:120]))


# ---------------------------------------------------------------- scripted origins

def read_head(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            raise OSError("peer closed before the end of the head")
        data += chunk
    return data


class Scripted(_Server):
    """A raw-socket peer: script(self, conn) runs per connection; heads
    holds the request heads it read (via self.head(conn))."""

    def __init__(self, script):
        self.script = script
        self.heads = []
        self.body_bytes = 0
        super().__init__()

    def head(self, conn):
        data = read_head(conn)
        h, _, rest = data.partition(b"\r\n\r\n")
        self.heads.append(h)
        return rest

    def discard(self, conn, already=b""):
        self.body_bytes += len(already)
        while True:
            data = conn.recv(65536)
            if not data:
                return
            self.body_bytes += len(data)

    def handle(self, conn):
        self.script(self, conn)


def sink(o, conn):
    """Reads the request and discards its body, never answers."""
    o.discard(conn, o.head(conn))


def early_200(o, conn):
    """Answers a 200 head (Content-Length 10, no body yet) before reading
    the request body, then reads and discards."""
    rest = o.head(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n")
    o.discard(conn, rest)


def close_after_head(o, conn):
    """Reads the request head and closes without a byte of response."""
    o.head(conn)


# ---------------------------------------------------------------- bodies

def chunked_body(data, sizes):
    out, i = b"", 0
    for n in sizes:
        out += b"%x\r\n%s\r\n" % (n, data[i:i + n])
        i += n
    assert i == len(data)
    return out + b"0\r\n\r\n"


BAD_CHUNK = b"NOT-A-CHUNK-SIZE\r\n\r\n"


def bad_chunked_post(port, valid, tag):
    """A chunked POST (absolute-form) to 127.0.0.1:port whose framing
    is valid for one chunk of `valid` bytes, then turns invalid."""
    target = "http://%s:%d/sink?tag=%s" % (LOOPBACK, port, tag)
    return (b"POST %s HTTP/1.1\r\nHost: %s:%d\r\nTransfer-Encoding: chunked\r\n\r\n"
            % (target.encode(), LOOPBACK.encode(), port)
            + b"%x\r\n" % valid + pattern(valid) + b"\r\n" + BAD_CHUNK)


def shaped_routes():
    """127.0.0.1 (the scripted origins) at 16 KiB/s; everything else direct."""
    return [("shaped", {"hosts": LOOPBACK, "upstream": "direct", "bandwidth": "16k"})]


# ---------------------------------------------------------------- 1: shaping x bad chunks

@test("request_shaped_bad_chunk_400_no_crash")
def _(env):
    """bandwidth = 16k: the first 16 KiB pass at once, the chunk framing
    turns invalid after 24 KiB, so the bad bytes are met from the shaping
    timer.  The client gets the 400 one-liner, proxyd lives on."""
    with Scripted(sink) as origin, \
            checked_proxy(env, routes=shaped_routes()) as p:
        tag = uniq("shape400")
        with Stopwatch() as sw:
            r = request(p.port, bad_chunked_post(origin.port, 24 * KIB, tag), timeout=10)
        expect_error_reply(r, 400)
        expect(origin.body_bytes >= 16 * KIB or wait_until(
            lambda: origin.body_bytes >= 16 * KIB, 1),
            "the origin got %d body bytes, want the first 16 KiB at least" % origin.body_bytes)
        print("# request_shaped_bad_chunk: 400 after %.2fs, origin got %d body bytes"
              % (sw.elapsed, origin.body_bytes))
        expect(sw.elapsed >= 0.2, "400 after %.2fs: the bad bytes were met within the "
               "first grant, not from the shaping timer (test premise)" % sw.elapsed)
        line = expect_one_line(p, tag)
        expect_eq(status_of(line), 400, "logged status (%s)" % line)
        still_serves(env, p, "after a shaped bad chunk")


@test("request_shaped_bad_chunk_after_response_cut")
def _(env):
    """As above, but the origin answered 200 before reading the body: the
    response has started, so the bad chunk cuts the client connection."""
    with Scripted(early_200) as origin, \
            checked_proxy(env, routes=shaped_routes()) as p:
        tag = uniq("shapecut")
        with Conn(p.port, timeout=10) as c:
            c.send(bad_chunked_post(origin.port, 24 * KIB, tag))
            try:
                status = c.read_line()
            except (Closed, socket.timeout) as e:
                raise TestFailure("no response head from the early origin: %s" % e)
            expect(status.startswith(b"HTTP/1.1 200"), "status line %r, want the origin's 200"
                   % status)
            c.sock.settimeout(5)
            try:
                rest = c.read_to_close()
            except socket.timeout:
                raise TestFailure("connection not cut within 5s of a bad chunk after the "
                                  "response began")
            body = rest.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in rest else b""
            expect(len(body) < 10, "the client got a whole body the origin never sent: %r"
                   % rest[-200:])
        expect_one_line(p, tag)
        still_serves(env, p, "after a cut shaped exchange")


@test("request_hostile_shaping_other_clients_unaffected")
def _(env):
    """While a bad chunked POST is being shaped (48 KiB at 16 KiB/s, the
    bad bytes 2 s away), a plain GET through another route completes."""
    with Scripted(sink) as origin, \
            checked_proxy(env, routes=shaped_routes()) as p:
        tag = uniq("hostile")
        out = {}

        def post():
            try:
                out["resp"] = request(p.port, bad_chunked_post(origin.port, 48 * KIB, tag),
                                      timeout=15)
            except Exception as e:
                out["error"] = e
        t = threading.Thread(target=post, daemon=True)
        t.start()
        expect(wait_until(lambda: origin.body_bytes > 0, 5), "the POST never reached the sink")
        r = curl(env, env.echo_url("/echo?other=" + tag), "-w", "%{time_total}",
                 proxy=p, timeout=10)
        took = float(r.stdout.strip() or "99")
        shaping = t.is_alive()
        expect(r.rc == 0 and r.status == 200, "the other client's GET failed (curl %d, %s): %s"
               % (r.rc, r.status, r.stderr.strip()))
        expect(took < 1.0, "the other client's GET took %.2fs" % took)
        expect(shaping, "the hostile POST was over before the other GET (test premise)")
        t.join(15)
        expect("error" not in out, "the hostile POST got no answer: %r" % out.get("error"))
        expect("resp" in out, "the hostile POST still waiting after 15s")
        expect_error_reply(out["resp"], 400)


# ---------------------------------------------------------------- 2: shaping x origin close

BODY_12M = 12000000
_patterns = {}


def pattern_sha(n):
    if n not in _patterns:
        _patterns[n] = sha(pattern(n))
    return _patterns[n]


def shaped_echo(env):
    return checked_proxy(env, routes=[("shaped4m", {"hosts": "echo.test",
                                                    "upstream": "direct",
                                                    "bandwidth": "4m"})])


@test("request_shaped_close_delimited_body_whole")
def _(env):
    """bandwidth = 4m, an origin sending 12,000,000 bytes without a
    Content-Length and closing: curl gets every byte."""
    with shaped_echo(env) as p:
        tag = uniq("shapeclose")
        r = curl(env, env.echo_url("/close?size=%d&tag=%s" % (BODY_12M, tag)),
                 "-w", "%{time_total}", proxy=p, timeout=20)
        print("# request_shaped_close: curl %d, %d bytes in %ss" % (r.rc, len(r.body), r.stdout))
        expect(r.rc == 0, "curl exit %d: %s" % (r.rc, r.stderr.strip()))
        expect_eq(len(r.body), BODY_12M, "bytes the client got of a close-delimited body")
        expect(sha(r.body) == pattern_sha(BODY_12M), "body differs from the origin's")
        expect_one_line(p, tag)


@test("request_shaped_length_body_then_close")
def _(env):
    """bandwidth = 4m, Content-Length 12,000,000 and the origin closing
    right after the last byte: all of it, no `mid-response` failure."""
    with shaped_echo(env) as p:
        tag = uniq("shapelen")
        r = curl(env, env.echo_url("/drip?size=%d&pause_ms=0&close_after_ms=0&tag=%s"
                                   % (BODY_12M, tag)),
                 "-w", "%{time_total}", proxy=p, timeout=20)
        print("# request_shaped_length: curl %d, %d bytes in %ss" % (r.rc, len(r.body), r.stdout))
        line = expect_one_line(p, tag)
        expect(r.rc == 0, "curl exit %d: %s (log: %s)" % (r.rc, r.stderr.strip(), line))
        expect_eq(len(r.body), BODY_12M, "bytes the client got")
        expect(sha(r.body) == pattern_sha(BODY_12M), "body differs from the origin's")
        expect("mid-response" not in line, "access log calls it cut: %s" % line)
        expect_eq(status_of(line), 200, "logged status (%s)" % line)


# ---------------------------------------------------------------- 3: failover of idempotent requests

FO_TIMEOUT = 2.0


def fo_proxy(env, parent_port):
    return checked_proxy(env, routes=[("fo", {
        "hosts": "echo.test", "upstream": "http %s:%d, direct" % (LOOPBACK, parent_port),
        "connect_timeout": "1s", "response_timeout": "2s", "fail_threshold": 1000})])


def method_request(env, method, tag, body=None):
    extra = b""
    if body is not None:
        extra = b"Content-Length: %d\r\n" % len(body)
    return head(env, method, path="/echo?tag=" + tag, extra=extra) + (body or b"")


def timed_requests(p, reqs):
    """reqs: {name: (bytes, head_request)}, sent at once on their own
    connections; {name: (status or error, seconds)}."""
    out = {}

    def one(name, data, is_head):
        t0 = time.monotonic()
        try:
            with Conn(p.port, timeout=10) as c:
                c.send(data)
                r = c.read_response(head_request=is_head)
            out[name] = (r.status, time.monotonic() - t0)
        except Exception as e:
            out[name] = ("%s: %s" % (type(e).__name__, e), time.monotonic() - t0)
    threads = [threading.Thread(target=one, args=(n, d, h), daemon=True)
               for n, (d, h) in reqs.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join(15)
    return out


def origin_saw(env, tag):
    return [e for e in env.origin.echo.events(tag) if e["event"] == "start"]


def expect_failover_logged(p, parent_port, tag):
    f = log_fields(access_line(p, tag))
    expect_eq(f.get("via"), "direct", "via= of the failed-over request (%s)" % f)
    with open(p.error_log, errors="replace") as fh:
        err = fh.read()
    expect(any("%d" % parent_port in l and "trying direct" in l for l in err.splitlines()),
           "no failover line (parent ... trying direct) in the error log: %r" % err[-600:])


@test("request_failover_idempotent_past_silent_parent")
def _(env):
    """A parent that accepts and never answers: after response_timeout
    (2s) GET, HEAD, OPTIONS, TRACE, DELETE and a body-less PUT are served
    by `direct` (each reaching the origin once), not answered 504."""
    with SilentListener() as silent, fo_proxy(env, silent.port) as p:
        tags = {m: uniq("fo-" + m.lower()) for m in ("GET", "HEAD", "OPTIONS", "TRACE",
                                                      "DELETE", "PUT")}
        reqs = {m: (method_request(env, m, tag, body=b"" if m == "PUT" else None), m == "HEAD")
                for m, tag in tags.items()}
        got = timed_requests(p, reqs)
        print("# request_failover: %s" % ", ".join("%s %s %.2fs" % (m, s, t)
                                                   for m, (s, t) in sorted(got.items())))
        bad = {m: g for m, g in got.items() if g[0] != 200}
        expect(not bad, "not served via direct after the silent parent: %s" % bad)
        for m, (_, took) in got.items():
            expect(FO_TIMEOUT - 0.2 <= took < FO_TIMEOUT + 1.0,
                   "%s served after %.2fs, want after response_timeout (2s)" % (m, took))
        for m, tag in tags.items():
            expect_eq(len(origin_saw(env, tag)), 1, "times the origin saw the %s" % m)
        expect(silent.accepted >= 1, "the silent parent was never tried")
        expect_failover_logged(p, silent.port, tags["GET"])


@test("request_failover_counts_toward_fail_threshold")
def _(env):
    """A response timeout counts as a failure of the parent, like a
    connect failure: with fail_threshold = 1 the second GET skips the
    silent parent and is served by direct at once."""
    with SilentListener() as silent, checked_proxy(env, routes=[("fo", {
            "hosts": "echo.test",
            "upstream": "http %s:%d, direct" % (LOOPBACK, silent.port),
            "connect_timeout": "1s", "response_timeout": "2s",
            "fail_threshold": 1, "fail_cooldown": "60s"})]) as p:
        first = timed_requests(p, {"GET": (method_request(env, "GET", uniq("fo-t1")), False)})
        expect_eq(first["GET"][0], 200, "first GET past the silent parent")
        second = timed_requests(p, {"GET": (method_request(env, "GET", uniq("fo-t2")), False)})
        status, took = second["GET"]
        expect_eq(status, 200, "second GET")
        expect(took < 1.0, "second GET took %.2fs: the silent parent was tried again "
               "(its response timeout did not count toward fail_threshold)" % took)


@test("request_no_failover_with_body_sent")
def _(env):
    """The same route: a POST, and a PUT with a body, went out whole to
    the parent: 504 (or 502), never sent a second time."""
    with SilentListener() as silent, fo_proxy(env, silent.port) as p:
        tags = {"POST": uniq("fo-post"), "PUT": uniq("fo-putbody")}
        reqs = {m: (method_request(env, m, tag, body=b"payload=%s" % m.encode()), False)
                for m, tag in tags.items()}
        got = timed_requests(p, reqs)
        print("# request_no_failover: %s" % ", ".join("%s %s %.2fs" % (m, s, t)
                                                      for m, (s, t) in sorted(got.items())))
        for m, (status, took) in got.items():
            expect(status in (502, 504), "%s with a body sent: %s, want 504/502" % (m, status))
        for m, tag in tags.items():
            expect_eq(len(origin_saw(env, tag)), 0, "times the origin saw the %s" % m)
            expect_one_line(p, tag, settle=0)


@test("request_failover_parent_closes_before_response")
def _(env):
    """A parent that reads the request and closes without a byte of
    response: the GET fails over to direct at once."""
    with Scripted(close_after_head) as parent, fo_proxy(env, parent.port) as p:
        tag = uniq("fo-closed")
        with Stopwatch() as sw:
            r = request(p.port, method_request(env, "GET", tag), timeout=10)
        expect_status(r, 200)
        expect(sw.elapsed < 1.5, "served after %.2fs" % sw.elapsed)
        expect(parent.heads, "the closing parent was never tried")
        expect_eq(len(origin_saw(env, tag)), 1, "times the origin saw the GET")
        expect_failover_logged(p, parent.port, tag)


# ---------------------------------------------------------------- 5: one access log line

@test("request_log_client_closed_while_waiting")
def _(env):
    """The client closes while proxyd waits for a slow origin: one
    access log line, note="client closed", and no second one later."""
    with checked_proxy(env) as p:
        tag = uniq("gone")
        c = Conn(p.port, timeout=10)
        try:
            c.send(head(env, path="/slow?ms=1500&tag=" + tag))
            expect(wait_until(lambda: env.origin.echo.events(tag), 5),
                   "the slow request never reached the origin")
            time.sleep(0.2)
        finally:
            c.close()
        # Past the origin's answer (1.5s), so a late line would show.
        time.sleep(2.0)
        got = lines_with(p, tag)
        expect(len(got) == 1, "%d access log lines, want exactly 1: %s" % (len(got), got))
        expect_eq(log_fields(got[0]).get("note"), "client closed", "note (%s)" % got[0])


@test("request_log_shutdown_inflight_503")
def _(env):
    """SIGTERM with an exchange waiting for its response head, past
    shutdown_timeout: one line, status 503, note="shutdown"."""
    with checked_proxy(env, stopped=True, shutdown_timeout="1s") as p:
        tag = uniq("shutdown")
        out = {}

        def go():
            try:
                with Conn(p.port, timeout=10) as c:
                    c.send(head(env, path="/slow?ms=5000&tag=" + tag))
                    out["resp"] = c.read_response()
            except Exception as e:
                out["error"] = e
        t = threading.Thread(target=go, daemon=True)
        t.start()
        expect(wait_until(lambda: env.origin.echo.events(tag), 5),
               "the slow request never reached the origin")
        p.proc.send_signal(15)
        status = p.proc.wait(6)
        t.join(5)
        expect(status is not None, "proxyd still running 6s after SIGTERM (shutdown_timeout 1s)")
        report = sanitizer_report(p)
        expect(report is None, "sanitizer report at shutdown: %s" % report)
        expect_eq(status, 0, "exit status")
        got = lines_with(p, tag)
        expect(len(got) == 1, "%d access log lines for the exchange cut by shutdown, "
               "want exactly 1: %s" % (len(got), got))
        expect_eq(status_of(got[0]), 503, "logged status (%s)" % got[0])
        expect_eq(log_fields(got[0]).get("note"), "shutdown", "note (%s)" % got[0])
        if "resp" in out:
            expect_eq(out["resp"].status, 503, "what the client got at shutdown")


@test("request_log_connect_tunnel_one_line")
def _(env):
    """A CONNECT tunnel is one line too (written when it closes)."""
    echo = TcpEcho()
    try:
        with checked_proxy(env) as p:
            authority = "%s:%d" % (LOOPBACK, echo.port)
            with Conn(p.port, timeout=10) as c:
                c.send(b"CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n"
                       % (authority.encode(), authority.encode()))
                r = c.read_response(head_request=True)
                expect_status(r, 200)
                c.send(b"ping through the tunnel")
                expect_eq(c.read_exact(23), b"ping through the tunnel", "echoed bytes")
            line = expect_one_line(p, "CONNECT " + authority)
            expect_eq(status_of(line), 200, "logged status (%s)" % line)
    finally:
        echo.close()


# ---------------------------------------------------------------- 6: Transfer-Encoding normalized

def te_post(env, tag, te_lines, data):
    extra = b"".join(b"Transfer-Encoding:%s\r\n" % v for v in te_lines)
    return (head(env, "POST", path="/echo?tag=" + tag, extra=extra)
            + chunked_body(data, [1000, 1, 999]))


REQUEST_TES = [
    [b" ,chunked"],
    [b" chunked,"],
    [b" , chunked"],
    [b" chunked, ,"],
    [b"", b" chunked"],
]


@test("request_te_request_forwarded_normalized")
def _(env):
    """A chunked POST with `,chunked`, `chunked,`, `, chunked`,
    `chunked, ,` or an empty Transfer-Encoding line before `chunked`
    reaches the origin with the single header `Transfer-Encoding: chunked`
    and its body intact."""
    proxyd_only(env)
    data = pattern(2000)
    for te in REQUEST_TES:
        shown = " + ".join(repr(v.strip().decode()) for v in te)
        tag = uniq("te-req")
        r = request(env.proxy.port, te_post(env, tag, te, data), timeout=10)
        if r.status != 200:
            seen = [e.get("headers") for e in env.origin.echo.events(tag) if e["event"] == "bad"]
            raise TestFailure("TE %s: status %s (%r); the origin got TE lines %s"
                              % (shown, r.status, r.body[:100],
                                 [[h for h in hs if h[0].lower() == "transfer-encoding"]
                                  for hs in seen]))
        info = json.loads(r.body)
        tes = [v for k, v in info["headers"] if k.lower() == "transfer-encoding"]
        expect(tes == ["chunked"], "TE %s reached the origin as %r, want one line "
               "`Transfer-Encoding: chunked`" % (shown, tes))
        expect(info["body_chunked"] and info["body_sha256"] == sha(data),
               "TE %s: body at the origin %d bytes, sha differs or not chunked"
               % (shown, info["body_len"]))


def te_response(env, p, te_values, size=20000):
    """The echo origin's chunked answer with these Transfer-Encoding
    lines; (TE lines the client got, body)."""
    query = urllib.parse.urlencode([("size", size)] + [("te", v) for v in te_values])
    with Conn(p.port, timeout=10) as c:
        c.send(head(env, path="/chunked?" + query, extra=b"Connection: close\r\n"))
        try:
            r = c.read_response()
        except Closed as e:
            raise TestFailure("TE %r: no whole response: %s" % (te_values, e))
    expect_status(r, 200)
    return r.header_all("Transfer-Encoding"), r.body


@test("request_te_response_normalized")
def _(env):
    """`gzip, chunked` from the origin reaches the client as such;
    `chunked,`, `, chunked`, `chunked, ,` or an empty line before
    `chunked` reach it as the single line `chunked`; bodies intact."""
    proxyd_only(env)
    want = pattern(20000)
    tes, body = te_response(env, env.proxy, ["gzip, chunked"])
    expect_eq(tes, ["gzip, chunked"], "client's Transfer-Encoding for `gzip, chunked`")
    expect(body == want, "body of the gzip, chunked response differs")
    for values in (["chunked,"], [", chunked"], ["chunked, ,"], ["", "chunked"]):
        tes, body = te_response(env, env.proxy, values)
        expect(tes == ["chunked"], "origin's Transfer-Encoding %r reached the client as %r, "
               "want one line `chunked`" % (values, tes))
        expect(body == want, "body of the %r response differs" % values)
    # A close-delimited body with a coding keeps its Transfer-Encoding:
    # without it the client could not know the bytes are encoded.
    tes, body = te_response(env, env.proxy, ["gzip"])
    expect_eq(tes, ["gzip"], "client's Transfer-Encoding for a close-delimited `gzip`")
    expect(body.startswith(b"1b58\r\n"), "close-delimited gzip body was changed: %r"
           % body[:20])


# ---------------------------------------------------------------- 7: chunk sizes with leading zeros

@test("request_chunk_size_leading_zeros")
def _(env):
    """A chunk size of 35 hex digits that is 0xf9 is 249 bytes, not an
    overflow; 17 significant hex digits are one (400)."""
    proxyd_only(env)
    data = pattern(249)
    tag = uniq("zeros")
    body = b"000000000000000000000000000000000f9\r\n" + data + b"\r\n0\r\n\r\n"
    r = request(env.proxy.port, head(env, "POST", path="/echo?tag=" + tag,
                                     extra=b"Transfer-Encoding: chunked\r\n") + body,
                timeout=10)
    expect(r.status == 200, "leading zeros: status %s (%r)" % (r.status, r.body[:120]))
    info = json.loads(r.body)
    expect(info["body_len"] == 249 and info["body_sha256"] == sha(data),
           "leading zeros: the origin got %d bytes, sha %s" % (info["body_len"],
                                                             info["body_sha256"][:12]))
    body = b"00010000000000000000\r\n" + data + b"\r\n0\r\n\r\n"
    r = request(env.proxy.port, head(env, "POST", path="/echo?tag=" + uniq("over"),
                                     extra=b"Transfer-Encoding: chunked\r\n") + body,
                timeout=10)
    expect_error_reply(r, 400)


# ---------------------------------------------------------------- 8: upstream = off

@test("request_route_off_module_403")
def _(env):
    """A module route with `upstream = off`: a GOPROXY request (origin
    form, to proxyd itself) gets 403 with a reason."""
    routes = [("nomods", {"modules": "golang.org/x/text", "upstream": "off"})]
    with checked_proxy(env, routes=routes) as p:
        with Conn(p.port, timeout=10) as c:
            c.send(b"GET /golang.org/x/text/@v/list HTTP/1.1\r\nHost: %s:%d\r\n\r\n"
                   % (LOOPBACK.encode(), p.port))
            r = c.read_response()
        expect_error_reply(r, 403)
        expect(b"nomods" in r.body, "403 body %r names no route" % r.body)


@test("request_route_off_host_403")
def _(env):
    """A host route with `upstream = off`: a GET gets 403 with a reason
    and never reaches the origin."""
    routes = [("nohost", {"hosts": "echo.test", "upstream": "off"})]
    with checked_proxy(env, routes=routes) as p:
        tag = uniq("off")
        r = raw_get(env, p, env.echo_url("/echo?tag=" + tag))
        expect_error_reply(r, 403)
        expect(b"nohost" in r.body, "403 body %r names no route" % r.body)
        expect(not env.origin.echo.events(tag), "a request of an `off` route reached the origin")


# ---------------------------------------------------------------- 9: HTTP/1.0 clients

@test("request_http10_forwarded_as_http11")
def _(env):
    proxyd_only(env)
    with Conn(env.proxy.port, timeout=10) as c:
        c.send(head(env, path="/echo?v10=" + uniq("v"), version="HTTP/1.0"))
        r = c.read_response()
    expect_status(r, 200)
    expect_eq(json.loads(r.body)["version"], "HTTP/1.1", "request version at the origin")


def always_chunked(o, conn):
    """Answers a chunked 200 (uneven chunks) whatever the request version."""
    o.head(conn)
    data = pattern(50000)
    out = b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n" \
          b"Transfer-Encoding: chunked\r\n\r\n"
    for i in range(0, len(data), 7777):
        piece = data[i:i + 7777]
        out += b"%x\r\n%s\r\n" % (len(piece), piece)
    conn.sendall(out + b"0\r\n\r\n")
    o.discard(conn)


def http10_get(p, url, authority):
    """A 1.0 GET; (response, whether proxyd closed after it)."""
    with Conn(p.port, timeout=10) as c:
        c.send(b"GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" % (url.encode(), authority.encode()))
        try:
            r = c.read_response()
        except Closed as e:
            raise TestFailure("no whole response to the HTTP/1.0 GET of %s: %s" % (url, e))
        return r, c.closed_by_peer(3)


def expect_unchunked_for_10(r, closed, want, what):
    expect_status(r, 200)
    te = r.header_all("Transfer-Encoding")
    expect(not te, "%s: the HTTP/1.0 client got Transfer-Encoding %r" % (what, te))
    expect(len(r.body) == len(want) and r.body == want,
           "%s: body %d bytes, want the origin's %d exactly%s"
           % (what, len(r.body), len(want),
              " (chunk framing left in)" if b"\r\n" in r.body[:8] else ""))
    expect(closed, "%s: connection not closed after the close-delimited body" % what)


@test("request_http10_chunked_answer_unchunked")
def _(env):
    """An origin answering chunked: the HTTP/1.0 client gets the body
    bytes raw (no chunk framing) and the connection closed at the end."""
    with Scripted(always_chunked) as origin, checked_proxy(env) as p:
        authority = "%s:%d" % (LOOPBACK, origin.port)
        r, closed = http10_get(p, "http://%s/any" % authority, authority)
        expect_unchunked_for_10(r, closed, pattern(50000), "scripted chunked origin")
        expect(origin.heads and origin.heads[0].split(b"\r\n")[0].endswith(b" HTTP/1.1"),
               "request line at the origin: %r" % (origin.heads[:1],))
        r, closed = http10_get(p, env.echo_url("/chunked?size=100000"), env.echo_authority())
        expect_unchunked_for_10(r, closed, pattern(100000), "echo origin /chunked")


@test("request_http10_keep_alive_two_requests")
def _(env):
    """HTTP/1.0 with Connection: keep-alive and a Content-Length answer:
    the connection stays for a second request."""
    proxyd_only(env)
    with Conn(env.proxy.port, timeout=10) as c:
        for i in range(2):
            c.send(head(env, path="/echo?ka10=%d" % i, version="HTTP/1.0",
                        extra=b"Connection: keep-alive\r\n"))
            try:
                r = c.read_response()
            except Closed as e:
                raise TestFailure("HTTP/1.0 keep-alive request %d: connection closed: %s"
                                  % (i + 1, e))
            expect_status(r, 200)
            expect(r.header("Content-Length") is not None, "no Content-Length in answer %d" % i)
            expect_eq((r.header("Connection") or "").lower(), "keep-alive",
                      "Connection header of answer %d to a 1.0 keep-alive client" % (i + 1))


# ---------------------------------------------------------------- client_close keeps its reason

@test("request_debug_log_names_close_reason")
def _(env):
    """proxyd -d: every client close is in the error log with its
    reason (client_close(c, reason) no longer drops it); without -d, none."""
    for debug in (True, False):
        with checked_proxy(env, args=["-d"] if debug else []) as p:
            with Conn(p.port, timeout=5) as c:
                c.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                r = c.read_response()
            expect_status(r, 404)       # origin form, not a GOPROXY path
            def logged():
                with open(p.error_log, errors="replace") as fh:
                    return [l for l in fh if "closed:" in l]
            if debug:
                wait_until(logged, 5)
                expect(any("client 127.0.0.1:" in l for l in logged()),
                       "debug close line does not name the client: %r" % logged())
            else:
                time.sleep(0.3)
                expect(not logged(), "debug lines without -d: %r" % logged())
