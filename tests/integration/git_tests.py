"""git_tests.py - git smart HTTP (clone and push) through the proxy, over
plain HTTP (absolute-form requests) and HTTPS (CONNECT tunnel)."""

import os
import shutil

from harness import TestFailure, expect, expect_eq, run, test, wait_until

_seq = [0]


def git(env, *args, cwd=None, timeout=60):
    genv = env.client_env()
    genv.update(GIT_TERMINAL_PROMPT="0", GIT_CONFIG_NOSYSTEM="1",
                GIT_CONFIG_GLOBAL="/dev/null")
    argv = ["git", "-c", "http.proxy=" + env.proxy.url,
            "-c", "http.sslCAInfo=" + env.origin.ca,
            "-c", "http.version=HTTP/1.1",
            "-c", "user.name=Test", "-c", "user.email=test@example.invalid",
            "-c", "protocol.version=2"] + list(args)
    r = run(argv, timeout=timeout, env=genv, cwd=cwd)
    if r.returncode != 0:
        raise TestFailure("git %s failed (%d): %s"
                          % (args[0], r.returncode, r.stderr.decode(errors="replace")[-800:]))
    return r.stdout.decode().strip()


def repo_url(env, scheme):
    port = env.origin.nginx.http_port if scheme == "http" else env.origin.nginx.https_port
    return "%s://%s:%d/repo.git" % (scheme, env.host("git.test"), port)


def fresh_clone(env, scheme):
    _seq[0] += 1
    dest = env.wd.sub("clone-%s-%d" % (scheme, _seq[0]))
    git(env, "clone", "-q", repo_url(env, scheme), dest)
    return dest


def expect_proxied(env, needle):
    """The proxy's access log shows it carried the git traffic."""
    found = wait_until(lambda: any(needle in l for l in env.proxy.access_lines()), 3)
    expect(found, "no access log line with %r: the proxy was bypassed?" % needle)


def check_clone(env, scheme):
    dest = fresh_clone(env, scheme)
    try:
        with open(os.path.join(dest, "README")) as f:
            expect_eq(f.read(), "proxyd git test\n", "README in the clone")
    finally:
        shutil.rmtree(dest, ignore_errors=True)


def check_push(env, scheme):
    dest = fresh_clone(env, scheme)
    try:
        branch = "pushed-" + scheme
        with open(os.path.join(dest, branch + ".bin"), "wb") as f:
            f.write(os.urandom(300 * 1024))     # a pack of some size
        git(env, "add", ".", cwd=dest)
        git(env, "commit", "-q", "-m", "push over " + scheme, cwd=dest)
        local = git(env, "rev-parse", "HEAD", cwd=dest)
        git(env, "push", "-q", "origin", "HEAD:refs/heads/" + branch, cwd=dest)
        bare = os.path.join(env.origin.git_root, "repo.git")
        r = run(["git", "-C", bare, "rev-parse", "refs/heads/" + branch], timeout=20)
        expect_eq(r.stdout.decode().strip(), local, "pushed commit in the origin repo")
    finally:
        shutil.rmtree(dest, ignore_errors=True)


@test("git_clone_http")
def _(env):
    check_clone(env, "http")
    expect_proxied(env, "/repo.git/info/refs")


@test("git_push_http")
def _(env):
    check_push(env, "http")
    expect_proxied(env, "git-receive-pack")


@test("git_clone_https_connect")
def _(env):
    check_clone(env, "https")
    expect_proxied(env, "CONNECT %s:%d" % (env.host("git.test"), env.origin.nginx.https_port))


@test("git_push_https_connect")
def _(env):
    check_push(env, "https")
