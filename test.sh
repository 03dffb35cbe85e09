#!/usr/bin/env bash
# Runs the whole test suite and ends with one line "tests: N passed, N failed".
# The tests use real databases: SQLite files, and a throwaway PostgreSQL 15 server started here (127.0.0.1, a free
# port, a temporary directory) and stopped at the end. If it cannot start, the suite fails: nothing is skipped.
# The web UI is tested in a real headless Chromium (Debian's package, installed here when missing), and the Windows
# build under Debian's Wine (also installed here when missing).
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# Its own help, before anything is installed or started: otherwise --help went on to 'dotnet test' and "failed".
case "${1:-}" in -h|--help|help)
  cat <<'USAGE'
usage: ./test.sh [dotnet test options…]

Builds RdBridge and runs the whole test suite twice (AIstock store SQLite, then PostgreSQL on a throwaway server it
starts), then the Windows checks under Wine, and ends with "tests: N passed, N failed" (exit 0 only when none failed).

Options are passed to 'dotnet test', e.g.:
  ./test.sh --filter "FullyQualifiedName~SetupTests"     only some tests
  ./test.sh --filter "Category!=RealData"                 leave out the tests that read ../shared/fixtures/real
Environment:
  TEST_WINDOWS=skip        leave out the Windows build check (scripts/windows-check.sh)
  UI_TEST_SCREENSHOTS=DIR  where the browser tests keep their screenshots (default artifacts/screenshots)
It installs chromium, fonts-wqy-microhei and python3-pandas with apt-get when they are missing.
USAGE
  exit 0 ;;
esac
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
# The discovery and pickle tests write and check pickles with real CPython and pandas: Debian's python3-pandas,
# for /usr/bin/python3.
/usr/bin/python3 -c 'import pandas' >/dev/null 2>&1 || need+=(python3-pandas)
# pandas 2.2 / numpy 2 pickles, and RD-Agent's own loops, run in a Debian trixie chroot that debootstrap builds.
command -v debootstrap >/dev/null || need+=(debootstrap)
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
  if ! /usr/bin/python3 -c 'import pandas' >/dev/null 2>&1; then
    tail -n 20 "$results/apt.log"
    echo "tests: 0 passed, 1 failed (the discovery tests need pandas for /usr/bin/python3, and 'apt-get install -y python3-pandas' did not provide it; see above)"
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
# Tests marked [RealData] read real RD-Agent/Qlib files from ../shared/fixtures/real/, which only this team's machines
# have beside the repository. On a plain clone they are left out, and the run says how many and why.
filter=()
if [ ! -d "$here/../shared/fixtures/real" ]; then filter=(--filter "Category!=RealData"); fi
# The pandas-2 pickle tests and the RD-Agent harness tests (tests/RdBridge.Tests/RdAgentHarness, real data) run in a
# Debian trixie chroot, cached in /var/cache/rdbridge/trixie: built here once when missing (minutes; then reused),
# never skipped — if it cannot be built, the suite fails.
if ! scripts/rdagent-chroot.sh build >/dev/null; then
  echo "tests: 0 passed, 1 failed (the pandas-2 and RD-Agent harness tests need the trixie chroot, and" \
    "scripts/rdagent-chroot.sh build could not make it; see above)"
  exit 1
fi
rc=0; passed=0; failed=0
for store in sqlite postgres; do
  echo "== AIstock store: $store =="
  build=(); [ "$store" = sqlite ] || build=(--no-build)
  TEST_AISTOCK_STORE=$store dotnet test RdBridge.slnx -c Release "${build[@]}" --logger "trx;LogFileName=$store.trx" \
    --logger "console;verbosity=normal" --results-directory "$results/$store" "${filter[@]}" "$@" || rc=1
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
# The Windows build, proven under Wine (scripts/windows-check.sh): its checks count like tests. TEST_WINDOWS=skip
# leaves them out for a quick local run, and the run says so; CI never sets it.
echo "== Windows (win-x64 under Wine) =="
if [ "${TEST_WINDOWS:-}" = skip ]; then
  echo "Windows checks NOT RUN (TEST_WINDOWS=skip)"
else
  scripts/windows-check.sh "$results/windows" | tee "$results/windows.log" || rc=1
  counts="$(tail -n 1 "$results/windows.log")"
  if [[ "$counts" =~ ^windows:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
    passed=$((passed + BASH_REMATCH[1])); failed=$((failed + BASH_REMATCH[2]))
  else
    failed=$((failed + 1)); rc=1; echo "the Windows checks ended without their summary line"
  fi
fi
if [ ${#filter[@]} -gt 0 ]; then
  # Counted by listing the tests the filter left out (each theory row is one test), not by guessing.
  left="$(dotnet test tests/RdBridge.Tests -c Release --no-build --list-tests --filter "Category=RealData" 2>/dev/null \
    | grep -c '^    ')"
  echo "left out ${left} real-data tests in each store pass ($((left * 2)) in all): they read ../shared/ (real RD-Agent files, the guide)," \
    "which is not beside this clone"
fi
echo "tests: ${passed} passed, ${failed} failed"
exit $rc
