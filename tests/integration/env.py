"""env.py - the shared world of one run, built lazily.

env.origin starts the origins once (nginx HTTP/HTTPS/goproxy, fcgiwrap,
the echo origin); env.proxy is the main proxy the plain tests share.
Tests needing other settings use `with env.own_proxy(key=value) as p:`,
a proxy of their own, stopped when the block ends.
"""

import contextlib

from harness import TestFailure, client_env
from proxies import make_proxy
from servers import EchoOrigin, Nginx, make_certs, make_content, make_git_repo, start_fcgiwrap


class Origin:
    def __init__(self, wd):
        self.ca, cert, key = make_certs(wd)
        self.files = make_content(wd)
        self.git_root = make_git_repo(wd, client_env(wd.sub("home", mkdir=True)))
        self.goproxy_root = wd.sub("goproxy", mkdir=True)
        self.fcgiwrap, fcgi_sock = start_fcgiwrap(wd)
        self.nginx = Nginx(wd, cert, key, fcgi_sock, self.git_root, self.goproxy_root)
        self.echo = EchoOrigin(wd)


class Env:
    def __init__(self, wd, kind, proxyd_binary):
        self.wd = wd
        self.kind = kind                  # proxyd | squid | tinyproxy
        self.proxyd_binary = proxyd_binary
        self._origin = None
        self._origin_error = None
        self._proxy = None
        self.home = wd.sub("home", mkdir=True)

    # -------------------------------------------------------- fixtures

    @property
    def origin(self):
        if self._origin_error:
            raise TestFailure("origin setup failed earlier: %s" % self._origin_error)
        if self._origin is None:
            try:
                self._origin = Origin(self.wd)
            except Exception as e:
                self._origin_error = e
                raise
        return self._origin

    @property
    def proxy(self):
        """The main proxy, started on first use (and again if it died)."""
        if self._proxy is None:
            self.origin               # its names must resolve to something
            self._proxy = self.new_proxy().start()
        return self._proxy

    def new_proxy(self, **settings):
        return make_proxy(self.wd, self.kind, self.proxyd_binary, **settings)

    @contextlib.contextmanager
    def own_proxy(self, **settings):
        self.origin
        p = self.new_proxy(**settings)
        try:
            yield p.start()
        finally:
            p.stop()

    def check_shared_alive(self):
        """After each test: a main proxy that died is that test's failure."""
        if self._proxy is not None and not self._proxy.alive():
            p, self._proxy = self._proxy, None
            status = p.stop()
            raise TestFailure("the main proxy died (exit %s): %s" % (status, p.diagnostics()))

    def recover_after_failure(self):
        if self._proxy is not None and not self._proxy.alive():
            self._proxy.stop()
            self._proxy = None        # restarted by the next test using it

    def retire_main_proxy(self):
        """Detach the main proxy (the final clean-exit test stops it)."""
        p, self._proxy = self._proxy, None
        return p

    # -------------------------------------------------------- names & URLs

    def host(self, name):
        """A test name, or 127.0.0.1 for proxies that cannot resolve it."""
        return "127.0.0.1" if self.kind == "tinyproxy" else name

    def http_url(self, path, name="origin.test"):
        return "http://%s:%d%s" % (self.host(name), self.origin.nginx.http_port, path)

    def https_url(self, path, name="origin.test"):
        return "https://%s:%d%s" % (self.host(name), self.origin.nginx.https_port, path)

    def echo_url(self, path):
        return "http://%s:%d%s" % (self.host("echo.test"), self.origin.echo.port, path)

    def echo_authority(self):
        return "%s:%d" % (self.host("echo.test"), self.origin.echo.port)

    def client_env(self):
        return client_env(self.home)
