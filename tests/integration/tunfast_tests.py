"""tunfast_tests.py - the end of a CONNECT tunnel as the syscall-lean
relay does it: the last EOF is passed on by the close itself (no
shutdown first), so what is still queued in the kernel must reach the
slow reader before a FIN, never a reset."""

import socket

from harness import TestFailure, expect, expect_eq, test
from splice_tests import MIB, BulkPeer, send_blocks, slow_read, stream_sha
from request_tests import read_head


class HalfClosePeer(BulkPeer):
    """Origin of one connection.  first="client": reads to the client's
    EOF, then sends n blocks and closes.  first="origin": sends n blocks,
    half-closes, then reads to the client's EOF.  Records what it read
    (bytes, sha256) in result."""

    def __init__(self, nblocks, first):
        self.first = first
        super().__init__(nblocks)

    def talk(self, conn):
        if self.first == "client":
            self.result = slow_read(conn, 1 << 40)
            send_blocks(conn, self.n)
        else:
            send_blocks(conn, self.n)
            conn.shutdown(socket.SHUT_WR)
            self.result = slow_read(conn, 1 << 40)


def open_tunnel(port, target_port):
    """A CONNECT tunnel; (socket, bytes that came after the 200's head:
    a server that speaks first may be read with it)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.sendall(b"CONNECT 127.0.0.1:%d HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n"
              % (target_port, target_port))
    head, _, rest = read_head(s).partition(b"\r\n\r\n")
    expect(head.startswith(b"HTTP/1.1 200"), "CONNECT answered %r" % head[:60])
    return s, rest


def read_to_eof(s, rest=b""):
    """Everything up to the EOF, read slowly (slow_read); a reset
    instead of the EOF fails.  (bytes, sha256) of rest and what followed."""
    try:
        return slow_read(s, 1 << 40, rest)
    except ConnectionResetError:
        raise TestFailure("reset instead of a FIN")


@test("tunfast_last_close_delivers_queued_bytes")
def _(env):
    """The client half-closes, the origin then sends 16 MiB and closes:
    proxyd ends the tunnel on that last EOF while megabytes still wait
    in the client socket's send queue (the client reads slowly); they
    all arrive, then a FIN.  And the mirror case: the origin half-closes
    first, the client then uploads 16 MiB and closes; the origin reads
    them all, then its EOF."""
    with env.own_proxy(workers="1") as p:
        peer = HalfClosePeer(16, "client")
        s, rest = open_tunnel(p.port, peer.port)
        with s:
            s.sendall(b"up")
            s.shutdown(socket.SHUT_WR)
            got = read_to_eof(s, rest)
        peer.thread.join(40)
        expect_eq(peer.result[0], 2, "bytes the origin read before the client's EOF")
        expect_eq(got, (16 * MIB, stream_sha(16)), "download (bytes, sha256)")

        peer = HalfClosePeer(1, "origin")
        s, rest = open_tunnel(p.port, peer.port)
        with s:
            got = read_to_eof(s, rest)
            send_blocks(s, 16)
        peer.thread.join(40)
        expect_eq(got, (MIB, stream_sha(1)), "download before the origin's EOF")
        expect_eq(peer.result, (16 * MIB, stream_sha(16)),
                  "upload as the origin read it (bytes, sha256)")
