"""idle_tests.py - connections that have sent nothing yet.

A connection holds an event of its own until its first byte, and gets
its bufferevent and buffers only then (client.c): what thousands of
quiet connections cost, and that every way such a connection can go on
(a request, a byte at a time, a close, silence until header_timeout)
still works."""

import os
import re
import resource
import socket
import time

from harness import LOOPBACK, TestSkip, expect, expect_eq, rss_kib, test, wait_until
from httpraw import Conn
from route_tests import proxyd_only

IDLE = 2000


def open_idle(port, n):
    socks = []
    for _ in range(n):
        s = socket.create_connection((LOOPBACK, port), timeout=5)
        socks.append(s)
    return socks


def closed_by_peer(s, timeout):
    """True once the peer closed s (EOF or reset) within timeout."""
    s.settimeout(timeout)
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


@test("idle_connections_cost_under_1k_each")
def _(env):
    """2,000 connections that sent nothing cost under 1 KiB of proxyd's
    memory each (they were 1.4 KiB with a bufferevent each); all of them
    are then served."""
    proxyd_only(env)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < IDLE + 200:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, IDLE + 500), hard))
    with env.own_proxy(workers=1, max_clients=IDLE + 100) as p:
        Conn(p.port, timeout=5).close()     # the worker is up
        time.sleep(0.3)
        before = rss_kib(p.proc.pid)
        socks = open_idle(p.port, IDLE)
        try:
            time.sleep(0.5)
            per = (rss_kib(p.proc.pid) - before) / IDLE
            print("# %d idle connections: %.2f KiB each" % (IDLE, per))
            # Sanitizer builds pad every allocation: bound the plain one.
            if not os.environ.get("ASAN_OPTIONS"):
                expect(per < 1.0, "an idle connection costs %.2f KiB" % per)
            req = ("GET %s HTTP/1.1\r\nHost: %s\r\n\r\n"
                   % (env.http_url("/1k"), env.http_url("/").split("/")[2])).encode()
            for s in socks[::100]:
                s.sendall(req)
            for s in socks[::100]:
                s.settimeout(10)
                got = b""
                while len(got) < 12:
                    chunk = s.recv(12 - len(got))
                    if not chunk:
                        break
                    got += chunk
                expect(got.startswith(b"HTTP/1.1 200"), "an idle connection got %r" % got)
        finally:
            for s in socks:
                s.close()


@test("idle_connection_first_bytes_every_way")
def _(env):
    """Before its first byte a connection may: send a head a byte at a
    time (served), close (proxyd lets it go), or stay silent (closed at
    header_timeout, and counted out of the client gauge)."""
    proxyd_only(env)
    with env.own_proxy(header_timeout="1s") as p:
        url = env.http_url("/1k")
        req = ("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % url).encode()
        s = socket.create_connection((LOOPBACK, p.port), timeout=5)
        for i in range(len(req)):
            s.sendall(req[i:i + 1])
            if i < 3:
                time.sleep(0.05)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        s.close()
        expect(data.startswith(b"HTTP/1.1 200"), "byte-at-a-time head: %r" % data[:60])
        quick = [socket.create_connection((LOOPBACK, p.port), timeout=5) for _ in range(20)]
        for s in quick:
            s.close()
        silent = socket.create_connection((LOOPBACK, p.port), timeout=5)
        t0 = time.monotonic()
        expect(closed_by_peer(silent, 5), "a silent connection was not closed")
        waited = time.monotonic() - t0
        silent.close()
        expect(0.8 <= waited <= 3.0, "silent connection closed after %.2fs (header_timeout 1s)"
               % waited)
        # Every connection above is gone: the proxy still answers.
        with Conn(p.port, timeout=5) as c:
            c.send(req)
            expect_eq(c.read_response().status, 200, "status after the quiet ones")
        expect(wait_until(lambda: p.alive(), 1), "proxyd died")


def open_tunnels(port, to_port, n, batch=128):
    """n CONNECT tunnels (httpraw Conns) to 127.0.0.1:to_port, batch at a
    time (as bench/loadgen.py hold does: a bounded number connecting at
    once)."""
    conns = []
    target = b"%s:%d" % (LOOPBACK.encode(), to_port)
    while len(conns) < n:
        some = [Conn(port, timeout=10) for _ in range(min(batch, n - len(conns)))]
        conns += some
        for c in some:
            c.send(b"CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (target, target))
        for c in some:
            expect_eq(c.read_response(head_request=True).status, 200, "CONNECT status")
    return conns


def tunnel_cost_kib(env, echo_port, n):
    """Open n idle tunnels through a fresh proxy: KiB of RSS growth each,
    after every one of them (sampled) still carried bytes both ways."""
    with env.own_proxy(workers=1, max_clients=n + 100, tunnel_idle_timeout="5m") as p:
        for c in open_tunnels(p.port, echo_port, 8):    # one-time setup
            c.close()
        time.sleep(0.3)
        before = rss_kib(p.proc.pid)
        conns = open_tunnels(p.port, echo_port, n)
        try:
            time.sleep(0.5)
            per = (rss_kib(p.proc.pid) - before) / n
            for i, c in enumerate(conns[::100]):
                c.send(b"idle %d\n" % i)
                expect_eq(c.read_exact(len(b"idle %d\n" % i)), b"idle %d\n" % i,
                          "echo through an idle tunnel")
        finally:
            for c in conns:
                c.close()
        return per


@test("idle_tunnels_cost_under_1k_each")
def _(env):
    """2,000 idle CONNECT tunnels cost under 1 KiB of proxyd's memory
    each (1.6 KiB with an event and a timer of their own, a full struct
    request and a sockaddr_storage per client): no buffer, no event, no
    timer, admission state only on limited routes.  The best of up to 3
    fresh proxies counts (a loaded machine's noise)."""
    from reload_tests import SelectEcho, raise_nofile
    proxyd_only(env)
    if raise_nofile(2 * IDLE + 300) < 2 * IDLE + 300:
        raise TestSkip("cannot raise this process's open files limit")
    echo = SelectEcho()
    try:
        costs = []
        for _ in range(3):
            costs.append(tunnel_cost_kib(env, echo.port, IDLE))
            print("# %d idle tunnels: %.2f KiB each" % (IDLE, costs[-1]))
            # Sanitizer builds pad every allocation: bound the plain one.
            if os.environ.get("ASAN_OPTIONS") or costs[-1] < 1.0:
                break
        if not os.environ.get("ASAN_OPTIONS"):
            expect(min(costs) < 1.0, "an idle tunnel costs %s KiB"
                   % ", ".join("%.2f" % c for c in costs))
    finally:
        echo.close()


def tunnel_to(port, to_port):
    """One CONNECT tunnel (an httpraw Conn) through port to 127.0.0.1:to_port."""
    return open_tunnels(port, to_port, 1)[0]


def connect_lines(p):
    return [line for line in p.access_lines() if " CONNECT " in line]


def gone(c):
    """Has the peer closed c (without waiting)?"""
    return c.closed_by_peer(0.01)


@test("idle_tunnel_timeouts_per_route_share_a_queue")
def _(env):
    """Idle tunnels of two routes with their own tunnel_idle_timeout
    (1 s and 3 s; a queue and a timer per length in the worker) end
    each at its own time, and a tunnel that keeps talking on the 1 s
    route outlives both of its route's quiet ones."""
    from servers import TcpEcho
    proxyd_only(env)
    short, long_ = TcpEcho(), TcpEcho()
    try:
        routes = [("short", {"hosts": "%s:%d" % (LOOPBACK, short.port), "upstream": "direct",
                             "tunnel_idle_timeout": "1s"}),
                  ("long", {"hosts": "%s:%d" % (LOOPBACK, long_.port), "upstream": "direct",
                            "tunnel_idle_timeout": "3s"})]
        with env.own_proxy(routes=routes, workers=1) as p:
            quiet = [tunnel_to(p.port, short.port) for _ in range(2)]
            talker = tunnel_to(p.port, short.port)
            slow = tunnel_to(p.port, long_.port)
            t0 = time.monotonic()
            ended = {}
            while time.monotonic() - t0 < 6 and len(ended) < 4:
                for name, c in (("quiet0", quiet[0]), ("quiet1", quiet[1]),
                                ("slow", slow), ("talker", talker)):
                    if name not in ended and gone(c):
                        ended[name] = time.monotonic() - t0
                if time.monotonic() - t0 < 2.5 and "talker" not in ended:
                    talker.send(b"x")
                    expect_eq(talker.read_exact(1), b"x", "echo through the talking tunnel")
                time.sleep(0.2)
            print("# tunnels ended after: %s" % ", ".join(
                "%s %.1fs" % kv for kv in sorted(ended.items(), key=lambda kv: kv[1])))
            for name in ("quiet0", "quiet1"):
                expect(0.8 <= ended.get(name, 99) <= 2.2,
                       "%s (1 s route) ended after %s" % (name, ended.get(name)))
            expect(3.0 <= ended.get("talker", 99) <= 4.8,
                   "the talking tunnel (quiet from 2.5 s) ended after %s" % ended.get("talker"))
            expect(2.8 <= ended.get("slow", 99) <= 4.8,
                   "the 3 s route's tunnel ended after %s" % ended.get("slow"))
            for c in quiet + [talker, slow]:
                c.close()
            # Each logged as before: route, status, the bytes it carried.
            expect(wait_until(lambda: len(connect_lines(p)) == 4, 3),
                   "CONNECT lines: %r" % connect_lines(p))
            lines = connect_lines(p)
            expect_eq(sorted(re.search(r"route=(\S+)", l).group(1) for l in lines),
                      ["long", "short", "short", "short"], "routes logged")
            expect(all(" 200 " in l for l in lines), "statuses: %r" % lines)
            carried = sorted(int(re.search(r" in=(\d+)", l).group(1)) for l in lines)
            expect(carried[:3] == [0, 0, 0] and carried[3] >= 5,
                   "bytes from the clients: %r" % carried)
    finally:
        short.close()
        long_.close()
