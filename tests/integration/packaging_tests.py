"""packaging_tests.py - what the packages rely on: `proxyd -t` catches what
a start would fail on (user, log directory, ca_file, an address another
process holds, but not one this proxyd serves: ExecReload), sd_notify
readiness, every shipped config passes `-t` under the unit's conditions,
the man pages, and the Kubernetes manifests."""

import json
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
    """proxyd -t -c path; (exit status, stderr+stdout).  as_user: run it
    as that uid (a copy of the binary that uid can reach)."""
    argv = [env.proxyd_binary, "-t", "-c", path]
    if as_user is not None:
        argv = ["setpriv", "--reuid=%d" % as_user, "--regid=%d" % as_user,
                "--clear-groups", unprivileged_binary(env)] + argv[1:]
    r = run(argv, timeout=20, env=penv)
    return r.returncode, (r.stderr + r.stdout).decode(errors="replace")


def unprivileged_binary(env):
    """The binary copied into the (world-readable) temp dir: the build
    directory may be under a home no other user may enter."""
    copy = env.wd.sub("bin", "proxyd")
    if not os.path.exists(copy):
        os.makedirs(os.path.dirname(copy), exist_ok=True)
        shutil.copy2(env.proxyd_binary, copy)
        os.chmod(os.path.dirname(copy), 0o755)
        os.chmod(copy, 0o755)
    return copy


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
                        "--clear-groups", unprivileged_binary(env), "-V"],
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


# ---------------------------------------------------------------- Kubernetes

K8S_DIR = os.path.join(TOP, "packaging/kubernetes")
NODE_MODULES = os.environ.get("K8S_NODE_MODULES", "/usr/local/lib/proxyd-tests/node_modules")
ADMIN_KEYS = ("admin_listen", "admin_allow")


def k8s_documents():
    """Every manifest, validated against the Kubernetes schemas of the npm
    package kubernetes-models (installed by install-deps.sh --test)."""
    node = shutil.which("node")
    if not node or not os.path.isdir(os.path.join(NODE_MODULES, "kubernetes-models")):
        raise TestSkip("node and %s/kubernetes-models are needed "
                       "(packaging/install-deps.sh --test)" % NODE_MODULES)
    files = sorted(os.path.join(K8S_DIR, f) for f in os.listdir(K8S_DIR) if f.endswith(".yaml"))
    r = run([node, os.path.join(TOP, "tests/integration/k8s_validate.mjs")] + files,
            timeout=60, env=dict(os.environ, K8S_NODE_MODULES=NODE_MODULES))
    expect_eq(r.returncode, 0, "schema validation: %s" % r.stderr.decode(errors="replace"))
    return json.loads(r.stdout)


def conf_value(text, key):
    m = re.search(r"^%s\s*=\s*(.+?)\s*$" % key, text, re.M)
    return m.group(1) if m else None


def seconds(duration):
    m = re.match(r"^(\d+)(ms|s|m|h)?$", duration)
    n = int(m.group(1))
    return {"ms": n / 1000, "s": n, None: n, "m": n * 60, "h": n * 3600}[m.group(2)]


def admin_keys_known(env):
    """Whether this proxyd knows the admin listener's keys.

    INTEGRATOR: admin_listen/admin_allow come from a branch developed in
    parallel.  Until it is merged, proxyd -t rejects them as unknown keys
    and the embedded configs are checked with exactly those errors
    tolerated; once the binary accepts them, the configs must pass -t
    outright (no flip needed: this probe decides)."""
    path = env.wd.write("admin-probe.conf", "[proxyd]\nlisten = 127.0.0.1:%d\n"
                        "admin_listen = 127.0.0.1:%d\nadmin_allow = 127.0.0.1\n"
                        % (free_port(), free_port()))
    rc, out = check(env, path)
    return rc == 0 or not re.search(r"admin_(listen|allow)", out)


def pod_specs(docs):
    for d in docs:
        if d["kind"] == "Pod":
            yield d["metadata"]["name"], d["spec"]
        elif d["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
            yield d["metadata"]["name"], d["spec"]["template"]["spec"]


def embedded_configs(docs):
    for d in docs:
        if d["kind"] == "ConfigMap":
            for key, text in d.get("data", {}).items():
                if key.endswith(".conf"):
                    yield "%s/%s" % (d["metadata"]["name"], key), text


@test("kubernetes_manifests_valid")
def _(env):
    docs = k8s_documents()
    kinds = sorted(set(d["kind"] for d in docs))
    for want in ("ConfigMap", "Deployment", "HorizontalPodAutoscaler", "NetworkPolicy",
                 "Pod", "PodDisruptionBudget", "Service"):
        expect(want in kinds, "no %s in packaging/kubernetes (have %s)" % (want, kinds))


@test("kubernetes_probes_and_grace_period")
def _(env):
    """Probes: /readyz for startup and readiness, /healthz for liveness, on
    an admin port the kubelet can reach (admin_listen on every address);
    terminationGracePeriodSeconds >= shutdown_timeout + preStop."""
    docs = k8s_documents()
    confs = dict(embedded_configs(docs))
    for name, spec in pod_specs(docs):
        vols = {v["name"]: v["configMap"]["name"] for v in spec.get("volumes", [])
                if "configMap" in v}
        proxyds = [c for c in spec.get("initContainers", []) + spec["containers"]
                   if (c["name"] == "proxyd" or "proxyd" in c.get("image", ""))
                   and "--redirect-rules" not in c.get("command", [])]
        expect(proxyds, "%s: no proxyd container" % name)
        for c in proxyds:
            cm = [vols[m["name"]] for m in c.get("volumeMounts", []) if m["name"] in vols]
            text = confs.get("%s/proxyd.conf" % cm[0]) if cm else None
            expect(text, "%s: proxyd's config is not a ConfigMap here" % name)
            ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
            admin = conf_value(text, "admin_listen") or ""
            expect(re.match(r"^(0\.0\.0\.0|\[::\]):\d+$", admin),
                   "%s: admin_listen %r is not on every address: the kubelet dials the Pod IP"
                   % (name, admin))
            expect(conf_value(text, "admin_allow"), "%s: no admin_allow" % name)
            for probe, path in (("startupProbe", "/readyz"), ("readinessProbe", "/readyz"),
                                ("livenessProbe", "/healthz")):
                get = c.get(probe, {}).get("httpGet")
                expect(get and get["path"] == path, "%s: %s is not GET %s" % (name, probe, path))
                port = ports.get(get["port"], get["port"])
                expect_eq(port, int(admin.rsplit(":", 1)[1]), "%s: %s port" % (name, probe))
            prestop = 0
            cmd = c.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", [])
            if cmd[:1] == ["sleep"]:
                prestop = int(cmd[1])
            drain = seconds(conf_value(text, "shutdown_timeout") or "10s")
            grace = spec.get("terminationGracePeriodSeconds", 30)
            expect(grace >= drain + prestop,
                   "%s: terminationGracePeriodSeconds %d < shutdown_timeout %ds + preStop %ds"
                   % (name, grace, drain, prestop))


@test("kubernetes_transparent_init_rules")
def _(env):
    """The transparent runner pod: an init container runs
    `proxyd --redirect-rules --apply` with NET_ADMIN, the only container
    with a capability; its --uid is the proxyd sidecar's runAsUser; the
    sidecar's config has a transparent listener on the rules' port."""
    docs = k8s_documents()
    confs = dict(embedded_configs(docs))
    pods = [(n, s) for n, s in pod_specs(docs)
            if any("--redirect-rules" in c.get("command", []) for c in s.get("initContainers", []))]
    expect(pods, "no pod with a --redirect-rules init container in packaging/kubernetes")
    for name, spec in pods:
        inits = spec["initContainers"]
        rules = [c for c in inits if "--redirect-rules" in c.get("command", [])][0]
        cmd = rules["command"]
        expect("--apply" in cmd, "%s: the rules are not applied" % name)
        expect_eq(rules["securityContext"]["capabilities"].get("add"), ["NET_ADMIN"],
                  "%s: the rules container's added capabilities" % name)
        sidecars = [c for c in inits if c.get("restartPolicy") == "Always"]
        expect(sidecars and inits.index(rules) < inits.index(sidecars[0]),
               "%s: the rules must be in before the sidecar starts" % name)
        uid = sidecars[0]["securityContext"]["runAsUser"]
        expect_eq(cmd[cmd.index("--uid") + 1], str(uid), "%s: --uid vs proxyd's runAsUser" % name)
        for c in inits + spec["containers"]:
            if c is not rules:
                expect(not c.get("securityContext", {}).get("capabilities", {}).get("add"),
                       "%s: %s adds capabilities" % (name, c["name"]))
        vols = {v["name"]: v["configMap"]["name"] for v in spec.get("volumes", [])
                if "configMap" in v}
        cm = [vols[m["name"]] for m in sidecars[0].get("volumeMounts", []) if m["name"] in vols]
        text = confs["%s/proxyd.conf" % cm[0]]
        expect(re.search(r"^listen = .*transparent 127\.0\.0\.1:\d+", text, re.M),
               "%s: no transparent listener in the sidecar's config" % name)
        if env.kind == "proxyd":
            path = env.wd.write("k8s-transparent.conf", text)
            r = run([env.proxyd_binary, "--redirect-rules", "-c", path] + cmd[cmd.index("--uid"):
                    cmd.index("--apply")], timeout=20)
            expect(r.returncode == 0 and b"--uid-owner %d " % uid in r.stdout
                   and b"REDIRECT --to-ports" in r.stdout,
                   "%s: --redirect-rules prints: %s %s" % (name, r.stdout, r.stderr))


@test("kubernetes_embedded_configs_pass_check")
def _(env):
    proxyd_only(env)
    docs = k8s_documents()
    known = admin_keys_known(env)
    logs = env.wd.sub("k8s-logs", mkdir=True)
    for where, text in embedded_configs(docs):
        path = env.wd.write("k8s-%s" % where.replace("/", "-"), as_unit_would(env, text, logs))
        rc, out = check(env, path)
        if not known:
            # Expected until the admin listener lands (see admin_keys_known).
            other = [ln for ln in out.splitlines()
                     if ln.strip() and not re.search(r"admin_(listen|allow)", ln)
                     and "configuration OK" not in ln]
            expect(not other, "-t of %s, besides the admin keys: %s" % (where, "\n".join(other)))
            continue
        expect_eq(rc, 0, "-t of %s: %s" % (where, out))


# ---------------------------------------------------------------- Debian package

def copy_tree(dst):
    """The source tree without VCS data and build directories."""
    def ignore(d, names):
        top = os.path.samefile(d, TOP)
        return [n for n in names if n in (".git", "autom4te.cache")
                or (top and (n == "debian" or n.startswith("build-")))
                or n.endswith((".o", ".a"))]
    shutil.copytree(TOP, dst, ignore=ignore, symlinks=True)


@test("debian_package_lintian_clean")
def _(env):
    """dpkg-buildpackage -b in a scratch copy, then lintian: no error and no
    warning but the initial upload's; the examples, man pages, logrotate
    snippet and the Type=notify unit with ExecReload are in the package.
    About 30s, so the CI runs it once (PROXYD_TEST_PACKAGE=1, plain build)."""
    if not os.environ.get("PROXYD_TEST_PACKAGE"):
        raise TestSkip("set PROXYD_TEST_PACKAGE=1 (tests/ci.sh does, for the plain build)")
    for tool in ("dpkg-buildpackage", "dh", "lintian"):
        if not shutil.which(tool):
            raise TestSkip(tool + " is not installed (tests/integration/packages.txt)")
    scratch = env.wd.sub("deb", mkdir=True)
    src = os.path.join(scratch, "proxyd-0.1.0")
    copy_tree(src)
    shutil.copytree(os.path.join(src, "packaging/debian"), os.path.join(src, "debian"))
    benv = dict(os.environ, DEB_BUILD_OPTIONS="nocheck parallel=2")
    r = run(["dpkg-buildpackage", "-us", "-uc", "-b"], timeout=600, cwd=src, env=benv)
    expect_eq(r.returncode, 0, "dpkg-buildpackage: %s" % (r.stdout + r.stderr)[-3000:]
              .decode(errors="replace"))
    debs = [f for f in os.listdir(scratch) if f.endswith(".deb") and "dbgsym" not in f]
    expect_eq(len(debs), 1, "packages built (%s)" % debs)
    changes = [f for f in os.listdir(scratch) if f.endswith(".changes")][0]
    r = run(["lintian", os.path.join(scratch, changes)], timeout=300)
    findings = [ln for ln in r.stdout.decode(errors="replace").splitlines()
                if re.match(r"^[EW]: ", ln) and "initial-upload-closes-no-bugs" not in ln]
    expect(not findings, "lintian: %s" % "\n".join(findings))
    deb = os.path.join(scratch, debs[0])
    listing = run(["dpkg-deb", "-c", deb], timeout=30).stdout.decode()
    for want in ("usr/share/doc/proxyd/examples/office-gateway.conf",
                 "usr/share/doc/proxyd/examples/ci-sidecar.conf",
                 "usr/share/doc/proxyd/examples/build-host.conf",
                 "usr/share/man/man8/proxyd.8.gz", "usr/share/man/man5/proxyd.conf.5.gz",
                 "etc/logrotate.d/proxyd", "etc/proxyd/proxyd.conf",
                 "lib/systemd/system/proxyd.service"):
        expect(want in listing, "%s not in the package" % want)
    unit = run(["dpkg-deb", "--fsys-tarfile", deb], timeout=30).stdout
    with tempfile.TemporaryDirectory(dir=scratch) as x:
        subprocess.run(["tar", "-x", "-C", x, "./lib/systemd/system/proxyd.service"],
                       input=unit, check=True, timeout=30)
        with open(os.path.join(x, "lib/systemd/system/proxyd.service")) as f:
            text = f.read()
    expect(re.search(r"^Type=notify$", text, re.M), "unit is not Type=notify")
    expect(re.search(r"^ExecReload=/usr/sbin/proxyd -t -c /etc/proxyd/proxyd.conf$", text, re.M),
           "unit does not check the config on reload")
    expect(re.search(r"^ExecReload=/bin/kill -HUP \$MAINPID$", text, re.M),
           "unit does not signal on reload")


# ---------------------------------------------------------------- container

@test("container_runtime_stage_has_ca_store_and_local_base")
def _(env):
    """No engine here: check the Containerfile's stages statically, and
    that every package it installs exists in Debian 12 (apt's lists)."""
    with open(os.path.join(TOP, "packaging/container/Containerfile")) as f:
        text = f.read()
    expect(re.search(r"^ARG BASE=debian:12-slim$", text, re.M), "no ARG BASE default")
    froms = re.findall(r"^FROM (\S+)", text, re.M)
    expect(froms and all(f == "${BASE}" for f in froms), "stages not FROM ${BASE}: %s" % froms)
    stages = re.split(r"^FROM ", text, flags=re.M)
    runtime = stages[-1]
    expect(re.search(r"\bca-certificates\b", runtime), "runtime stage lacks ca-certificates")
    pkgs = set()
    for block in re.findall(r"apt-get install -y --no-install-recommends(.*?)&&", text, re.S):
        pkgs |= set(p for p in block.replace("\\", " ").split() if re.match(r"^[a-z0-9.+-]+$", p))
    expect(len(pkgs) > 8, "found only %s" % sorted(pkgs))
    if shutil.which("apt-cache"):
        r = run(["apt-cache", "show", "--no-all-versions"] + sorted(pkgs), timeout=60)
        found = set(re.findall(r"^Package: (\S+)$", r.stdout.decode(), re.M))
        if found:             # apt lists present (install-deps.sh ran apt-get update)
            expect(not pkgs - found, "not Debian packages: %s" % sorted(pkgs - found))
    with open(os.path.join(TOP, "packaging/README.md")) as f:
        expect("debootstrap" in f.read(), "packaging/README.md does not say how to make a base")


# ---------------------------------------------------------------- systemd, logrotate

@test("systemd_unit_notify_reload_and_verify")
def _(env):
    """The two copies of the unit are the same, Type=notify, reload checks
    before it signals, and systemd-analyze finds nothing but what a
    machine without the package installed lacks (the binary, the man
    pages)."""
    units = [os.path.join(TOP, "packaging", d, "proxyd.service") for d in ("systemd", "debian")]
    texts = [open(u).read() for u in units]
    expect_eq(texts[0], texts[1], "packaging/debian/proxyd.service vs packaging/systemd's")
    text = texts[0]
    expect(re.search(r"^Type=notify$", text, re.M), "not Type=notify")
    reload = re.findall(r"^ExecReload=(.*)$", text, re.M)
    expect_eq(reload, ["/usr/sbin/proxyd -t -c /etc/proxyd/proxyd.conf",
                       "/bin/kill -HUP $MAINPID"], "ExecReload lines")
    expect(not re.search(r"^User=", text, re.M) and re.search(r"^DynamicUser=yes$", text, re.M),
           "the examples are checked for a DynamicUser")
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        raise TestSkip("systemd-analyze is not installed")
    r = run([analyze, "verify", units[0]], timeout=30)
    findings = [ln for ln in (r.stdout + r.stderr).decode(errors="replace").splitlines()
                if ln.strip() and "is not executable" not in ln and "Command 'man " not in ln]
    expect(not findings, "systemd-analyze verify: %s" % "\n".join(findings))


@test("logrotate_snippet_parses")
def _(env):
    lr = shutil.which("logrotate") or "/usr/sbin/logrotate"
    if not os.path.exists(lr):
        raise TestSkip("logrotate is not installed (tests/integration/packages.txt)")
    snippet = os.path.join(TOP, "packaging/debian/proxyd.logrotate")
    r = run([lr, "-d", "-s", env.wd.sub("logrotate.state"), snippet], timeout=30)
    out = (r.stdout + r.stderr).decode(errors="replace")
    expect(r.returncode == 0 and "error:" not in out, "logrotate -d: %s" % out)
    with open(snippet) as f:
        text = f.read()
    expect("/var/log/proxyd/" in text and "USR1" in text,
           "the snippet does not rotate the unit's LogsDirectory with SIGUSR1")
