#!/usr/bin/env bash
# Peak memory (RSS, /usr/bin/time -v) of `import` alone into a new SQLite database, on catalogs of LOOPS loops with 20
# factors each written by bench/gen_catalogs.py, for each size given; the last column is each peak over the first
# size's (1.00 is flat). RDBRIDGE_BIN measures another build (a copy of .build/cli kept from before a change) on the
# same catalogs, for a side-by-side table. Usage: bench/import-memory-bench.sh [LOOPS ...] (default: 200 10000)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
sizes=("$@"); [ ${#sizes[@]} -gt 0 ] || sizes=(200 10000)
work="$(mktemp -d /tmp/rdbridge-import-memory.XXXXXX)"
trap 'rm -rf "$work"' EXIT
bins=("$here/.build/cli/rdbridge")
"$here/rdbridge" --help >/dev/null          # build once, outside the measurements
[ -z "${RDBRIDGE_BIN:-}" ] || bins=("$RDBRIDGE_BIN" "${bins[@]}")
"${bins[0]}" sample --out "$work/s" --task-runs 1 --loops 1 >/dev/null
printf '%-7s | %-8s | %-12s | %s\n' loops factors "peak MB" "vs first"
declare -A first
for n in "${sizes[@]}"; do
  python3 "$here/bench/gen_catalogs.py" "$work/c" $(( n * 20 )) "$n"
  for bin in "${bins[@]}"; do
    rm -rf "$work/run"; cp -a "$work/s" "$work/run"
    /usr/bin/time -v "$bin" import --catalogs "$work/c" --config "$work/run/rdbridge.json" >/dev/null 2>"$work/t"
    mb=$(( $(grep 'Maximum resident' "$work/t" | awk '{print $NF}') / 1024 ))
    [ -n "${first[$bin]:-}" ] || first[$bin]=$mb
    printf '%-7s | %-8s | %-12s | %s  %s\n' "$n" $(( n * 20 )) "$mb" \
      "$(awk -v a="$mb" -v b="${first[$bin]}" 'BEGIN { printf "%.2f", a / b }')" "$bin"
  done
  rm -rf "$work/c"
done
