#!/bin/sh
# Install everything dnsradar needs to build, test, fuzz and benchmark on
# Debian 12. Idempotent: packages already present are left alone.
set -eu

PKGS="build-essential dpkg-dev binutils cmake pkg-config clang libclang-rt-14-dev \
libpcap-dev libpsl-dev publicsuffix libxxhash-dev libmaxminddb-dev zlib1g-dev libzstd-dev \
tshark tcpdump python3 gzip zstd bind9 dnsperf \
softflowd pmacct nfdump tcpreplay iproute2 \
libsqlite3-dev sqlite3 libmicrohttpd-dev libcurl4-openssl-dev libsystemd-dev libcap-ng-dev \
fail2ban nftables libnftables-dev libjansson-dev ipset iptables exabgp gobgpd bird2 \
clickhouse-server clickhouse-client"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer no without a prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" |
	$SUDO debconf-set-selections
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
