"""packaging_tests.py - what the packages rely on: `proxyd -t` catches what
a start would fail on (user, log directory, ca_file, an address another
process holds, but not one this proxyd serves: ExecReload), sd_notify
readiness, every shipped config passes `-t` under the unit's conditions,
the man pages, and the Kubernetes manifests."""

import os
import re
import shutil
import socket
import subprocess
import tempfile

from harness import (Proc, TestSkip, expect, expect_eq, free_port, run, test,
                     wait_port, wait_until)

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NOBODY = 65534


def proxyd_only(env):
    if env.kind != "proxyd":
        raise TestSkip("proxyd command line, not applicable to " + env.kind)


def check(env, path, penv=None, as_user=None):
    """proxyd -t -c path; (exit status, stderr+stdout)."""
    argv = [env.proxyd_binary, "-t", "-c", path]
    if as_user is not None:
        argv = ["setpriv", "--reuid=%d" % as_user, "--regid=%d" % as_user,
                "--clear-groups"] + argv
    r = run(argv, timeout=20, env=penv)
    return r.returncode, (r.stderr + r.stdout).decode(errors="replace")


def conf_on(env, name, port, extra=""):
    return env.wd.write(name, "[proxyd]\nlisten = 127.0.0.1:%d\n%s" % (port, extra))


# ---------------------------------------------------------------- -t preflight

@test("preflight_unknown_user")
def _(env):
    proxyd_only(env)
    path = conf_on(env, "pf-user.conf", free_port(), "user = no-such-user-here\n")
    rc, out = check(env, path)
    expect_eq(rc, 1, "exit status of -t with an unknown user")
    expect("pf-user.conf:3: user: no such user" in out, "no file:line for the user: %r" % out)


@test("preflight_user_without_root")
def _(env):
    proxyd_only(env)
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        raise TestSkip("needs root and setpriv to run -t as another user")
    if not unprivileged_can_run(env):
        raise TestSkip("the binary is not reachable by uid %d" % NOBODY)
    # What DynamicUser does to office-gateway.conf's old `user = proxyd`.
    path = conf_on(env, "pf-root.conf", free_port(), "user = root\n")
    rc, out = check(env, path, as_user=NOBODY)
    expect_eq(rc, 1, "exit status of -t switching users without root")
    expect("pf-root.conf:3: user: switching to \"root\" needs root" in out,
           "no reason for the user switch: %r" % out)


@test("preflight_missing_log_directory")
def _(env):
    proxyd_only(env)
    missing = env.wd.sub("no-such-dir")
    path = conf_on(env, "pf-log.conf", free_port(),
                   "access_log = %s/access.log\nerror_log = %s/error.log\n" % (missing, missing))
    rc, out = check(env, path)
    expect_eq(rc, 1, "exit status of -t with a missing log directory")
    expect(re.search(r"pf-log\.conf:3: access_log: .* directory .* does not exist", out),
           "access_log not reported: %r" % out)
    expect(re.search(r"pf-log\.conf:4: error_log: .* directory .* does not exist", out),
           "error_log not reported: %r" % out)
    expect(not os.path.exists(missing), "-t created the log directory")


@test("preflight_log_file_writable_is_ok")
def _(env):
    proxyd_only(env)
    d = env.wd.sub("pf-logs", mkdir=True)
    path = conf_on(env, "pf-logok.conf", free_port(), "access_log = %s/access.log\n" % d)
    rc, out = check(env, path)
    expect_eq(rc, 0, "exit status of -t with a writable log directory (%s)" % out)
    expect(not os.path.exists(os.path.join(d, "access.log")), "-t created the log file")


@test("preflight_missing_ca_file")
def _(env):
    proxyd_only(env)
    path = conf_on(env, "pf-ca.conf", free_port(), "ca_file = %s\n" % env.wd.sub("nope.pem"))
    rc, out = check(env, path)
    expect_eq(rc, 1, "exit status of -t with a missing ca_file")
    expect(re.search(r"pf-ca\.conf:3: ca_file: .*nope\.pem: No such file", out),
           "ca_file not reported: %r" % out)
    garbage = env.wd.write("garbage.pem", "not a certificate\n")
    path = conf_on(env, "pf-ca2.conf", free_port(), "ca_file = %s\n" % garbage)
    rc, out = check(env, path)
    expect_eq(rc, 1, "exit status of -t with a ca_file that has no certificate")
    expect("pf-ca2.conf:3: ca_file:" in out, "bad ca_file not reported: %r" % out)


@test("preflight_address_in_use_by_another_process")
def _(env):
    proxyd_only(env)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        path = conf_on(env, "pf-busy.conf", port)
        rc, out = check(env, path)
        expect_eq(rc, 1, "exit status of -t on a port another process listens on")
        expect(re.search(r"pf-busy\.conf:2: listen: 127\.0\.0\.1:%d: address already in use "
                         r"by pid %d " % (port, os.getpid()), out),
               "the holder (this test, pid %d) not named: %r" % (os.getpid(), out))
        # A wildcard listen collides with the loopback listener too.
        path = env.wd.write("pf-busy2.conf", "[proxyd]\nlisten = 0.0.0.0:%d\n" % port)
        rc, out = check(env, path)
        expect_eq(rc, 1, "exit status of -t on 0.0.0.0 with 127.0.0.1 taken")
    rc, out = check(env, path)
    expect_eq(rc, 0, "exit status of -t once the port is free (%s)" % out)


@test("preflight_address_served_by_this_proxyd")
def _(env):
    """ExecReload runs -t against the live daemon: its own ports are fine,
    but not for a proxyd started with another config file."""
    proxyd_only(env)
    port = free_port()
    path = conf_on(env, "pf-live.conf", port, "workers = 2\n")
    p = Proc("pf-live", [env.proxyd_binary, "-c", path], env.wd.sub("pf-live.log"))
    try:
        wait_port(port, p)
        rc, out = check(env, path)
        expect_eq(rc, 0, "exit status of -t on the live daemon's own config (%s)" % out)
        r = run([env.proxyd_binary, "-t", "-c", "pf-live.conf"], timeout=20, cwd=env.wd.path)
        expect_eq(r.returncode, 0, "-t with a relative path to the same file (%s)"
                  % r.stderr.decode(errors="replace"))
        other = conf_on(env, "pf-other.conf", port)
        rc, out = check(env, other)
        expect_eq(rc, 1, "exit status of -t of another config on the live daemon's port")
        expect("by pid %d" % p.pid in out and "another configuration" in out,
               "the other proxyd not named: %r" % out)
    finally:
        p.stop()


@test("preflight_start_refuses_what_check_refuses")
def _(env):
    proxyd_only(env)
    missing = env.wd.sub("no-such-dir2")
    path = conf_on(env, "pf-start.conf", free_port(), "error_log = %s/error.log\n" % missing)
    r = run([env.proxyd_binary, "-c", path], timeout=10)
    err = r.stderr.decode(errors="replace")
    expect_eq(r.returncode, 1, "exit status of a start with a missing log directory")
    expect("pf-start.conf:3: error_log:" in err, "start did not say why: %r" % err)


# ---------------------------------------------------------------- sd_notify

def notify_round(env, name, abstract):
    port = free_port()
    path = conf_on(env, name + ".conf", port, "workers = 1\n")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    if abstract:
        addr = "\0proxyd-it-notify-%d-%d" % (os.getpid(), port)
        shown = "@" + addr[1:]
    else:
        addr = shown = env.wd.sub(name + ".sock")
    sock.bind(addr)
    sock.settimeout(10)
    p = Proc(name, [env.proxyd_binary, "-c", path], env.wd.sub(name + ".log"),
             env=dict(os.environ, NOTIFY_SOCKET=shown))
    try:
        msg = sock.recv(4096).decode()
        expect("READY=1" in msg.split("\n"), "first message is not READY=1: %r" % msg)
        expect("MAINPID=%d" % p.pid in msg, "no MAINPID=%d: %r" % (p.pid, msg))
        # READY=1 means listening: connect at once, no polling.
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            pass
        p.send_signal(15)
        msg = sock.recv(4096).decode()
        expect_eq(msg, "STOPPING=1", "message on SIGTERM")
        expect_eq(p.wait(10), 0, "exit status after SIGTERM")
    finally:
        p.stop()
        sock.close()


@test("notify_ready_and_stopping")
def _(env):
    proxyd_only(env)
    notify_round(env, "notify-path", abstract=False)
    notify_round(env, "notify-abstract", abstract=True)


# ---------------------------------------------------------------- shipped configs

SHIPPED = ["rules/default.conf", "packaging/container/proxyd.conf"] + \
    ["rules/examples/" + f for f in sorted(os.listdir(os.path.join(TOP, "rules/examples")))
     if f.endswith(".conf")]


def unprivileged_can_run(env):
    r = subprocess.run(["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY,
                        "--clear-groups", env.proxyd_binary, "-V"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=10)
    return r.returncode == 0


def as_unit_would(env, text, logs):
    """The config as the unit runs it: /var/log/proxyd is the unit's
    LogsDirectory (here a directory of its own) and ports are free ones,
    so that a port this machine happens to use does not count."""
    text = text.replace("/var/log/proxyd", logs)
    return re.sub(r"(\d+\.\d+\.\d+\.\d+|\[[0-9a-fA-F:]+\]):\d+",
                  lambda m: "%s:%d" % (m.group(1), free_port()), text)


@test("shipped_configs_pass_check_under_the_unit")
def _(env):
    """Every shipped config passes -t as the DynamicUser would run it
    (uid nobody, no capabilities), with GOPRIVATE/NO_PROXY set as the
    examples' drop-ins say."""
    proxyd_only(env)
    logs = env.wd.sub("unit-logs", mkdir=True)
    user = None
    if os.geteuid() == 0 and shutil.which("setpriv") and unprivileged_can_run(env):
        os.chown(logs, NOBODY, NOBODY)
        user = NOBODY
    penv = dict(os.environ, NO_PROXY=".corp.example,10.0.0.0/8",
                GOPRIVATE="*.corp.example")
    for rel in SHIPPED:
        with open(os.path.join(TOP, rel)) as f:
            text = f.read()
        path = env.wd.write("shipped-" + rel.replace("/", "-"), as_unit_would(env, text, logs))
        rc, out = check(env, path, penv=penv, as_user=user)
        expect_eq(rc, 0, "-t of %s as uid %s: %s" % (rel, user, out))


# ---------------------------------------------------------------- man pages

MAN_PAGES = ["doc/proxyd.8", "doc/proxyd.conf.5"]


@test("man_pages_lint_clean")
def _(env):
    """mandoc -T lint, every level; only the cross references to pages
    not installed on this machine (proxyd.conf(5) from proxyd(8) ...) are
    no finding."""
    mandoc = shutil.which("mandoc")
    if not mandoc:
        raise TestSkip("mandoc is not installed (tests/integration/packages.txt)")
    r = run([mandoc, "-T", "lint"] + [os.path.join(TOP, m) for m in MAN_PAGES], timeout=20)
    lines = [ln for ln in (r.stdout + r.stderr).decode(errors="replace").splitlines()
             if "referenced manual not found" not in ln and "mandoc.db" not in ln]
    expect(not lines, "mandoc -T lint: %s" % "\n".join(lines))


def man_text(name):
    with open(os.path.join(TOP, name)) as f:
        return f.read()


@test("man_pages_cover_every_key_and_option")
def _(env):
    with open(os.path.join(TOP, "proxyd/config_keys.c")) as f:
        keys = set(re.findall(r'\] = \{ "([a-z_0-9]+)"', f.read()))
    expect(len(keys) > 30, "found only %d keys in config_keys.c" % len(keys))
    conf5 = man_text("doc/proxyd.conf.5")
    documented = set()
    for line in re.findall(r"^\.(?:It )?Cm (.*)$", conf5, re.M):
        documented |= set(w for w in re.split(r"[ ,]+", line) if re.match(r"^[a-z_0-9]+$", w))
    missing = sorted(keys - documented)
    expect(not missing, "keys missing from proxyd.conf(5): %s" % ", ".join(missing))
    with open(os.path.join(TOP, "proxyd/main.c")) as f:
        main_c = f.read()
    short = re.search(r'getopt_long\(argc, argv, "([^"]+)"', main_c).group(1).replace(":", "")
    longs = re.findall(r'\{ "([a-z-]+)", (?:no|required)_argument', main_c)
    page8 = man_text("doc/proxyd.8")
    for o in short:
        expect(re.search(r"Fl %s\b" % o, page8), "option -%s missing from proxyd(8)" % o)
    for o in longs:
        expect(re.search(r"Fl -%s\b" % o, page8),
               "option --%s missing from proxyd(8)" % o)
    for sig in ("SIGTERM", "SIGINT", "SIGHUP", "SIGUSR1"):
        expect(sig in page8, "%s missing from proxyd(8)" % sig)
    statuses = set(re.findall(r"^\| (\d{3}) \|", man_text("README.md"), re.M))
    for st in sorted(statuses):
        expect(re.search(r"^\.It %s$" % st, page8, re.M), "status %s missing from proxyd(8)" % st)
