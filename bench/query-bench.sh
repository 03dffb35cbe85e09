#!/usr/bin/env bash
# Every filter x sort the consumer API offers, on 200,000 factors (10,000 loops, models and strategies), in SQLite and
# in PostgreSQL: p50/p99 per shape with one client and with four, against the targets (p99 < 20 ms / < 50 ms), and
# the rows each shape's statements read against the rows they return (a figure the machine's load does not change).
# Usage: bench/query-bench.sh [FACTORS] [REQUESTS] [sqlite|postgres|both]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
factors="${1:-200000}"; requests="${2:-40}"; stores="${3:-both}"
work="$(mktemp -d /tmp/rdbridge-query-bench.XXXXXX)"; chmod 755 "$work"
source "$here/scripts/postgres.sh"
cleanup() {
  [ -n "${serve_pid:-}" ] && kill "$serve_pid" 2>/dev/null; [ -n "${pg:-}" ] && pg_temp_stop; rm -rf "$work"
}
trap cleanup EXIT
# RDBRIDGE_BIN measures another build (a copy of .build/cli kept from before a change), for a side-by-side table.
if [ -n "${RDBRIDGE_BIN:-}" ]; then
  bin="$RDBRIDGE_BIN"
else
  "$here/rdbridge" --help >/dev/null
  bin="$here/.build/cli/rdbridge"
fi
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
"$bin" sample --out "$work/s" --task-runs 1 --loops 4 >/dev/null
python3 "$here/bench/gen_catalogs.py" "$work/catalogs" "$factors" $(( factors / 20 ))

run_store() { # NAME DATABASE
  python3 - "$work/s/rdbridge.json" "$2" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); c["aistock"]["database"] = sys.argv[2]; c["server"] = {"publishInterval": 0}
json.dump(c, open(sys.argv[1], "w"))
PY
  "$bin" import --catalogs "$work/catalogs" --config "$work/s/rdbridge.json" >/dev/null
  if [ "$1" = PostgreSQL ]; then psql -X -q -d rd -c "VACUUM ANALYZE"; fi
  local port; port=$(free_port)
  # The server writes every statement a page runs to the trace; query_shapes.py counts the rows each one reads.
  RDBRIDGE_QUERY_TRACE="$work/trace.jsonl" "$bin" serve --role consumer --no-live --urls "http://127.0.0.1:$port" \
    --config "$work/s/rdbridge.json" >"$work/serve.log" 2>&1 &
  serve_pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/api/health" >/dev/null && break; sleep 0.2; done
  local db=(--sqlite "$2"); [ "$1" = PostgreSQL ] && db=(--postgres rd)
  python3 "$here/bench/query_shapes.py" "http://127.0.0.1:$port" "$requests" "$1, $factors factors" \
    --trace "$work/trace.jsonl" "${db[@]}" || true
  kill "$serve_pid"; wait "$serve_pid" 2>/dev/null || true; serve_pid=
}

if [ "$stores" != postgres ]; then run_store SQLite "$work/s/AIstock/aistock.db"; fi
if [ "$stores" != sqlite ]; then
  pg_temp_start; pg=1
  psql -X -q -d postgres -c "CREATE DATABASE rd"
  run_store PostgreSQL "$PGTEST_SERVER;Database=rd"
fi
