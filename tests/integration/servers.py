"""servers.py - the origins the proxy talks to.

* a test CA and a server certificate for the test names (openssl, SAN);
* nginx: static files over HTTP and HTTPS, a redirect, a 204, a gzip
  file served as Content-Encoding: gzip, git smart HTTP through fcgiwrap
  and git-http-backend, and a GOPROXY tree on its own port;
* the Python echo origin (echo_origin.py);
* Mirrors: a second nginx with one server (own port, own access log
  with $connection) per GOPROXY mirror: static trees, an https mirror
  with a certificate for mirror.test only, one that answers 500/410;
* in-process TCP helpers: a black hole that never completes a TCP
  handshake (for connect timeouts) and a TCP echo (for CONNECT tunnels).
"""

import gzip
import json
import os
import socket
import sys
import threading
import time

from harness import LOOPBACK, Proc, TestFailure, free_port, run, wait_port

HERE = os.path.dirname(os.path.abspath(__file__))

# Names the proxy resolves through its own hosts file; clients never
# resolve them (they go through the proxy).  Go never proxies 127.0.0.1
# or localhost, hence names.
TEST_NAMES = ["origin.test", "git.test", "goproxy.test", "blackhole.test", "echo.test"]
# Also in the proxy's hosts file, not in the shared certificate: the
# https mirror's certificate names mirror.test alone, so reaching it as
# mirror-alias.test is a hostname mismatch.
MIRROR_NAMES = ["mirror.test", "mirror-alias.test"]


# ---------------------------------------------------------------- certificates

def run_openssl(steps):
    """Run each openssl argv in turn; the first failure fails the test."""
    for argv in steps:
        r = run(argv, timeout=30)
        if r.returncode != 0:
            raise TestFailure("openssl failed: " + r.stderr.decode(errors="replace"))


def make_certs(wd):
    """CA + server cert signed by it; returns (ca.pem, server.pem, server.key)."""
    d = wd.sub("tls", mkdir=True)
    ca_key, ca_pem = os.path.join(d, "ca.key"), os.path.join(d, "ca.pem")
    key, csr, pem = (os.path.join(d, n) for n in ("server.key", "server.csr", "server.pem"))
    ext = os.path.join(d, "server.ext")
    with open(ext, "w") as f:
        f.write("basicConstraints = CA:FALSE\n"
                "keyUsage = critical, digitalSignature, keyEncipherment\n"
                "extendedKeyUsage = serverAuth\n"
                "subjectAltName = " + ",".join("DNS:" + n for n in TEST_NAMES)
                + ",IP:127.0.0.1\n")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    steps = [
        ["openssl", "req", "-x509"] + ec + ["-keyout", ca_key, "-out", ca_pem,
         "-days", "2", "-subj", "/CN=proxyd test CA",
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
        ["openssl", "req"] + ec + ["-keyout", key, "-out", csr, "-subj", "/CN=origin.test"],
        ["openssl", "x509", "-req", "-in", csr, "-CA", ca_pem, "-CAkey", ca_key,
         "-CAcreateserial", "-out", pem, "-days", "2", "-extfile", ext],
    ]
    run_openssl(steps)
    return ca_pem, pem, key


def issue_cert(wd, names, stem):
    """Another server certificate from the test CA (make_certs ran), for
    names only; returns (cert.pem, key)."""
    d = wd.sub("tls")
    key, csr, pem, ext = (os.path.join(d, stem + sfx)
                          for sfx in (".key", ".csr", ".pem", ".ext"))
    with open(ext, "w") as f:
        f.write("basicConstraints = CA:FALSE\n"
                "keyUsage = critical, digitalSignature, keyEncipherment\n"
                "extendedKeyUsage = serverAuth\n"
                "subjectAltName = " + ",".join("DNS:" + n for n in names) + "\n")
    steps = [
        ["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=" + names[0]],
        ["openssl", "x509", "-req", "-in", csr, "-CA", os.path.join(d, "ca.pem"),
         "-CAkey", os.path.join(d, "ca.key"), "-CAcreateserial", "-out", pem,
         "-days", "2", "-extfile", ext],
    ]
    run_openssl(steps)
    return pem, key


# ---------------------------------------------------------------- content

def make_content(wd):
    """Static files nginx serves; returns {name: bytes} for the checks."""
    www = wd.sub("www", mkdir=True)
    text = b"".join(b"line %d of a text that compresses well\n" % i for i in range(2000))
    files = {
        "1k": os.urandom(1024),
        "20m": os.urandom(20 * 1024 * 1024),
        "text.gz": gzip.compress(text, mtime=0),
    }
    for name, data in files.items():
        with open(os.path.join(www, name), "wb") as f:
            f.write(data)
    files["text"] = text
    return files


# ---------------------------------------------------------------- git

def make_git_repo(wd, env):
    """A bare repo (push allowed over HTTP) with one commit; returns its dir."""
    root = wd.sub("git", mkdir=True)
    bare = os.path.join(root, "repo.git")
    seed = wd.sub("git-seed", mkdir=True)
    ident = ["-c", "user.name=Test", "-c", "user.email=test@example.invalid",
             "-c", "init.defaultBranch=main"]
    cmds = [
        (["git"] + ident + ["init", "-q", "--bare", bare], None),
        (["git", "-C", bare, "config", "http.receivepack", "true"], None),
        (["git"] + ident + ["init", "-q", seed], None),
        (["git"] + ident + ["add", "README"], seed),
        (["git"] + ident + ["commit", "-q", "-m", "first"], seed),
        (["git", "push", "-q", bare, "HEAD:refs/heads/main"], seed),
        (["git", "-C", bare, "symbolic-ref", "HEAD", "refs/heads/main"], None),
        (["git", "-C", bare, "update-server-info"], None),
    ]
    with open(os.path.join(seed, "README"), "w") as f:
        f.write("proxyd git test\n")
    for argv, cwd in cmds:
        r = run(argv, timeout=30, env=env, cwd=cwd)
        if r.returncode != 0:
            raise TestFailure("%s: %s" % (" ".join(argv), r.stderr.decode(errors="replace")))
    return root


def start_fcgiwrap(wd):
    sock = wd.sub("fcgi.sock")
    proc = Proc("fcgiwrap", ["fcgiwrap", "-c", "2", "-s", "unix:" + sock],
                wd.sub("fcgiwrap.log"))
    deadline = time.monotonic() + 10
    while not os.path.exists(sock):
        if not proc.alive() or time.monotonic() > deadline:
            raise TestFailure("fcgiwrap did not start: " + proc.output())
        time.sleep(0.02)
    return proc, sock


# ---------------------------------------------------------------- nginx

NGINX_CONF = """\
{user}
daemon off;
master_process on;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/nginx-error.log info;
events {{ worker_connections 512; }}
http {{
    access_log {d}/nginx-access.log;
    client_body_temp_path {d}/nginx/body;
    proxy_temp_path {d}/nginx/proxy;
    fastcgi_temp_path {d}/nginx/fastcgi;
    uwsgi_temp_path {d}/nginx/uwsgi;
    scgi_temp_path {d}/nginx/scgi;
    default_type application/octet-stream;
    keepalive_requests 1000;
    sendfile on;

    # origin.test and git.test: HTTP and HTTPS
    server {{
        listen 127.0.0.1:{http_port};
        listen 127.0.0.1:{https_port} ssl;
        server_name _;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        root {d}/www;

        location = /redirect {{ return 302 http://origin.test:{http_port}/1k; }}
        location = /nocontent {{ return 204; }}
        # A precompressed body that must reach the client byte for byte.
        location = /gzipped {{
            types {{ }}
            default_type text/plain;
            add_header Content-Encoding gzip;
            alias {d}/www/text.gz;
        }}
        location ~ ^/repo\\.git/ {{
            client_max_body_size 0;
            fastcgi_pass unix:{fcgi_sock};
            fastcgi_param SCRIPT_FILENAME /usr/lib/git-core/git-http-backend;
            fastcgi_param GIT_HTTP_EXPORT_ALL "";
            fastcgi_param GIT_PROJECT_ROOT {git_root};
            fastcgi_param PATH_INFO $uri;
            fastcgi_param QUERY_STRING $query_string;
            fastcgi_param REQUEST_METHOD $request_method;
            fastcgi_param CONTENT_TYPE $content_type;
            fastcgi_param CONTENT_LENGTH $content_length;
            fastcgi_param SERVER_PROTOCOL $server_protocol;
            fastcgi_param GATEWAY_INTERFACE CGI/1.1;
            fastcgi_param REMOTE_ADDR $remote_addr;
            fastcgi_param HTTP_GIT_PROTOCOL $http_git_protocol;
        }}
    }}

    # goproxy.test: a static GOPROXY tree
    server {{
        listen 127.0.0.1:{goproxy_port};
        server_name _;
        root {goproxy_root};
    }}
}}
"""


class Nginx:
    def __init__(self, wd, cert, key, fcgi_sock, git_root, goproxy_root):
        self.http_port, self.https_port, self.goproxy_port = free_port(), free_port(), free_port()
        for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            wd.sub("nginx", sub, mkdir=True)
        conf = NGINX_CONF.format(
            user="user root;" if os.geteuid() == 0 else "",
            d=wd.path, http_port=self.http_port, https_port=self.https_port,
            goproxy_port=self.goproxy_port, cert=cert, key=key,
            fcgi_sock=fcgi_sock, git_root=git_root, goproxy_root=goproxy_root)
        path = wd.write("nginx.conf", conf)
        self.proc = Proc("nginx", ["nginx", "-p", wd.path, "-e", wd.sub("nginx-error.log"),
                                   "-c", path], wd.sub("nginx.log"))
        for port in (self.http_port, self.https_port, self.goproxy_port):
            wait_port(port, self.proc)


# ---------------------------------------------------------------- GOPROXY mirrors

MIRRORS_CONF = """\
{user}
daemon off;
master_process on;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections 512; }}
http {{
    log_format conn '$connection $connection_requests $request_method $request_uri $status';
    client_body_temp_path {d}/tmp/body;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fastcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;
    default_type application/octet-stream;
    types {{ application/json info; text/plain mod; application/zip zip; }}
    keepalive_requests 1000;
    keepalive_timeout 60s;
    sendfile on;
{servers}
}}
"""

MIRROR_SERVER = """
    server {{
        listen 127.0.0.1:{port}{ssl};
        server_name _;
        access_log {d}/{name}-access.log conn;
{body}
    }}
"""


class Mirrors:
    """One nginx, a server per mirror.  specs: {name: dict(root=DIR,
    tls=(cert, key) or absent, conf=extra server lines or absent)}.
    port(name); requests(name) = the access log as (connection, path,
    status) tuples, for counting what reached a mirror."""

    def __init__(self, wd, specs):
        self.d = wd.sub("mirrors", mkdir=True)
        for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            wd.sub("mirrors", "tmp", sub, mkdir=True)
        self.ports = {name: free_port() for name in specs}
        servers = []
        for name, spec in specs.items():
            body = []
            if spec.get("tls"):
                body += ["        ssl_certificate %s;" % spec["tls"][0],
                         "        ssl_certificate_key %s;" % spec["tls"][1]]
            if spec.get("root"):
                body.append("        root %s;" % spec["root"])
            body += ["        " + line for line in spec.get("conf", [])]
            servers.append(MIRROR_SERVER.format(
                port=self.ports[name], ssl=" ssl" if spec.get("tls") else "",
                d=self.d, name=name, body="\n".join(body)))
        conf = MIRRORS_CONF.format(user="user root;" if os.geteuid() == 0 else "",
                                   d=self.d, servers="".join(servers))
        path = os.path.join(self.d, "nginx.conf")
        with open(path, "w") as f:
            f.write(conf)
        self.proc = Proc("nginx-mirrors", ["nginx", "-p", self.d, "-e",
                                           os.path.join(self.d, "error.log"), "-c", path],
                         os.path.join(self.d, "nginx.log"))
        for port in self.ports.values():
            wait_port(port, self.proc)

    def port(self, name):
        return self.ports[name]

    def requests(self, name):
        try:
            with open(os.path.join(self.d, name + "-access.log"), errors="replace") as f:
                lines = f.read().splitlines()
        except OSError:
            return []
        out = []
        for line in lines:
            parts = line.split(" ")
            if len(parts) >= 5:
                out.append((parts[0], parts[3], int(parts[4])))
        return out


# ---------------------------------------------------------------- echo origin

class EchoOrigin:
    def __init__(self, wd):
        self.port = free_port()
        self.log_path = wd.sub("echo-origin.jsonl")
        open(self.log_path, "w").close()
        self.proc = Proc("echo-origin",
                         [sys.executable, os.path.join(HERE, "echo_origin.py"),
                          str(self.port), self.log_path],
                         wd.sub("echo-origin.log"))
        wait_port(self.port, self.proc)

    def events(self, tag):
        """The logged events (start/complete/aborted) of requests with ?tag=."""
        with open(self.log_path) as f:
            return [e for e in map(json.loads, f) if e.get("tag") == tag]


# ---------------------------------------------------------------- TCP helpers

class BlackHole:
    """A port whose SYNs go unanswered: a listener with a full accept
    queue that never accepts.  Connecting to it hangs until the
    connector's own timeout, which is how a connect timeout is made
    without a network (works with Linux's and gVisor's TCP)."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.bind((LOOPBACK, 0))
        self.listener.listen(0)
        self.port = self.listener.getsockname()[1]
        self.fillers = []
        for _ in range(16):
            if self._probe_hangs():
                return
            s = socket.socket()
            s.setblocking(False)
            try:
                s.connect((LOOPBACK, self.port))
            except BlockingIOError:
                pass
            self.fillers.append(s)
        raise TestFailure("could not fill the accept queue of the black hole")

    def _probe_hangs(self):
        with socket.socket() as s:
            s.settimeout(0.3)
            try:
                s.connect((LOOPBACK, self.port))
            except socket.timeout:
                return True
            except OSError:
                return False
            return False

    def close(self):
        for s in self.fillers:
            s.close()
        self.listener.close()


class TcpEcho:
    """Echoes what it reads; on the peer's EOF it half-closes too, so a
    tunnel's half-close can be observed end to end."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((LOOPBACK, 0))
        self.listener.listen(16)
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.stopping = False
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
            threading.Thread(target=self._echo, args=(conn,), daemon=True).start()

    @staticmethod
    def _echo(conn):
        conn.settimeout(30)
        try:
            while True:
                data = conn.recv(65536)
                if not data:
                    break
                conn.sendall(data)
            conn.shutdown(socket.SHUT_WR)
            # Linger until the peer closes, then go away.
            while conn.recv(65536):
                pass
        except OSError:
            pass
        finally:
            conn.close()

    def close(self):
        self.stopping = True
        self.listener.close()
        self.thread.join(timeout=2)
