"""splice_tests.py - CONNECT tunnels relayed with splice(2) (splice.c):
bulk bytes go through the worker's pipe byte-exact both ways, also when
the receiving side stalls (what it does not take comes back out of the
pipe and waits in the tunnel's pending buffer); small messages and a
bandwidth-shaped tunnel stay on read/write.  Whether the pipe was made
is seen in /proc/PID/fd: splice.c makes it on the first bulk move."""

import hashlib
import os
import socket
import struct
import threading
import time

from harness import TestFailure, TestSkip, expect, expect_eq, test
from request_tests import read_head

MIB = 1024 * 1024
BLOCK = os.urandom(MIB)


def block(i):
    """Block i of the test stream: numbered, so reordering shows."""
    return struct.pack(">Q", i) + BLOCK[8:]


def stream_sha(nblocks):
    h = hashlib.sha256()
    for i in range(nblocks):
        h.update(block(i))
    return h.hexdigest()


def send_blocks(sock, nblocks):
    for i in range(nblocks):
        sock.sendall(block(i))


def slow_read(sock, nbytes, prefix=b""):
    """Read nbytes (prefix, already read, counts), pausing 50 ms every
    2 MiB so the sender's side of the tunnel fills up and blocks;
    sha256 of what came."""
    h, got, since = hashlib.sha256(prefix), len(prefix), 0
    while got < nbytes:
        data = sock.recv(min(65536, nbytes - got))
        if not data:
            break
        h.update(data)
        got += len(data)
        since += len(data)
        if since >= 2 * MIB:
            since = 0
            time.sleep(0.05)
    return got, h.hexdigest()


class BulkPeer:
    """Origin of one connection: reads an upload of n blocks slowly, then
    sends n blocks back; records what it read."""

    def __init__(self, nblocks):
        self.n = nblocks
        self.result = None
        self.ls = socket.socket()
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(4)
        self.ls.settimeout(30)
        self.port = self.ls.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        try:
            conn, _ = self.ls.accept()
            conn.settimeout(30)
            with conn:
                self.talk(conn)
        except OSError as e:
            self.result = ("error", str(e))
        finally:
            self.ls.close()

    def talk(self, conn):
        self.result = slow_read(conn, self.n * MIB)
        send_blocks(conn, self.n)
        conn.shutdown(socket.SHUT_WR)
        conn.recv(1)


def tunnel(port, target_port):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.sendall(b"CONNECT 127.0.0.1:%d HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n"
              % (target_port, target_port))
    try:
        head = read_head(s)     # nothing follows it until we send
    except OSError as e:
        raise TestFailure("CONNECT: %s" % e)
    expect(head.startswith(b"HTTP/1.1 200"), "CONNECT answered %r" % head[:60])
    return s


def pipes(pid):
    """The pipe descriptors a process holds."""
    n = 0
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            n += os.readlink("/proc/%d/fd/%s" % (pid, fd)).startswith("pipe:")
        except OSError:
            pass
    return n


def bulk_both_ways(p, nblocks):
    """n MiB up and n MiB down through one tunnel, each side reading
    slowly; checks every byte."""
    peer = BulkPeer(nblocks)
    s = tunnel(p.port, peer.port)
    with s:
        up = threading.Thread(target=send_blocks, args=(s, nblocks), daemon=True)
        up.start()
        up.join(40)
        got = slow_read(s, nblocks * MIB)
    peer.thread.join(40)
    want = (nblocks * MIB, stream_sha(nblocks))
    expect_eq(peer.result, want, "upload as the origin read it (bytes, sha256)")
    expect_eq(got, want, "download as the client read it (bytes, sha256)")


def proxyd_pid(env, p):
    if env.kind != "proxyd":
        raise TestSkip("splice is proxyd's")
    return p.proc.pid


@test("splice_bulk_exact_with_stalls")
def _(env):
    """48 MiB each way through one tunnel whose readers stall: byte-exact,
    and the worker's pipe was made (the bulk moves were spliced)."""
    with env.own_proxy(workers="1") as p:
        pid = proxyd_pid(env, p)
        before = pipes(pid)
        bulk_both_ways(p, 48)
        expect_eq(pipes(pid) - before, 2, "pipe descriptors made by the bulk tunnel")
        # A second tunnel uses the same pipe: none is made per tunnel.
        bulk_both_ways(p, 8)
        expect_eq(pipes(pid) - before, 2, "pipe descriptors after a second tunnel")


@test("splice_not_for_small_or_shaped")
def _(env):
    """Chatty small messages and a bandwidth-shaped bulk tunnel are
    relayed with read/write: no pipe is ever made; the bytes are exact."""
    peer = BulkPeer(2)
    route = {"ports": str(peer.port), "upstream": "direct", "bandwidth": "1m"}
    with env.own_proxy(workers="1", routes=[("shaped", route)]) as p:
        pid = proxyd_pid(env, p)
        before = pipes(pid)
        from servers import TcpEcho
        echo = TcpEcho()
        try:
            with tunnel(p.port, echo.port) as s:
                for i in range(50):
                    msg = b"%04d" % i * 256
                    s.sendall(msg)
                    got = b""
                    while len(got) < len(msg):
                        data = s.recv(len(msg) - len(got))
                        if not data:
                            break
                        got += data
                    expect_eq(got, msg, "echo %d" % i)
        finally:
            echo.close()
        expect_eq(pipes(pid) - before, 0, "pipes made by 1 KiB messages")
        t0 = time.monotonic()
        s = tunnel(p.port, peer.port)
        with s:
            send_blocks(s, 2)
            got = slow_read(s, 2 * MIB)
        peer.thread.join(40)
        took = time.monotonic() - t0
        expect_eq(peer.result, (2 * MIB, stream_sha(2)), "shaped upload (bytes, sha256)")
        expect_eq(got, (2 * MIB, stream_sha(2)), "shaped download (bytes, sha256)")
        expect_eq(pipes(pid) - before, 0, "pipes made by a shaped bulk tunnel")
        # 2 MiB each way at 1 MiB/s, the bucket holding one second: at
        # least a second per direction past the burst.  Unshaped: ~0.1s.
        expect(took > 1.5, "2 x 2 MiB through a 1 MiB/s route took only %.2fs" % took)
