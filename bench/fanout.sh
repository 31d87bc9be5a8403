#!/usr/bin/env bash
# Event fan-out to 1,000 supervisor WebSockets: contactd against a minimal
# coder/websocket hub measured in the same run (bench/cmd/fanout; see
# bench/README.md "Event fan-out"). Not part of make test.
#
# It runs twice: a burst (as fast as the server takes the changes) and a
# steady 20 changes per second.
#
# Settings (environment): FANOUT_CLIENTS (1000), FANOUT_EVENTS (200).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
OUT=$(mktemp -d /tmp/contactd-fanout-bin.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
go build -o "$OUT/contactd" ./cmd/contactd
go build -o "$OUT/fanout" ./bench/cmd/fanout
for rate in 0 20; do
	timeout 900 "$OUT/fanout" -contactd "$OUT/contactd" -config config/demo.yaml \
		-clients "${FANOUT_CLIENTS:-1000}" -events "${FANOUT_EVENTS:-200}" -rate "$rate"
done
