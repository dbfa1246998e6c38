"""gomodsynth.py - a graph of small synthetic Go modules, for benchmarks
that need many modules (the GOPROXY rows and tests/perf/cache_bench.py:
with three real modules go asks a mirror a handful of times, too few for
a per-request delay to show).

synthetic_modules(src_root, n) writes n modules example.test/synth/mNN
(the module paths have upper-case letters every so often, so that
case-escaping is part of the run) under src_root and returns them as
gomodtree.Module, ready for gomodtree.build_tree.  Their requirements form
a binary tree (module i requires 2i+1 and 2i+2, all v1.0.0), each module's
package imports its children's, so `go build` of the root builds them all.
A main module lists every one in its go.mod (a go >= 1.17 go.mod lists
every module it builds with), so `go mod download` fetches each module's
.info, .mod and .zip:

    mods = synthetic_modules(dir, 40)
    build_tree(tree, real_modules + mods)
"""

import os

from gomodtree import Module

PREFIX = "example.test/synth"
VERSION = "v1.0.0"
# Some bytes of source per module, so that a zip is a few KiB as small
# real modules' are, not a few hundred bytes.
FILLER = "".join("// line %03d of the synthetic module's filler text, to give it some size.\n"
                 % i for i in range(40))


def module_path(i):
    """Every fifth module has an upper-case letter (escaped as !x on the wire)."""
    return "%s/%s%02d" % (PREFIX, "M" if i % 5 == 4 else "m", i)


def children(i, n):
    return [c for c in (2 * i + 1, 2 * i + 2) if c < n]


def package_name(i):
    return "m%02d" % i


def write_module(src_root, i, n):
    """Module i's source directory (go.mod and one package); its Module."""
    path = module_path(i)
    d = os.path.join(src_root, package_name(i))
    os.makedirs(d, exist_ok=True)
    kids = children(i, n)
    gomod = "module %s\n\ngo 1.17\n" % path
    if kids:
        gomod += "\nrequire (\n" + "".join("\t%s %s\n" % (module_path(c), VERSION)
                                           for c in kids) + ")\n"
    with open(os.path.join(d, "go.mod"), "w") as f:
        f.write(gomod)
    imports = "".join('\t"%s"\n' % module_path(c) for c in kids)
    calls = "".join(" + %s.Depth()" % package_name(c) for c in kids)
    with open(os.path.join(d, package_name(i) + ".go"), "w") as f:
        f.write("// Package %s is synthetic module %d of %d.\npackage %s\n\n%s%s\n"
                "// Depth counts the modules below this one, itself included.\n"
                "func Depth() int { return 1%s }\n\n%s"
                % (package_name(i), i, n, package_name(i),
                   "import (\n%s)\n" % imports if kids else "", "", calls, FILLER))
    return Module(path, VERSION, d, gomod=gomod)


def synthetic_modules(src_root, n=40):
    """n modules under src_root, a binary tree of requirements rooted at 0."""
    return [write_module(src_root, i, n) for i in range(n)]
