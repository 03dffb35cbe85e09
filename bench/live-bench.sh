#!/usr/bin/env bash
# Live sync latency: seconds from RD-Agent's last write of a finished loop to the loop in AIstock's API, with
# `rdbridge serve` watching (no cron, no button), on one machine and publisher -> consumer over HTTP.
# Usage: bench/live-bench.sh [LOOPS] [ROUNDS]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
loops="${1:-12}"; rounds="${2:-5}"
work="$(mktemp -d /tmp/rdbridge-live-bench.XXXXXX)"
trap 'rm -rf "$work"' EXIT
"$here/rdbridge" --help >/dev/null
python3 "$here/bench/live_latency.py" "$here/.build/cli/rdbridge" "$work" "$loops" "$rounds"
