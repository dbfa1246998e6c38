"""parents.py - what the route tests put behind proxyd: parent proxies
and broken peers, all on 127.0.0.1.

* TinyproxyParent: Debian's tinyproxy as an http parent (optional
  BasicAuth), its log in the run's temp dir;
* DanteParent: Debian's dante-server (danted) as a socks5 parent;
* Socks5Relay: a small in-process SOCKS5 server that records what it was
  asked (address type, name, credentials) and relays to 127.0.0.1;
* SilentListener: accepts connections and never answers (a parent that
  hangs after the TCP handshake);
* access-log helpers for proxyd's `route=` / `via=` fields, timing.

A second proxyd as a parent needs nothing here: env.own_proxy() is one.
"""

import os
import re
import socket
import struct
import threading
import time

from harness import (LOOPBACK, Proc, TestFailure, expect, free_port, wait_port,
                     wait_until, which_or_skip)
from servers import TEST_NAMES

_seq = [0]


def _dir(wd, kind):
    _seq[0] += 1
    d = wd.sub("%s-%d" % (kind, _seq[0]), mkdir=True)
    os.chmod(d, 0o777)          # tinyproxy/danted write here as nobody
    return d


def _read_lines(path):
    try:
        with open(path, errors="replace") as f:
            return f.read().splitlines()
    except OSError:
        return []


# ---------------------------------------------------------------- tinyproxy

class TinyproxyParent:
    """tinyproxy resolves with the system resolver: destinations through
    it are 127.0.0.1 or localhost, not the *.test names."""

    def __init__(self, wd, connect_ports=(), basic_auth=None):
        which_or_skip("tinyproxy")
        self.dir = _dir(wd, "tinyproxy-parent")
        self.port = free_port()
        self.log_path = os.path.join(self.dir, "tinyproxy.log")
        lines = ["Port %d" % self.port,
                 "Listen %s" % LOOPBACK,
                 "Timeout 30",
                 'LogFile "%s"' % self.log_path,
                 "LogLevel Connect",
                 'PidFile "%s/tinyproxy.pid"' % self.dir,
                 "MaxClients 64",
                 "Allow 127.0.0.1"]
        if os.geteuid() == 0:
            lines += ["User nobody", "Group nogroup"]
        lines += ["ConnectPort %d" % p for p in connect_ports]
        if basic_auth:
            lines.append("BasicAuth %s %s" % basic_auth)
        conf = os.path.join(self.dir, "tinyproxy.conf")
        with open(conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.proc = Proc("tinyproxy-parent", ["tinyproxy", "-d", "-c", conf],
                         os.path.join(self.dir, "stdout.log"))
        wait_port(self.port, self.proc)

    def log_lines(self):
        return _read_lines(self.log_path)

    def requests(self):
        """The request lines tinyproxy logged (`GET http://...`, `CONNECT h:p`)."""
        out = []
        for line in self.log_lines():
            m = re.search(r"Request \(file descriptor \d+\): (.*)$", line)
            if m:
                out.append(m.group(1))
        return out

    def stop(self):
        self.proc.stop()


# ---------------------------------------------------------------- dante

class DanteParent:
    """danted: no authentication, clients from 127.0.0.0/8, CONNECT only.
    It resolves names with the system resolver (localhost works)."""

    def __init__(self, wd):
        which_or_skip("danted")
        self.dir = _dir(wd, "danted")
        self.port = free_port()
        self.log_path = os.path.join(self.dir, "danted.log")
        users = ("user.privileged: root\nuser.unprivileged: nobody\n"
                 if os.geteuid() == 0 else "")
        conf = os.path.join(self.dir, "danted.conf")
        with open(conf, "w") as f:
            f.write("logoutput: %s\n"
                    "internal: 127.0.0.1 port = %d\n"
                    "external: lo\n"
                    "socksmethod: none\n"
                    "clientmethod: none\n"
                    "%s"
                    "client pass {\n from: 127.0.0.0/8 to: 0.0.0.0/0\n log: connect error\n}\n"
                    "socks pass {\n from: 127.0.0.0/8 to: 0.0.0.0/0\n command: connect\n"
                    " log: connect disconnect error\n}\n"
                    % (self.log_path, self.port, users))
        self.proc = Proc("danted", ["danted", "-f", conf, "-p",
                                    os.path.join(self.dir, "danted.pid")],
                         os.path.join(self.dir, "stdout.log"))
        wait_port(self.port, self.proc)

    def log_lines(self):
        return _read_lines(self.log_path)

    def connects_to(self, port):
        """danted's `tcp/connect [` lines for destination port."""
        return [l for l in self.log_lines()
                if "tcp/connect [" in l and l.rstrip().endswith(".%d" % port)]

    def stop(self):
        self.proc.stop()


# ---------------------------------------------------------------- in-process peers

class _Server:
    """A threaded listener; handle(conn) runs on a thread per connection."""

    def __init__(self, port=None):
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((LOOPBACK, port or 0))
        self.listener.listen(64)
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.stopping = False
        self.conns = []
        self.accepted = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stopping:
            try:
                conn, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.accepted += 1
            self.conns.append(conn)
            threading.Thread(target=self._guard, args=(conn,), daemon=True).start()

    def _guard(self, conn):
        try:
            conn.settimeout(30)
            self.handle(conn)
        except OSError:
            pass
        finally:
            conn.close()

    def handle(self, conn):
        raise NotImplementedError

    def close(self):
        self.stopping = True
        self.listener.close()
        for c in self.conns:
            try:
                c.close()
            except OSError:
                pass
        self.thread.join(timeout=2)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class SilentListener(_Server):
    """Completes the TCP handshake, reads, never answers: a parent proxy
    that hangs on the CONNECT or the SOCKS greeting."""

    def handle(self, conn):
        while not self.stopping and conn.recv(4096):
            pass


def _recv_exact(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise OSError("peer closed")
        data += chunk
    return data


def _pipe(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass


class Socks5Relay(_Server):
    """RFC 1928 CONNECT (+ RFC 1929 user/password when auth is given).
    Every request is recorded as a dict: atyp (1 IPv4, 3 domain, 4 IPv6),
    host, port, user.  Names are resolved here: the test names and
    localhost to 127.0.0.1, anything else refused (reply 4)."""

    def __init__(self, auth=None, port=None):
        self.auth = auth
        self.requests = []
        super().__init__(port)

    def handle(self, conn):
        ver, nmethods = _recv_exact(conn, 2)
        methods = _recv_exact(conn, nmethods)
        if ver != 5:
            return
        user = None
        if self.auth:
            if 2 not in methods:
                conn.sendall(b"\x05\xff")
                return
            conn.sendall(b"\x05\x02")
            _ver, ulen = _recv_exact(conn, 2)
            user = _recv_exact(conn, ulen).decode()
            plen = _recv_exact(conn, 1)[0]
            password = _recv_exact(conn, plen).decode()
            ok = (user, password) == self.auth
            conn.sendall(b"\x01\x00" if ok else b"\x01\x01")
            if not ok:
                self.requests.append({"rejected_user": user})
                return
        else:
            if 0 not in methods:
                conn.sendall(b"\x05\xff")
                return
            conn.sendall(b"\x05\x00")
        _ver, cmd, _rsv, atyp = _recv_exact(conn, 4)
        if atyp == 1:
            host = socket.inet_ntop(socket.AF_INET, _recv_exact(conn, 4))
        elif atyp == 4:
            host = socket.inet_ntop(socket.AF_INET6, _recv_exact(conn, 16))
        else:
            host = _recv_exact(conn, _recv_exact(conn, 1)[0]).decode()
        port = struct.unpack(">H", _recv_exact(conn, 2))[0]
        self.requests.append({"atyp": atyp, "host": host, "port": port,
                              "cmd": cmd, "user": user})
        if cmd != 1 or not (host in TEST_NAMES or host in ("localhost", LOOPBACK)):
            conn.sendall(b"\x05\x04\x00\x01" + b"\x00" * 6)
            return
        try:
            up = socket.create_connection((LOOPBACK, port), timeout=5)
        except OSError:
            conn.sendall(b"\x05\x05\x00\x01" + b"\x00" * 6)
            return
        with up:
            bound = up.getsockname()
            conn.sendall(b"\x05\x00\x00\x01" + socket.inet_aton(bound[0])
                         + struct.pack(">H", bound[1]))
            up.settimeout(30)
            t = threading.Thread(target=_pipe, args=(up, conn), daemon=True)
            t.start()
            _pipe(conn, up)
            t.join(timeout=30)


# ---------------------------------------------------------------- proxyd's access log

_FIELDS = re.compile(r'(\w+)=("([^"]*)"|\S+)')


def log_fields(line):
    """The key=value fields of an access log line (via, route, note ...)."""
    return {m.group(1): m.group(3) if m.group(3) is not None else m.group(2)
            for m in _FIELDS.finditer(line)}


def access_line(proxy, *needles, timeout=3.0):
    """The first access log line holding every needle (waits for it: a
    tunnel's line is written when it closes)."""
    def find():
        for line in proxy.access_lines():
            if all(n in line for n in needles):
                return line
        return None
    line = wait_until(find, timeout)
    if not line:
        raise TestFailure("no access log line with %s in %s; last lines: %s"
                          % (needles, proxy.name, proxy.access_lines()[-4:]))
    return line


def expect_route(proxy, needle, route, via):
    """proxyd logged the request with needle as taken by route via via."""
    f = log_fields(access_line(proxy, needle))
    expect(f.get("route") == route and f.get("via") == via,
           "access log for %r: route=%s via=%r, want route=%s via=%r"
           % (needle, f.get("route"), f.get("via"), route, via))
    return f


class Stopwatch:
    def __enter__(self):
        self.t0 = time.monotonic()
        return self

    def __exit__(self, *exc):
        self.elapsed = time.monotonic() - self.t0
