"""reload_tests.py - SIGHUP reloads the configuration without dropping
anything: tunnels and requests in flight finish on the old snapshot, new
ones use the new one, a broken file changes nothing; listeners kept,
added, closed; limiter state kept; workers/user need a restart; the
descriptor limit; SIGUSR1 log reopen after `user =` under load."""

import os
import pwd
import re
import resource
import selectors
import signal
import socket
import threading
import time

from harness import LOOPBACK, TestFailure, TestSkip, expect, expect_eq, free_port, run, test, wait_until
from httpraw import Conn


def proxyd_only(env):
    if env.kind != "proxyd":
        raise TestSkip("proxyd reload, not applicable to " + env.kind)


def rewrite(p, extra=""):
    """Write p's config again (its routes may have changed), plus extra."""
    with open(p.conf + ".tmp", "w") as f:
        f.write(p.config_text() + extra)
    os.rename(p.conf + ".tmp", p.conf)


def error_log(p):
    try:
        with open(p.error_log, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def reload(p, expect_ok=True):
    """SIGHUP, and wait for the outcome in the error log."""
    want = "loaded:" if expect_ok else "reload failed"
    before = error_log(p).count(want)
    p.proc.send_signal(signal.SIGHUP)
    if not wait_until(lambda: error_log(p).count(want) > before, 5):
        raise TestFailure("no `%s` in the error log after SIGHUP: %s" % (want, error_log(p)[-1500:]))
    expect(p.alive(), "the proxy died on SIGHUP: %s" % p.diagnostics())


def get(port, url, timeout=10, host=LOOPBACK):
    """One request on a new connection: (status, body)."""
    hostport = url.split("/")[2]
    with Conn(port, timeout=timeout, host=host) as c:
        c.send(b"GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n"
               % (url.encode(), hostport.encode()))
        r = c.read_response()
        return r.status, r.body


def explain(env, conf, target):
    r = run([env.proxyd_binary, "--explain", target, "-c", conf], timeout=20)
    return r.stdout.decode(errors="replace")


def raise_nofile(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# ---------------------------------------------------------------- tunnels

class SelectEcho:
    """A TCP echo server for thousands of connections on one thread."""

    def __init__(self):
        self.sel = selectors.DefaultSelector()
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((LOOPBACK, 0))
        self.listener.listen(4096)
        self.listener.setblocking(False)
        self.port = self.listener.getsockname()[1]
        self.sel.register(self.listener, selectors.EVENT_READ, None)
        self.stopping = False
        self.conns = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopping:
            for key, _ in self.sel.select(0.2):
                if key.data is None:
                    self._accept()
                    continue
                try:
                    data = key.fileobj.recv(65536)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if not data:
                    self.sel.unregister(key.fileobj)
                    key.fileobj.close()
                    continue
                key.fileobj.setblocking(True)    # small echoes: never stalls long
                key.fileobj.sendall(data)
                key.fileobj.setblocking(False)

    def _accept(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except (BlockingIOError, OSError):
                return
            conn.setblocking(False)
            self.sel.register(conn, selectors.EVENT_READ, 1)
            self.conns.append(conn)

    def close(self):
        self.stopping = True
        self.thread.join(5)
        for c in self.conns:
            c.close()
        self.listener.close()
        self.sel.close()


class TunnelSwarm:
    """n CONNECT tunnels through the proxy to an echo server, each sending
    a numbered line and checking its echo, round after round, until
    stopped.  dropped counts tunnels that failed at any point."""

    def __init__(self, proxy_port, echo_port, n):
        self.socks = []
        self.dropped = {}
        self.rounds = 0
        self.stopping = False
        for i in range(n):
            s = socket.create_connection((LOOPBACK, proxy_port), timeout=10)
            s.sendall(b"CONNECT %s:%d HTTP/1.1\r\nHost: %s:%d\r\n\r\n"
                      % (LOOPBACK.encode(), echo_port, LOOPBACK.encode(), echo_port))
            self.socks.append(s)
        for i, s in enumerate(self.socks):
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = s.recv(4096)
                if not chunk:
                    raise TestFailure("tunnel %d closed before its 200" % i)
                head += chunk
            if not head.startswith(b"HTTP/1.1 200"):
                raise TestFailure("tunnel %d: %r" % (i, head[:80]))
            s.setblocking(False)
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self.thread.start()

    def one_round(self, deadline_s=10):
        """Every live tunnel sends its line and reads it back."""
        sel = selectors.DefaultSelector()
        want, got = {}, {}
        for i, s in enumerate(self.socks):
            if i in self.dropped:
                continue
            want[i] = b"tunnel %d round %d\n" % (i, self.rounds)
            got[i] = b""
            try:
                s.send(want[i])
            except OSError as e:
                self.dropped[i] = "send: %s" % e
                continue
            sel.register(s, selectors.EVENT_READ, i)
        end = time.monotonic() + deadline_s
        pending = len(sel.get_map())
        while pending and time.monotonic() < end:
            for key, _ in sel.select(0.5):
                i = key.data
                try:
                    chunk = key.fileobj.recv(4096)
                except BlockingIOError:
                    continue
                except OSError as e:
                    chunk, self.dropped[i] = b"", "recv: %s" % e
                if not chunk:
                    self.dropped.setdefault(i, "closed")
                got[i] += chunk
                if not chunk or len(got[i]) >= len(want[i]):
                    if chunk and got[i] != want[i]:
                        self.dropped[i] = "echo %r != %r" % (got[i], want[i])
                    sel.unregister(key.fileobj)
                    pending -= 1
        for key in list(sel.get_map().values()):
            self.dropped.setdefault(key.data, "no echo within %ds" % deadline_s)
        sel.close()
        self.rounds += 1

    def _run(self):
        while not self.stopping:
            self.one_round()
            time.sleep(0.05)

    def stop(self):
        self.stopping = True
        self.thread.join(30)

    def close(self):
        for s in self.socks:
            s.close()


class RequestLoad:
    """Threads sending requests, each on a new connection, without pause."""

    def __init__(self, port, url, nthreads=2):
        self.port, self.url = port, url
        self.ok = 0
        self.failed = []
        self.stopping = False
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(nthreads)]
        for t in self.threads:
            t.start()

    def _run(self):
        while not self.stopping:
            try:
                status, _ = get(self.port, self.url)
                err = None if status == 200 else "status %d" % status
            except Exception as e:      # refused, reset, timeout: all failures
                err = repr(e)
            with self.lock:
                if err:
                    self.failed.append(err)
                else:
                    self.ok += 1

    def stop(self):
        self.stopping = True
        for t in self.threads:
            t.join(15)


def gen_route(k):
    return ("gen%d" % k, {"hosts": "gen%d.test" % k, "upstream": "deny"})


def route_in_effect(env, p, k, file_ok=True):
    """--explain (when the file is good) and a real request both name
    route genK."""
    if file_ok:
        out = explain(env, p.conf, "http://gen%d.test/" % k)
        if not re.search(r"\bgen%d\b" % k, out):
            raise TestFailure("--explain does not name gen%d: %s" % (k, out))
    return wait_until(lambda: get(p.port, "http://gen%d.test/x" % k) ==
                      (403, b"proxyd: denied by route 'gen%d'\n" % k), 5)


@test("reload_under_load_drops_nothing")
def _(env):
    """2,000 tunnels carrying data and a continuous request load while
    the config is reloaded 10 times, once with a broken file: no tunnel
    dropped, no request failed, each new route in effect at once."""
    proxyd_only(env)
    ntunnels = 2000
    if raise_nofile(2 * ntunnels + 200) < 2 * ntunnels + 200:
        raise TestSkip("cannot raise this process's open files limit")
    echo = SelectEcho()
    started = time.monotonic()
    try:
        with env.own_proxy(max_clients=8000, tunnel_idle_timeout="5m") as p:
            swarm = TunnelSwarm(p.port, echo.port, ntunnels)
            swarm.start()
            load = RequestLoad(p.port, env.http_url("/1k"))
            try:
                for k in range(1, 11):
                    time.sleep(0.3)
                    if k == 5:
                        # A broken file: logged as file:line, nothing changes.
                        p.routes.append(gen_route(k))
                        rewrite(p, "\n[route broken]\nupstream = sideways 1.2.3.4\n")
                        reload(p, expect_ok=False)
                        line = len(p.config_text().splitlines()) + 3
                        expect(re.search(r"proxyd\.conf:%d: " % line, error_log(p)),
                               "no `proxyd.conf:%d:` in the error log: %s"
                               % (line, error_log(p)[-800:]))
                        status, body = get(p.port, "http://gen5.test/x")
                        expect(b"route 'gen5'" not in body, "route gen5 of the broken file served")
                        expect(route_in_effect(env, p, 4, file_ok=False),
                               "gen4 gone after the broken reload")
                        p.routes.pop()
                        continue
                    p.routes.append(gen_route(k))
                    rewrite(p)
                    reload(p)
                    expect(route_in_effect(env, p, k), "route gen%d not in effect after the "
                           "reload: %r" % (k, get(p.port, "http://gen%d.test/x" % k)))
                time.sleep(0.5)
            finally:
                load.stop()
                swarm.stop()
            swarm.one_round()       # every tunnel once more, after the last reload
            print("# reload_under_load: %d tunnels x %d rounds, %d requests, 10 reloads, %.1fs"
                  % (ntunnels, swarm.rounds, load.ok, time.monotonic() - started))
            dropped = swarm.dropped
            swarm.close()
            expect(not dropped, "%d tunnels dropped, e.g. %r"
                   % (len(dropped), list(dropped.items())[:3]))
            expect(not load.failed, "%d of %d requests failed, e.g. %r"
                   % (len(load.failed), load.ok + len(load.failed), load.failed[:3]))
            expect(load.ok > 100, "only %d requests during the reloads" % load.ok)
            expect(swarm.rounds >= 3, "only %d rounds of tunnel data" % swarm.rounds)
            expect(p.alive(), "the proxy died")
    finally:
        echo.close()


@test("reload_inflight_request_finishes_on_old_config")
def _(env):
    """A request in flight when its route is turned into deny finishes
    (200); the next one is denied."""
    proxyd_only(env)
    route = ("slowroute", {"hosts": "echo.test", "upstream": "direct"})
    with env.own_proxy(routes=[route]) as p:
        tag = "reload%d" % int(time.monotonic() * 1000)
        result = {}
        url = "http://%s/slow?ms=1500&tag=%s" % (env.echo_authority(), tag)

        def go():
            try:
                result["r"] = get(p.port, url, timeout=15)
            except Exception as e:
                result["e"] = e
        t = threading.Thread(target=go, daemon=True)
        t.start()
        expect(wait_until(lambda: env.origin.echo.events(tag), 5), "the slow request never arrived")
        keep = Conn(p.port, timeout=10)     # a kept-alive client, idle during the reload
        echo = env.echo_url("/echo")
        req = b"GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (echo.encode(), env.echo_authority().encode())
        keep.send(req)
        expect_eq(keep.read_response().status, 200, "keep-alive request before the reload")
        p.routes[0] = ("slowroute", {"hosts": "echo.test", "upstream": "deny"})
        rewrite(p)
        reload(p)
        time.sleep(0.2)     # the workers swap from their loops, at once
        keep.send(req)
        expect_eq(keep.read_response().status, 403, "next request of a kept-alive connection")
        keep.close()
        expect(wait_until(lambda: get(p.port, env.echo_url("/echo"))[0] == 403, 5),
               "new requests not denied after the reload")
        t.join(10)
        expect("e" not in result, "the in-flight request failed: %r" % result.get("e"))
        expect_eq(result["r"][0], 200, "status of the request in flight during the reload")
        lines = [l for l in p.access_lines() if tag in l]
        expect(lines and " 200 " in lines[0] and "route=slowroute" in lines[0],
               "access log of the in-flight request: %r" % lines)


@test("reload_listeners_added_kept_removed")
def _(env):
    """An address added is bound, one removed is closed, the one kept
    keeps its socket (same inode: never closed and reopened)."""
    proxyd_only(env)
    extra = free_port()
    with env.own_proxy() as p:
        def listen_inodes():
            out = run(["ss", "-Hltnpe", "sport = :%d" % p.port], timeout=10).stdout.decode()
            return sorted(re.findall(r"ino:(\d+)", out))
        # One SO_REUSEPORT socket per worker (workers = 2).
        expect(wait_until(lambda: len(listen_inodes()) == 2, 5),
               "ss does not show 2 listeners on %d: %r" % (p.port, listen_inodes()))
        before = listen_inodes()
        p.settings["listen"] = "%s:%d, %s:%d" % (LOOPBACK, p.port, LOOPBACK, extra)
        text = p.config_text().replace("listen = %s:%d\n" % (LOOPBACK, p.port), "", 1)
        with open(p.conf, "w") as f:
            f.write(text)
        reload(p)

        def serves(port):
            # The reload is asynchronous: refused until the worker binds.
            try:
                return get(port, env.http_url("/1k"))[0] == 200
            except OSError:
                return False
        expect(wait_until(lambda: serves(extra), 5),
               "the added address does not serve")
        expect_eq(listen_inodes(), before, "listening sockets of the kept address")
        p.settings["listen"] = "%s:%d" % (LOOPBACK, extra)
        text = p.config_text().replace("listen = %s:%d\n" % (LOOPBACK, p.port), "", 1)
        with open(p.conf, "w") as f:
            f.write(text)
        reload(p)

        def refused():
            try:
                socket.create_connection((LOOPBACK, p.port), timeout=2).close()
                return False
            except ConnectionRefusedError:
                return True
        expect(wait_until(refused, 5), "the removed address still accepts")
        expect_eq(get(extra, env.http_url("/1k"))[0], 200, "status on the kept address")
        expect(re.search(r"listeners: 1 kept, 0 added, 1 closed", error_log(p)),
               "no listener summary in the log: %s" % error_log(p)[-600:])


@test("reload_keeps_limiter_state_of_unchanged_route")
def _(env):
    """rate 1 per minute, burst 1, no queue: the token spent before a
    reload stays spent when the route's limits are unchanged, and a route
    whose limits changed starts afresh."""
    proxyd_only(env)
    route = ("limited", {"hosts": "origin.test", "upstream": "direct",
                         "rate": "1/m", "burst": 1, "queue": 0})
    with env.own_proxy(routes=[route]) as p:
        url = env.http_url("/1k")
        expect_eq(get(p.port, url)[0], 200, "first request (the burst)")
        expect_eq(get(p.port, url)[0], 429, "second request")
        p.routes.append(gen_route(1))       # something else changes
        rewrite(p)
        reload(p)
        expect(route_in_effect(env, p, 1), "new route not in effect")
        expect_eq(get(p.port, url)[0], 429, "after a reload that kept the limits")
        p.routes[0][1]["burst"] = 2
        rewrite(p)
        reload(p)
        expect(wait_until(lambda: get(p.port, url)[0] == 200, 5),
               "a route whose limits changed did not start afresh")


@test("reload_workers_or_user_change_needs_restart")
def _(env):
    proxyd_only(env)
    with env.own_proxy(workers=2) as p:
        p.settings["workers"] = "3"
        p.settings["user"] = "nobody"
        rewrite(p)
        reload(p)
        log = error_log(p)
        expect("workers changed from 2 to 3: a restart is needed" in log,
               "no restart notice for workers: %s" % log[-600:])
        expect("user changed: a restart is needed" in log,
               "no restart notice for user: %s" % log[-600:])
        expect_eq(get(p.port, env.http_url("/1k"))[0], 200, "status after the reload")
        expect_eq(os.stat("/proc/%d" % p.proc.pid).st_uid, os.geteuid(), "proxy's user")


@test("reload_broken_file_keeps_old_config")
def _(env):
    """Every error of the file is logged as file:line; the old routes
    keep serving."""
    proxyd_only(env)
    with env.own_proxy(routes=[gen_route(1)]) as p:
        rewrite(p, "\n[route bad]\nrate = fast\nupstream = nowhere\n")
        n = len(p.config_text().splitlines())
        reload(p, expect_ok=False)
        log = error_log(p)
        for line in (n + 3, n + 4):
            expect("proxyd.conf:%d: " % line in log, "no `proxyd.conf:%d:` in %s" % (line, log[-800:]))
        expect(route_in_effect(env, p, 1, file_ok=False), "the old route stopped serving")
        rewrite(p)
        reload(p)
        expect("reload failed (1 so far)" in error_log(p), "failed reloads not counted")


# ---------------------------------------------------------------- descriptors

@test("fdlimit_raised_to_hard_and_checked")
def _(env):
    """The soft RLIMIT_NOFILE is raised to the hard one and logged; a
    max_clients the limit cannot serve is warned about."""
    proxyd_only(env)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    low = min(1024, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (low, hard))
    try:
        cm = env.own_proxy(max_clients=hard)        # needs 2 x hard
        p = cm.__enter__()
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    try:
        with open("/proc/%d/limits" % p.proc.pid) as f:
            limits = f.read()
        m = re.search(r"Max open files\s+(\d+)", limits)
        expect(m and int(m.group(1)) == hard, "soft limit not raised: %s" % limits)
        log = error_log(p)
        expect("open files limit (RLIMIT_NOFILE): %d (was %d)" % (hard, low) in log,
               "limit not logged: %s" % log[-600:])
        expect(re.search(r"max_clients %d needs about \d+ open files" % hard, log),
               "no max_clients warning: %s" % log[-600:])
    finally:
        cm.__exit__(None, None, None)


# ---------------------------------------------------------------- log reopen

@test("sigusr1_reopen_after_user_drop_loses_no_line")
def _(env):
    """user = nobody, logs in a directory only nobody may write (as
    LogsDirectory= gives): rotate and SIGUSR1 while requests flow; every
    request has its line in the old or the new file, and the new file
    belongs to nobody."""
    proxyd_only(env)
    if os.geteuid() != 0:
        raise TestSkip("needs root to drop privileges")
    nobody = pwd.getpwnam("nobody")
    logdir = env.wd.sub("nobody-logs", mkdir=True)
    os.chown(logdir, nobody.pw_uid, nobody.pw_gid)
    os.chmod(logdir, 0o750)
    env.origin
    p = env.new_proxy(user="nobody")
    p.access_log = os.path.join(logdir, "access.log")
    p.error_log = os.path.join(logdir, "error.log")
    rewrite(p)
    p.start()
    try:
        expect_eq(os.stat("/proc/%d" % p.proc.pid).st_uid, nobody.pw_uid, "proxy's user")
        load = RequestLoad(p.port, env.http_url("/1k"), nthreads=2)
        try:
            time.sleep(0.5)
            for i in range(3):
                os.rename(p.access_log, p.access_log + ".%d" % (i + 1))
                os.rename(p.error_log, p.error_log + ".%d" % (i + 1))
                p.proc.send_signal(signal.SIGUSR1)
                expect(wait_until(lambda: os.path.exists(p.access_log), 5),
                       "no new access log after SIGUSR1 %d: %s" % (i + 1, p.diagnostics()))
                time.sleep(0.4)
        finally:
            load.stop()
        expect(not load.failed, "requests failed: %r" % load.failed[:3])
        def lines():
            n = 0
            for name in ["access.log"] + ["access.log.%d" % i for i in (1, 2, 3)]:
                with open(os.path.join(logdir, name)) as f:
                    n += sum(1 for l in f if "/1k " in l)
            return n
        # A line is written as its request ends, just after the response.
        wait_until(lambda: lines() >= load.ok, 3)
        expect_eq(lines(), load.ok, "access log lines for the requests made")
        st = os.stat(p.access_log)
        expect_eq(st.st_uid, nobody.pw_uid, "owner of the reopened access log")
        expect(os.path.exists(p.error_log), "error log not reopened")
    finally:
        p.stop()
