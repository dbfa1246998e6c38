"""sumdb_tests.py - the go command verifies every module against a real
signed checksum database (sumdb_fixture.py) through proxyd's
/sumdb/<name>/ endpoint: GOSUMDB=<name>+<vkey>, GONOSUMDB, GONOSUMCHECK,
GOPRIVATE and GOFLAGS unset, GOPROXY=proxyd only.  The database's name
routes (`modules = <name>`) to it as a mirror; modules come from the
modproxy tests' mirror b.  A tampered record (the database disagrees
with the mirror's zip) and a tampered go.sum line are both refused."""

import os

from harness import expect, test
from modproxy_tests import (CMP, ERRORS, TOML, expect_in_cache, go, go_ok, mod_proxy,
                            module_lines, murl, version_of, workspace)
import sumdb_fixture

UNSET = ("GONOSUMDB", "GONOSUMCHECK", "GOPRIVATE", "GONOPROXY",
         "GOINSECURE", "GOFLAGS")


def verifying_workspace(env, proxy, db, paths=(CMP, ERRORS, TOML)):
    """workspace() with the checksum database on, verified through proxy."""
    src, genv = workspace(env, proxy.url, paths=paths)
    for k in UNSET:
        genv.pop(k, None)
    genv["GOSUMDB"] = db.gosumdb
    return src, genv


def sumdb_proxy(env, db):
    return mod_proxy(env, ("sums", {"modules": db.name, "upstream": "mirror " + db.url}),
                     ("go", {"modules": "*", "upstream": "mirror " + murl(env, "b")}))


def go_sum_lines(src):
    with open(os.path.join(src, "go.sum")) as f:
        return [l.split() for l in f.read().splitlines() if l.strip()]


@test("sumdb_go_verifies_through_proxyd")
def _(env):
    """go mod tidy with the database on: every module is looked up
    (lookup, tiles, latest through proxyd, never directly), go.sum gets
    the database's hashes, and go mod verify agrees."""
    with sumdb_fixture.start(env) as db, sumdb_proxy(env, db) as p:
        src, genv = verifying_workspace(env, p, db)
        # With GOFLAGS unset (-mod=readonly), tidy is what writes go.sum.
        t = go_ok(src, genv, "mod", "tidy", what="verified download").elapsed
        expect_in_cache(env, genv)
        r = go_ok(src, genv, "mod", "verify", what="go mod verify")
        expect("all modules verified" in r.stdout + r.stderr, "go mod verify: %s"
               % (r.stdout + r.stderr))
        print("# sumdb_go_verifies_through_proxyd: go mod tidy %.1fs" % t)
        asked = db.requests()
        for path in (CMP, ERRORS, TOML):
            want = "/sumdb/%s/lookup/%s@%s" % (db.name, path.replace("BurntSushi", "!burnt!sushi"),
                                               version_of(path))
            expect(want in asked, "the database was not asked for %s: %s" % (want, asked))
        expect(any("/tile/" in a for a in asked), "no tile was fetched: %s" % asked)
        sums = {(l[0], l[1]) for l in go_sum_lines(src)}
        for path in (CMP, ERRORS, TOML):
            v = version_of(path)
            expect((path, v) in sums and (path, v + "/go.mod") in sums,
                   "go.sum lacks %s %s: %s" % (path, v, sorted(sums)))
        lines = [f for f in module_lines(p) if f.get("sumdb") == db.name]
        kinds = {f.get("kind") for f in lines}
        expect({"sumdb-supported", "sumdb-lookup", "sumdb-tile"} <= kinds,
               "proxyd's sumdb requests: %s" % [f["line"] for f in lines])
        expect(all(f["status"] == 200 and f.get("route") == "sums" for f in lines),
               "a sumdb request not served by route sums: %s" % [f["line"] for f in lines])
        print("# sumdb_go_verifies_through_proxyd: %d database requests through proxyd"
              % len(lines))


@test("sumdb_tampered_record_rejected")
def _(env):
    """The database records another zip hash for go-cmp than the mirror's
    zip has: go refuses the module (SECURITY ERROR) and installs nothing
    of it; the other modules verify."""
    v = version_of(CMP)
    with sumdb_fixture.start(env, tamper=["%s@%s" % (CMP, v)]) as db, \
            sumdb_proxy(env, db) as p:
        src, genv = verifying_workspace(env, p, db)
        g = go(src, genv, "mod", "download")
        expect(g.rc != 0, "a tampered module was accepted")
        expect("checksum mismatch" in g.stderr and "SECURITY ERROR" in g.stderr
               and CMP in g.stderr, "go's refusal: %s" % g.stderr[-1500:])
        expect(not os.path.isdir(os.path.join(genv["GOMODCACHE"], "%s@%s" % (CMP, v))),
               "the tampered module was extracted anyway")
        src, genv = verifying_workspace(env, p, db, paths=(ERRORS,))
        go_ok(src, genv, "mod", "download", what="an untampered module")


@test("sumdb_tampered_go_sum_rejected")
def _(env):
    """A go.sum line that disagrees with what the mirror serves (and the
    database confirms) stops the download."""
    with sumdb_fixture.start(env) as db, sumdb_proxy(env, db) as p:
        src, genv = verifying_workspace(env, p, db, paths=(ERRORS,))
        go_ok(src, genv, "mod", "tidy", what="first download")
        lines = go_sum_lines(src)
        with open(os.path.join(src, "go.sum"), "w") as f:
            for l in lines:
                if not l[1].endswith("/go.mod"):
                    l[2] = "h1:" + "A" * 43 + "="
                f.write(" ".join(l) + "\n")
        genv["GOMODCACHE"] = genv["GOMODCACHE"] + "-2"
        g = go(src, genv, "build", "-o", "app", ".")
        expect(g.rc != 0 and "checksum mismatch" in g.stderr and "SECURITY ERROR" in g.stderr,
               "a tampered go.sum line was accepted: rc %d %s" % (g.rc, g.stderr[-1200:]))
