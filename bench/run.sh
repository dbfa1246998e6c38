#!/usr/bin/env bash
# run.sh - proxyd's benchmark: proxyd (and squid, tinyproxy when installed)
# against an nginx origin on 127.0.0.1, every row measured against the
# direct run.  Writes bench/results/<date>.{md,json,png}.  See bench/README.md.
#
#   bench/run.sh [--quick] [--rows ROW,...] [--peers squid,tinyproxy|none]
#                [--rounds N] [--duration S] [--workers N] [--out DIR]
#
# PROXYD=path/to/proxyd (default: proxyd/proxyd of this tree, built first
# with `make bench`).  This script checks the tools (installing the missing
# Debian packages when run as root, unless BENCH_INSTALL=0), raises the
# open-files limit, and runs bench.py.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
PROXYD=${PROXYD:-$here/../proxyd/proxyd}
[ -x "$PROXYD" ] || { echo "run.sh: no proxyd at $PROXYD (build it, or set PROXYD=)" >&2; exit 1; }

# wrk/curl/nginx are needed; squid, tinyproxy, gnuplot and go only for
# their rows and peers (left out when missing).
need="wrk:wrk curl:curl nginx:nginx-light python3:python3"
want="gnuplot:gnuplot-nox squid:squid tinyproxy:tinyproxy go:golang-go"
missing=""
for tp in $need $want; do
	command -v "${tp%%:*}" >/dev/null || missing="$missing ${tp#*:}"
done
if [ -n "$missing" ]; then
	if [ "${BENCH_INSTALL:-1}" = 1 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		echo "run.sh: installing$missing" >&2
		# shellcheck disable=SC2086
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >&2 ||
			echo "run.sh: could not install$missing" >&2
	else
		echo "run.sh: missing Debian packages:$missing (apt-get install$missing," \
		    "or sh packaging/install-deps.sh --bench)" >&2
	fi
fi
for tp in $need; do
	command -v "${tp%%:*}" >/dev/null || { echo "run.sh: ${tp%%:*} is required" >&2; exit 1; }
done
for v in http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy no_proxy NO_PROXY; do
	unset "$v"
done

# 10,000 idle clients: the proxy and the client each hold one descriptor a
# connection, so both need more than Debian's soft limit of 1024.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 12000 ]; then
	echo "run.sh: ulimit -n is $(ulimit -n): the 10,000-client row will fail" \
	    "(raise the hard limit: ulimit -Hn, LimitNOFILE=)" >&2
fi
exec python3 "$here/bench.py" --proxyd "$PROXYD" --command "bench/run.sh${*:+ $*}" "$@"
