#!/usr/bin/env bash
# Import throughput into PostgreSQL, side by side in one run on the same rows (a throwaway PostgreSQL 15 server):
#   RdBridge `import` of the four catalogs (FACTORS factors, LOOPS loops with one model and one strategy each)
#   psql `\copy` of the very same rows into tables with the same keys and indexes (the physical limit)
#   multi-row INSERT … ON CONFLICT DO UPDATE, 100 rows a statement, one transaction (what the Python ETL did)
#   RdBridge re-importing the unchanged catalogs; the same records in rewritten files; 10% of the factors changed.
# Usage: bench/import-bench.sh [FACTORS] [LOOPS]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
factors="${1:-200000}"; loops="${2:-10000}"
work="$(mktemp -d /tmp/rdbridge-import-bench.XXXXXX)"
source "$here/scripts/postgres.sh"
trap 'pg_temp_stop; rm -rf "$work"' EXIT
pg_temp_start
"$here/rdbridge" --help >/dev/null            # build once, outside the timings
bin="$here/.build/cli/rdbridge"
now() { date +%s.%N; }
q() { psql -X -q -v ON_ERROR_STOP=1 -d rd "$@"; }

echo "generating $factors factors over $loops loops …" >&2
python3 "$here/bench/gen_catalogs.py" "$work/catalogs" "$factors" "$loops"
"$bin" sample --out "$work/s" --task-runs 1 --loops 1 >/dev/null
python3 - "$work/s/rdbridge.json" "$PGTEST_SERVER;Database=rd" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); c["aistock"]["database"] = sys.argv[2]; json.dump(c, open(sys.argv[1], "w"))
PY
psql -X -q -d postgres -c "CREATE DATABASE rd"
rows=$(( factors + 3 * loops ))

timed_import() { # DIR -> seconds peak_mb
  local log="$work/time.log" t0 t1
  q -c CHECKPOINT; sync
  t0=$(now)
  /usr/bin/time -v "$bin" import --catalogs "$1" --config "$work/s/rdbridge.json" >"$work/import.out" 2>"$log"
  t1=$(now)
  echo "$(echo "$t1 - $t0" | bc) $(( $(grep 'Maximum resident' "$log" | awk '{print $NF}') / 1024 ))"
}

read -r first_s first_mb < <(timed_import "$work/catalogs")
grep -q "factors inserted" "$work/import.out" || { cat "$work/import.out" >&2; exit 1; }
read -r again_s again_mb < <(timed_import "$work/catalogs")

# The same records in files written differently: every record is read and compared, nothing is written.
mkdir -p "$work/rewritten" "$work/changed"
python3 - "$work/catalogs" "$work/rewritten" "$work/changed" <<'PY'
import json, os, sys
src, same, changed = sys.argv[1:]
for name in os.listdir(src):
    doc = json.load(open(os.path.join(src, name), encoding="utf-8"))
    json.dump(doc, open(os.path.join(same, name), "w", encoding="utf-8"), ensure_ascii=False, indent=1)
    if name == "factor_catalog.json":
        for i, f in enumerate(doc["factors"]):
            if i % 10 == 0: f["description_cn"] = (f.get("description_cn") or "") + "（修订）"
    json.dump(doc, open(os.path.join(changed, name), "w", encoding="utf-8"), ensure_ascii=False)
PY
read -r same_s same_mb < <(timed_import "$work/rewritten")
read -r changed_s changed_mb < <(timed_import "$work/changed")

# The baselines get the rows RdBridge stored in the first import, in tables with the same columns, keys and indexes.
tables="aistock_factor_catalog aistock_model_catalog aistock_strategy_catalog aistock_loop_catalog"
declare -A keys=([aistock_factor_catalog]=factor_id [aistock_model_catalog]=model_id \
  [aistock_strategy_catalog]=strategy_id [aistock_loop_catalog]=task_run_id,loop_id)
psql -X -q -d postgres -c "CREATE DATABASE rd_first"
# Re-create the first import's rows: import the original catalogs into a fresh database and dump them.
python3 - "$work/s/rdbridge.json" "$PGTEST_SERVER;Database=rd_first" "$work/first.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); c["aistock"]["database"] = sys.argv[2]; json.dump(c, open(sys.argv[3], "w"))
PY
"$bin" import --catalogs "$work/catalogs" --config "$work/first.json" >/dev/null
for t in $tables; do
  psql -X -q -d rd_first -c "\\copy $t TO '$work/$t.txt'"
  cols=$(psql -X -At -d rd_first -c "SELECT string_agg(column_name, ',' ORDER BY ordinal_position)
    FROM information_schema.columns WHERE table_name = '$t' AND table_schema = 'public'")
  python3 "$here/bench/copy_to_sql.py" "$work/$t.txt" "upsert_base.$t" "${keys[$t]}" "$cols" 100 > "$work/$t.sql"
done
q -c "CREATE SCHEMA copy_base; CREATE SCHEMA copy_pk; CREATE SCHEMA upsert_base;"
for t in $tables; do
  q -c "CREATE TABLE copy_base.$t (LIKE public.$t INCLUDING ALL);
    CREATE TABLE upsert_base.$t (LIKE public.$t INCLUDING ALL);"
  # The issue's literal limit: the same rows into a table with only the primary key (no search or sort indexes).
  q -c "CREATE TABLE copy_pk.$t (LIKE public.$t INCLUDING DEFAULTS);
    ALTER TABLE copy_pk.$t ADD PRIMARY KEY (${keys[$t]});"
done

q -c CHECKPOINT; sync
t0=$(now)
for t in $tables; do echo "\\copy copy_base.$t FROM '$work/$t.txt'"; done | q -1
copy_s=$(echo "$(now) - $t0" | bc)

q -c CHECKPOINT; sync
t0=$(now)
for t in $tables; do echo "\\copy copy_pk.$t FROM '$work/$t.txt'"; done | q -1
copy_pk_s=$(echo "$(now) - $t0" | bc)

q -c CHECKPOINT; sync
t0=$(now)
cat $(for t in $tables; do echo "$work/$t.sql"; done) | q -1
upsert_s=$(echo "$(now) - $t0" | bc)

for t in $tables; do
  [ "$(q -At -c "SELECT count(*) FROM copy_base.$t")" = "$(q -At -c "SELECT count(*) FROM upsert_base.$t")" ] || {
    echo "baseline row counts differ in $t" >&2; exit 1
  }
done

python3 - "$rows" "$first_s" "$first_mb" "$copy_s" "$upsert_s" "$again_s" "$same_s" "$changed_s" "$factors" "$loops" \
  "$copy_pk_s" <<'PY'
import sys
rows = int(sys.argv[1]); first, mb, copy, upsert, again, same, changed = map(float, sys.argv[2:9])
factors, loops, copy_pk = sys.argv[9], sys.argv[10], float(sys.argv[11])
print(f"{factors} factors + {loops} loops, models and strategies = {rows} rows")
print()
print("| run | seconds | rows/s | ratio |")
print("|---|---:|---:|---:|")
print(f"| RdBridge import, first (binary COPY, empty tables) | {first:.2f} | {rows/first:,.0f} | 1.00 |")
print(f"| psql \\copy of the same rows, tables with the same keys and indexes | {copy:.2f} | {rows/copy:,.0f} "
      f"| RdBridge at {copy/first:.0%} of \\copy |")
print(f"| psql \\copy of the same rows, tables with the primary key only | {copy_pk:.2f} | {rows/copy_pk:,.0f} "
      f"| RdBridge at {copy_pk/first:.0%} of \\copy |")
print(f"| INSERT … ON CONFLICT DO UPDATE, 100 rows a statement | {upsert:.2f} | {rows/upsert:,.0f} "
      f"| RdBridge {upsert/first:.2f}× faster |")
print(f"| RdBridge re-import, catalogs unchanged | {again:.2f} | | {again/first:.1%} of the first import |")
print(f"| RdBridge re-import, same records in rewritten files | {same:.2f} | {rows/same:,.0f} "
      f"| {same/first:.0%} of the first import |")
print(f"| RdBridge re-import, 10% of the factors changed (staging + merge) | {changed:.2f} | {rows/changed:,.0f} "
      f"| {changed/first:.0%} of the first import |")
print()
print(f"peak RSS of the first import: {sys.argv[3]} MB")
PY
