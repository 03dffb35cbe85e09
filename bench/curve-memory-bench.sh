#!/usr/bin/env bash
# Peak memory (RSS, /usr/bin/time -v) of backfill on a sample whose first loop's ret.pkl is replaced by: a curve of the
# most rows RdBridge reads (RDBRIDGE_CURVE_ROWS, default 100,000), one row more (refused by rows), a 190 MB one
# (refused by size, issue 26), and of discover on a log whose run-settings pickle is a 2 KB dict that refers to itself
# 200 times. Target: every run under the README's 200 MB. Usage: bench/curve-memory-bench.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d /tmp/rdbridge-curve.XXXXXX)"
trap 'rm -rf "$work"' EXIT
"$here/rdbridge" --help >/dev/null
bin="$here/.build/cli/rdbridge"
rows="${RDBRIDGE_CURVE_ROWS:-100000}"

peak() { # COMMAND... -> peak MB and exit code
  local code=0
  /usr/bin/time -v "$@" >"$work/out.log" 2>"$work/time.log" || code=$?
  echo "$(( $(grep 'Maximum resident' "$work/time.log" | awk '{print $NF}') / 1024 )) MB (exit $code)"
}

curve() { # ROWS FILE
  /usr/bin/python3 - "$1" "$2" <<'PY'
import sys, pandas as pd, numpy as np
n, out = int(sys.argv[1]), sys.argv[2]
idx = pd.date_range("1990-01-01", periods=n, freq="min", name="datetime")
cols = ["account", "return", "total_turnover", "turnover", "total_cost", "cost", "value", "cash", "bench"]
pd.DataFrame({c: np.random.default_rng(1).normal(0, 0.01, n) for c in cols}, index=idx).to_pickle(out)
PY
}

"$bin" sample --out "$work/s" --task-runs 1 --loops 2 >/dev/null
ret="$(find "$work/s" -name ret.pkl | sort | head -1)"
printf '%-44s | %s\n' "input" "backfill peak"
for case in "$rows" "$(( rows + 1 ))" 2500000; do
  curve "$case" "$ret"
  printf '%-44s | %s\n' "ret.pkl of $case rows ($(( $(stat -c %s "$ret") / 1048576 )) MB)" \
    "$(peak "$bin" backfill --config "$work/s/rdbridge.json")"
done

settings="$(find "$work/s" -path '*RDLOOP_SETTINGS*' -name '*.pkl' | head -1)"
if [ -n "$settings" ]; then
  /usr/bin/python3 - "$settings" <<'PY'
import sys, pickle
d = {"model": "LGBModel"}
for i in range(200):
    d[f"again_{i:03d}"] = d
open(sys.argv[1], "wb").write(pickle.dumps(d, protocol=4))
PY
  printf '%-44s | %s\n' "settings dict referring to itself 200 times" \
    "$(peak "$bin" discover --config "$work/s/rdbridge.json") (discover)"
fi
