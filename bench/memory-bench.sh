#!/usr/bin/env bash
# Peak memory (RSS, from /usr/bin/time -v) of `init` on generated samples of increasing size, and of `export` and
# `verify` run alone on the result, side by side. Usage: bench/memory-bench.sh [LOOPS ...] (default: 200 2000)
# Memory should stay flat: what RdBridge holds is bounded by one loop (or one batch), never by the number of loops.
# The last column is each init peak as a ratio of the first (smallest) size's: 1.00 is flat. Target: under 200 MB.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
sizes=("$@"); [ ${#sizes[@]} -gt 0 ] || sizes=(200 2000)
work="$(mktemp -d /tmp/rdbridge-memory.XXXXXX)"
trap 'rm -rf "$work"' EXIT
# RDBRIDGE_BIN measures another build (a copy of .build/cli kept from before a change) for a side-by-side table.
if [ -n "${RDBRIDGE_BIN:-}" ]; then
  bin="$RDBRIDGE_BIN"
else
  "$here/rdbridge" --help >/dev/null          # build once, outside the measurements
  bin="$here/.build/cli/rdbridge"
fi

measure() { # LOG COMMAND... -> "peak_mb seconds"
  local log="$1"; shift
  /usr/bin/time -v "$@" >/dev/null 2>"$log" || true
  local kb wall
  kb=$(grep 'Maximum resident' "$log" | awk '{print $NF}')
  wall=$(grep 'Elapsed (wall clock)' "$log" | awk '{print $NF}')
  echo "$(( kb / 1024 )) $wall"
}

printf '%-7s | %-15s | %-9s | %-17s | %-17s | %s\n' \
  loops "init peak (MB)" "init time" "export alone (MB)" "verify alone (MB)" "init vs first"
printf '%s\n' "--------|-----------------|-----------|-------------------|-------------------|--------------"
first=
for n in "${sizes[@]}"; do
  dir="$work/s$n"
  "$bin" sample --out "$dir" --task-runs $(( (n + 99) / 100 )) --loops $(( n < 100 ? n : 100 )) >/dev/null
  read -r init_mb init_t < <(measure "$work/init.log" "$bin" init --config "$dir/rdbridge.json")
  read -r export_mb _ < <(measure "$work/export.log" "$bin" export --config "$dir/rdbridge.json")
  read -r verify_mb _ < <(measure "$work/verify.log" "$bin" verify --config "$dir/rdbridge.json")
  [ -n "$first" ] || first=$init_mb
  ratio=$(awk -v a="$init_mb" -v b="$first" 'BEGIN { printf "%.2f", a / b }')
  printf '%-7s | %-15s | %-9s | %-17s | %-17s | %s\n' "$n" "$init_mb" "$init_t" "$export_mb" "$verify_mb" "$ratio"
  rm -rf "$dir"
done
