#!/usr/bin/env bash
# First import into SQLite, side by side in one run on the same rows:
#   RdBridge `import` of the four catalogs (FACTORS factors, LOOPS loops with one model and one strategy each) into a
#   new database (the whole process: start-up, JSON parsing, mapping, hashing, the commit);
#   Python's sqlite3 `executemany` of the very rows RdBridge stored — the four catalog tables and the factor
#   provenance table — read beforehand (not timed), into a new database with the same schema (tables, indexes,
#   triggers, the search index), one transaction, the same journal mode (WAL); and the same again building the factor
#   table's secondary and search indexes after its rows, as RdBridge's first import of a large catalog does (the
#   fairest measure of what RdBridge adds to SQLite's own work).
# Then the file size per factor. Usage: bench/sqlite-import-bench.sh [FACTORS] [LOOPS] [RUNS]
# RDBRIDGE_BIN measures another build than this tree's (a copy of .build/cli); RDBRIDGE_BEFORE=<a copy of .build/cli
# from before a change> imports too, in each run just before this build, so before and after are interleaved under the
# same load and compared with the same executemany (which copies the rows and schema of this build's database).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
factors="${1:-200000}"; loops="${2:-10000}"; runs="${3:-3}"
work="$(mktemp -d /tmp/rdbridge-sqlite-import-bench.XXXXXX)"
trap 'rm -rf "$work"' EXIT
if [ -n "${RDBRIDGE_BIN:-}" ]; then
  bin="$RDBRIDGE_BIN"
else
  "$here/rdbridge" --help >/dev/null            # build once, outside the timings
  bin="$here/.build/cli/rdbridge"
fi
before="${RDBRIDGE_BEFORE:-}"
now() { date +%s.%N; }

echo "generating $factors factors over $loops loops …" >&2
python3 "$here/bench/gen_catalogs.py" "$work/catalogs" "$factors" "$loops"
"$bin" sample --out "$work/s" --task-runs 1 --loops 1 >/dev/null
rows=$(( factors + 3 * loops ))

rd_import() { # RUN BINARY -> seconds cpu_seconds peak_mb database
  local db="$work/rd$1.db" log="$work/time.log" t0 t1
  rm -f "$db"*
  python3 - "$work/s/rdbridge.json" "$db" "$work/cfg$1.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); c["aistock"]["database"] = sys.argv[2]; json.dump(c, open(sys.argv[3], "w"))
PY
  sync
  t0=$(now)
  /usr/bin/time -v "$2" import --catalogs "$work/catalogs" --config "$work/cfg$1.json" >"$work/import.out" 2>"$log"
  t1=$(now)
  grep -q "factors inserted" "$work/import.out" || { cat "$work/import.out" "$log" >&2; exit 1; }
  local cpu
  cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {print s}' "$log")
  echo "$(echo "$t1 - $t0" | bc) $cpu $(( $(grep 'Maximum resident' "$log" | awk '{print $NF}') / 1024 )) $db"
}

py_import() { # SOURCE_DB RUN [after] -> seconds cpu_seconds
  sync
  rm -f "$work/py$2.db"*
  python3 - "$1" "$work/py$2.db" "${3:-}" <<'PY'
import sqlite3, sys, time
src, dst, after = sys.argv[1:]
CATALOGS = ["aistock_factor_catalog", "aistock_model_catalog", "aistock_strategy_catalog", "aistock_loop_catalog"]
TABLES = CATALOGS + ["aistock_factor_provenance"]
s = sqlite3.connect(src)
# The schema as RdBridge made it, bar FTS5's own shadow tables (its virtual table makes them).
schema = s.execute("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' "
                   "ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 ELSE 2 END, rowid").fetchall()
shadow = [n for t, n, q in schema if t == "table" and q.upper().startswith("CREATE VIRTUAL TABLE")]
schema = [(t, n, q) for t, n, q in schema if not any(n.startswith(v + "_") for v in shadow)]
data = {}
for t in TABLES:
    cols = [r[1] for r in s.execute(f"PRAGMA table_info({t})")]
    data[t] = (cols, s.execute(f"SELECT {', '.join(cols)} FROM {t}").fetchall())
d = sqlite3.connect(dst, isolation_level=None)
d.execute("PRAGMA journal_mode = WAL")
for t, n, q in schema:
    d.execute(q)
# The version rows the import's triggers count up, as a new database has them.
d.executemany("INSERT INTO rdbridge_table_versions VALUES (?, 0)", [(t,) for t in CATALOGS])
t0, c0 = time.perf_counter(), time.process_time()
d.execute("BEGIN IMMEDIATE")
later = []
if after:
    for t, n, q in schema:
        secondary = t == "index" and not q.upper().startswith("CREATE UNIQUE")
        if secondary and q.split(" ON ")[1].startswith(TABLES[0] + "(") or n == "trg_aistock_factor_search_insert":
            d.execute(f"DROP {t.upper()} {n}")
            later.append((t, q))
for t in TABLES:
    cols, rows = data[t]
    d.executemany(f"INSERT INTO {t} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", rows)
if later:
    d.execute("INSERT INTO aistock_factor_search(aistock_factor_search) VALUES ('rebuild')")
for t, q in later:
    d.execute(q)
d.execute("COMMIT")
print(f"{time.perf_counter() - t0:.3f} {time.process_time() - c0:.3f}")
for t in TABLES:
    a = s.execute(f"SELECT count(*) FROM {t}").fetchone()[0]; b = d.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
    assert a == b, (t, a, b)
PY
}

# On a shared machine wall time is mostly the scheduler's; CPU time (user + system) is the steadier figure.
echo "| run | build | RdBridge import s (CPU s) | executemany s (CPU s) | RdBridge ÷ executemany, wall (CPU)" \
  "| RdBridge peak MB | executemany, indexes after, s (CPU s) | RdBridge ÷ that, wall (CPU) |"
echo "|---:|---|---:|---:|---:|---:|---:|---:|"
row() { # RUN BUILD rd_s rd_cpu rd_mb
  printf '| %d | %s | %.2f (%.2f) | %.2f (%.2f) | %.2f× (%.2f×) | %d | %.2f (%.2f) | %.2f× (%.2f×) |\n' "$1" "$2" \
    "$3" "$4" "$py_s" "$py_cpu" "$(echo "$py_s / $3" | bc -l)" "$(echo "$py_cpu / $4" | bc -l)" \
    "$5" "$pa_s" "$pa_cpu" "$(echo "$pa_s / $3" | bc -l)" "$(echo "$pa_cpu / $4" | bc -l)"
}
for run in $(seq 1 "$runs"); do
  if [ -n "$before" ]; then
    read -r b_s b_cpu b_mb b_db < <(rd_import "b$run" "$before")
    rm -f "$b_db"*
  fi
  read -r rd_s rd_cpu rd_mb db < <(rd_import "$run" "$bin")
  read -r py_s py_cpu < <(py_import "$db" "$run")
  read -r pa_s pa_cpu < <(py_import "$db" "$run" after)
  [ -z "$before" ] || row "$run" before "$b_s" "$b_cpu" "$b_mb"
  row "$run" "$([ -n "$before" ] && echo after || echo this)" "$rd_s" "$rd_cpu" "$rd_mb"
  rm -f "$work/py$run.db"*
  [ "$run" = "$runs" ] || rm -f "$db"*
done
sqlite3 "$db" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
size=$(stat -c %s "$db")
echo
echo "$factors factors + $loops loops, models and strategies = $rows rows;" \
  "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "database: $(( size / 1048576 )) MB, $(( size / factors )) bytes a factor"
sqlite3 "$db" "SELECT name, sum(pgsize) / 1048576 FROM dbstat GROUP BY name ORDER BY 2 DESC LIMIT 8" 2>/dev/null \
  | sed 's/^/  /' || true
