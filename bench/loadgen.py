#!/usr/bin/env python3
"""loadgen.py - the load clients of bench/run.sh that wrk and curl are not:
asyncio, standard library only, every run bounded in time.

    loadgen.py hold  --to HOST:PORT [--connect HOST:PORT] -n N [--hold S]
        open N connections (with --connect: a CONNECT tunnel each, answered
        2xx) and hold them idle; prints "READY ok=N fail=N", then holds
        until SIGTERM or --hold seconds, prints "DONE open=N" and exits.
    loadgen.py rate  --to HOST:PORT [--connect HOST:PORT] --path P -c C -d S
        C loops of connect (+ CONNECT) + GET P with Connection: close, read
        to EOF; prints "RESULT ops=N errors=N rate=R".
    loadgen.py paced --to HOST:PORT --url URL --rps R -d S [--skip S]
        open loop: one new connection + GET URL (absolute form, so --to is
        a proxy) every 1/R s whatever the answers; prints "RESULT sent=N
        ok=N refused=N errors=N served_rate=R", where served_rate counts
        the 200s completed after --skip seconds (the burst is spent).
"""
import argparse
import asyncio
import collections
import signal
import sys
import time


def hostport(text):
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError("want HOST:PORT, got %r" % text)
    return host, int(port)


async def read_head(reader, timeout):
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
    parts = head.split(None, 2)
    return (parts[1] if len(parts) > 1 else b"?"), head


async def tunnel_to(args):
    """A connection to --to; through a CONNECT tunnel when --connect."""
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(*args.to), args.timeout)
    if args.connect:
        target = "%s:%d" % args.connect
        writer.write(("CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n"
                      % (target, target)).encode())
        status, _ = await read_head(reader, args.timeout)
        if not status.startswith(b"2"):
            writer.close()
            raise RuntimeError("CONNECT answered " + status.decode(errors="replace"))
    return reader, writer


async def hold(args):
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    sem = asyncio.Semaphore(128)
    conns, errors = [], collections.Counter()

    async def one():
        async with sem:
            try:
                conns.append(await tunnel_to(args))
            except Exception as e:  # noqa: BLE001 - counted
                errors[type(e).__name__] += 1

    await asyncio.gather(*(one() for _ in range(args.n)))
    print("READY ok=%d fail=%d errors=%s" % (len(conns), args.n - len(conns),
          ",".join("%s:%d" % kv for kv in errors.items()) or "-"), flush=True)
    try:
        await asyncio.wait_for(stop.wait(), args.hold)
    except asyncio.TimeoutError:
        pass
    still = sum(1 for r, w in conns if not r.at_eof())
    for _, w in conns:
        w.close()
    print("DONE open=%d" % still, flush=True)


async def rate(args):
    target = "%s:%d" % (args.connect or args.to)
    get = ("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n"
           % (args.path, target)).encode()
    deadline = time.monotonic() + args.d
    ops, errors = [0], [0]

    async def op():
        reader, writer = await tunnel_to(args)
        try:
            writer.write(get)
            data = await reader.read()
            if not data.startswith(b"HTTP/1.1 200"):
                raise RuntimeError("bad answer")
        finally:
            writer.close()

    async def loop():
        while time.monotonic() < deadline:
            try:
                await asyncio.wait_for(op(), args.timeout)
                ops[0] += 1
            except Exception:  # noqa: BLE001 - counted
                errors[0] += 1
                await asyncio.sleep(0.01)

    t0 = time.monotonic()
    await asyncio.gather(*(loop() for _ in range(args.c)))
    el = time.monotonic() - t0
    print("RESULT ops=%d errors=%d rate=%.1f" % (ops[0], errors[0], ops[0] / el), flush=True)


async def paced(args):
    hostpart = args.url.split("/")[2]
    req = ("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n"
           % (args.url, hostpart)).encode()
    counts = collections.Counter()
    served_late = [0]
    t0 = time.monotonic()

    async def one():
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(*args.to), args.timeout)
            try:
                writer.write(req)
                status, _ = await read_head(reader, args.timeout)
            finally:
                writer.close()
        except Exception:  # noqa: BLE001 - counted
            counts["errors"] += 1
            return
        if status == b"200":
            counts["ok"] += 1
            done = time.monotonic() - t0
            if args.skip <= done <= args.d:
                served_late[0] += 1
        elif status in (b"429", b"503"):
            counts["refused"] += 1
        else:
            counts["errors"] += 1

    tasks, sent = [], 0
    while True:
        due = t0 + sent / args.rps
        now = time.monotonic()
        if now - t0 >= args.d:
            break
        if due > now:
            await asyncio.sleep(due - now)
        tasks.append(asyncio.ensure_future(one()))
        sent += 1
    await asyncio.gather(*tasks)
    print("RESULT sent=%d ok=%d refused=%d errors=%d offered_rate=%.1f served_rate=%.2f"
          % (sent, counts["ok"], counts["refused"], counts["errors"], sent / args.d,
             served_late[0] / (args.d - args.skip)), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mode", choices=("hold", "rate", "paced"))
    ap.add_argument("--to", type=hostport, required=True)
    ap.add_argument("--connect", type=hostport)
    ap.add_argument("-n", type=int, default=2000)
    ap.add_argument("--hold", type=float, default=120)
    ap.add_argument("--path", default="/1k")
    ap.add_argument("-c", type=int, default=32)
    ap.add_argument("-d", type=float, default=5)
    ap.add_argument("--url")
    ap.add_argument("--rps", type=float, default=1000)
    ap.add_argument("--skip", type=float, default=1)
    ap.add_argument("--timeout", type=float, default=10)
    args = ap.parse_args()
    asyncio.run({"hold": hold, "rate": rate, "paced": paced}[args.mode](args))


if __name__ == "__main__":
    sys.exit(main())
