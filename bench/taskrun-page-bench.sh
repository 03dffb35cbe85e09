#!/usr/bin/env bash
# The task-run page at a given size (issue 21, issue 22.3): one generated task run of L loops after init, served by
# rdbridge, opened N times in Debian's headless Chromium. For each load the page itself records the milliseconds
# from the curves' arrival to a drawn chart (data-draw-ms) and how many requests it made for curves
# (data-curve-requests); the script also times the curves request alone with curl, cold (first read of every
# backtest report) and warm. Target: the chart drawn within 500 ms after the data arrives, one request.
# Usage: bench/taskrun-page-bench.sh [LOOPS] [LOADS]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
loops="${1:-150}"; loads="${2:-5}"
work="$(mktemp -d /tmp/rdbridge-taskrun-bench.XXXXXX)"
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT
# RDBRIDGE_BIN: an already built rdbridge (else ./rdbridge builds once, outside the timings).
if [ -n "${RDBRIDGE_BIN:-}" ]; then
  bin="$RDBRIDGE_BIN"
else
  "$here/rdbridge" --help >/dev/null
  bin="$here/.build/cli/rdbridge"
fi

"$bin" sample --out "$work/s" --task-runs 1 --loops "$loops" --flavor upstream >/dev/null
"$bin" init --config "$work/s/rdbridge.json" >"$work/init.out" 2>&1 || { tail -20 "$work/init.out" >&2; exit 1; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin" serve --config "$work/s/rdbridge.json" --urls "http://127.0.0.1:$port" >"$work/serve.out" 2>&1 &
server=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/api/health" >/dev/null && break; sleep 0.1; done
run=$(curl -s "http://127.0.0.1:$port/api/rdagent/task-runs" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["task_runs"][0]["task_run_id"])')

curl_time() {
  curl -s -o "$work/curves.json" -w '%{time_total}' "http://127.0.0.1:$port/api/rdagent/task-runs/$run/curves"
}
cold=$(curl_time); warm=$(curl_time)
bytes=$(stat -c %s "$work/curves.json")
lines=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["curves"]))' "$work/curves.json")
echo "task run $run: $loops loops, $lines curves; curves request: cold ${cold}s, warm ${warm}s, $bytes bytes"

printf '%-6s %10s %16s %8s %10s\n' load draw_ms curve_requests lines load_ms
for i in $(seq "$loads"); do
  node --experimental-websocket --no-warnings "$here/bench/taskrun-page-draw.mjs" \
    "http://127.0.0.1:$port/rdagent/runs/$run" >"$work/load.json"
  python3 - "$i" "$work/load.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[2]))
print(f"{sys.argv[1]:<6} {r['draw_ms']:>10} {r['curve_requests']:>16} {r['lines']:>8} {r['load_ms']:>10}")
PY
done
