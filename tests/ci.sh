#!/usr/bin/env bash
# The whole test suite from a fresh Debian 12 checkout, as root:
# install dependencies, build, run the suite, then build again with
# AddressSanitizer + UndefinedBehaviorSanitizer and run it again.
# The last line is the total: "N passed, N failed".
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

bash packaging/install-deps.sh --test || { echo "dependency install failed"; exit 1; }
# The README's first command builds in the source tree; configure refuses
# out-of-tree builds of a configured source tree ("source directory
# already configured"), and make would take its objects for ours through
# VPATH.  That build is only products of the tree: clean it away.
if [ -f config.status ]; then
	echo "=== the source tree is configured in place: make distclean ==="
	make -s distclean >/dev/null 2>&1 || rm -f config.status
fi
autoreconf -fi >/dev/null || { echo "autoreconf failed"; exit 1; }

passed=0 failed=0
# run_suite NAME CONFIGURE-ARGS...: build in build-NAME and run make check.
run_suite() {
	local name=$1; shift
	local dir="$top/build-$name" log
	log=$(mktemp)
	echo "=== $name build ==="
	mkdir -p "$dir"
	if ! (cd "$dir" && "$top/configure" -q --enable-werror "$@" >/dev/null &&
	    make -s -j2 >/dev/null); then
		echo "$name: build failed"
		(cd "$dir" && make -j2 2>&1 | tail -30)
		failed=$((failed + 1))
		return
	fi
	echo "=== $name tests ==="
	(cd "$dir" && make -s check 2>&1) | tee "$log"
	local line
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
	if [ -z "$line" ]; then
		echo "$name: the suite did not report its counts"
		failed=$((failed + 1))
	else
		passed=$((passed + $(echo "$line" | cut -d' ' -f1)))
		failed=$((failed + $(echo "$line" | cut -d' ' -f3)))
	fi
	rm -f "$log"
}

# The plain run also builds the Debian package and runs lintian on it.
PROXYD_TEST_PACKAGE=1 run_suite plain
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	run_suite sanitize --enable-sanitizers

# The release tarball: `make distcheck` (build, unit tests, install with
# the man pages, uninstall, from the tarball alone; the integration suite
# already ran above), and it holds every file git tracks.
echo "=== distcheck ==="
if (cd "$top/build-plain" && SKIP_INTEGRATION=1 make -s distcheck >/tmp/proxyd-distcheck.log 2>&1) &&
    missing=$(cd "$top" && { [ ! -d .git ] || git ls-files | grep -v -e '^\.gitignore$' -e '^m4/\.keep$' |
	sort | comm -13 <(tar tzf build-plain/proxyd-*.tar.gz | sed 's|^[^/]*/||' | sort) -; }) &&
    [ -z "$missing" ]; then
	echo "PASS distcheck"
	passed=$((passed + 1))
else
	echo "FAIL distcheck: ${missing:-$(tail -30 /tmp/proxyd-distcheck.log)}"
	failed=$((failed + 1))
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
