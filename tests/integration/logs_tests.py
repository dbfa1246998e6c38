"""logs_tests.py - the logs as operators read them: a repeating condition
(accept failing with EMFILE under a low RLIMIT_NOFILE, an upstream down)
logged at its start, then at most once an interval, and at its end;
access_log_format = json parsed line by line; error_log = syslog."""

import json
import os
import re
import socket
import subprocess
import time

from harness import LOOPBACK, TestSkip, expect, expect_eq, free_port, test, wait_until
from proxies import Proxyd
from route_tests import proxyd_only, raw_get

NOFILE = 48          # proxyd's RLIMIT_NOFILE in the EMFILE test
CLIENTS = 90         # more connections than that


class LimitedProxyd(Proxyd):
    """proxyd started under prlimit: few file descriptors."""

    def command(self):
        return ["prlimit", "--nofile=%d" % NOFILE, "--"] + super().command()


def error_lines(p, needle):
    try:
        with open(p.error_log, errors="replace") as f:
            return [l for l in f.read().splitlines() if needle in l]
    except OSError:
        return []


@test("log_emfile_start_then_quiet_then_end")
def _(env):
    proxyd_only(env)
    env.origin
    p = LimitedProxyd(env.wd, env.proxyd_binary, workers=1, header_timeout="30s")
    socks = []
    try:
        p.start()
        for _ in range(CLIENTS):
            socks.append(socket.create_connection((LOOPBACK, p.port), timeout=5))
        expect(wait_until(lambda: error_lines(p, "accept: Too many open files"), 5),
               "no EMFILE line in the error log: %s" % p.diagnostics())
        time.sleep(3)       # 30 retries at 100 ms: one line said it all
        lines = error_lines(p, "accept:")
        expect_eq(len(lines), 1, "accept lines over 3 s of EMFILE (%r)" % lines)
        expect("retrying every 100 ms" in lines[0], "start line: %r" % lines[0])
        for s in socks:
            s.close()
        socks = []
        # The end is told by the first accept after 1 s without a failure.
        time.sleep(1.3)
        r = raw_get(env, p, env.echo_url("/echo?emfile=over"))
        expect_eq(r.status, 200, "a request once fds are free")
        ends = wait_until(lambda: error_lines(p, "accepting again"), 5)
        expect(ends, "no end line after the connections closed: %s" % p.diagnostics())
        expect("failed accepts in" in ends[0], "end line has the count: %r" % ends[0])
        lines = error_lines(p, "accept")
        expect_eq(len(lines), 2, "accept lines in all: the start and the end (%r)" % lines)
    finally:
        for s in socks:
            s.close()
        p.stop()


class ConfProxyd(Proxyd):
    """proxyd whose generated [proxyd] lines are overridden (access_log,
    error_log) and whose command may be wrapped."""

    def __init__(self, wd, binary, overrides, wrap=(), **settings):
        self.overrides, self.wrap = overrides, list(wrap)
        super().__init__(wd, binary, **settings)

    def config_text(self):
        lines = super().config_text().splitlines()
        for i, line in enumerate(lines):
            key = line.split(" = ")[0]
            if key in self.overrides:
                lines[i] = "%s = %s" % (key, self.overrides[key])
        return "\n".join(lines) + "\n"

    def command(self):
        return self.wrap + super().command()


JSON_FIELDS = {"time": str, "client": str, "method": (str, type(None)),
               "target": (str, type(None)),
               "status": int, "bytes_in": int, "bytes_out": int,
               "duration_ms": int, "upstream": (str, type(None)),
               "route": (str, type(None)), "via": (str, type(None))}


def hostile_request(p, target):
    """Send a request line with target as raw bytes; read whatever comes."""
    with socket.create_connection((LOOPBACK, p.port), timeout=5) as s:
        s.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            s.recv(4096)
        except OSError:
            pass


@test("log_access_json_every_line_parses")
def _(env):
    from modproxy_tests import CMP, fetch, mirrors, mod_proxy, murl
    from curl_tests import curl
    proxyd_only(env)
    mirrors(env)
    route = ("go", {"modules": "*", "upstream": "mirror %s" % murl(env, "b")})
    with mod_proxy(env, route, access_log_format="json") as p:
        r = curl(env, env.echo_url("/echo?json=1"), proxy=p)
        expect_eq(r.status, 200, "plain GET")
        r = curl(env, env.https_url("/1k?json=2"), "--cacert", env.origin.ca, proxy=p)
        expect_eq(r.status, 200, "CONNECT")
        r = fetch(env, p.url + "/" + CMP + "/@v/list")
        expect_eq(r.status, 200, "module list")
        # The parser lets visible ASCII through, quotes and backslashes
        # included; other bytes are refused (their escaping: test_log_json).
        echo = env.echo_url("/echo?")
        for t in (echo.encode() + b'q"uote\\back{x}', b"/x\x01\xff"):
            hostile_request(p, t)
        want = 5
        lines = wait_until(lambda: len(p.access_lines()) >= want and p.access_lines(), 5)
        expect(lines, "want %d access lines, got %r" % (want, p.access_lines()))
        objs = []
        for line in lines:
            try:
                objs.append(json.loads(line))
            except ValueError as e:
                raise AssertionError("not JSON (%s): %r" % (e, line))
        for o in objs:
            for k, t in JSON_FIELDS.items():
                expect(k in o and isinstance(o[k], t), "field %s in %r" % (k, o))
            expect(time.strptime(o["time"][:19], "%Y-%m-%dT%H:%M:%S"), "RFC 3339 time")
            expect(o["time"].endswith("Z"), "time in UTC: %r" % o["time"])
        conn = [o for o in objs if o["method"] == "CONNECT"]
        expect(conn and conn[0]["status"] == 200 and conn[0]["via"] == "direct"
               and conn[0]["bytes_out"] > 1024, "CONNECT line: %r" % conn)
        mod = [o for o in objs if o.get("kind") == "list"]
        expect(mod and mod[0]["module"] == CMP and mod[0]["route"] == "go"
               and mod[0]["mirrors"].endswith(" 200") and mod[0]["status"] == 200,
               "module line: %r" % mod)
        quote = [o for o in objs if o["target"] and 'q"uote\\back{x}' in o["target"]]
        expect(quote and quote[0]["status"] == 200, "quote and backslash: %r" % objs)
        bad = [o for o in objs if o["status"] == 400]
        expect(bad and bad[0]["target"] is None and bad[0]["method"] is None
               and bad[0]["note"] == "invalid request target",
               "an unparsed request: null method and target, the reason: %r" % bad)


@test("log_access_disk_full_throttled")
def _(env):
    """access_log = /dev/full: every write fails with ENOSPC; the error
    log says so once, not once a request."""
    proxyd_only(env)
    env.origin
    p = ConfProxyd(env.wd, env.proxyd_binary, {"access_log": "/dev/full"},
                   access_log_format="json")
    try:
        p.start()
        for i in range(20):
            r = raw_get(env, p, env.echo_url("/echo?full=%d" % i))
            expect_eq(r.status, 200, "served with the access log failing")
        lines = wait_until(lambda: error_lines(p, "access log /dev/full"), 3)
        expect_eq(len(lines), 1, "error lines about the access log (%r)" % lines)
        expect("No space left on device" in lines[0], "the reason: %r" % lines[0])
    finally:
        p.stop()


@test("log_error_syslog")
def _(env):
    """error_log = syslog: lines reach /dev/log as LOG_DAEMON.  proxyd runs
    in a mount namespace whose /dev holds the test's own socket."""
    proxyd_only(env)
    env.origin
    d = env.wd.sub("syslog-dev", mkdir=True)
    open(os.path.join(d, "null"), "w").close()
    sink = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sink.bind(os.path.join(d, "log"))
    sink.settimeout(0.2)
    wrap = ["unshare", "-m", "sh", "-c",
            'mount --bind /dev/null "$0/null" && mount --bind "$0" /dev && exec "$@"', d]
    probe = subprocess.run(wrap + ["true"], capture_output=True, timeout=10)
    if probe.returncode != 0:
        raise TestSkip("no mount namespace here: %s" % probe.stderr.decode()[:200])
    p = ConfProxyd(env.wd, env.proxyd_binary, {"error_log": "syslog"}, wrap=wrap)
    got = []

    def drain():
        try:
            while True:
                got.append(sink.recv(4096).decode(errors="replace"))
        except OSError:
            pass
        return [m for m in got if "listening on" in m]

    try:
        p.start()
        start = wait_until(drain, 5)
        expect(start, "no start line on /dev/log: %r %s" % (got, p.diagnostics()))
        expect(start[0].startswith("<27>"), "LOG_DAEMON|LOG_ERR: %r" % start[0])
        expect(re.search(r"proxyd\[\d+\]: proxyd ", start[0]), "tag and pid: %r" % start[0])
        expect(not os.path.exists(p.error_log), "no error log file")
        p.stop()
        expect(wait_until(lambda: [m for m in (drain() and got) if "draining" in m], 5),
               "the SIGTERM line: %r" % got)
    finally:
        p.stop()
        sink.close()


@test("log_upstream_down_and_up_once_each")
def _(env):
    """An upstream refusing: a failover line per failure until it is
    marked down, one "down" line, silence while it is skipped, one "up
    again" line when it accepts again."""
    from parents import SilentListener
    proxyd_only(env)
    env.origin
    dead = free_port()
    route = {"hosts": "echo.test", "upstream": "http 127.0.0.1:%d, direct" % dead,
             "connect_timeout": "1s", "response_timeout": "500ms",
             "fail_threshold": "2", "fail_cooldown": "1s"}
    label = "http 127.0.0.1:%d" % dead
    with env.own_proxy(routes=[("fo", route)]) as p:
        for i in range(10):
            r = raw_get(env, p, env.echo_url("/echo?down=%d" % i))
            expect_eq(r.status, 200, "request %d past the dead parent" % i)
        expect_eq(len(error_lines(p, label + " failed")), 2,
                  "failover lines before it is marked down")
        down = error_lines(p, "is down for")
        expect(len(down) == 1 and "route fo: %s is down for 1000 ms, after 2 failures" % label
               in down[0], "one down line: %r" % down)
        with SilentListener(port=dead) as silent:
            time.sleep(1.1)         # the cooldown: it is tried again
            r = raw_get(env, p, env.echo_url("/echo?down=up"))
            expect_eq(r.status, 200, "served past the silent parent")
            expect(silent.accepted >= 1, "the parent was not tried after its cooldown")
        up = error_lines(p, "is up again")
        expect(len(up) == 1 and "after 2 failures in a row" in up[0], "one up line: %r" % up)
