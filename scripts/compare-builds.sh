#!/usr/bin/env bash
# Checks that two builds of rdbridge write the same output from the same input: before and after a refactor, or
# untrimmed and trimmed. Each input is made once and run by each build in the same folder (the catalogs hold absolute
# paths): the generated sample (seed 7), the upstream-log sample (no registry) and the fork's real catalogs imported.
# The bundles, catalogs and strategy library are compared byte for byte with compare-trees.py (a catalog's
# generated_at_utc aside), the AIstock database row by row with Python's sqlite3, all columns but the bookkeeping
# times (updated_at, imported_at, applied_at, started_at, finished_at) and a catalog copy's file_sha256 (the copy holds
# generated_at_utc).
#   scripts/compare-builds.sh BEFORE_RDBRIDGE AFTER_RDBRIDGE [WORK_DIR]
# One line per comparison; exit code 1 when anything differs.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
a="$1"; b="$2"; work="${3:-$(mktemp -d)}"
fork="$here/../shared/fixtures/real/rdagent-aistock-fork/tmp"
mkdir -p "$work"
differ=0
same() { echo "same: $*"; }
different() { echo "DIFFERENT: $*"; differ=1; }

rows() {
  python3 - "$1" "$2" <<'PY'
import sqlite3, sys
times = {"updated_at", "imported_at", "applied_at", "started_at", "finished_at", "file_sha256"}
def read(path):
    db, out = sqlite3.connect(path), {}
    for (t,) in db.execute("select name from sqlite_master where type = 'table' order by name"):
        cols = [r[1] for r in db.execute(f"pragma table_info('{t}')") if r[1] not in times]
        names = ", ".join(f'"{c}"' for c in cols)
        out[t] = sorted(repr(r) for r in db.execute(f"select {names} from {t}"))
    return out
x, y = read(sys.argv[1]), read(sys.argv[2])
bad = [t for t in sorted(x.keys() | y.keys()) if x.get(t) != y.get(t)]
print(("tables differ: " + ", ".join(bad)) if bad else
      "every table: " + ", ".join(f"{t} {len(r)}" for t, r in x.items() if r))
sys.exit(1 if bad else 0)
PY
}

# Compares what the two builds wrote for one input.
compare() {
  local name="$1" out
  for d in RD-Agent-main/production_bundles RD-Agent-main/rdagent_data AIstock/rdagent_data rd-strategies-lib; do
    # A folder neither build wrote into (the fork's catalogs make no strategy library) has nothing to compare.
    [ -n "$(find "$work/$name-a/$d" "$work/$name-b/$d" -type f 2>/dev/null | head -n 1)" ] || continue
    if out="$(python3 "$here/scripts/compare-trees.py" "$work/$name-a/$d" "$work/$name-b/$d" --except-generated-at)"
    then same "$name $d: $out"; else different "$name $d: $out"; fi
  done
  if out="$(rows "$work/$name-a/AIstock/aistock.db" "$work/$name-b/AIstock/aistock.db")"
  then same "$name database: $out"; else different "$name database: $out"; fi
}

for spec in "sample:" "upstream-log:--flavor upstream --no-registry" "fork-catalogs:"; do
  name="${spec%%:*}"; args="${spec#*:}"
  rm -rf "$work/in" "$work/$name-a" "$work/$name-b"
  # shellcheck disable=SC2086
  "$a" sample --seed 7 --out "$work/in" $args >/dev/null || { different "$name: sample failed"; continue; }
  for side in a b; do
    bin="$a"; [ "$side" = b ] && bin="$b"
    rm -rf "$work/run"; cp -a "$work/in" "$work/run"
    if [ "$name" = fork-catalogs ]; then
      mkdir -p "$work/run/fork" && cp "$fork"/*_catalog.json "$work/run/fork/"
      "$bin" import --catalogs "$work/run/fork" --config "$work/run/rdbridge.json" >"$work/$name-$side.log" 2>&1
    else
      "$bin" init --config "$work/run/rdbridge.json" >"$work/$name-$side.log" 2>&1
    fi
    mv "$work/run" "$work/$name-$side"
  done
  compare "$name"
done
exit "$differ"
