#!/bin/bash
# tests/run.sh - the whole suite: unit test binaries, then the
# integration tests; ends with the totals line `N passed, N failed`.
#
#   PROXYD=proxyd/proxyd UNIT_DIR=tests/unit bash tests/run.sh [-k NAME]...
#
# Arguments are passed to the integration runner (e.g. -k curl_ to run
# only some tests).  SKIP_UNIT=1 / SKIP_INTEGRATION=1 leave a part out.
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export PROXYD=${PROXYD:-./proxyd/proxyd}
UNIT_DIR=${UNIT_DIR:-$here/unit}
PYTHON=${PYTHON:-python3}

passed=0
failed=0
child=

# Whatever stops us, stop the running child (it cleans up its own).
cleanup() {
	if [ -n "$child" ] && kill -0 "$child" 2>/dev/null; then
		kill -TERM "$child" 2>/dev/null
		wait "$child" 2>/dev/null
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Add the counts of a `NAME: N passed, N failed` line to the totals;
# returns 1 if the output has no such line.
add_counts() {
	local line
	line=$(grep -E '^([A-Za-z0-9_.-]+: )?[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1)
	[ -n "$line" ] || return 1
	line=${line#*: }
	passed=$((passed + $(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')))
	failed=$((failed + $(echo "$line" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')))
}

out=$(mktemp /tmp/proxyd-run.XXXXXX)
fails=$(mktemp /tmp/proxyd-fails.XXXXXX)
trap 'cleanup; rm -f "$out" "$fails"' EXIT

# ---- unit tests: each test_* executable prints its own counts line.
if [ -z "${SKIP_UNIT:-}" ]; then
	found=0
	for t in "$UNIT_DIR"/test_*; do
		[ -f "$t" ] && [ -x "$t" ] || continue
		found=1
		name=$(basename "$t")
		echo "== unit: $name"
		timeout 120 "$t" >"$out" 2>&1
		rc=$?
		cat "$out"
		grep -E '^FAIL ' "$out" | sed "s|^FAIL |FAIL $name: |" >>"$fails"
		if ! add_counts "$out"; then
			echo "FAIL $name: no counts line (exit $rc)" | tee -a "$fails"
			failed=$((failed + 1))
		elif [ $rc -ne 0 ] && ! grep -qE '[1-9][0-9]* failed' "$out"; then
			# Crashed or timed out after printing clean counts.
			echo "FAIL $name: exit status $rc" | tee -a "$fails"
			failed=$((failed + 1))
		fi
	done
	[ $found -eq 1 ] || echo "# no unit test binaries in $UNIT_DIR"
fi

# ---- integration tests (they print PASS/FAIL lines as they go).
if [ -z "${SKIP_INTEGRATION:-}" ]; then
	echo "== integration"
	: >"$out"
	# In the background so that a signal to us reaches the trap at once;
	# the runner writes its FAIL lines and counts to $out as well.
	"$PYTHON" "$here/integration/main.py" --summary "$out" "$@" 2>&1 &
	child=$!
	wait "$child"
	child=
	grep -E '^FAIL ' "$out" >>"$fails"
	if ! add_counts "$out"; then
		echo "FAIL integration: the runner ended without its counts line" | tee -a "$fails"
		failed=$((failed + 1))
	fi
fi

if [ $failed -ne 0 ]; then
	echo "== failures:"
	sed 's/^/  /' "$fails"
fi
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
