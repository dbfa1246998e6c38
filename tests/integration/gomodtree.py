#!/usr/bin/env python3
"""gomodtree.py - build a static GOPROXY tree offline from module sources.

The layout is the GOPROXY protocol's (https://go.dev/ref/mod#goproxy-protocol):

    <escaped module>/@v/list              one version per line
    <escaped module>/@v/<version>.info    {"Version": ..., "Time": ...}
    <escaped module>/@v/<version>.mod     the module's go.mod
    <escaped module>/@v/<version>.zip     the module zip
    <escaped module>/@latest              same as the newest .info

Any static web server can serve it.  Sources come from anywhere; the
Debian golang-*-dev packages install them under /usr/share/gocode/src,
and debian_module() turns such a package into a Module.

Use as a library (build_tree) or from the shell:
    gomodtree.py OUTDIR MODULE@VERSION=SRCDIR ...
    gomodtree.py OUTDIR --debian IMPORTPATH=PACKAGE ...
"""

import json
import os
import re
import subprocess
import sys
import zipfile

GOCODE = "/usr/share/gocode/src"

# The zip's entries get one fixed time so the tree is reproducible.
ZIP_TIME = (2023, 1, 1, 0, 0, 0)
VCS_DIRS = {".git", ".hg", ".svn", ".bzr"}


class Module:
    def __init__(self, path, version, src_dir, time="2023-01-01T00:00:00Z", gomod=None):
        self.path = path              # module path, e.g. github.com/pkg/errors
        self.version = version        # canonical semver, e.g. v0.9.1
        self.src_dir = src_dir        # the module root
        self.time = time
        self.gomod = gomod            # go.mod text; None = read it or synthesize


def escape_path(path):
    """Module path case-encoding: each upper-case letter becomes '!' + lower."""
    return re.sub(r"[A-Z]", lambda m: "!" + m.group(0).lower(), path)


def module_gomod(mod):
    if mod.gomod is not None:
        return mod.gomod
    gomod = os.path.join(mod.src_dir, "go.mod")
    if os.path.isfile(gomod):
        with open(gomod) as f:
            return f.read()
    # A module without go.mod (pre-modules code) gets a synthesized one,
    # exactly as the go command does.
    return "module %s\n" % mod.path


def module_files(src_dir):
    """The files a module zip holds, relative to the module root, following
    the go command's rules: regular files only; no VCS directories; no
    vendor directories; nothing from nested modules (a subdirectory with
    its own go.mod)."""
    out = []
    for root, dirs, files in os.walk(src_dir):
        rel_root = os.path.relpath(root, src_dir)
        keep = []
        for d in sorted(dirs):
            sub = os.path.join(root, d)
            if d in VCS_DIRS or d == "vendor" or os.path.islink(sub):
                continue
            if os.path.isfile(os.path.join(sub, "go.mod")):
                continue
            keep.append(d)
        dirs[:] = keep
        for name in sorted(files):
            full = os.path.join(root, name)
            if os.path.islink(full) or not os.path.isfile(full):
                continue
            out.append(os.path.normpath(os.path.join(rel_root, name)))
    return sorted(out)


def write_zip(mod, zip_path):
    prefix = "%s@%s/" % (mod.path, mod.version)   # the real path, not escaped
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as z:
        for rel in module_files(mod.src_dir):
            with open(os.path.join(mod.src_dir, rel), "rb") as f:
                data = f.read()
            info = zipfile.ZipInfo(prefix + rel.replace(os.sep, "/"), ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, data)
        # A synthesized go.mod is not part of the zip (the go command
        # would not find one either); a real one is, via module_files.


def build_tree(out_dir, modules):
    """Write every module (several versions of one path are fine)."""
    by_path = {}
    for mod in modules:
        by_path.setdefault(mod.path, []).append(mod)
    for path, mods in by_path.items():
        vdir = os.path.join(out_dir, escape_path(path), "@v")
        os.makedirs(vdir, exist_ok=True)
        for mod in mods:
            ever = escape_path(mod.version)
            info = json.dumps({"Version": mod.version, "Time": mod.time})
            with open(os.path.join(vdir, ever + ".info"), "w") as f:
                f.write(info)
            with open(os.path.join(vdir, ever + ".mod"), "w") as f:
                f.write(module_gomod(mod))
            write_zip(mod, os.path.join(vdir, ever + ".zip"))
        versions = sorted((m.version for m in mods), key=_semver_key)
        with open(os.path.join(vdir, "list"), "w") as f:
            f.write("".join(v + "\n" for v in versions))
        newest = [m for m in mods if m.version == versions[-1]][0]
        with open(os.path.join(out_dir, escape_path(path), "@latest"), "w") as f:
            f.write(json.dumps({"Version": newest.version, "Time": newest.time}))


def _semver_key(v):
    core = v.lstrip("v").split("-")[0].split("+")[0]
    return [int(x) if x.isdigit() else 0 for x in core.split(".")]


def debian_version_to_semver(debver):
    """'1:0.5.9+ds-1' -> 'v0.5.9' (epoch, Debian revision, +ds dropped)."""
    v = debver.split(":", 1)[-1]
    v = v.rsplit("-", 1)[0] if "-" in v else v
    v = re.split(r"[+~]", v)[0]
    return "v" + v


def debian_module(import_path, package, gocode=GOCODE):
    """A Module from an installed golang-*-dev package."""
    r = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", package],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    if r.returncode != 0 or not r.stdout:
        raise RuntimeError("package %s is not installed (apt-get install %s)" % (package, package))
    src = os.path.join(gocode, import_path)
    if not os.path.isdir(src):
        raise RuntimeError("%s has no sources in %s" % (package, src))
    return Module(import_path, debian_version_to_semver(r.stdout.decode()), src)


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    out, specs = argv[1], argv[2:]
    mods = []
    if specs[0] == "--debian":
        for spec in specs[1:]:
            path, pkg = spec.split("=", 1)
            mods.append(debian_module(path, pkg))
    else:
        for spec in specs:
            pathver, src = spec.split("=", 1)
            path, ver = pathver.rsplit("@", 1)
            mods.append(Module(path, ver, src))
    build_tree(out, mods)
    for m in mods:
        print("%s %s" % (m.path, m.version))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
