#!/usr/bin/env bash
# Bundle throughput, side by side in one run on the same generated corpus:
#   RdBridge `bundle` (deterministic tar + gzip -6, manifest hashing, two threads)
#   the guide's Python bundling step (../shared/baselines/seed_bundle.py --files all)
#   GNU `tar | gzip -6 -n` per experiment workspace, two at a time (xargs -P2)
# and RdBridge's peak memory at two corpus sizes. Usage: bench/bundle-bench.sh [LOOPS] [SMALL_LOOPS] [FILE_KB]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
loops="${1:-2000}"; small="${2:-200}"; kb="${3:-64}"
work="$(mktemp -d /tmp/rdbridge-bench.XXXXXX)"
trap 'rm -rf "$work"' EXIT
"$here/rdbridge" --help >/dev/null            # build once, outside the timings
dotnet build "$here/bench/plain-loop/plain-loop.csproj" -c Release -o "$work/plain-bin" -v q -nologo >/dev/null
bin="$here/.build/cli/rdbridge"
seed="$here/../shared/baselines/seed_bundle.py"
now() { date +%s.%N; }

corpus() { # DIR LOOPS
  "$bin" sample --out "$1" --task-runs $(( ($2 + 99) / 100 )) --loops $(( $2 < 100 ? $2 : 100 )) \
    --file-kb "$kb" >/dev/null
}

peak_rss_mb() { # CONFIG -> seconds peak_mb
  local log="$work/time.log" t0 t1
  t0=$(now)
  /usr/bin/time -v "$bin" bundle --config "$1" >/dev/null 2>"$log" || true
  t1=$(now)
  echo "$(echo "$t1 - $t0" | bc) $(( $(grep 'Maximum resident' "$log" | awk '{print $NF}') / 1024 ))"
}

corpus "$work/big" "$loops"
root="$work/big/RD-Agent-main"
# Every tool reads the whole corpus from the page cache: each timed run is preceded by the same full read. (Dropping
# the cache once before RdBridge only, as this script used to, made RdBridge alone read from disk.)
# piped: GNU tar skips reading files when writing to /dev/null
warm() { sync; tar -C "$root" -cf - git_ignore_folder | cat > /dev/null; }

warm
read -r rd_s rd_mb < <(peak_rss_mb "$work/big/rdbridge.json")
rd_in=$(python3 - "$root" <<'PY'
import sqlite3, sys, os
root = sys.argv[1]
db = sqlite3.connect(os.path.join(root, 'RDagentDB/registry.sqlite'))
total = 0
for (path,) in db.execute("SELECT w.workspace_path FROM workspaces w JOIN loops l "
                          "ON l.task_run_id = w.task_run_id AND l.loop_id = w.loop_id WHERE l.has_result = 1"):
    local = os.path.join(root, path.replace('\\', '/').split('RD-Agent-main/', 1)[1])
    for d, _, files in os.walk(local):
        for f in files:
            p = os.path.join(d, f)
            if not os.path.islink(p) and f != 'daily_pv.h5':
                total += os.path.getsize(p)
print(total)
PY
)

warm
py_json=$(python3 "$seed" --root "$root" --path-map "F:/Dev/RD-Agent-main=$root" \
  --path-map "/mnt/f/Dev/RD-Agent-main=$root" --files all --out baseline_bundles)
py_s=$(echo "$py_json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["seconds"])')
py_in=$(echo "$py_json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["input_bytes"])')
py_out=$(echo "$py_json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["output_bytes"])')

python3 - "$root" > "$work/dirs.txt" <<'PY'
import sqlite3, sys, os
root = sys.argv[1]
db = sqlite3.connect(os.path.join(root, 'RDagentDB/registry.sqlite'))
for (path,) in db.execute("SELECT w.workspace_path FROM workspaces w JOIN loops l "
                          "ON l.task_run_id = w.task_run_id AND l.loop_id = w.loop_id WHERE l.has_result = 1 "
                          "AND w.workspace_role = 'experiment_workspace'"):
    print(os.path.join(root, path.replace('\\', '/').split('RD-Agent-main/', 1)[1]))
PY
mkdir -p "$work/tar"
warm
t0=$(now)
xargs -P2 -I{} sh -c 'tar -C "{}" -cf - . | gzip -6 -n > "'"$work"'/tar/$(basename "{}").tar.gz"' < "$work/dirs.txt"
tar_s=$(echo "$(now) - $t0" | bc)
# The issue's reference point: a plain TarWriter + GZipStream loop over two threads (no manifest, hashing, fsync or
# registry).
warm
read -r plain_s plain_in < <("$work/plain-bin/plain-loop" "$work/dirs.txt" "$work/plain" 2)
# Bytes of regular files, as counted for the other two tools (`du -sb` also counted 4 KB per directory, ~9% more).
tar_in=$(xargs -I{} find {} -type f -printf '%s\n' < "$work/dirs.txt" | awk '{s+=$1} END {print s}')
# Compressed bytes, so the table shows that every tool did the same level of compression work.
bytes_of() { find "$1" -type f -name '*.tar.gz' -printf '%s\n' | awk '{s+=$1} END {print s+0}'; }
rd_out=$(bytes_of "$root/production_bundles"); tar_out=$(bytes_of "$work/tar"); plain_out=$(bytes_of "$work/plain")

corpus "$work/small" "$small"
read -r _ small_mb < <(peak_rss_mb "$work/small/rdbridge.json")

python3 - "$loops" "$rd_s" "$rd_in" "$py_s" "$py_in" "$tar_s" "$tar_in" "$small" "$small_mb" "$rd_mb" \
  "$plain_s" "$plain_in" "$rd_out" "$py_out" "$tar_out" "$plain_out" <<'PY'
import sys
(loops, rd_s, rd_in, py_s, py_in, tar_s, tar_in, small, small_mb, rd_mb, plain_s, plain_in,
 rd_out, py_out, tar_out, plain_out) = sys.argv[1:]
def out(o, i): return f"{float(o)/1e6:.0f} ({100*float(o)/float(i):.1f}%)"
pl = float(plain_in) / float(plain_s) / 1e6
rd = float(rd_in) / float(rd_s) / 1e6; py = float(py_in) / float(py_s) / 1e6; tg = float(tar_in) / float(tar_s) / 1e6
print(f"| corpus | tool | seconds | input MB | output MB | MB/s | RdBridge ÷ tool |")
print(f"|---|---|---:|---:|---:|---:|---:|")
print(f"| {loops} loops | RdBridge bundle | {float(rd_s):.2f} | {float(rd_in)/1e6:.0f} | {out(rd_out, rd_in)} "
      f"| {rd:.1f} | 1.00 |")
print(f"| {loops} loops | seed_bundle.py --files all | {float(py_s):.2f} | {float(py_in)/1e6:.0f} "
      f"| {out(py_out, py_in)} | {py:.1f} | {rd/py:.2f}× |")
print(f"| {loops} loops | tar \\| gzip -6 -n, xargs -P2 | {float(tar_s):.2f} | {float(tar_in)/1e6:.0f} "
      f"| {out(tar_out, tar_in)} | {tg:.1f} | {rd/tg:.2f}× |")
print(f"| {loops} loops | plain TarWriter + GZipStream, 2 threads (reference, {pl/py:.2f}× the Python script) "
      f"| {float(plain_s):.2f} | {float(plain_in)/1e6:.0f} | {out(plain_out, plain_in)} | {pl:.1f} | {rd/pl:.2f}× |")
print()
print(f"RdBridge peak RSS: {small_mb} MB at {small} loops, {rd_mb} MB at {loops} loops")
PY
