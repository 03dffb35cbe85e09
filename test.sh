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
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo -n"
  echo "installing ${need[*]} for the browser tests (apt-get)…"
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
dotnet test RdBridge.slnx -c Release --logger "trx;LogFileName=results.trx" --logger "console;verbosity=normal" --results-directory "$results" "$@"
rc=$?
trx="$(find "$results" -name '*.trx' | head -n 1)"
if [ -z "$trx" ]; then
  echo "tests: 0 passed, 1 failed (no test results were written; see the build output above)"
  exit 1
fi
counters="$(grep -o '<Counters [^>]*>' "$trx")"
passed="$(echo "$counters" | sed -E 's/.* passed="([0-9]+)".*/\1/')"
failed="$(echo "$counters" | sed -E 's/.* failed="([0-9]+)".*/\1/')"
if [ "$passed" = "0" ] && [ "$rc" = "0" ]; then rc=1; echo "no test ran"; fi
echo "tests: ${passed} passed, ${failed} failed"
exit $rc
