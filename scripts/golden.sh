#!/usr/bin/env bash
# The golden output (tests/RdBridge.Tests/Golden/expected/): what init and import write from fixed input, held by
# GoldenOutputTests. The golden files are only ever written by a build, never by hand.
#   scripts/golden.sh              build, then run the golden tests (they print the first differing line of each file)
#   scripts/golden.sh --update     build, let this commit's build write the golden files again, show what changed;
#                                  commit them with the change of output and say why in the message
#   scripts/golden.sh --rdbridge BIN [WORK_DIR]
#                                  the same three cases run by another build's binary (an older commit's, a trimmed
#                                  or a Windows one), dumped by golden_dump.py and compared with the golden files
# The cases: the generated sample (seed 7) through init, the upstream-log sample (no registry) through init, and the
# fork's real catalogs (../shared/fixtures/real/rdagent-aistock-fork) imported into the sample's AIstock root.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
golden="tests/RdBridge.Tests/Golden/expected"
filter="FullyQualifiedName~RdBridge.Tests.Golden.GoldenOutputTests"

build() {
  local log="${TMPDIR:-/tmp}/golden-build.log"
  dotnet build "$here/tests/RdBridge.Tests/RdBridge.Tests.csproj" -c Release --nologo -v quiet >"$log" 2>&1 \
    || { tail -n 30 "$log"; echo "golden: the build failed"; exit 2; }
}
tests() { dotnet test "$here/tests/RdBridge.Tests" -c Release --no-build --nologo --filter "$filter" "$@"; }

case "${1:-}" in
  "")
    build && tests ;;
  --update)
    build
    RDBRIDGE_GOLDEN_UPDATE=1 tests || { echo "golden: the run failed; the golden files may be half written"; exit 1; }
    cd "$here" || exit 2
    echo "golden: files changed (commit them with the reason the output changed):"
    git status --short -- "$golden"
    git --no-pager diff --stat -- "$golden"
    git --no-pager diff --unified=1 -- "$golden" | head -n 200 ;;
  --rdbridge)
    bin="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"; work="${3:-$(mktemp -d)}"
    fork="$here/../shared/fixtures/real/rdagent-aistock-fork/tmp"
    mkdir -p "$work"; differ=0
    for spec in "sample:" "upstream-log:--flavor upstream --no-registry" "fork-catalogs:"; do
      name="${spec%%:*}"; args="${spec#*:}"; run="$work/$name/run"
      rm -rf "$work/$name"; mkdir -p "$work/$name"
      # shellcheck disable=SC2086
      "$bin" sample --seed 7 --out "$run" $args >"$work/$name/sample.log" 2>&1
      if [ "$name" = fork-catalogs ]; then
        mkdir -p "$run/fork" && cp "$fork"/*_catalog.json "$run/fork/"
        "$bin" import --catalogs "$run/fork" --config "$run/rdbridge.json" >"$work/$name/run.log" 2>&1
      else
        "$bin" init --config "$run/rdbridge.json" >"$work/$name/run.log" 2>&1
      fi
      python3 "$here/tests/RdBridge.Tests/Golden/golden_dump.py" "$run" "$work/$name/dump" || exit 2
      if diff -r -q "$here/$golden/$name" "$work/$name/dump" >/dev/null; then
        echo "same: $name"
      else
        differ=1; echo "DIFFERENT: $name (diff -r $here/$golden/$name $work/$name/dump)"
        diff -r "$here/$golden/$name" "$work/$name/dump" | cut -c1-220 | head -n 12 | sed 's/^/    /'
      fi
    done
    exit "$differ" ;;
  *)
    sed -n '2,12p' "$0"; exit 2 ;;
esac
