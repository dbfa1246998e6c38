"""docs_tests.py - the documentation renders: every Markdown file of the
source tree (README.md first) has its fenced code blocks closed, checked
on the source and on python3-markdown's rendering (mdcheck.py)."""

import os
import subprocess
import sys

from harness import expect, run, test

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
SKIP_DIRS = {".git", "autom4te.cache", "node_modules"}


def markdown_files():
    out = []
    for root, dirs, files in os.walk(TOP):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("build"))
        out += [os.path.join(root, f) for f in sorted(files) if f.endswith(".md")]
    return out


def python_with_markdown():
    """This Python if it has Debian's python3-markdown, else the system's
    (a python3 of pyenv or a venv does not see Debian's packages)."""
    for py in (sys.executable, "/usr/bin/python3"):
        if os.path.exists(py) and subprocess.run(
                [py, "-c", "import markdown"], stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, timeout=20).returncode == 0:
            return py
    return None


@test("docs_markdown_code_blocks_closed")
def _(env):
    files = markdown_files()
    readme = os.path.join(TOP, "README.md")
    expect(readme in files, "README.md not found under %s" % TOP)
    py = python_with_markdown()
    expect(py is not None, "no python3 with the markdown module: install python3-markdown "
           "(tests/integration/packages.txt)")
    r = run([py, os.path.join(HERE, "mdcheck.py")] + files, timeout=60)
    out = (r.stdout + r.stderr).decode(errors="replace")
    expect(r.returncode == 0, "Markdown that does not render as written:\n" + out)
