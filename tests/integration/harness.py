"""harness.py - the small machinery every integration test module uses.

* a test registry: @test("name") registers a function taking the Env;
  run_tests() prints `PASS name` / `FAIL name: why` and the counts;
* processes: spawn() starts a program in its own process group with its
  output in a log file of the run's temp dir; every process is stopped at
  the end (stop_all), even when the run is interrupted;
* free ports and readiness polling (wait_port), never fixed sleeps.

Everything listens on 127.0.0.1 only.
"""

import atexit
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import traceback


class TestFailure(Exception):
    """A check did not hold; the message says what was expected."""


class TestSkip(Exception):
    """The test cannot run here (a tool is missing); not counted."""


def expect(cond, why):
    if not cond:
        raise TestFailure(why)


def expect_eq(got, want, what):
    if got != want:
        raise TestFailure("%s: got %r, want %r" % (what, got, want))


# ---------------------------------------------------------------- registry

TESTS = []          # (name, function), in registration order


def test(name):
    def register(fn):
        if any(n == name for n, _ in TESTS):
            raise ValueError("duplicate test name " + name)
        TESTS.append((name, fn))
        return fn
    return register


def _short(text, limit=600):
    text = str(text)
    return text if len(text) <= limit else text[:limit] + "..."


def run_tests(env, selected, summary=None):
    """Run the selected (name, fn) pairs; return (passed, failed, skipped).
    FAIL lines also go to the summary file, if any."""
    passed = failed = skipped = 0

    def fail(line):
        print(line, flush=True)
        if summary:
            with open(summary, "a") as f:
                f.write(line + "\n")

    for name, fn in selected:
        started = time.monotonic()
        try:
            fn(env)
            # A shared server dying under a test is that test's failure
            # (typically a crash, or a sanitizer abort in proxyd).
            env.check_shared_alive()
        except TestSkip as e:
            skipped += 1
            print("SKIP %s: %s" % (name, e), flush=True)
            continue
        except TestFailure as e:
            failed += 1
            fail("FAIL %s: %s" % (name, _short(e)))
            env.recover_after_failure()
            continue
        except Exception as e:     # a bug in the test or a crashed helper
            failed += 1
            tb = traceback.format_exc().strip().splitlines()
            fail("FAIL %s: %s: %s [%s]" % (name, type(e).__name__, _short(e),
                                           " ".join(l.strip() for l in tb[-3:-1])))
            env.recover_after_failure()
            continue
        passed += 1
        print("PASS %s (%.1fs)" % (name, time.monotonic() - started), flush=True)
    return passed, failed, skipped


# ---------------------------------------------------------------- temp dir

class Workdir:
    """The run's temp dir under /tmp; removed at the end unless KEEP_TMP."""

    def __init__(self):
        self.path = tempfile.mkdtemp(prefix="proxyd-it-", dir="/tmp")
        # Daemons that drop privileges (squid, tinyproxy) must traverse it.
        os.chmod(self.path, 0o755)

    def sub(self, *parts, mkdir=False):
        p = os.path.join(self.path, *parts)
        if mkdir:
            os.makedirs(p, exist_ok=True)
        return p

    def write(self, name, data, mode=0o644):
        p = self.sub(name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb" if isinstance(data, bytes) else "w") as f:
            f.write(data)
        os.chmod(p, mode)
        return p

    def remove(self):
        if os.environ.get("KEEP_TMP"):
            print("# kept temp dir " + self.path, flush=True)
        else:
            shutil.rmtree(self.path, ignore_errors=True)


# ---------------------------------------------------------------- processes

_PROCS = []


class Proc:
    """A child in its own process group, output in NAME.log."""

    def __init__(self, name, argv, log_path, env=None, cwd=None):
        self.name = name
        self.argv = argv
        self.log_path = log_path
        self.log = open(log_path, "ab")
        self.p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                  stdout=self.log, stderr=subprocess.STDOUT,
                                  env=env, cwd=cwd, start_new_session=True)
        self.pid = self.p.pid
        _PROCS.append(self)

    def alive(self):
        return self.p.poll() is None

    def send_signal(self, sig):
        if self.alive():
            os.kill(self.pid, sig)

    def wait(self, timeout):
        """Exit status, or None if still running after timeout seconds."""
        try:
            return self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, sig=signal.SIGTERM, grace=5.0):
        """Ask politely, then kill the whole group; returns exit status."""
        if self.alive():
            try:
                os.killpg(self.pid, sig)
            except ProcessLookupError:
                pass
            if self.wait(grace) is None:
                try:
                    os.killpg(self.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.p.wait()
        else:
            # The leader is gone; make sure no child of it lingers.
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self.log.close()
        if self in _PROCS:
            _PROCS.remove(self)
        return self.p.returncode

    def output(self, tail=2000):
        try:
            with open(self.log_path, "rb") as f:
                data = f.read()
        except OSError:
            return ""
        return data[-tail:].decode("utf-8", "replace")


def stop_all():
    for proc in list(reversed(_PROCS)):
        try:
            proc.stop(grace=3.0)
        except Exception:
            pass


def install_cleanup(workdir):
    """Stop every child and remove the temp dir on any exit."""
    def cleanup():
        stop_all()
        workdir.remove()
    atexit.register(cleanup)

    def on_signal(signum, _frame):
        # Raising makes the finally/atexit handlers run.
        raise SystemExit(128 + signum)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)


# ---------------------------------------------------------------- network

LOOPBACK = "127.0.0.1"


_ports_given = set()


def free_port():
    """A port nothing listens on right now (bound then released), below
    the kernel's ephemeral range (32768-60999 on Linux): a port taken from
    that range can be handed to an outgoing connection before the server
    meant for it binds, which made tests fail at random on a busy machine.
    Never the same port twice in one run."""
    for _ in range(1000):
        port = random.randint(20000, 32700)
        if port in _ports_given:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind((LOOPBACK, port))
            except OSError:
                continue
        _ports_given.add(port)
        return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def port_open(port, host=LOOPBACK):
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_port(port, proc=None, timeout=15.0):
    """Poll until something accepts on port; fail early if proc died."""
    deadline = time.monotonic() + timeout
    delay = 0.01
    while time.monotonic() < deadline:
        if proc is not None and not proc.alive():
            raise TestFailure("%s exited with %s before listening on %d: %s"
                              % (proc.name, proc.p.returncode, port, proc.output(800)))
        if port_open(port):
            return
        time.sleep(delay)
        delay = min(delay * 2, 0.2)
    raise TestFailure("nothing listening on port %d after %.0fs%s"
                      % (port, timeout, (": " + proc.output(800)) if proc else ""))


def rss_kib(pid):
    """A process's resident set size in KiB (/proc/PID/status)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def wait_until(cond, timeout, interval=0.05):
    """Poll cond() until true or timeout; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def client_env(home):
    """An environment for client programs: no inherited proxy settings,
    no user config, a private HOME."""
    env = {k: v for k, v in os.environ.items()
           if k.lower() not in ("http_proxy", "https_proxy", "all_proxy",
                                "no_proxy", "ftp_proxy")
           and not k.startswith(("GIT_", "GO", "CURL_"))}
    env["HOME"] = home
    env["LC_ALL"] = "C"
    return env


def run(argv, timeout, env=None, cwd=None, input=None):
    """Run a client to completion, bounded by timeout; never raises on a
    non-zero exit (the caller checks), fails the test on a hang."""
    try:
        return subprocess.run(argv, env=env, cwd=cwd, input=input,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        raise TestFailure("%s did not finish within %ss" % (argv[0], timeout))


def which_or_skip(program):
    path = shutil.which(program)
    if not path:
        raise TestSkip(program + " is not installed")
    return path
