#!/bin/sh
# Installs the dependencies, builds, and runs every test: once in a normal
# build, once more with AddressSanitizer and UndefinedBehaviorSanitizer;
# then checks that a distribution's Release build with Debian's hardening
# flags is free of warnings and installs (scripts/check-release.sh).
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh
sh scripts/build.sh build
(cd build && ctest --output-on-failure)
sh scripts/build.sh build-asan -DDNSRADAR_SANITIZE=ON
(cd build-asan &&
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	ctest --output-on-failure)
sh scripts/check-release.sh
