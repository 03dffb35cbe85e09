#!/usr/bin/env bash
# Discovery from RD-Agent's log: an upstream RD-Agent directory (no registry) with TASK_RUNS task runs × LOOPS loops
# and NOISE debug_llm pickles per loop, written by the test fixture (tests/RdBridge.Tests/Discovery/write_log.py, real
# CPython pickles). Times `rdbridge discover` the first time (creates the registry, reads every loop) and again with
# nothing changed, with peak RSS for both, and peak RSS on a log a fifth that size (memory must not grow with the log).
# Targets (issue 14): first < 10 s, unchanged < 1 s, peak RSS flat. Needs /usr/bin/python3 with pandas
# (apt-get install python3-pandas). Usage: bench/discover-bench.sh [TASK_RUNS] [LOOPS] [NOISE]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs="${1:-50}"; loops="${2:-30}"; noise="${3:-200}"
work="$(mktemp -d /tmp/rdbridge-discover-bench.XXXXXX)"
trap 'rm -rf "$work"' EXIT
"$here/rdbridge" --help >/dev/null            # build once, outside the timings
bin="$here/.build/cli/rdbridge"
now() { date +%s.%N; }

corpus() { # DIR TASK_RUNS
  mkdir -p "$1/RD-Agent-main" "$1/AIstock"
  local specs=() i
  for ((i = 0; i < $2; i++)); do
    specs+=("head:fin_quant:$loops:$(printf '2025-07-%02d_08-30-12-%06d' $((i % 28 + 1)) "$i")")
  done
  /usr/bin/python3 "$here/tests/RdBridge.Tests/Discovery/write_log.py" "$1/RD-Agent-main" "${specs[@]}" \
    --noise "$noise" --running >/dev/null
  printf '{ "rdagent": { "root": "RD-Agent-main" }, "aistock": { "root": "AIstock" } }\n' >"$1/rdbridge.json"
}

run() { # CONFIG -> "seconds cpu_seconds peak_mb"
  local log="$work/time.log" t0 t1
  t0=$(now)
  /usr/bin/time -v "$bin" discover --config "$1" >"$work/out.txt" 2>"$log" \
    || { cat "$work/out.txt" "$log" >&2; exit 1; }
  t1=$(now)
  local cpu; cpu=$(awk -F': ' '/User time|System time/ { s += $2 } END { print s }' "$log")
  echo "$(echo "$t1 - $t0" | bc) $cpu $(( $(grep 'Maximum resident' "$log" | awk '{print $NF}') / 1024 ))"
}

small=$(( runs / 5 > 0 ? runs / 5 : 1 ))
t0=$(now); corpus "$work/big" "$runs"; t1=$(now)
files=$(find "$work/big/RD-Agent-main/log" -type f | wc -l)
llm=$(find "$work/big/RD-Agent-main/log" -path '*/debug_llm/*' -type f | wc -l)
mb=$(du -sm "$work/big/RD-Agent-main/log" | cut -f1)
echo "log: $runs task runs × $loops loops, $files files ($llm debug_llm), $mb MB;" \
  "written in $(echo "$t1 - $t0" | bc) s"
corpus "$work/small" "$small"
sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true
read -r first first_cpu first_mb < <(run "$work/big/rdbridge.json")
grep '^\[discover\]' "$work/out.txt"
read -r again again_cpu again_mb < <(run "$work/big/rdbridge.json")
grep '^\[discover\]' "$work/out.txt"
read -r small_s small_cpu small_mb < <(run "$work/small/rdbridge.json")
# Wall time counts waiting for a busy machine too; CPU time (user + system) is the work done.
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
printf '%-44s %8s %8s %10s\n' "run" "seconds" "CPU s" "peak MB"
printf '%-44s %8.2f %8.2f %10s\n' "first discovery ($runs × $loops loops)" "$first" "$first_cpu" "$first_mb"
printf '%-44s %8.2f %8.2f %10s\n' "again, nothing changed" "$again" "$again_cpu" "$again_mb"
printf '%-44s %8.2f %8.2f %10s\n' "first discovery, $small × $loops loops" "$small_s" "$small_cpu" "$small_mb"
