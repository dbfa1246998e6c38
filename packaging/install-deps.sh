#!/bin/sh
# Install what proxyd needs on Debian 12, as root.
#   install-deps.sh          build dependencies only
#   install-deps.sh --test   also everything the test suite drives: the
#                            Debian packages of tests/integration/packages.txt
#                            and, from npm, the Kubernetes schemas the
#                            manifests are validated against (K8S_NODE_MODULES)
#   install-deps.sh --bench  build dependencies and what bench/run.sh drives:
#                            wrk, nginx, the peers squid and tinyproxy,
#                            gnuplot for the chart, go for the GOPROXY row
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build="build-essential autoconf automake libtool pkg-config
       libevent-dev libssl-dev libpcre2-dev libinih-dev libcrypt-dev"
pkgs=$build
if [ "${1:-}" = "--test" ]; then
	pkgs="$pkgs $(grep -v '^#' "$here/tests/integration/packages.txt" 2>/dev/null | tr '\n' ' ')"
fi
if [ "${1:-}" = "--bench" ]; then
	pkgs="$pkgs python3 curl wrk nginx-light squid tinyproxy gnuplot-nox golang-go
	      golang-github-google-go-cmp-dev golang-github-pkg-errors-dev
	      golang-github-burntsushi-toml-dev"
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $pkgs

# Kubernetes manifest validation (packaging_tests.py): pinned versions,
# in a directory of their own, never in the source tree.
if [ "${1:-}" = "--test" ]; then
	command -v npm >/dev/null || apt-get install -y -q --no-install-recommends nodejs npm
	node_dir=/usr/local/lib/proxyd-tests
	mkdir -p "$node_dir"
	npm install --prefix "$node_dir" --no-save --no-audit --no-fund --silent \
	    kubernetes-models@5.1.0 js-yaml@4.3.2
fi
