"""lifecycle_tests.py - the daemon as a process: -t / -V, SIGTERM with
draining, and a clean exit of the main proxy after the whole suite
(where sanitizer builds report leaks and errors)."""

import os
import re
import signal
import threading
import time

from harness import TestFailure, TestSkip, expect, expect_eq, port_open, run, test, wait_until
from httpraw import Conn, expect_status

SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                   "SUMMARY: UndefinedBehaviorSanitizer")


def proxyd_only(env):
    if env.kind != "proxyd":
        raise TestSkip("proxyd command line, not applicable to " + env.kind)


def proxyd_cli(env, *args):
    return run([env.proxyd_binary] + list(args), timeout=20)


# ---------------------------------------------------------------- command line

GOOD_CONF = """\
# a valid configuration
[proxyd]
listen = 127.0.0.1:3128
allow = 127.0.0.0/8
connect_ports = 443, 1024-65535
workers = 2
header_timeout = 10s
connect_timeout = 500ms
max_request_line = 8k
"""

BAD_CONF = """\
[proxyd]
listen = 127.0.0.1:3128
workers = banana
allow = 127.0.0.0/8
header_timeout = soon
"""


@test("config_check_good_file")
def _(env):
    proxyd_only(env)
    path = env.wd.write("good.conf", GOOD_CONF)
    r = proxyd_cli(env, "-t", "-c", path)
    expect(r.returncode == 0, "-t on a good file exited %d: %s"
           % (r.returncode, r.stderr.decode(errors="replace")))


@test("config_check_bad_file_names_line")
def _(env):
    proxyd_only(env)
    path = env.wd.write("bad.conf", BAD_CONF)
    r = proxyd_cli(env, "-t", "-c", path)
    err = r.stderr.decode(errors="replace")
    expect_eq(r.returncode, 1, "exit status of -t on a bad file")
    expect(re.search(r"bad\.conf:3: ", err), "no `bad.conf:3: ` (workers) in stderr: %r" % err)


@test("config_check_reports_every_error")
def _(env):
    proxyd_only(env)
    path = env.wd.write("bad2.conf", BAD_CONF)
    r = proxyd_cli(env, "-t", "-c", path)
    err = r.stderr.decode(errors="replace")
    expect_eq(r.returncode, 1, "exit status")
    expect(re.search(r"bad2\.conf:5: ", err), "second error (line 5) not reported: %r" % err)


@test("config_check_unknown_key")
def _(env):
    proxyd_only(env)
    path = env.wd.write("unknown.conf", "[proxyd]\nlisten = 127.0.0.1:3128\nfrobnicate = 1\n")
    r = proxyd_cli(env, "-t", "-c", path)
    err = r.stderr.decode(errors="replace")
    expect_eq(r.returncode, 1, "exit status")
    expect("unknown.conf:3:" in err, "no `unknown.conf:3:` in stderr: %r" % err)


@test("version_flag")
def _(env):
    proxyd_only(env)
    r = proxyd_cli(env, "-V")
    out = (r.stdout + r.stderr).decode(errors="replace")
    expect(r.returncode == 0, "-V exited %d" % r.returncode)
    expect(re.search(r"\d+\.\d+", out), "-V printed no version: %r" % out)


# ---------------------------------------------------------------- signals

def slow_request_in_background(env, port, ms, tag):
    """Start a GET to /slow on its own thread; returns (thread, result)."""
    result = {}
    target = "http://%s/slow?ms=%d&tag=%s" % (env.echo_authority(), ms, tag)

    def go():
        try:
            with Conn(port, timeout=15) as c:
                c.send(b"GET %s HTTP/1.1\r\nHost: %s\r\n\r\n"
                       % (target.encode(), env.echo_authority().encode()))
                result["resp"] = c.read_response()
        except Exception as e:
            result["error"] = e
    t = threading.Thread(target=go, daemon=True)
    t.start()
    # Wait until the origin holds it: the request is really in flight.
    seen = wait_until(lambda: env.origin.echo.events(tag), 5)
    if not seen:
        raise TestFailure("the slow request never reached the origin")
    return t, result


@test("sigterm_idle_exits_0")
def _(env):
    with env.own_proxy(shutdown_timeout="2s") as p:
        started = time.monotonic()
        p.proc.send_signal(signal.SIGTERM)
        status = p.proc.wait(4)
        expect(status is not None, "still running 4 s after SIGTERM (shutdown_timeout 2s)")
        expect_eq(status, 0, "exit status after SIGTERM")
        expect(time.monotonic() - started < 3, "idle proxy took over 3 s to exit")


@test("sigterm_drains_inflight_request")
def _(env):
    with env.own_proxy(shutdown_timeout="5s") as p:
        tag = "drain%d" % int(time.monotonic() * 1000)
        t, result = slow_request_in_background(env, p.port, 1500, tag)
        p.proc.send_signal(signal.SIGTERM)
        expect(wait_until(lambda: not port_open(p.port), 2),
               "still accepting connections after SIGTERM")
        t.join(10)
        expect("error" not in result, "in-flight request failed: %r" % result.get("error"))
        expect("resp" in result, "in-flight request got no response")
        expect_status(result["resp"], 200)
        status = p.proc.wait(5)
        expect(status is not None, "still running after the drain")
        expect_eq(status, 0, "exit status after draining")


@test("sigterm_shutdown_timeout_bounds_drain")
def _(env):
    with env.own_proxy(shutdown_timeout="1s") as p:
        tag = "stuck%d" % int(time.monotonic() * 1000)
        slow_request_in_background(env, p.port, 10000, tag)
        started = time.monotonic()
        p.proc.send_signal(signal.SIGTERM)
        status = p.proc.wait(4)
        took = time.monotonic() - started
        expect(status is not None, "still running 4 s after SIGTERM with shutdown_timeout 1s")
        expect_eq(status, 0, "exit status")
        expect(took >= 0.5, "exited after %.1fs without draining at all" % took)


@test("sigusr1_reopens_logs")
def _(env):
    proxyd_only(env)
    with env.own_proxy() as p:
        get_echo(env, p.port, "before-rotate")
        expect(wait_until(lambda: any("before-rotate" in l for l in p.access_lines()), 3),
               "first request not in the access log")
        os.rename(p.access_log, p.access_log + ".1")
        p.proc.send_signal(signal.SIGUSR1)

        def logged_after_reopen():
            get_echo(env, p.port, "after-rotate")
            return any("after-rotate" in l for l in p.access_lines())
        expect(wait_until(logged_after_reopen, 3, interval=0.2),
               "no new access log with the request after SIGUSR1")
        expect(p.alive(), "proxy died on SIGUSR1")


def get_echo(env, port, tag):
    with Conn(port, timeout=10) as c:
        target = "http://%s/echo?%s" % (env.echo_authority(), tag)
        c.send(b"GET %s HTTP/1.1\r\nHost: %s\r\n\r\n"
               % (target.encode(), env.echo_authority().encode()))
        expect_status(c.read_response(), 200)


# ---------------------------------------------------------------- last: clean exit

@test("main_proxy_clean_exit_after_suite")
def _(env):
    """Runs last: the main proxy served the whole suite; SIGTERM must end
    it with status 0 and no sanitizer report in its output."""
    p = env.retire_main_proxy()
    if p is None:
        raise TestSkip("the main proxy was not started")
    status = p.stop(sig=signal.SIGTERM, grace=15)
    output = p.diagnostics(20000)
    marks = [m for m in SANITIZER_MARKS if m in output]
    expect(not marks, "sanitizer report in the proxy's output: %s" % output[-3000:])
    expect_eq(status, 0, "exit status of the main proxy")
