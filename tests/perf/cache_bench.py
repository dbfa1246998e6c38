#!/usr/bin/env python3
"""Module cache benchmark (a measurement, not a test).

    PROXYD=/path/to/proxyd python3 tests/perf/cache_bench.py [ROUNDS [MODULES]]

A GOPROXY tree of the test modules (Debian's golang-*-dev sources, as the
integration tests build it) and MODULES (default 40) small synthetic ones
whose requirements form a tree (gomodsynth.py), served by nginx behind a
listener that delays every request by 50 ms; then `go mod download` of
the whole module graph with a fresh GOMODCACHE each time:

  straight   GOPROXY = the delayed mirror
  cold       GOPROXY = proxyd, empty cache_dir
  warm       GOPROXY = proxyd, the cache filled by the cold run
  offline    warm, with the mirror stopped
  floor      GOPROXY = nginx itself, no delay (what go spends on its own)

and a 10 MiB zip: nginx directly (no delay) against a proxyd cache hit,
curl to /dev/null, the median of ROUNDS (default 20) each, in one run.
Prints medians in seconds and the ratios the issue asks for.
"""
import os
import socket
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.dont_write_bytecode = True

import harness                                          # noqa: E402
from go_tests import DEBIAN_MODULES                     # noqa: E402
from gomodsynth import synthetic_modules                # noqa: E402
from gomodtree import build_tree, debian_module         # noqa: E402
from proxies import Proxyd                              # noqa: E402
from servers import Mirrors                             # noqa: E402

DELAY = 0.05


class Delay:
    """127.0.0.1:port -> 127.0.0.1:target, each request held DELAY."""

    def __init__(self, target):
        self.target = target
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.conn, args=(c,), daemon=True).start()

    def conn(self, c):
        u = socket.create_connection(("127.0.0.1", self.target))
        # As nginx (tcp_nodelay on) and any real mirror: without it, the
        # body written after the head waits for the ACK of the head, which
        # a reused connection's peer delays by up to 40 ms (Nagle against
        # delayed ACK), a stall that is the relay's, not the proxy's.
        for s in (c, u):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def back():
            try:
                while True:
                    data = u.recv(65536)
                    if not data:
                        break
                    c.sendall(data)
            except OSError:
                pass
            c.close()
        threading.Thread(target=back, daemon=True).start()
        try:
            while True:
                data = c.recv(65536)
                if not data:
                    break
                time.sleep(DELAY)       # each request (go sends one at a time)
                u.sendall(data)
        except OSError:
            pass
        u.close()


def go_download(wd, goproxy, n, mods):
    """Seconds of `go mod download` of a main module requiring mods."""
    root = wd.sub("ws-%d" % n, mkdir=True)
    src = os.path.join(root, "app")
    os.makedirs(src, exist_ok=True)
    with open(os.path.join(src, "go.mod"), "w") as f:
        f.write("module example.test/app\n\ngo 1.19\n\nrequire (\n"
                + "".join("\t%s %s\n" % (m.path, m.version) for m in mods) + ")\n")
    env = dict(os.environ, GOPATH=os.path.join(root, "gopath"),
               GOMODCACHE=os.path.join(root, "modcache"), GOCACHE=os.path.join(root, "gocache"),
               GOPROXY=goproxy, GOSUMDB="off", GONOSUMDB="*", GOFLAGS="-mod=mod",
               GOTOOLCHAIN="local", GO111MODULE="on", http_proxy="", https_proxy="",
               HTTP_PROXY="", HTTPS_PROXY="", NO_PROXY="*")
    t = time.monotonic()
    r = subprocess.run(["go", "mod", "download"], cwd=src, env=env, capture_output=True,
                       timeout=120)
    if r.returncode != 0:
        raise SystemExit("go mod download via %s: %s" % (goproxy, r.stderr.decode()[-500:]))
    return time.monotonic() - t


def curl_time(url):
    r = subprocess.run(["curl", "-s", "-o", "/dev/null", "--noproxy", "*", "-w",
                        "%{time_total} %{http_code}", url], capture_output=True, timeout=60)
    t, code = r.stdout.decode().split()
    if code != "200":
        raise SystemExit("%s: %s" % (url, code))
    return float(t)


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    nsynth = int(sys.argv[2]) if len(sys.argv) > 2 else 40
    binary = os.path.abspath(os.environ.get("PROXYD", "proxyd/proxyd"))
    wd = harness.Workdir()
    harness.install_cleanup(wd)
    try:
        tree = wd.sub("tree", mkdir=True)
        mods = [debian_module(p, pkg) for p, pkg in DEBIAN_MODULES]
        mods += synthetic_modules(wd.sub("synth", mkdir=True), nsynth)
        build_tree(tree, mods)
        big = os.path.join(tree, "example.com", "big", "@v")
        os.makedirs(big)
        with open(os.path.join(big, "v1.0.0.zip"), "wb") as f:
            f.write(os.urandom(10 << 20))
        mirror = Mirrors(wd, {"m": {"root": tree}})
        delay = Delay(mirror.port("m"))
        cache = wd.sub("cache", mkdir=True)
        p = Proxyd(wd, binary, cache_dir=cache, routes=[("go", {
            "modules": "*", "upstream": "mirror http://127.0.0.1:%d" % delay.port})])
        p.start()
        runs = {k: [] for k in ("straight", "cold", "warm", "floor")}
        n = 0
        for i in range(3):
            n += 1
            runs["straight"].append(go_download(wd, "http://127.0.0.1:%d" % delay.port, n, mods))
            for f in os.listdir(cache):
                subprocess.run(["rm", "-rf", os.path.join(cache, f)], check=True)
            n += 1
            runs["cold"].append(go_download(wd, p.url, n, mods))
            time.sleep(0.3)         # the store thread's last renames
            n += 1
            runs["warm"].append(go_download(wd, p.url, n, mods))
            n += 1
            runs["floor"].append(go_download(wd, "http://127.0.0.1:%d" % mirror.port("m"), n, mods))
        zip_path = "/example.com/big/@v/v1.0.0.zip"
        curl_time(p.url + zip_path)             # fill
        time.sleep(0.5)
        nginx, hit = [], []
        for i in range(rounds):
            nginx.append(curl_time("http://127.0.0.1:%d%s" % (mirror.port("m"), zip_path)))
            hit.append(curl_time(p.url + zip_path))
        mirror.proc.stop()
        n += 1
        offline = go_download(wd, p.url, n, mods)
        p.stop()
        med = {k: statistics.median(v) for k, v in runs.items()}
        print("go mod download, %d modules, 50 ms per mirror request (median of 3):"
              % len(mods))
        for k in ("straight", "cold", "warm"):
            print("  %-9s %.3f s" % (k, med[k]))
        print("  floor     %.3f s (nginx directly, no delay: the go command's own work)"
              % med["floor"])
        print("  offline   %.3f s (warm, mirror stopped)" % offline)
        print("  cold/straight %.2f (goal <= 1.1), warm/straight %.2f (goal <= 0.3)"
              % (med["cold"] / med["straight"], med["warm"] / med["straight"]))
        print("10 MiB zip, median of %d: nginx %.4f s, proxyd hit %.4f s, ratio %.2f "
              "(goal <= 1.2)" % (rounds, statistics.median(nginx), statistics.median(hit),
                                 statistics.median(hit) / statistics.median(nginx)))
    finally:
        harness.stop_all()
        wd.remove()


if __name__ == "__main__":
    main()
