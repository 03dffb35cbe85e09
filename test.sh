#!/usr/bin/env bash
# Runs the whole test suite and ends with one line "tests: N passed, N failed".
# The tests use real databases: SQLite files, and a throwaway PostgreSQL 15 server started here (127.0.0.1, a free
# port, a temporary directory) and stopped at the end. If it cannot start, the suite fails: nothing is skipped.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
results="$(mktemp -d)"
source "$here/scripts/postgres.sh"
trap 'pg_temp_stop; rm -rf "$results"' EXIT
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
