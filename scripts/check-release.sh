#!/bin/sh
# Builds dnsradar the way a distribution does: a fresh Release configure
# with Debian's hardening flags (dpkg-buildflags, hardening=+all) and the
# project's default of no -Werror, fails on any compiler warning, then
# stages `cmake --install` into a DESTDIR and checks the binary and the
# man page are there and the binary runs. Once per compiler found (gcc,
# clang). Usage: sh scripts/check-release.sh [WORKDIR] (default: a
# temporary directory, removed afterwards).
set -eu
cd "$(dirname "$0")/.."
src=$(pwd)
work=${1:-}
if [ -z "$work" ]; then
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$work"
command -v dpkg-buildflags >/dev/null || {
	echo "check-release: dpkg-buildflags not found (Debian's dpkg-dev)" >&2
	exit 1
}
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
cflags="$(dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS)"
ldflags="$(dpkg-buildflags --get LDFLAGS)"

for cc in gcc clang; do
	command -v "$cc" >/dev/null || { echo "SKIP $cc: not installed"; continue; }
	build="$work/build-$cc" stage="$work/stage-$cc"
	rm -rf "$build" "$stage"
	CC=$cc CFLAGS="$cflags" LDFLAGS="$ldflags" cmake -S "$src" -B "$build" \
		-DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr >"$work/configure-$cc.log"
	# a user's build does not turn warnings into errors
	grep -q '^DNSRADAR_WERROR:BOOL=OFF$' "$build/CMakeCache.txt" || {
		echo "FAIL $cc: DNSRADAR_WERROR is not OFF by default" >&2
		exit 1
	}
	cmake --build "$build" -j "$(nproc)" >"$work/build-$cc.log" 2>&1 || {
		cat "$work/build-$cc.log" >&2
		echo "FAIL $cc: the Release build failed" >&2
		exit 1
	}
	if grep -q 'warning:' "$work/build-$cc.log"; then
		grep -A3 'warning:' "$work/build-$cc.log" >&2
		echo "FAIL $cc: the Release build with $cflags warns" >&2
		exit 1
	fi
	DESTDIR="$stage" cmake --install "$build" >"$work/install-$cc.log"
	for f in usr/bin/dnsradar usr/share/man/man1/dnsradar.1; do
		[ -f "$stage/$f" ] || { echo "FAIL $cc: $f not staged" >&2; exit 1; }
	done
	"$stage/usr/bin/dnsradar" --version >/dev/null
	# the hardening reached the binary: full RELRO and a PIE, if readelf is here
	if command -v readelf >/dev/null; then
		readelf -d "$stage/usr/bin/dnsradar" | grep -q 'BIND_NOW\|FLAGS.*NOW' || {
			echo "FAIL $cc: not linked with -z now" >&2
			exit 1
		}
	fi
	echo "ok   $cc: Release with dpkg-buildflags, no warnings, staged usr/bin/dnsradar" \
		"and usr/share/man/man1/dnsradar.1"
done
