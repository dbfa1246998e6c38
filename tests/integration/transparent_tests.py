"""transparent_tests.py - transparent interception (listen = transparent
ADDR:PORT, proxyd --redirect-rules): clients with no proxy settings in a
network namespace whose outbound TCP the real rules (`--redirect-rules
--apply`, iptables-nft) send to proxyd, which runs there under an
excluded UID (nobody, through `user =`); the origins (nginx with the
test CA's certificate, git smart HTTP, a GOPROXY tree) in a second
namespace joined by a veth pair with documentation addresses
(192.0.2.0/24, 2001:db8::/32).  No packet leaves the two namespaces;
both, the veth, /etc/netns/NAME and every process are removed at the end
of each test, failed or not.

Names resolve through `ip netns exec`'s /etc/netns/NAME/hosts for the
clients and through proxyd's hosts_file for proxyd."""

import contextlib
import ctypes
import os
import shutil
import socket
import ssl
import threading
import time

import go_tests
from gomodtree import escape_path
from harness import (Proc, TestFailure, TestSkip, expect, expect_eq, free_port, run,
                     test, wait_until)
from servers import NGINX_CONF

CLIENT_ADDR, ORIGIN_ADDR = "192.0.2.1", "192.0.2.2"
CLIENT_ADDR6, ORIGIN_ADDR6 = "2001:db8::1", "2001:db8::2"
NAMES = "origin.test git.test mirror-host.test"
CLONE_NEWNET = 0x40000000
_seq = [0]


def sh(*argv, check=True, timeout=20):
    r = run(list(argv), timeout=timeout)
    if check and r.returncode != 0:
        raise TestFailure("%s failed (%d): %s" % (" ".join(argv), r.returncode,
                                                   r.stderr.decode(errors="replace")[-500:]))
    return r


def needs_tools():
    for tool in ("ip", "iptables", "ip6tables", "nginx", "curl"):
        if shutil.which(tool) is None:
            raise TestSkip(tool + " is not installed (tests/integration/packages.txt)")
    if os.geteuid() != 0:
        raise TestSkip("network namespaces need root")


class World:
    """The two namespaces, the origins' nginx and proxyd in the client's."""

    def __init__(self, env, routes, ports_extra=(), rules_uid=None):
        _seq[0] += 1
        tag = "%d%d" % (os.getpid() % 10000, _seq[0])
        self.env = env
        self.cns, self.ons = "pxdc" + tag, "pxdo" + tag
        self.veth = "pxv" + tag
        self.dir = env.wd.sub("transparent-%d" % _seq[0], mkdir=True)
        self.procs = []
        self.proxyd = None
        self.http_port, self.https_port = free_port(), free_port()
        self.go_port, self.listen_port = free_port(), free_port()
        self.extra = list(ports_extra)
        self.routes = routes
        self.rules_uid = rules_uid        # None: the config's user's

    # ------------------------------------------------------------ set-up

    def up(self):
        for ns in (self.cns, self.ons):
            sh("ip", "netns", "add", ns)
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "link", "add", self.veth + "c", "netns", self.cns, "type", "veth",
           "peer", "name", self.veth + "o", "netns", self.ons)
        for ns, dev, a4, a6 in ((self.cns, self.veth + "c", CLIENT_ADDR, CLIENT_ADDR6),
                                (self.ons, self.veth + "o", ORIGIN_ADDR, ORIGIN_ADDR6)):
            sh("ip", "-n", ns, "addr", "add", a4 + "/24", "dev", dev)
            sh("ip", "-n", ns, "addr", "add", a6 + "/64", "dev", dev, "nodad")
            sh("ip", "-n", ns, "link", "set", dev, "up")
        os.makedirs("/etc/netns/" + self.cns, exist_ok=True)
        with open("/etc/netns/%s/hosts" % self.cns, "w") as f:
            f.write("127.0.0.1 localhost\n%s %s\n" % (ORIGIN_ADDR, NAMES))
        self.start_nginx()
        self.start_proxyd()
        ports = [self.http_port, self.https_port, self.go_port] + self.extra
        uid = ["--uid", str(self.rules_uid)] if self.rules_uid is not None else []
        r = self.ns_run([self.env.proxyd_binary, "--redirect-rules", "-c", self.conf,
                         "--ports", ",".join(map(str, ports)), "--apply"] + uid)
        expect(r.returncode == 0, "--redirect-rules --apply failed: %s"
               % r.stderr.decode(errors="replace"))
        return self

    def down(self):
        """Remove everything; what proxyd's exit says is wrong, or None."""
        status = None
        for p in reversed(self.procs):
            if p is self.proxyd:
                status = p.stop()
            else:
                p.stop()
        for ns in (self.cns, self.ons):
            run(["ip", "netns", "del", ns], timeout=20)   # the veth goes with it
        shutil.rmtree("/etc/netns/" + self.cns, ignore_errors=True)
        out = self.proxyd.output(4000) if self.proxyd else ""
        if status not in (None, 0) or "Sanitizer" in out or "runtime error" in out:
            return "proxyd exited with %s: %s" % (status, out[-1500:])
        return None

    def start_nginx(self):
        d = os.path.join(self.dir, "nginx")
        for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            os.makedirs(os.path.join(d, "nginx", sub), exist_ok=True)
        origin, wd = self.env.origin, self.env.wd.path
        conf = NGINX_CONF.format(
            user="user root;", d=d, http_port=self.http_port, https_port=self.https_port,
            goproxy_port=self.go_port, cert=os.path.join(wd, "tls", "server.pem"),
            key=os.path.join(wd, "tls", "server.key"), fcgi_sock=os.path.join(wd, "fcgi.sock"),
            git_root=origin.git_root, goproxy_root=origin.goproxy_root)
        conf = conf.replace(d + "/www", wd + "/www")
        conf = conf.replace("listen 127.0.0.1:%d;" % self.http_port,
                            "listen %s:%d; listen [%s]:%d;" % (ORIGIN_ADDR, self.http_port,
                                                               ORIGIN_ADDR6, self.http_port))
        conf = conf.replace("listen 127.0.0.1:", "listen %s:" % ORIGIN_ADDR)
        path = os.path.join(d, "nginx.conf")
        with open(path, "w") as f:
            f.write(conf)
        p = Proc("nginx-" + self.ons, ["ip", "netns", "exec", self.ons, "nginx", "-p", d,
                                       "-e", os.path.join(d, "error.log"), "-c", path],
                 os.path.join(d, "nginx.log"))
        self.procs.append(p)
        self.wait_listen(self.ons, ORIGIN_ADDR, self.go_port, p)

    def start_proxyd(self):
        self.access_log = os.path.join(self.dir, "access.log")
        self.error_log = os.path.join(self.dir, "error.log")
        hosts = os.path.join(self.dir, "hosts")
        with open(hosts, "w") as f:
            f.write("127.0.0.1 localhost\n%s %s\n" % (ORIGIN_ADDR, NAMES))
        resolv = os.path.join(self.dir, "resolv.conf")
        with open(resolv, "w") as f:     # unknown names fail at once
            f.write("nameserver 127.0.0.1:1\noptions timeout:1 attempts:1\n")
        lines = ["[proxyd]",
                 "listen = transparent 127.0.0.1:%d, transparent [::1]:%d"
                 % (self.listen_port, self.listen_port),
                 "user = nobody", "header_timeout = 2s",
                 "connect_ports = %s" % ",".join(
                     map(str, [self.https_port, self.http_port] + self.extra)),
                 "access_log = " + self.access_log, "error_log = " + self.error_log,
                 "hosts_file = " + hosts,
                 "resolv_conf = " + resolv]
        for name, keys in self.routes + [("default", {"hosts": "*", "upstream": "direct"})]:
            lines += ["", "[route %s]" % name] + [
                "%s = %s" % (k, v.format(go_port=self.go_port)) for k, v in keys.items()]
        self.conf = os.path.join(self.dir, "proxyd.conf")
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        p = Proc("proxyd-" + self.cns, ["ip", "netns", "exec", self.cns, self.env.proxyd_binary,
                                        "-d", "-c", self.conf], os.path.join(self.dir, "proxyd.log"))
        self.procs.append(p)
        self.proxyd = p
        self.wait_listen(self.cns, "127.0.0.1", self.listen_port, p)

    def wait_listen(self, ns, addr, port, proc):
        def ready():
            try:
                ns_socket(ns, addr, port, 0.5).close()
                return True
            except OSError:
                return False
        if not wait_until(lambda: ready() or not proc.alive(), 15) or not proc.alive():
            raise TestFailure("%s did not listen on %s:%d: %s" % (proc.name, addr, port,
                                                                 proc.output()))

    # ------------------------------------------------------------ use

    def ns_run(self, argv, timeout=60, env=None):
        return run(["ip", "netns", "exec", self.cns] + argv, timeout=timeout, env=env)

    def curl(self, *urls):
        genv = self.env.client_env()
        argv = ["curl", "-sS", "-m", "20", "--cacert", self.env.origin.ca, "-w", "%{http_code}"]
        for url in urls:
            argv += ["-o", "/dev/null", url]
        r = self.ns_run(argv, timeout=30, env=genv)
        return r.stdout.decode().strip(), r.stderr.decode(errors="replace")

    def log_lines(self, needle, timeout=3):
        def found():
            try:
                with open(self.access_log, errors="replace") as f:
                    return [l for l in f.read().splitlines() if needle in l]
            except OSError:
                return []
        wait_until(found, timeout)
        return found()

    def expect_logged(self, needle, *parts):
        lines = self.log_lines(needle)
        expect(lines, "no access log line with %r: %s" % (needle, self.all_lines()))
        for part in parts:
            expect(any(part in l for l in lines), "no %r in %s" % (part, lines))
        return lines

    def all_lines(self):
        try:
            with open(self.access_log, errors="replace") as f:
                return f.read()[-1500:]
        except OSError:
            return "(no access log)"

    def client(self, addr, port, timeout=5):
        return ns_socket(self.cns, addr, port, timeout)


def ns_socket(ns, addr, port, timeout):
    """A TCP socket connected from inside namespace ns: made in a thread
    that joined ns alone (setns(2) changes the calling thread only)."""
    out = {}

    def body():
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            fd = os.open("/run/netns/" + ns, os.O_RDONLY)
            try:
                if libc.setns(fd, CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), "setns " + ns)
            finally:
                os.close(fd)
            fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
            s = socket.socket(fam, socket.SOCK_STREAM)
            s.settimeout(timeout)
            try:
                s.connect((addr, port))
            except OSError:
                s.close()
                raise
            out["s"] = s
        except OSError as e:
            out["e"] = e
    t = threading.Thread(target=body)
    t.start()
    t.join(timeout + 5)
    if "e" in out:
        raise out["e"]
    if "s" not in out:
        raise OSError("connect from %s timed out" % ns)
    return out["s"]


@contextlib.contextmanager
def world(env, routes=(), ports_extra=(), rules_uid=None):
    needs_tools()
    w = World(env, list(routes), ports_extra, rules_uid)
    try:
        yield w.up()
    except BaseException:
        w.down()
        raise
    problem = w.down()
    if problem:
        raise TestFailure(problem)


def recv_all(s, timeout=5):
    s.settimeout(timeout)
    data = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            data += d
    except (socket.timeout, ConnectionResetError):
        pass
    return data


# ---------------------------------------------------------------- tests

@test("transparent_curl_http_https")
def _(env):
    routes = [("origin", {"hosts": "origin.test", "upstream": "direct"})]
    with world(env, routes) as w:
        code, err = w.curl("http://origin.test:%d/1k" % w.http_port)
        expect_eq(code, "200", "curl http status (%s)" % err)
        w.expect_logged("GET http://origin.test:%d/1k 200" % w.http_port, "route=origin",
                        "kind=transparent")
        code, err = w.curl("https://origin.test:%d/1k" % w.https_port)
        expect_eq(code, "200", "curl https status (%s)" % err)
        w.expect_logged("CONNECT origin.test:%d 200" % w.https_port, "route=origin",
                        "kind=transparent")
        # Keep-alive: curl sends both requests on one redirected connection.
        url = "http://origin.test:%d/1k" % w.http_port
        code, err = w.curl(url, url)
        expect_eq(code, "200200", "two requests on one connection (%s)" % err)
        peers = [l.split()[1] for l in w.log_lines("GET %s 200" % url)]
        expect(len(peers) == 3 and peers[1] == peers[2], "not one connection: %s" % peers)
        # IPv6: ip6tables' rule to the [::1] listener; no Host name needed.
        code, err = w.curl("http://[%s]:%d/1k" % (ORIGIN_ADDR6, w.http_port))
        expect_eq(code, "200", "curl http over IPv6 (%s)" % err)
        w.expect_logged("GET http://[%s]:%d/1k 200" % (ORIGIN_ADDR6, w.http_port),
                        "route=default")


@test("transparent_deny_route")
def _(env):
    routes = [("blocked", {"hosts": "origin.test", "upstream": "deny"})]
    with world(env, routes) as w:
        code, _ = w.curl("http://origin.test:%d/1k" % w.http_port)
        expect_eq(code, "403", "curl http status through a deny route")
        w.expect_logged("GET http://origin.test:%d/1k 403" % w.http_port,
                        "denied by route 'blocked'")
        code, err = w.curl("https://origin.test:%d/1k" % w.https_port)
        expect(code == "000" and err, "TLS through a deny route: %r %r" % (code, err))
        w.expect_logged("CONNECT origin.test:%d 403" % w.https_port, "kind=transparent",
                        "denied by route 'blocked'")


@test("transparent_git_clone_https")
def _(env):
    with world(env, [("git", {"hosts": "git.test", "upstream": "direct"})]) as w:
        dest = os.path.join(w.dir, "clone")
        genv = env.client_env()
        genv.update(GIT_TERMINAL_PROMPT="0", GIT_CONFIG_NOSYSTEM="1",
                    GIT_CONFIG_GLOBAL="/dev/null")
        r = w.ns_run(["git", "-c", "http.sslCAInfo=" + env.origin.ca, "clone", "-q",
                      "https://git.test:%d/repo.git" % w.https_port, dest], env=genv)
        expect(r.returncode == 0, "git clone failed: %s" % r.stderr.decode(errors="replace"))
        with open(os.path.join(dest, "README")) as f:
            expect_eq(f.read(), "proxyd git test\n", "README in the clone")
        w.expect_logged("CONNECT git.test:%d 200" % w.https_port, "route=git")


@test("transparent_go_mod_download")
def _(env):
    if shutil.which("go") is None:
        raise TestSkip("go is not installed")
    mods = go_tests.mirror_modules(env)
    # proxyd's own fetches from the mirror are not redirected (its UID).
    routes = [("gomirror", {"hosts": "mirror-host.test", "modules": "*",
                            "upstream": "mirror http://origin.test:{go_port}"})]
    with world(env, routes) as w:
        root = os.path.join(w.dir, "go")
        src = os.path.join(root, "app")
        go_tests.write_app(src, mods)
        genv = env.client_env()
        genv.update(GOPATH=os.path.join(root, "gopath"), GOMODCACHE=os.path.join(root, "mc"),
                    GOCACHE=os.path.join(root, "gocache"),
                    GOPROXY="http://mirror-host.test:%d" % w.go_port,
                    GOSUMDB="off", GONOSUMDB="*", GOFLAGS="-mod=mod", GOTOOLCHAIN="local",
                    GO111MODULE="on", CGO_ENABLED="0")
        r = run(["ip", "netns", "exec", w.cns, "timeout", "120", "go", "mod", "download"],
                timeout=130, env=genv, cwd=src)
        expect(r.returncode == 0, "go mod download failed: %s"
               % r.stderr.decode(errors="replace")[-800:])
        for m in mods:
            # The go command sends "!" as %21.
            zipname = escape_path(m.path).replace("!", "%21") + "/@v/" + m.version + ".zip"
            w.expect_logged(zipname, "route=gomirror", "kind=zip")


@test("transparent_no_loop_own_address_refused")
def _(env):
    with world(env) as w:
        code, err = w.curl("http://origin.test:%d/1k" % w.http_port)
        expect_eq(code, "200", "curl (%s)" % err)
        # One line: proxyd's own connection to the origin was not
        # redirected back to it (it would show as a second request).
        time.sleep(0.3)
        lines = w.log_lines("/1k")
        expect_eq(len(lines), 1, "access lines for one request: %s" % lines)
        # Straight to the transparent listener: its own address.
        s = w.client("127.0.0.1", w.listen_port)
        s.sendall(b"GET / HTTP/1.1\r\nHost: origin.test\r\n\r\n")
        answer = recv_all(s)
        s.close()
        expect(answer.startswith(b"HTTP/1.1 403"), "own address answered %r" % answer[:80])
        w.expect_logged("a proxy loop", "kind=transparent")
        # The same for TLS: closed, no HTTP bytes.
        s = w.client("127.0.0.1", w.listen_port)
        s.sendall(client_hello("origin.test"))
        answer = recv_all(s)
        s.close()
        expect_eq(answer, b"", "a ClientHello to proxyd's own address")
        w.expect_logged("CONNECT origin.test:%d 403" % w.listen_port, "a proxy loop")


@test("transparent_loop_refused_when_rules_miss_proxyd_uid")
def _(env):
    # Rules that exclude another UID: proxyd's own upstream connections
    # are redirected back to it.  Each is refused at once (sock_diag says
    # it is proxyd's), instead of making another until fds run out.
    with world(env, rules_uid=54321) as w:
        code, _ = w.curl("http://origin.test:%d/1k" % w.http_port)
        expect_eq(code, "403", "curl through a looping redirect")
        w.expect_logged("GET http://origin.test:%d/1k 403" % w.http_port)
        lines = w.expect_logged("came back (a proxy loop", "kind=transparent")
        code, err = w.curl("https://origin.test:%d/1k" % w.https_port)
        expect_eq(code, "000", "TLS through a looping redirect (%s)" % err)
        time.sleep(0.3)
        lines = w.log_lines("came back")
        expect(2 <= len(lines) <= 3, "loop refusals: %s" % lines)


def client_hello(name):
    """A real ClientHello (Python's ssl) for name, as bytes."""
    ctx = ssl.create_default_context()
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname=name)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def tls_one_byte_writes(w, name, port, ca):
    """A whole TLS exchange whose ClientHello goes out a byte per write;
    returns the HTTP status line the origin sent."""
    ctx = ssl.create_default_context(cafile=ca)
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname=name)
    s = w.client(ORIGIN_ADDR, port)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    first = True
    try:
        while True:
            try:
                obj.do_handshake()
                break
            except ssl.SSLWantReadError:
                data = out.read()
                if first:
                    for i in range(len(data)):
                        s.send(data[i:i + 1])
                        time.sleep(0.002)
                    first = False
                else:
                    s.sendall(data)
                got = s.recv(65536)
                if not got:
                    raise TestFailure("closed during the handshake")
                inc.write(got)
        s.sendall(out.read())
        obj.write(b"GET /1k HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n\r\n"
                  % (name.encode(), port))
        s.sendall(out.read())
        data = b""
        while b"\r\n" not in data:
            try:
                data += obj.read(4096)
            except ssl.SSLWantReadError:
                got = s.recv(65536)
                if not got:
                    break
                inc.write(got)
        return data.split(b"\r\n")[0]
    finally:
        s.close()


@test("transparent_hostile_input")
def _(env):
    with world(env) as w:
        # A ClientHello a byte per write: still read, routed by SNI.
        status = tls_one_byte_writes(w, "origin.test", w.https_port, env.origin.ca)
        expect_eq(status, b"HTTP/1.1 200 OK", "TLS after a 1-byte-write ClientHello")
        w.expect_logged("CONNECT origin.test:%d 200" % w.https_port)
        # Garbage that starts like a TLS handshake record: closed, logged.
        s = w.client(ORIGIN_ADDR, w.https_port)
        s.sendall(b"\x16\x03\x01\x00\x08\x02garbage")
        expect_eq(recv_all(s), b"", "answer to a garbage ClientHello")
        s.close()
        w.expect_logged("not a TLS ClientHello", "kind=transparent")
        # Half a ClientHello, then nothing: closed after header_timeout.
        s = w.client(ORIGIN_ADDR, w.https_port)
        s.sendall(client_hello("origin.test")[:40])
        t0 = time.monotonic()
        expect_eq(recv_all(s, 10), b"", "answer to half a ClientHello")
        s.close()
        expect(time.monotonic() - t0 < 8, "half a ClientHello held past header_timeout")
        w.expect_logged("not complete in time")
        # HTTP/1.1 without Host: 400; HTTP/1.0 without: by address.
        for req, want in ((b"GET /1k HTTP/1.1\r\n\r\n", b"HTTP/1.1 400"),
                          (b"GET /1k HTTP/1.0\r\n\r\n", b"HTTP/1.1 200"),
                          (b"GET /1k HTTP/1.1\r\nHost: origin.test:1\r\n\r\n",
                           b"HTTP/1.1 400"),
                          (b"GET /1k HTTP/1.1\r\nHost: origin.test\r\n\r\n", b"HTTP/1.1 400")):
            s = w.client(ORIGIN_ADDR, w.http_port)
            s.sendall(req)
            answer = recv_all(s)
            s.close()
            expect(answer.startswith(want), "%r answered %r" % (req, answer[:200]))
        w.expect_logged("needs a Host header")
        w.expect_logged("GET http://%s:%d/1k 200" % (ORIGIN_ADDR, w.http_port))
        w.expect_logged("Host port 1 differs from the original destination")
        w.expect_logged("Host port 80 differs from the original destination")


@test("transparent_opaque_tunnel_and_rules_removed")
def _(env):
    echo_port = free_port()
    with world(env, ports_extra=[echo_port]) as w:
        # A TCP echo in the origins' namespace: bytes that are neither
        # HTTP nor TLS go through as a tunnel to the original address.
        echo = Proc("echo-" + w.ons, ["ip", "netns", "exec", w.ons, "python3", "-c",
                                      ECHO_SERVER, ORIGIN_ADDR, str(echo_port)],
                    os.path.join(w.dir, "echo.log"))
        w.procs.append(echo)
        w.wait_listen(w.ons, ORIGIN_ADDR, echo_port, echo)
        s = w.client(ORIGIN_ADDR, echo_port)
        s.sendall(b"SSH-2.0-test\r\n")
        got = b""
        s.settimeout(5)
        while len(got) < 14:
            d = s.recv(64)
            if not d:
                break
            got += d
        s.close()
        expect_eq(got, b"SSH-2.0-test\r\n", "echo through the tunnel")
        w.expect_logged("CONNECT %s:%d 200" % (ORIGIN_ADDR, echo_port), "kind=transparent")
        # --remove takes exactly the rules with the proxyd comment.
        sh("ip", "netns", "exec", w.cns, "iptables", "-t", "nat", "-A", "OUTPUT", "-p", "tcp",
           "--dport", "9", "-m", "comment", "--comment", "someone-else", "-j", "RETURN")
        r = w.ns_run([env.proxyd_binary, "--redirect-rules", "-c", w.conf, "--remove"])
        expect(r.returncode == 0, "--remove: %s" % r.stderr.decode(errors="replace"))
        for cmd in ("iptables", "ip6tables"):
            rules = sh("ip", "netns", "exec", w.cns, cmd, "-t", "nat", "-S", "OUTPUT")
            text = rules.stdout.decode()
            expect("proxyd" not in text, "%s rules left: %s" % (cmd, text))
        expect("someone-else" in sh("ip", "netns", "exec", w.cns, "iptables", "-t", "nat",
                                    "-S", "OUTPUT").stdout.decode(), "another rule removed")


ECHO_SERVER = """
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(8)
while True:
    c, _ = s.accept()
    c.settimeout(10)
    try:
        while True:
            d = c.recv(65536)
            if not d:
                break
            c.sendall(d)
    except OSError:
        pass
    c.close()
"""
