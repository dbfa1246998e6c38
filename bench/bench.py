#!/usr/bin/env python3
"""bench.py - proxyd's benchmark, started by bench/run.sh (which checks the
tools and raises the open-files limit first).

Everything runs on 127.0.0.1: an nginx origin, the proxies under test
(proxyd; squid and tinyproxy when installed) and the load clients (wrk,
curl, the go command, loadgen.py).  Each row runs ROUNDS rounds; within a
round every target is measured once, in the same order, so slow drift of
a shared machine hits all of them alike.  The report gives the median, the
spread (min-max) and the ratio of the median to the direct run's.

Every process started here runs in its own session and is stopped (TERM,
then KILL) on the way out, whatever happens; every client has a timeout.
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))

ROWS = ["http-small", "http-64k", "http-upload", "connect-bulk", "connect-rate",
        "connect-idle-memory", "idle-clients-rss", "goproxy", "rate-limit", "scaling"]
# Rows only proxyd can do (the peers speak neither GOPROXY nor route limits;
# scaling compares proxyd's workers settings).
PROXYD_ONLY = {"goproxy", "rate-limit", "scaling"}
# Memory rows: lower is better, the direct run is nginx's own cost (a
# reference, no ratio).
MEMORY = {"connect-idle-memory", "idle-clients-rss"}
UPLOAD_BYTES = 65536   # request body of the http-upload row
RATE_LIMIT = 100       # req/s of the limited route
RATE_OFFERED = 1000    # req/s the paced client offers
GO_RUNS = 3            # downloads per goproxy sample
# A proxyd with a module cache, in the goproxy row only, filled before it
# is timed: what a build host's repeated downloads cost.
WARM = "proxyd-warm-cache"
CLK_TCK = os.sysconf("SC_CLK_TCK")
GO_MODULES = [("github.com/google/go-cmp", "golang-github-google-go-cmp-dev"),
              ("github.com/pkg/errors", "golang-github-pkg-errors-dev"),
              ("github.com/BurntSushi/toml", "golang-github-burntsushi-toml-dev")]


def log(msg):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), 0.2).close()
        return True
    except OSError:
        return False


# ------------------------------------------------------------- processes ---
class Daemon:
    """A foreground daemon in its own session; stop() ends the session."""
    started = []

    def __init__(self, name, argv, logfile, env=None):
        self.name = name
        with open(logfile, "ab") as out:
            self.p = subprocess.Popen(argv, stdout=out, stderr=out, stdin=subprocess.DEVNULL,
                                      start_new_session=True, env=env)
        Daemon.started.append(self)

    def wait_port(self, port, timeout=20):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.p.poll() is not None:
                raise RuntimeError("%s exited with %s" % (self.name, self.p.returncode))
            if port_open(port):
                return
            time.sleep(0.05)
        raise RuntimeError("%s does not listen on %d" % (self.name, port))

    def stop(self):
        if self in Daemon.started:
            Daemon.started.remove(self)
        for sig, grace in ((signal.SIGTERM, 5), (signal.SIGKILL, 2)):
            try:
                os.killpg(self.p.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.p.wait(grace)
                break
            except subprocess.TimeoutExpired:
                continue
        try:  # stragglers of the session (forked children)
            os.killpg(self.p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def pids(self):
        """The daemon and its descendants."""
        out = subprocess.run(["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True).stdout
        kids = {}
        for line in out.split("\n"):
            if line.strip():
                a, b = line.split()
                kids.setdefault(int(b), []).append(int(a))
        todo, seen = [self.p.pid], []
        while todo:
            p = todo.pop()
            seen.append(p)
            todo.extend(kids.get(p, []))
        return seen

    def cpu_s(self):
        total = 0
        for p in self.pids():
            try:
                with open("/proc/%d/stat" % p) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                total += sum(int(x) for x in fields[11:15])
            except OSError:
                pass
        return total / CLK_TCK

    def rss_kib(self):
        total = 0
        for p in self.pids():
            try:
                with open("/proc/%d/status" % p) as f:
                    m = re.search(r"^VmRSS:\s+(\d+)", f.read(), re.M)
                total += int(m.group(1)) if m else 0
            except OSError:
                pass
        return total


def stop_all(*_):
    for d in list(reversed(Daemon.started)):
        d.stop()


def client(argv, timeout, env=None):
    """Run a client to completion within timeout; (returncode, stdout)."""
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL, env=env, start_new_session=True)
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, _ = p.communicate()
        return 124, out.decode(errors="replace")
    return p.returncode, out.decode(errors="replace")


# --------------------------------------------------------------- targets ---
class Target:
    def __init__(self, name, port, start=None, version=""):
        self.name, self.port, self._start, self.version = name, port, start, version
        self.daemon = None
        self.binary = None      # a proxyd build: its binary (the scaling row starts more)

    def start(self):
        self.daemon = self._start()
        self.daemon.wait_port(self.port)

    def restart(self):
        self.daemon.stop()
        self.start()


def origin_setup(rd, port, port2, sub="nginx", workers=1, cpus=None):
    """The nginx origin's files and configuration in rd/sub; a function
    that starts it (with workers processes, pinned to cpus, a taskset
    list, when given).  POST /upload reads the whole body into memory
    before it answers 200 (see UPLOAD_LOCATION)."""
    www = os.path.join(rd, "www")
    os.makedirs(os.path.join(rd, sub, "tmp"), exist_ok=True)
    os.makedirs(www, exist_ok=True)
    for name, size in (("1k", 1024), ("64k", 65536), ("upload", 0)):
        if not os.path.exists(os.path.join(www, name)):
            with open(os.path.join(www, name), "wb") as f:
                f.write(os.urandom(size))
    conf = os.path.join(rd, sub, "nginx.conf")
    with open(conf, "w") as f:
        f.write("""worker_processes %(n)d;
worker_rlimit_nofile 20000;
pid %(d)s/nginx.pid;
error_log %(d)s/error.log warn;
events { worker_connections 16384; }
http {
  access_log off; server_tokens off; default_type application/octet-stream;
  sendfile on; tcp_nopush on; tcp_nodelay on;
  keepalive_timeout 300s; keepalive_requests 100000000;
  client_body_temp_path %(d)s/tmp/b; proxy_temp_path %(d)s/tmp/p;
  fastcgi_temp_path %(d)s/tmp/f; uwsgi_temp_path %(d)s/tmp/u; scgi_temp_path %(d)s/tmp/s;
  server { listen 127.0.0.1:%(p)d backlog=4096; listen 127.0.0.1:%(p2)d; root %(w)s;
%(up)s  }
}
""" % {"d": os.path.join(rd, sub), "p": port, "p2": port2, "w": www, "n": workers,
       "up": UPLOAD_LOCATION})
    pin = ["taskset", "-c", cpus] if cpus else []
    return lambda: Daemon(sub, pin + ["nginx", "-p", os.path.join(rd, sub) + "/", "-e",
                                      os.path.join(rd, sub, "error.log"), "-c", conf,
                                      "-g", "daemon off;"], os.path.join(rd, sub + ".out"))


# The upload row's sink.  `return 200` alone answers before the body has
# arrived and discards it afterwards, so a proxy would be timed on an early
# answer, not on relaying a body.  mirror_request_body reads the whole body
# (into memory: client_body_buffer_size) before the request goes on; the
# mirror subrequest is internal (no connection); the static handler then
# refuses a POST of the empty file /upload with 405, which answers 200.
UPLOAD_LOCATION = """    location = /upload {
      client_body_buffer_size 128k; client_max_body_size 1m;
      mirror /upload-sink; mirror_request_body on; error_page 405 =200 @uploaded;
    }
    location = /upload-sink { internal; return 204; }
    location @uploaded { return 200; }
"""


def cpu_core(c):
    """The physical core of CPU c (its hyperthread siblings share it)."""
    top = "/sys/devices/system/cpu/cpu%d/topology/" % c
    try:
        with open(top + "physical_package_id") as f, open(top + "core_id") as g:
            return f.read().strip(), g.read().strip()
    except OSError:
        return c


def cpu_plan():
    """Where the scaling row runs: (proxyd's CPU with 1 worker, its two
    CPUs with 2, the load's CPUs), or None when this process may use fewer
    than 4 CPUs.  proxyd's two CPUs are on distinct cores when there are
    such, and the load keeps off their hyperthread siblings when 2 CPUs are
    left without them (a sibling busy with wrk would slow proxyd's CPU)."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 4:
        return None
    a = cpus[0]
    b = next((c for c in cpus[1:] if cpu_core(c) != cpu_core(a)), cpus[1])
    rest = [c for c in cpus if c not in (a, b)]
    apart = [c for c in rest if cpu_core(c) not in (cpu_core(a), cpu_core(b))]
    return a, [a, b], apart if len(apart) >= 2 else rest


def make_bulk(rd, mib):
    """The tunnel row's file, in the page cache (zeros: no disk read later)."""
    path = os.path.join(rd, "www", "bulk")
    with open(path, "wb") as f:
        chunk = bytes(1 << 20)
        for _ in range(mib):
            f.write(chunk)
    return path


def proxyd_target(rd, args, origin, port2, name="proxyd", binary=None, cache_dir=None,
                  workers=None, cpus=None):
    """proxyd (or, for --compare, another build of it under another name)
    with the bench's routes: a GOPROXY route to the nginx mirror, and a
    rate-limited route for the origin's second port; a module cache in
    cache_dir when given; workers (else --workers) and pinned to cpus (a
    taskset list) when given."""
    binary = binary or args.proxyd
    workers = workers or args.workers
    port = free_port()
    conf = os.path.join(rd, name + ".conf")
    if cache_dir:
        os.makedirs(cache_dir, exist_ok=True)
    with open(conf, "w") as f:
        f.write("""[proxyd]
listen = 127.0.0.1:%(port)d
allow = 127.0.0.1
connect_ports = %(o)d
max_clients = 12000
error_log = %(rd)s/%(name)s.err
%(workers)s
%(cache)s
[route goproxy]
modules = *
upstream = mirror http://127.0.0.1:%(o)d/gp

[route limited]
ports = %(o2)d
rate = %(rate)d/s
upstream = direct
""" % {"port": port, "o": origin, "o2": port2, "rd": rd, "rate": RATE_LIMIT, "name": name,
       "workers": "workers = %d" % workers if workers else "",
       "cache": "cache_dir = %s" % cache_dir if cache_dir else ""})
    r = subprocess.run([binary, "-t", "-c", conf], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit("%s -t refused the bench config:\n%s%s" % (binary, r.stdout, r.stderr))
    ver = subprocess.run([binary, "-V"], capture_output=True, text=True).stdout.strip()
    pin = ["taskset", "-c", cpus] if cpus else []
    t = Target(name, port, lambda: Daemon(name, pin + [binary, "-c", conf],
                                          os.path.join(rd, name + ".out")),
               "%s (%s): %s" % (name, binary, ver))
    t.binary = binary
    return t


def peer_dir(rd, name, user, group):
    """A port and a directory the peer (which drops privileges to user)
    may write its logs in; (port, directory, config file path)."""
    port, d = free_port(), os.path.join(rd, name)
    os.makedirs(d, exist_ok=True)
    shutil.chown(d, user, group)
    return port, d, os.path.join(d, name + ".conf")


def squid_target(rd, origin):
    port, d, conf = peer_dir(rd, "squid", "proxy", "proxy")
    with open(conf, "w") as f:
        f.write("""http_port 127.0.0.1:%(p)d
visible_hostname bench
cache_effective_user proxy
pid_filename %(d)s/squid.pid
cache_log %(d)s/cache.log
access_log none
cache deny all
cache_mem 0 MB
pinger_enable off
digest_generation off
dns_nameservers 127.0.0.1
max_filedescriptors 20000
shutdown_lifetime 1 seconds
acl o port %(o)d
acl CONNECT method CONNECT
http_access deny !o
http_access allow localhost
http_access deny all
""" % {"p": port, "d": d, "o": origin})
    ver = subprocess.run(["squid", "-v"], capture_output=True, text=True).stdout.split("\n")[0]
    return Target("squid", port, lambda: Daemon("squid", ["squid", "-N", "-f", conf],
                                                os.path.join(d, "out")), ver)


def tinyproxy_target(rd, origin):
    port, d, conf = peer_dir(rd, "tinyproxy", "nobody", "nogroup")
    with open(conf, "w") as f:
        f.write("User nobody\nGroup nogroup\nListen 127.0.0.1\nPort %d\nTimeout 600\n"
                "MaxClients 3000\nLogFile \"%s/tinyproxy.log\"\nLogLevel Critical\n"
                "Allow 127.0.0.1\nConnectPort %d\n" % (port, d, origin))
    ver = subprocess.run(["tinyproxy", "-v"], capture_output=True, text=True).stdout.strip()
    return Target("tinyproxy", port, lambda: Daemon("tinyproxy", ["tinyproxy", "-d", "-c", conf],
                                                    os.path.join(d, "out")), ver)


# ------------------------------------------------------------------ rows ---
class Bench:
    def __init__(self, args, rd):
        self.a, self.rd = args, rd
        self.samples = {}   # (row, target) -> [dict(value=..., cpu=..., note=...)]
        self.loadgen = [sys.executable, os.path.join(HERE, "loadgen.py")]

    def add(self, row, t, value, cpu=None, note=""):
        self.samples.setdefault((row, t.name), []).append(
            {"value": value, "cpu": cpu, "note": note})
        log("%-20s %-10s %s%s%s" % (row, t.name, "%.4g" % value if value is not None else "failed",
                                     "  cpu %.4g" % cpu if cpu is not None else "",
                                     "  " + note if note else ""))

    def cpu_daemon(self, t):
        """Whose CPU a row counts: the proxy's; for direct, nginx's (what
        serving costs without a proxy: the floor of a proxy's cost)."""
        return t.daemon

    def wrk(self, row, t, path, body=0, origin=None, cpus=None, note=""):
        """wrk -c --conns of GET path (a POST of body bytes when body) at
        the origin (the bench's nginx unless given) through t; with cpus
        (a list), wrk runs pinned there with a thread each."""
        url = "http://127.0.0.1:%d/%s" % (origin or self.origin_port, path)
        env = dict(os.environ, BENCH_URL=url, BENCH_DIRECT="1" if t.name == "direct" else "0",
                   BENCH_BODY=str(body))
        pin = ["taskset", "-c", ",".join(map(str, cpus))] if cpus else []
        threads = len(cpus) if cpus else 1
        d = self.cpu_daemon(t)
        c0 = d.cpu_s()
        rc, out = client(pin + ["wrk", "-t%d" % threads, "-c%d" % self.a.conns,
                                "-d%ds" % self.a.duration, "--timeout", "5s",
                                "-s", os.path.join(HERE, "absolute.lua"),
                                "http://127.0.0.1:%d/" % t.port], self.a.duration + 30, env)
        c1 = d.cpu_s()
        m = re.search(r"BENCH requests=(\d+) duration_us=(\d+) bytes=(\d+) errors=(\d+)", out)
        if not m or int(m.group(1)) == 0:
            self.add(row, t, None, note="wrk failed: " + out.strip()[-200:])
            return
        req, us, nbytes, errs = (int(x) for x in m.groups())
        cpu = (c1 - c0) / req * 1e6   # µs per request
        note = "; ".join(n for n in (note, "%d errors" % errs if errs else "") if n)
        if body:
            self.add(row, t, req * body / 1e6 / (us / 1e6), cpu, note)   # body MB/s
        elif row in ("http-small", "scaling"):
            self.add(row, t, req / (us / 1e6), cpu, note)
        else:
            self.add(row, t, nbytes / 1e6 / (us / 1e6), cpu, note)

    def bulk(self, row, t):
        argv = ["curl", "-s", "-o", "/dev/null", "--max-time", "120",
                "-w", "%{size_download} %{http_code} %{time_total}"]
        if t.name != "direct":
            argv += ["-p", "-x", "http://127.0.0.1:%d" % t.port]
        d = self.cpu_daemon(t)
        c0 = d.cpu_s()
        rc, out = client(argv + ["http://127.0.0.1:%d/bulk" % self.origin_port], 130)
        c1 = d.cpu_s()
        try:
            size, code, secs = out.split()
            ok = int(size) == self.bulk_bytes and code == "200"
        except ValueError:
            ok = False
        if not ok:
            self.add(row, t, None, note="curl: " + out[-200:])
            return
        cpu = (c1 - c0) / (self.bulk_bytes / 1e9)   # core-s per GB
        self.add(row, t, self.bulk_bytes / 1e6 / float(secs), cpu)

    def rate(self, row, t):
        argv = self.loadgen + ["rate", "--path", "/1k", "-c", "32", "-d", str(self.a.duration)]
        if t.name == "direct":
            argv += ["--to", "127.0.0.1:%d" % t.port]
        else:
            argv += ["--to", "127.0.0.1:%d" % t.port, "--connect", "127.0.0.1:%d" % self.origin_port]
        d = self.cpu_daemon(t)
        c0 = d.cpu_s()
        rc, out = client(argv, self.a.duration + 40)
        c1 = d.cpu_s()
        m = re.search(r"RESULT ops=(\d+) errors=(\d+) rate=([\d.]+)", out)
        if not m or int(m.group(1)) == 0:
            self.add(row, t, None, note="client failed: " + out[-200:])
            return
        ops, errs = int(m.group(1)), int(m.group(2))
        self.add(row, t, float(m.group(3)), (c1 - c0) / ops * 1e6,
                 "%d errors" % errs if errs else "")

    def idle(self, row, t, n, tunnel):
        """RSS growth (tunnels) or whole RSS (clients) with n idle connections
        held open, on a freshly started target."""
        if t.name != "direct":
            t.restart()
        argv = self.loadgen + ["hold", "--to", "127.0.0.1:%d" % t.port, "--hold", "120"]
        if tunnel and t.name != "direct":
            argv += ["--connect", "127.0.0.1:%d" % self.origin_port]
        # a few first, so one-time setup (thread stacks, tables) is not counted
        client(argv + ["-n", "8", "--hold", "0"], 60)
        time.sleep(0.3)
        d = t.daemon
        m0 = d.rss_kib()
        p = subprocess.Popen(argv + ["-n", str(n)], stdout=subprocess.PIPE, text=True,
                             start_new_session=True)
        try:
            line = p.stdout.readline()      # READY ...; the client bounds it (--hold)
            time.sleep(1)
            m1 = d.rss_kib()
        finally:
            p.send_signal(signal.SIGTERM)
            try:
                p.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.communicate()
        m = re.search(r"ok=(\d+) fail=(\d+)", line)
        ok = int(m.group(1)) if m else 0
        if ok < n * 0.99:
            self.add(row, t, None, note="only %d of %d opened: %s" % (ok, n, line.strip()))
            return
        note = "RSS %.1f -> %.1f MiB" % (m0 / 1024, m1 / 1024)
        if tunnel:
            self.add(row, t, (m1 - m0) / ok, None, note)
        else:
            self.add(row, t, m1 / 1024, None, note + ", %.2f KiB per connection" % ((m1 - m0) / ok))

    def goproxy(self, row, t):
        """Seconds for GO_RUNS downloads of the module graph, each with
        fresh caches (one alone is too short to time on a loaded machine)."""
        if not self.gomods:
            return
        if t.name == WARM and not self.warmed:
            secs, err = self.go_download(t)     # the fill, not timed
            if secs is None:
                self.add(row, t, None, note="filling the cache: " + err)
                return
            time.sleep(0.5)                     # the store thread's last renames
            self.warmed = True
        total = 0.0
        for _ in range(GO_RUNS):
            secs, err = self.go_download(t)
            if secs is None:
                self.add(row, t, None, note="go mod download: " + err)
                return
            total += secs
        self.add(row, t, total)

    def go_download(self, t):
        root = tempfile.mkdtemp(dir=self.rd, prefix="go-")
        app = os.path.join(root, "app")
        os.makedirs(app)
        with open(os.path.join(app, "go.mod"), "w") as f:
            f.write("module example.test/app\n\ngo 1.19\n\nrequire (\n" +
                    "".join("\t%s %s\n" % (m.path, m.version) for m in self.gomods) + ")\n")
        port = self.origin_port if t.name == "direct" else t.port
        env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
        env.update(GOPATH=root + "/gopath", GOMODCACHE=root + "/modcache", GOCACHE=root + "/gocache",
                   GOPROXY="http://127.0.0.1:%d%s" % (port, "/gp" if t.name == "direct" else ""),
                   GOSUMDB="off", GOFLAGS="-mod=mod", GOTOOLCHAIN="local", GO111MODULE="on")
        t0 = time.monotonic()
        p = subprocess.run(["timeout", "120", "go", "mod", "download"], cwd=app, env=env,
                           capture_output=True, text=True)
        secs = time.monotonic() - t0
        subprocess.run(["chmod", "-R", "u+w", root])
        shutil.rmtree(root, ignore_errors=True)
        return (secs, "") if p.returncode == 0 else (None, p.stderr[-200:])

    def ratelimit(self, row, t):
        if t.name == "direct":
            return
        dur = max(4, self.a.duration)
        rc, out = client(self.loadgen + ["paced", "--to", "127.0.0.1:%d" % t.port, "--url",
                                         "http://127.0.0.1:%d/1k" % self.origin_port2,
                                         "--rps", str(RATE_OFFERED), "-d", str(dur), "--skip", "1"],
                         dur + 30)
        m = re.search(r"sent=(\d+) ok=(\d+) refused=(\d+) errors=(\d+) offered_rate=([\d.]+) "
                      r"served_rate=([\d.]+)", out)
        if not m:
            self.add(row, t, None, note="client failed: " + out[-200:])
            return
        self.add(row, t, float(m.group(6)), None,
                 "offered %s req/s; %s refused 429/503, %s errors" % (m.group(5), m.group(3), m.group(4)))

    def scaling(self, row, targets):
        """The scaling row, all rounds: every proxyd build (proxyd, --compare)
        once with workers = 1 pinned to one CPU (NAME-1w) and once with
        workers = 2 pinned to two (NAME-2w), wrk -c --conns GET 1 KiB, and
        direct for the ceiling of the load side; wrk and an nginx of its own
        pinned to the other CPUs (cpu_plan).  Everything it starts is
        stopped before it returns."""
        started = []
        try:
            ng, load, runs = self.scaling_setup(targets, started)
            for r in range(self.a.rounds):
                for t, what in runs:
                    self.wrk(row, t, "1k", origin=ng.port, cpus=load, note=what)
                    time.sleep(0.3)
        finally:
            for t in started:
                t.daemon.stop()

    def scaling_setup(self, targets, started):
        """Start the scaling row's origin and proxyds (each added to
        started); (the origin, the load's CPUs, [(target, note)]).  With
        fewer than 4 CPUs there are none to spare: the bench's nginx, wrk
        unpinned, 2w unpinned too, and the notes say it cannot show
        scaling."""
        plan = cpu_plan()
        if plan:
            one, two, load = plan
            port, port2 = free_port(), free_port()
            lst = ",".join(map(str, load))
            ng = Target("direct", port, origin_setup(self.rd, port, port2, "nginx-scaling",
                                                     len(load), lst))
            ng.start()
            started.append(ng)
            pins = {1: (str(one), "proxyd on CPU %d; " % one),
                    2: ("%d,%d" % tuple(two), "proxyd on CPUs %d,%d; " % tuple(two))}
            where = "wrk -t%d and nginx (%d workers) on CPUs %s" % (len(load), len(load), lst)
        else:
            ng, load = targets[0], None
            one = min(os.sched_getaffinity(0))
            pins = {1: (str(one), "proxyd pinned to CPU %d; " % one), 2: (None, "proxyd unpinned; ")}
            where = ("only %d CPUs, shared by proxyd, wrk and nginx: cannot show scaling "
                     "(needs 4)" % len(os.sched_getaffinity(0)))
        runs = [(ng, where)]
        for t in targets:
            if t.binary and t.name != WARM:
                for k in (1, 2):
                    s = proxyd_target(self.rd, self.a, ng.port, self.origin_port2,
                                      "%s-%dw" % (t.name, k), t.binary, workers=k, cpus=pins[k][0])
                    s.start()
                    started.append(s)
                    runs.append((s, pins[k][1] + where))
        return ng, load, runs

    def run_row(self, row, targets):
        if row == "scaling":
            self.scaling(row, targets)
            return
        for r in range(self.a.rounds):
            for t in targets:
                if row in PROXYD_ONLY and t.name in ("squid", "tinyproxy"):
                    continue
                if t.name == WARM and row != "goproxy":
                    continue
                if row == "idle-clients-rss" and t.name == "tinyproxy":
                    continue    # a thread per connection, MaxClients: not for 10,000
                if row in ("http-small", "http-64k"):
                    self.wrk(row, t, "1k" if row == "http-small" else "64k")
                elif row == "http-upload":
                    self.wrk(row, t, "upload", body=UPLOAD_BYTES)
                elif row == "connect-bulk":
                    self.bulk(row, t)
                elif row == "connect-rate":
                    self.rate(row, t)
                elif row == "connect-idle-memory":
                    self.idle(row, t, self.a.tunnels, True)
                elif row == "idle-clients-rss":
                    self.idle(row, t, self.a.idle_clients, False)
                elif row == "goproxy":
                    self.goproxy(row, t)
                elif row == "rate-limit":
                    self.ratelimit(row, t)
                time.sleep(0.3)


# ---------------------------------------------------------------- report ---
UNITS = {"http-small": "req/s", "http-64k": "MB/s", "http-upload": "MB/s", "scaling": "req/s",
         "connect-bulk": "MB/s",
         "connect-rate": "tunnels/s", "connect-idle-memory": "KiB/tunnel",
         "idle-clients-rss": "MiB RSS", "goproxy": "s", "rate-limit": "req/s served"}
CPU_UNITS = {"http-small": "µs/req", "http-64k": "µs/req", "http-upload": "µs/req",
             "scaling": "µs/req", "connect-bulk": "core-s/GB",
             "connect-rate": "µs/tunnel"}
WHAT = {
    "http-small": "wrk, 50 connections, GET 1 KiB (absolute form)",
    "http-64k": "wrk, 50 connections, GET 64 KiB",
    "http-upload": "wrk, 50 connections, POST of a 64 KiB body that nginx reads whole, then "
                   "answers 200; MB/s of request body",
    "scaling": "GET 1 KiB as http-small, proxyd with workers = 1 pinned to one CPU (`-1w`) and "
               "workers = 2 pinned to two (`-2w`), wrk and an nginx of its own on the other CPUs "
               "(direct: the load side alone); ratio 2w / 1w; with fewer than 4 CPUs the load "
               "shares proxyd's CPUs and the notes say so",
    "connect-bulk": "curl through a CONNECT tunnel, one file",
    "connect-rate": "32 loops of connect + CONNECT + GET 1 KiB + close",
    "connect-idle-memory": "RSS growth / idle CONNECT tunnels held",
    "idle-clients-rss": "whole RSS with idle client connections (no request)",
    "goproxy": "%d x `go mod download` of the test module graph (3 modules), fresh caches each, "
               "total seconds; `%s`: a proxyd with cache_dir, filled by one download first"
               % (GO_RUNS, WARM),
    "rate-limit": "route at %d req/s, %d req/s offered" % (RATE_LIMIT, RATE_OFFERED),
}


def summarize(bench):
    out = []
    for row in bench.a.rows:
        direct = None
        medians = {}
        # the row's targets in the order measured (the scaling row has its own)
        for name in [n for (r, n) in bench.samples if r == row]:
            s = bench.samples[(row, name)]
            vals = [x["value"] for x in s if x["value"] is not None]
            cpus = [x["cpu"] for x in s if x["cpu"] is not None]
            e = {"row": row, "target": name, "unit": UNITS[row], "values": vals,
                 "failed": len(s) - len(vals),
                 "median": statistics.median(vals) if vals else None,
                 "min": min(vals) if vals else None, "max": max(vals) if vals else None,
                 "cpu": statistics.median(cpus) if cpus else None,
                 "cpu_unit": CPU_UNITS.get(row),
                 "notes": sorted({x["note"] for x in s if x["note"]})}
            if name == "direct":
                direct = e["median"]
            medians[name] = e["median"]
            e["ratio"] = None
            if row == "scaling":
                scaling_summary(e, medians)
            elif row == "rate-limit" and e["median"] is not None:
                e["ratio"] = e["median"] / RATE_LIMIT     # accuracy, not speed
            elif row not in MEMORY and direct and e["median"] and name != "direct":
                # seconds: lower is better, so the ratio is direct / target
                e["ratio"] = direct / e["median"] if row == "goproxy" else e["median"] / direct
            out.append(e)
    return out


def scaling_summary(e, medians):
    """A scaling entry: the ratio of NAME-2w to NAME-1w, and how many
    CPUs the target kept busy (CPU per request times requests per second):
    a proxyd well short of its CPUs was not what limited the rate."""
    one = medians.get(e["target"][:-3] + "-1w") if e["target"].endswith("-2w") else None
    if one and e["median"]:
        e["ratio"] = e["median"] / one
    if e["cpu"] is not None and e["median"]:
        e["notes"].append("%s busy %.2f CPUs" % ("nginx" if e["target"] == "direct" else "proxyd",
                                                 e["cpu"] * e["median"] / 1e6))


def fmt(v):
    if v is None:
        return "–"
    return "%.0f" % v if abs(v) >= 100 else "%.3g" % v


def markdown(res, meta, png):
    lines = ["# proxyd benchmark, %s" % meta["date"], "",
             "`%s` on %s (%s), %s CPUs shared by the clients, the proxy and the "
             "nginx origin; %d round(s), targets alternated within each round; "
             "median, spread (min–max), ratio of the medians to direct." %
             (meta["command"], meta["host"], meta["cpu_model"], meta["cpus"], meta["rounds"]), "",
             "| row | target | median | spread | unit | ratio to direct | CPU (proxy; direct: nginx) | notes |",
             "|---|---|---|---|---|---|---|---|"]
    for e in res:
        cpu = "%s %s" % (fmt(e["cpu"]), e["cpu_unit"]) if e["cpu"] is not None else ""
        note = "; ".join(e["notes"])[:240]
        if e["failed"]:
            note = ("%d run(s) failed; " % e["failed"]) + note
        lines.append("| %s | %s | %s | %s–%s | %s | %s | %s | %s |" % (
            e["row"], e["target"], fmt(e["median"]), fmt(e["min"]), fmt(e["max"]), e["unit"],
            "%.2f" % e["ratio"] if e["ratio"] is not None else "", cpu,
            note.replace("|", "/")))
    lines += ["", "Rows:", ""]
    lines += ["- `%s`: %s." % (r, WHAT[r]) for r in meta["rows"]]
    lines += ["", "Ratios: higher is better; `goproxy` is direct time / proxyd time, "
              "`rate-limit` is served rate / configured rate (1.00 is exact), "
              "`scaling` is 2 workers / 1 worker. "
              "Memory rows have no ratio: their direct run is nginx's own cost "
              "for as many plain connections. CPU: user + system time of the proxy's "
              "processes (of nginx in the direct rows) per request, per tunnel or per GB.", ""]
    if png:
        lines += ["![ratios](%s)" % os.path.basename(png), ""]
    lines += ["Versions: " + "; ".join(meta["versions"]), ""]
    return "\n".join(lines)


def chart(res, path, rows, names):
    """Clustered bars of the ratios, one cluster per row; None when
    gnuplot is missing."""
    if not shutil.which("gnuplot"):
        log("gnuplot not installed: no chart (apt-get install gnuplot-nox)")
        return None
    # scaling's ratio is not to direct and its targets are its own
    rows = [r for r in rows if r not in MEMORY and r != "scaling"]
    names = [n for n in names if n != "direct"]
    dat = path + ".dat"
    with open(dat, "w") as f:
        f.write("row " + " ".join(names) + "\n")
        for r in rows:
            vals = []
            for n in names:
                e = next((e for e in res if e["row"] == r and e["target"] == n), None)
                vals.append("%.3f" % e["ratio"] if e and e["ratio"] is not None else "NaN")
            f.write("%s %s\n" % (r, " ".join(vals)))
    n = len(names)
    labels = []
    for j, r in enumerate(rows):
        for i, name in enumerate(names):
            e = next((e for e in res if e["row"] == r and e["target"] == name), None)
            if e and e["ratio"] is not None:
                # clustered histogram geometry: cluster j centred on x = j
                x = j + (i - (n - 1) / 2.0) / (n + 1.0)
                labels.append("set label '%.2f' at %.3f,%.3f center font ',8'"
                              % (e["ratio"], x, e["ratio"] + 0.03))
    top = max([1.2] + [e["ratio"] + 0.15 for e in res if e["ratio"] is not None])
    script = """set terminal pngcairo size 900,450 font 'Sans,10'
set output '%s'
set title 'ratio to direct nginx (1.0 = as fast as no proxy; rate-limit: served / configured rate)'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set yrange [0:%.2f]
set grid ytics
set key outside bottom center horizontal
set xtics nomirror
set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 1.5
%s
plot for [i=2:%d] '%s' using i:xtic(1) title columnheader(i)
""" % (path, top, "\n".join(labels), n + 1, dat)
    r = subprocess.run(["gnuplot"], input=script, capture_output=True, text=True)
    os.unlink(dat)
    if r.returncode != 0:
        log("gnuplot failed: " + r.stderr)
        return None
    return path


# ------------------------------------------------------------------ main ---
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--rows", default=",".join(ROWS))
    ap.add_argument("--peers", default=None)
    ap.add_argument("--rounds", type=int)
    ap.add_argument("--duration", type=int)
    ap.add_argument("--bulk-mib", type=int)
    ap.add_argument("--tunnels", type=int, default=2000)
    ap.add_argument("--idle-clients", type=int, default=10000)
    ap.add_argument("--conns", type=int, default=50)
    ap.add_argument("--workers", type=int, default=0)
    ap.add_argument("--compare", action="append", default=[], metavar="NAME=BINARY")
    ap.add_argument("--out", default=None)
    ap.add_argument("--proxyd", required=True)
    ap.add_argument("--command", default="bench/run.sh")
    ap.add_argument("--keep", action="store_true", help="keep the run directory (configs, logs)")
    a = ap.parse_args()
    a.rows = [r for r in a.rows.split(",") if r]
    for r in a.rows:
        if r not in ROWS:
            raise SystemExit("unknown row %s (rows: %s)" % (r, ", ".join(ROWS)))
    a.rounds = a.rounds or (1 if a.quick else 3)
    a.duration = a.duration or (2 if a.quick else 6)
    a.bulk_mib = a.bulk_mib or (64 if a.quick else 512)
    if a.peers is None:
        a.peers = "none" if a.quick else "squid,tinyproxy"
    a.out = a.out or os.path.join(HERE, "results")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    rd = tempfile.mkdtemp(prefix="proxyd-bench-")
    os.chmod(rd, 0o755)
    try:
        return run(a, rd)
    finally:
        stop_all()
        if a.keep:
            log("run directory kept: %s" % rd)
        else:
            shutil.rmtree(rd, ignore_errors=True)


def run(a, rd):
    start = time.monotonic()
    b = Bench(a, rd)
    b.origin_port, b.origin_port2 = free_port(), free_port()
    direct = Target("direct", b.origin_port, origin_setup(rd, b.origin_port, b.origin_port2),
                    subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip())
    b.bulk_bytes = os.path.getsize(make_bulk(rd, a.bulk_mib))
    b.gomods = None
    if "goproxy" in a.rows:
        try:
            from gomodtree import build_tree, debian_module
            b.gomods = [debian_module(p, pkg) for p, pkg in GO_MODULES]
            build_tree(os.path.join(rd, "www", "gp"), b.gomods)
        except Exception as e:  # noqa: BLE001 - the row is left out, with why
            log("goproxy row left out: %s" % e)
            b.gomods = None
    targets = [direct, proxyd_target(rd, a, b.origin_port, b.origin_port2)]
    b.warmed = False
    if b.gomods:
        targets.append(proxyd_target(rd, a, b.origin_port, b.origin_port2, WARM,
                                     cache_dir=os.path.join(rd, "cache")))
    for spec in a.compare:
        name, _, binary = spec.partition("=")
        if not re.match(r"^[a-z0-9_.-]+$", name) or name in ("direct", "proxyd") or not binary:
            raise SystemExit("--compare wants NAME=BINARY, got %r" % spec)
        targets.append(proxyd_target(rd, a, b.origin_port, b.origin_port2, name, binary))
    for peer, make in (("squid", squid_target), ("tinyproxy", tinyproxy_target)):
        if peer in a.peers.split(","):
            if shutil.which(peer):
                targets.append(make(rd, b.origin_port))
            else:
                log("%s not installed: left out" % peer)
    for t in targets:
        t.start()
        if t.name != "direct":
            rc, out = client(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-p", "-x",
                              "http://127.0.0.1:%d" % t.port,
                              "http://127.0.0.1:%d/1k" % b.origin_port, "--max-time", "5"], 10)
            if out != "200":
                raise SystemExit("%s does not relay a CONNECT tunnel (%s)" % (t.name, out))
    log("targets: %s; rows: %s; %d round(s) of %d s" % (
        ", ".join(t.name for t in targets), ", ".join(a.rows), a.rounds, a.duration))
    for row in a.rows:
        b.run_row(row, targets)
    res = summarize(b)
    day = datetime.datetime.utcnow().strftime("%Y-%m-%d")
    base = os.path.join(a.out, day + ("-quick" if a.quick else ""))
    os.makedirs(a.out, exist_ok=True)
    cpu_model = "?"
    with open("/proc/cpuinfo") as f:
        m = re.search(r"model name\s*:\s*(.*)", f.read())
        cpu_model = m.group(1).strip() if m else "?"
    meta = {"date": datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC"),
            "command": a.command, "host": "Linux %s" % platform.release(),
            "cpu_model": cpu_model, "cpus": os.cpu_count(), "rounds": a.rounds,
            "duration_s": a.duration, "bulk_mib": a.bulk_mib, "tunnels": a.tunnels,
            "idle_clients": a.idle_clients, "rows": a.rows,
            "versions": [t.version for t in targets] + [
                client(["wrk", "-v"], 5)[1].split("\n")[0].strip(),
                client(["curl", "--version"], 5)[1].split("\n")[0].strip()],
            "elapsed_s": round(time.monotonic() - start)}
    png = chart(res, base + ".png", a.rows, [t.name for t in targets])
    with open(base + ".json", "w") as f:
        json.dump({"meta": meta, "results": res}, f, indent=1)
    with open(base + ".md", "w") as f:
        f.write(markdown(res, meta, png))
    print(markdown(res, meta, png))
    log("wrote %s.md, .json%s in %d s" % (base, ", .png" if png else "", meta["elapsed_s"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
