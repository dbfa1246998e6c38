#!/bin/sh
# Install what proxyd needs on Debian 12, as root.
#   install-deps.sh          build dependencies only
#   install-deps.sh --test   also everything the test suite drives
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build="build-essential autoconf automake libtool pkg-config
       libevent-dev libssl-dev libpcre2-dev libinih-dev"
pkgs=$build
if [ "${1:-}" = "--test" ]; then
	pkgs="$pkgs $(grep -v '^#' "$here/tests/integration/packages.txt" 2>/dev/null | tr '\n' ' ')"
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $pkgs
