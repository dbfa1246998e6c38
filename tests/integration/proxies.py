"""proxies.py - start the proxy under test with a generated config.

PROXY_UNDER_TEST selects it: "proxyd" (default, binary from $PROXYD),
"squid" or "tinyproxy".  The last two only exist to check the harness
itself before proxyd works; proxyd-specific expectations fail there.

Every proxy gets the same settings dict (see DEFAULTS, proxyd's key
names); the squid and tinyproxy adapters translate what they can.

proxyd also takes routes=[(NAME, {key: value}), ...], written as
`[route NAME]` sections in that order, proc_env={VAR: value or None}
for its environment (None unsets; route values like `hosts = $VAR`), and
extra_hosts=["ADDRESS NAME", ...] for its own hosts file, and tls=True
for a second listener, `tls 127.0.0.1:TLS_PORT` (give tls_cert/tls_key).
"""

import os
import re
import signal

from harness import LOOPBACK, Proc, TestFailure, TestSkip, free_port, wait_port
from servers import MIRROR_NAMES, TEST_NAMES

DEFAULTS = {
    "allow": "127.0.0.0/8",
    "connect_ports": "443, 1024-65535",
    "workers": "2",
    "max_clients": "512",
    "header_timeout": "10s",
    "keepalive_timeout": "15s",
    "connect_timeout": "3s",
    "response_timeout": "20s",
    "idle_timeout": "20s",
    "tunnel_idle_timeout": "30s",
    "shutdown_timeout": "5s",
    "max_request_line": "8k",
    "max_header_size": "32k",
    "max_headers": "100",
}

_counter = [0]


def _next_name(kind):
    _counter[0] += 1
    return "%s-%d" % (kind, _counter[0])


def write_resolver_files(wd):
    """hosts file mapping the test names to 127.0.0.1, and a resolv.conf
    whose only nameserver refuses at once, so unknown names fail fast."""
    hosts = wd.write("hosts", "127.0.0.1 localhost " + " ".join(TEST_NAMES + MIRROR_NAMES)
                     + "\n")
    resolv = wd.write("resolv.conf", "nameserver 127.0.0.1:1\noptions timeout:1 attempts:1\n")
    return hosts, resolv


class BaseProxy:
    kind = "?"
    # Whether the proxy resolves the test names (origin.test ...) itself.
    resolves_test_names = True
    # The proxy's environment (None: inherited).
    proc_env = None

    def __init__(self, wd, **settings):
        self.wd = wd
        self.name = _next_name(self.kind)
        self.dir = wd.sub(self.name, mkdir=True)
        os.chmod(self.dir, 0o777)   # squid/tinyproxy write here as "proxy"/"nobody"
        self.port = free_port()
        self.settings = dict(DEFAULTS, **{k: str(v) for k, v in settings.items()})
        self.access_log = os.path.join(self.dir, "access.log")
        self.error_log = os.path.join(self.dir, "error.log")
        self.proc = None

    @property
    def url(self):
        return "http://%s:%d" % (LOOPBACK, self.port)

    def start(self):
        argv = self.command()
        self.proc = Proc(self.name, argv, os.path.join(self.dir, "stdout.log"),
                         env=self.proc_env)
        wait_port(self.port, self.proc, timeout=20)
        return self

    def stop(self, sig=signal.SIGTERM, grace=10.0):
        if self.proc is None:
            return None
        return self.proc.stop(sig=sig, grace=grace)

    def alive(self):
        return self.proc is not None and self.proc.alive()

    def access_lines(self):
        try:
            with open(self.access_log, errors="replace") as f:
                return f.read().splitlines()
        except OSError:
            return []

    def diagnostics(self, tail=1500):
        """Last words of the proxy: its stdout/stderr and error log."""
        text = self.proc.output(tail) if self.proc else ""
        try:
            with open(self.error_log, errors="replace") as f:
                text += "\n[error_log] " + f.read()[-tail:]
        except OSError:
            pass
        return text.strip()


class Proxyd(BaseProxy):
    kind = "proxyd"

    def __init__(self, wd, binary, routes=(), proc_env=None, args=(), extra_hosts=(),
                 tls=False, **settings):
        super().__init__(wd, **settings)
        self.tls_port = free_port() if tls else None
        self.binary = binary
        self.args = list(args)          # extra command-line options (-d)
        self.routes = [(name, dict(keys)) for name, keys in routes]
        if proc_env:
            env = dict(os.environ)
            for k, v in proc_env.items():
                if v is None:
                    env.pop(k, None)
                else:
                    env[k] = str(v)
            self.proc_env = env
        self.hosts, self.resolv = write_resolver_files(wd)
        if extra_hosts:
            # "ADDRESS NAME" lines of this proxy's own (destination policy tests).
            with open(self.hosts) as f:
                text = f.read()
            self.hosts = os.path.join(self.dir, "hosts")
            with open(self.hosts, "w") as f:
                f.write(text + "".join(line + "\n" for line in extra_hosts))
        self.conf = os.path.join(self.dir, "proxyd.conf")
        with open(self.conf, "w") as f:
            f.write(self.config_text())

    def config_text(self):
        s = self.settings
        listen = "%s:%d" % (LOOPBACK, self.port)
        if self.tls_port:
            listen += ", tls %s:%d" % (LOOPBACK, self.tls_port)
        lines = ["# generated by tests/integration/proxies.py", "[proxyd]",
                 "listen = " + listen]
        lines += ["%s = %s" % (k, v) for k, v in s.items()]
        lines += ["access_log = " + self.access_log,
                  "error_log = " + self.error_log,
                  "resolv_conf = " + self.resolv,
                  "hosts_file = " + self.hosts]
        for name, keys in self.routes:
            lines += ["", "[route %s]" % name]
            lines += ["%s = %s" % (k, v) for k, v in keys.items()]
        return "\n".join(lines) + "\n"

    @property
    def tls_url(self):
        return "https://%s:%d" % (LOOPBACK, self.tls_port)

    def command(self):
        if not os.access(self.binary, os.X_OK):
            raise TestFailure("proxyd binary %s is missing or not executable" % self.binary)
        return [self.binary, "-c", self.conf] + self.args


def _duration_seconds(text):
    m = re.fullmatch(r"(\d+)(ms|s|m|h)?", text.strip())
    n, unit = int(m.group(1)), m.group(2) or "s"
    return max(1, {"ms": n // 1000, "s": n, "m": n * 60, "h": n * 3600}[unit])


class Squid(BaseProxy):
    """squid 5 with a throw-away config: no cache, our hosts file, logs
    in proxyd's format so the same checks read them."""
    kind = "squid"

    def command(self):
        s = self.settings
        d = self.dir
        hosts, _ = write_resolver_files(self.wd)
        ports = " ".join(p.strip() for p in s["connect_ports"].split(","))
        conf = "\n".join([
            "http_port %s:%d" % (LOOPBACK, self.port),
            "pid_filename %s/squid.pid" % d,
            "cache_log %s" % self.error_log,
            "logformat proxyd %tl %>a %rm %ru %>Hs in=%>st out=%<st ms=%tr upstream=%<a",
            "access_log stdio:%s proxyd" % self.access_log,
            "cache deny all",
            "cache_mem 8 MB",
            "coredump_dir %s" % d,
            "netdb_filename none",
            "hosts_file %s" % hosts,
            "dns_nameservers 127.0.0.1",
            "dns_timeout 2 seconds",
            "shutdown_lifetime 1 seconds",
            "forwarded_for transparent",
            "connect_timeout %d seconds" % _duration_seconds(s["connect_timeout"]),
            "read_timeout %d seconds" % _duration_seconds(s["response_timeout"]),
            "request_timeout %d seconds" % _duration_seconds(s["header_timeout"]),
            "acl clients src %s" % s["allow"],
            "acl connect_ports port %s" % ports,
            "acl CONNECT method CONNECT",
            "http_access deny CONNECT !connect_ports",
            "http_access allow clients",
            "http_access deny all",
            "",
        ])
        path = os.path.join(d, "squid.conf")
        with open(path, "w") as f:
            f.write(conf)
        return ["squid", "-N", "-f", path]


class Tinyproxy(BaseProxy):
    """tinyproxy resolves with the system resolver: the tests then use
    127.0.0.1 instead of the test names (Go bypasses such a proxy)."""
    kind = "tinyproxy"
    resolves_test_names = False

    def command(self):
        s = self.settings
        d = self.dir
        allow = s["allow"]
        conf = "\n".join([
            "User nobody", "Group nogroup",
            "Port %d" % self.port,
            "Listen %s" % LOOPBACK,
            "Timeout %d" % _duration_seconds(s["idle_timeout"]),
            "LogFile \"%s\"" % self.error_log,
            "LogLevel Info",
            "PidFile \"%s/tinyproxy.pid\"" % d,
            "MaxClients %s" % s["max_clients"],
            "Allow %s" % allow,
            "ViaProxyName \"tinyproxy\"",
            # No ConnectPort line = CONNECT to any port.
            "",
        ])
        path = os.path.join(d, "tinyproxy.conf")
        with open(path, "w") as f:
            f.write(conf)
        # tinyproxy has no access log of its own; its log has the lines.
        self.access_log = self.error_log
        return ["tinyproxy", "-d", "-c", path]


def make_proxy(wd, kind, proxyd_binary, **settings):
    if kind != "proxyd" and ("routes" in settings or "proc_env" in settings):
        raise TestSkip("[route] sections are proxyd's, not " + kind + "'s")
    if kind == "proxyd":
        return Proxyd(wd, proxyd_binary, **settings)
    if kind == "squid":
        return Squid(wd, **settings)
    if kind == "tinyproxy":
        return Tinyproxy(wd, **settings)
    raise ValueError("unknown PROXY_UNDER_TEST %r" % kind)
