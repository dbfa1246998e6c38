"""sumdb_fixture.py - a real signed Go checksum database on 127.0.0.1,
for tests that let the go command verify modules (GOSUMDB=<name>+<hash>+<key>)
through proxyd's /sumdb/<name>/ endpoint.

tests/fixtures/sumdb/sumdbd.go is built once per run (GOPATH mode, from
Debian's golang-golang-x-mod-dev in /usr/share/gocode: no network); it
makes a key pair at start and serves x/mod/sumdb's own server, whose
records are the go.sum lines of the modules of a GOPROXY tree.

    db = sumdb_fixture.start(env, tree)          # or start(env): mirror b's tree
    name, vkey, port = db                         # GOSUMDB=vkey (name+hash+key)
    ... route `modules = <name>` to `mirror http://127.0.0.1:<port>` ...
    db.requests()                                 # paths it was asked for
    sumdb_fixture.stop(db)                        # or db.stop(); with: too

The key and the tree it signed live only as long as the process: a
restarted database is another database (new key, new tree)."""

import os
import time

from harness import Proc, TestFailure, TestSkip, run, which_or_skip

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(os.path.dirname(HERE), "fixtures", "sumdb", "sumdbd.go")
GOCODE = "/usr/share/gocode"
SUMDB_PKG = os.path.join(GOCODE, "src", "golang.org", "x", "mod", "sumdb")
NAME = "sumdb.test"

_built = {}
_seq = [0]


def build(env):
    """The sumdbd binary, built once per run."""
    which_or_skip("go")
    if not os.path.isdir(SUMDB_PKG):
        raise TestSkip("golang.org/x/mod/sumdb not in %s: install golang-golang-x-mod-dev "
                       "(tests/integration/packages.txt)" % GOCODE)
    if "bin" not in _built:
        out = env.wd.sub("sumdbd")
        # cgo stays as Debian built the standard library: with
        # CGO_ENABLED=0 the build recompiles net and the rest (10 s more).
        genv = dict(os.environ, GO111MODULE="off", GOPATH=GOCODE, GOFLAGS="",
                    GOCACHE=env.wd.sub("sumdbd-gocache", mkdir=True),
                    GOPROXY="off", GOTOOLCHAIN="local")
        genv.pop("CGO_ENABLED", None)
        r = run(["timeout", "120", "go", "build", "-o", out, SOURCE], timeout=130,
                env=genv, cwd=os.path.dirname(SOURCE))
        if r.returncode != 0:
            raise TestFailure("building sumdbd failed: %s"
                              % (r.stdout + r.stderr).decode(errors="replace")[-1500:])
        _built["bin"] = out
    return _built["bin"]


class SumDB:
    """A running sumdbd: name, vkey, port (also as a 3-tuple)."""

    def __init__(self, env, tree, name, tamper):
        binary = build(env)
        _seq[0] += 1
        self.log = env.wd.sub("sumdbd-%d.log" % _seq[0])
        argv = [binary, "-name", name, "-tree", tree]
        for t in tamper:
            argv += ["-tamper", t]
        self.proc = Proc("sumdbd", argv, self.log)
        self.name, self.vkey, self.port = name, None, None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.port is None:
            for line in self.proc.output(100000).splitlines():
                if line.startswith("vkey "):
                    self.vkey = line[5:].strip()
                elif line.startswith("listen "):
                    self.port = int(line.rsplit(":", 1)[1])
            if self.port is None:
                if not self.proc.alive():
                    break
                time.sleep(0.05)
        if self.port is None or self.vkey is None:
            out = self.proc.output()
            self.proc.stop()
            raise TestFailure("sumdbd did not start: %s" % out)

    def __iter__(self):
        return iter((self.name, self.vkey, self.port))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    @property
    def gosumdb(self):
        """The go command's GOSUMDB value: the verifier key, which is
        "<name>+<key hash>+<key>"."""
        return self.vkey

    def requests(self):
        """The paths it was asked for, in order."""
        return [line.split(" request GET ", 1)[1].strip()
                for line in self.proc.output(1 << 20).splitlines()
                if " request GET " in line]

    def stop(self):
        if self.proc is not None:
            self.proc.stop()
            self.proc = None


def start(env, tree=None, name=NAME, tamper=()):
    """A checksum database named name for the modules of the GOPROXY
    tree (default: the modproxy tests' mirror b); tamper lists
    PATH@VERSION whose zip hash it records wrong."""
    if tree is None:
        from modproxy_tests import mirror_tree
        tree = mirror_tree(env, "b")
    return SumDB(env, tree, name, tamper)


def stop(db):
    db.stop()
