#!/bin/sh
# Configures and builds dnsradar into build/ (or the directory given), with
# -Werror (DNSRADAR_WERROR, off by default for users' builds: CI and the
# project's scripts build through here). Extra arguments go to cmake, e.g.
# -DDNSRADAR_SANITIZE=ON.
set -eu
cd "$(dirname "$0")/.."
dir=${1:-build}
[ $# -gt 0 ] && shift
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDNSRADAR_WERROR=ON "$@" >/dev/null
cmake --build "$dir" -j "$(nproc)"
