#!/usr/bin/env bash
# HTTP throughput on loopback, side by side in one run (wrk as the load generator, both installed from Debian if
# missing):
#   catalog queries of `rdbridge serve` on 200,000 factors in PostgreSQL: requests/s and p50/p99 latency for
#   filtered, sorted pages of 50 factors;
#   bundle downloads from the publisher against nginx serving the very same files (the limit).
# Usage: bench/http-bench.sh [FACTORS] [SECONDS]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
factors="${1:-200000}"; secs="${2:-15}"
for tool in wrk nginx; do
  command -v "$tool" >/dev/null || {
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk nginx-light >/dev/null; break
  }
done
work="$(mktemp -d /tmp/rdbridge-http-bench.XXXXXX)"; chmod 755 "$work"
source "$here/scripts/postgres.sh"
cleanup() {
  [ -n "${serve_pid:-}" ] && kill "$serve_pid" 2>/dev/null; [ -n "${nginx_pid:-}" ] && kill "$nginx_pid" 2>/dev/null
  pg_temp_stop; rm -rf "$work"
}
trap cleanup EXIT
pg_temp_start
"$here/rdbridge" --help >/dev/null
bin="$here/.build/cli/rdbridge"
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

echo "preparing: $factors factors in PostgreSQL, a published sample with 2 MB files …" >&2
"$bin" sample --out "$work/s" --task-runs 1 --loops 8 --file-kb 2048 >/dev/null
psql -X -q -d postgres -c "CREATE DATABASE rd"
python3 - "$work/s/rdbridge.json" "$PGTEST_SERVER;Database=rd" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); c["aistock"]["database"] = sys.argv[2]; c["server"] = {"publishInterval": 0}
json.dump(c, open(sys.argv[1], "w"))
PY
"$bin" publish --config "$work/s/rdbridge.json" >/dev/null
python3 "$here/bench/gen_catalogs.py" "$work/catalogs" "$factors" $(( factors / 20 ))
"$bin" import --catalogs "$work/catalogs" --config "$work/s/rdbridge.json" >/dev/null
psql -X -q -d rd -c "VACUUM ANALYZE"

port=$(free_port)
"$bin" serve --role both --urls "http://127.0.0.1:$port" --config "$work/s/rdbridge.json" >"$work/serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/api/health" >/dev/null && break; sleep 0.2; done

bundle=$(ls "$work/s/RD-Agent-main/production_bundles/" | grep '\.tar\.gz$' | sort | head -1)
nport=$(free_port)
mkdir -p "$work/nginx/logs"
cat > "$work/nginx/nginx.conf" <<NGINX
user root;
worker_processes auto;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  server { listen 127.0.0.1:$nport; root $work/s/RD-Agent-main/production_bundles; }
}
NGINX
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' &
nginx_pid=$!
for _ in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:$nport/$bundle" && break; sleep 0.2; done
cmp <(curl -s "http://127.0.0.1:$port/api/rdagent/bundles/${bundle%.tar.gz}") \
  <(curl -s "http://127.0.0.1:$nport/$bundle")

run() { # NAME URL CONNECTIONS -> one table row
  local out; out=$(wrk -t$(( $3 < 2 ? 1 : 2 )) -c"$3" -d"${secs}s" --latency "$2")
  python3 - "$1" "$out" <<'PY'
import re, sys
name, out = sys.argv[1], sys.argv[2]
def ms(label):
    m = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    v, u = float(m.group(1)), m.group(2)
    return v / 1000 if u == "us" else v * 1000 if u == "s" else v
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
tr = re.search(r"Transfer/sec:\s+([\d.]+)([KMG]?B)", out)
mbs = (float(tr.group(1)) * {"B": 1e-6, "KB": 1e-3, "MB": 1, "GB": 1e3}[tr.group(2)] * 1.048576 if tr.group(2) != "B"
       else float(tr.group(1)) / 1e6)
errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
print(f"{name}|{rps:.0f}|{ms('50'):.1f}|{ms('99'):.1f}|{mbs:.0f}|{errors.group(1) if errors else 0}")
PY
}

base="http://127.0.0.1:$port/api/rdagent/factors"
{
  # Each page once with one client (the latency a user of the web UI sees) and once with four (the machine's two cores
  # saturated by wrk, the server and PostgreSQL together).
  for clients in 1 4; do
    run "factors: source filter, sorted by IC, page 3 of 50 ($clients client(s))" \
      "$base?source=rdagent_generated&sort=ic&order=desc&page=3&page_size=50" $clients
    run "factors: IC range + sorted by annualized return ($clients client(s))" \
      "$base?min_ic=0.02&max_ic=0.05&sort=annualized_return&order=desc&page_size=50" $clients
    run "factors: one task run, sorted by information ratio ($clients client(s))" \
      "$base?task_run_id=000000005bd1e9950000000000009e37&sort=information_ratio&page_size=50" $clients
    run "factors: name search, sorted by IC ($clients client(s))" "$base?q=Rsquare20D&sort=ic&page_size=50" $clients
  done
  run "factors: source filter, sorted by IC (32 clients, throughput)" \
    "$base?source=rdagent_generated&sort=ic&order=desc&page=3&page_size=50" 32
  run "bundle download, rdbridge publisher" "http://127.0.0.1:$port/api/rdagent/bundles/${bundle%.tar.gz}" 4
  run "bundle download, nginx (same file)" "http://127.0.0.1:$nport/$bundle" 4
} > "$work/rows.txt"

python3 - "$work/rows.txt" "$factors" "$(stat -c %s "$work/s/RD-Agent-main/production_bundles/$bundle")" <<'PY'
import sys
rows = [l.rstrip("\n").split("|") for l in open(sys.argv[1])]
print(f"{int(sys.argv[2]):,} factors in PostgreSQL; bundle of {int(sys.argv[3]) / 1e6:.1f} MB")
print()
print("| request | req/s | p50 ms | p99 ms | MB/s | errors |")
print("|---|---:|---:|---:|---:|---:|")
for name, rps, p50, p99, mbs, err in rows:
    print(f"| {name} | {rps} | {p50} | {p99} | {mbs} | {err} |")
ours = float(rows[-2][4]); theirs = float(rows[-1][4])
print()
print(f"bundle download: rdbridge at {ours / theirs:.0%} of nginx's throughput")
print(f"worst factor-page p99: {max(float(r[3]) for r in rows[:4]):.1f} ms with one client, "
      f"{max(float(r[3]) for r in rows[4:8]):.1f} ms with four")
PY
