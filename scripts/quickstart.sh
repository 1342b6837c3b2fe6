#!/bin/sh
# Fresh machine to first report: installs the dependencies, builds, and
# analyses the bundled sample capture.
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh
sh scripts/build.sh build
./build/dnsradar analyze samples/sample.pcap
