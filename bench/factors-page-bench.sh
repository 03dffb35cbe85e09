#!/usr/bin/env bash
# The factors page at a given size (issue 21): FACTORS generated factors (bench/gen_catalogs.py, the shape `export`
# writes) imported into AIstock's PostgreSQL, served by `rdbridge serve`. Two measures of "stays interactive":
#   the API pages the UI asks for, timed with curl: the first call (cold) and the median and worst of RUNS warm calls
#   — the default page (by how many loops found a factor), a sort by a loop metric, and a name search;
#   the page in Debian's headless Chromium, LOADS times with a fresh profile (bench/factors-page-draw.mjs): first
#   draw (navigation → rows and total drawn), a click on the Loop IC header and a typed search, each until redrawn.
# Usage: bench/factors-page-bench.sh [FACTORS] [LOADS] [RUNS]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
factors="${1:-200000}"; loads="${2:-3}"; runs="${3:-20}"
work="$(mktemp -d /tmp/rdbridge-factors-bench.XXXXXX)"; chmod 755 "$work"
source "$here/scripts/postgres.sh"
cleanup() { [ -n "${serve_pid:-}" ] && kill "$serve_pid" 2>/dev/null; pg_temp_stop; rm -rf "$work"; }
trap cleanup EXIT
# RDBRIDGE_BIN: an already built rdbridge (else ./rdbridge builds once, outside the timings).
if [ -n "${RDBRIDGE_BIN:-}" ]; then
  bin="$RDBRIDGE_BIN"
else
  "$here/rdbridge" --help >/dev/null
  bin="$here/.build/cli/rdbridge"
fi
pg_temp_start

echo "preparing: $factors factors in PostgreSQL …" >&2
"$bin" sample --out "$work/s" --task-runs 1 --loops 2 >/dev/null
psql -X -q -d postgres -c "CREATE DATABASE rd"
python3 - "$work/s/rdbridge.json" "$PGTEST_SERVER;Database=rd" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); c["aistock"]["database"] = sys.argv[2]
json.dump(c, open(sys.argv[1], "w"))
PY
python3 "$here/bench/gen_catalogs.py" "$work/catalogs" "$factors" $(( factors / 20 ))
started=$(date +%s.%N)
"$bin" import --catalogs "$work/catalogs" --config "$work/s/rdbridge.json" >/dev/null
echo "import: $(python3 -c "import sys; print(round($(date +%s.%N) - $started, 1))") s" >&2
psql -X -q -d rd -c "VACUUM ANALYZE"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
"$bin" serve --no-live --urls "http://127.0.0.1:$port" --config "$work/s/rdbridge.json" >"$work/serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/api/health" >/dev/null && break; sleep 0.2; done
base="http://127.0.0.1:$port"
# A name word that matches some factors, as a user would type it.
word="Slope20"

echo "## factors page, $factors factors (PostgreSQL)"
echo
echo "| API page (what the UI asks for) | rows of total | cold ms | warm p50 ms | warm max ms |"
echo "|---|---|---:|---:|---:|"
api() { # LABEL QUERY
  local url="$base/api/rdagent/factors?$2" cold
  cold=$(curl -s -o "$work/page.json" -w '%{time_total}' "$url")
  for _ in $(seq "$runs"); do curl -s -o /dev/null -w '%{time_total}\n' "$url"; done >"$work/warm.txt"
  python3 - "$1" "$cold" "$work/warm.txt" "$work/page.json" <<'PY'
import json, statistics, sys
label, cold, warm, page = sys.argv[1], float(sys.argv[2]), sys.argv[3], json.load(open(sys.argv[4]))
w = [float(x) * 1000 for x in open(warm).read().split()]
print(f"| {label} | {len(page['items'])} of {page['total']:,} | {cold * 1000:.1f} | {statistics.median(w):.1f} "
      f"| {max(w):.1f} |")
PY
}
api "default: by loops that found it" "sort=occurrences&order=desc&page=1&page_size=50"
api "sorted by Loop IC" "sort=ic&order=desc&page=1&page_size=50"
api "name search '$word'" "q=$word&sort=occurrences&order=desc&page=1&page_size=50"
middle=$(( factors / 100 > 1 ? factors / 100 : 1 ))
api "page $middle of the default order" "sort=occurrences&order=desc&page=$middle&page_size=50"

echo
echo "| load | first draw ms | sort by Loop IC ms | search ms (incl. 300 ms typing pause) | rows | total |"
echo "|---|---:|---:|---:|---:|---:|"
for i in $(seq "$loads"); do
  node --experimental-websocket --no-warnings "$here/bench/factors-page-draw.mjs" "$base/rdagent/factors" ic "$word" \
    >"$work/load.json"
  python3 - "$i" "$work/load.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[2]))
print(f"| {sys.argv[1]} | {r['first_draw_ms']} | {r['sort_ms']} | {r['search_ms']} | {r['rows']} | {r['total']:,} |")
PY
done
