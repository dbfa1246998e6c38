"""logs_tests.py - the logs as operators read them: a repeating condition
(accept failing with EMFILE under a low RLIMIT_NOFILE, an upstream down)
logged at its start, then at most once an interval, and at its end;
access_log_format = json parsed line by line; error_log = syslog."""

import json
import socket
import time

from harness import LOOPBACK, expect, expect_eq, free_port, test, wait_until
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
