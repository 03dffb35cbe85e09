#!/usr/bin/env bash
# What a sync that finds nothing to do costs next to the init before it, on one generated sample, in one run:
#   rdbridge sample --task-runs T --loops L   (default 10 x 100 = 1,000 loops)
#   rdbridge init, then rdbridge sync twice (the first no-op sync and a second one, to show it is steady)
# Prints wall-clock and CPU (user + system) seconds of each and the no-op sync's share of init. Target: at most 5%,
# goal 2%. Wall-clock is what a user waits; CPU time is the steadier figure on a machine shared with other work.
# Usage: bench/noop-sync-bench.sh [TASK_RUNS] [LOOPS_PER_TASK_RUN]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
task_runs="${1:-10}"; loops="${2:-100}"
work="$(mktemp -d /tmp/rdbridge-noop-bench.XXXXXX)"
trap 'rm -rf "$work"' EXIT
"$here/rdbridge" --help >/dev/null            # build once, outside the timings
bin="$here/.build/cli/rdbridge"

"$bin" sample --out "$work/s" --task-runs "$task_runs" --loops "$loops" >/dev/null
config="$work/s/rdbridge.json"

timed() { # NAME VERB -> "NAME wall cpu" on stdout; the verb's own output goes to $work/NAME.out
  local name="$1" verb="$2" t0 t1
  t0=$(date +%s.%N)
  /usr/bin/time -f '%U %S' -o "$work/$name.time" "$bin" "$verb" --config "$config" >"$work/$name.out" 2>&1 \
    || { echo "$verb failed:" >&2; tail -20 "$work/$name.out" >&2; exit 1; }
  t1=$(date +%s.%N)
  read -r user sys < "$work/$name.time"
  echo "$name $(echo "$t1 - $t0" | bc) $(echo "$user + $sys" | bc)"
}

init=$(timed init init)
sync1=$(timed sync sync)
sync2=$(timed sync-again sync)
if ! grep -q "nothing changed" "$work/sync.out"; then
  echo "the sync after init changed something:" >&2; cat "$work/sync.out" >&2; exit 1
fi

loops_total=$(grep -o '[0-9]* loops unchanged' "$work/sync.out" | awk '{print $1}')
echo "sample: $task_runs task runs x $loops loops ($loops_total loops in the registry)"
printf '%-12s %10s %10s %12s %12s\n' run wall_s cpu_s wall_vs_init cpu_vs_init
read -r _ init_wall init_cpu <<<"$init"
for row in "$init" "$sync1" "$sync2"; do
  read -r name wall cpu <<<"$row"
  printf '%-12s %10.2f %10.2f %11.1f%% %11.1f%%\n' "$name" "$wall" "$cpu" \
    "$(echo "100 * $wall / $init_wall" | bc -l)" "$(echo "100 * $cpu / $init_cpu" | bc -l)"
done
