#!/usr/bin/env bash
# Runs the whole test suite and ends with one line "tests: N passed, N failed".
# The tests use real databases: SQLite files, and a throwaway PostgreSQL 15 server started here (127.0.0.1, a free
# port, a temporary directory) and stopped at the end. If it cannot start, the suite fails: nothing is skipped.
# The web UI is tested in a real headless Chromium (Debian's package, installed here when missing).
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
results="$(mktemp -d)"
source "$here/scripts/postgres.sh"
trap 'pg_temp_stop; rm -rf "$results"' EXIT

# The browser tests drive Debian's Chromium at /usr/bin/chromium (no browser is downloaded); a CJK font makes the
# Chinese in their screenshots legible. Both come from apt when missing.
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
if command -v fc-list >/dev/null && ! fc-list :lang=zh | grep -q .; then need+=(fonts-wqy-microhei); fi
# The pickle tests check RdBridge's reading against real pandas: Debian's python3-pandas, for /usr/bin/python3.
/usr/bin/python3 -c 'import pandas' >/dev/null 2>&1 || need+=(python3-pandas)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo -n"
  echo "installing ${need[*]} for the browser and pickle tests (apt-get)…"
  { $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"; } >"$results/apt.log" 2>&1
  if [ ! -x /usr/bin/chromium ]; then
    tail -n 20 "$results/apt.log"
    echo "tests: 0 passed, 1 failed (the browser tests need /usr/bin/chromium, and 'apt-get install -y chromium' did not provide it; see above)"
    exit 1
  fi
fi
# Screenshots of the pages, kept as test artifacts.
export UI_TEST_SCREENSHOTS="${UI_TEST_SCREENSHOTS:-$here/artifacts/screenshots}"
if ! pg_temp_start; then
  echo "tests: 0 passed, 1 failed (the PostgreSQL test server did not start; see above)"
  exit 1
fi
echo "PostgreSQL test server: $PGTEST_SERVER"
# The whole suite runs twice: once with SQLite (the embedded default) as the AIstock store of every test that does not
# name one, once with PostgreSQL. Tests that name their store (the theories over both) run in both passes.
rc=0; passed=0; failed=0
for store in sqlite postgres; do
  echo "== AIstock store: $store =="
  build=(); [ "$store" = sqlite ] || build=(--no-build)
  TEST_AISTOCK_STORE=$store dotnet test RdBridge.slnx -c Release "${build[@]}" --logger "trx;LogFileName=$store.trx" \
    --logger "console;verbosity=normal" --results-directory "$results/$store" "$@" || rc=1
  trx="$(find "$results/$store" -name '*.trx' | head -n 1)"
  if [ -z "$trx" ]; then
    echo "tests: $passed passed, $((failed + 1)) failed (no test results were written for the $store pass; see the build output above)"
    exit 1
  fi
  counters="$(grep -o '<Counters [^>]*>' "$trx")"
  p="$(echo "$counters" | sed -E 's/.* passed="([0-9]+)".*/\1/')"
  f="$(echo "$counters" | sed -E 's/.* failed="([0-9]+)".*/\1/')"
  echo "$store pass: $p passed, $f failed"
  if [ "$p" = "0" ]; then rc=1; echo "no test ran in the $store pass"; fi
  passed=$((passed + p)); failed=$((failed + f))
done
echo "tests: ${passed} passed, ${failed} failed"
exit $rc
