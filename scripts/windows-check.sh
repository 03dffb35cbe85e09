#!/usr/bin/env bash
# Proves the Windows build on Linux, under Debian's Wine (wine64, installed here when missing): publishes the release
# (scripts/publish.sh), runs the win-x64 rdbridge.exe demo to a passing verification and a second init that changes
# nothing, and checks that the Windows and Linux builds write the same sample, bundles and catalogs byte for byte.
#   scripts/windows-check.sh [WORK_DIR]
# One line per check, then "windows: N passed, N failed". Every step has a time limit. Without Wine the checks
# fail: they are never skipped.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${1:-$(mktemp -d)}"
mkdir -p "$work"
work="$(cd "$work" && pwd)"
wine=/usr/lib/wine/wine64
passed=0; failed=0
ok() { echo "windows: ✓ $*"; passed=$((passed + 1)); }
bad() { echo "windows: ✗ $*"; failed=$((failed + 1)); }
# Wine's server outlives the last rdbridge.exe by a few seconds and holds the prefix open: wait for it to end, so the
# caller can remove the work folder whole.
finish() {
  echo "windows: $passed passed, $failed failed"
  [ -z "${WINEPREFIX:-}" ] || timeout 60 /usr/lib/wine/wineserver -w 2>/dev/null || true
  [ "$failed" = 0 ]; exit
}
show() { echo "---- last lines of $1:"; tail -n 15 "$1" | sed 's/^/    /'; }

if [ ! -x "$wine" ]; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo -n"
  echo "installing wine64 for the Windows checks (apt-get)…"
  { $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wine64; } \
    >"$work/apt.log" 2>&1
fi
if [ ! -x "$wine" ]; then
  show "$work/apt.log"
  bad "the Windows build needs Wine: 'apt-get install -y wine64' did not provide $wine"
  finish
fi

start=$SECONDS
if timeout 2400 "$here/scripts/publish.sh" "$work/dist" >"$work/publish.log" 2>&1; then
  missing=""
  for f in rdbridge-win-x64/rdbridge.exe rdbridge-linux-x64/rdbridge rdbridge-osx-arm64/rdbridge \
           rdbridge-win-x64.zip rdbridge-linux-x64.tar.gz rdbridge-osx-arm64.tar.gz; do
    [ -s "$work/dist/$f" ] || missing+=" $f"
  done
  ls "$work/dist"/rdbridge.*.nupkg >/dev/null 2>&1 || missing+=" rdbridge.*.nupkg"
  if [ -z "$missing" ]; then
    ok "scripts/publish.sh built win-x64, linux-x64, osx-arm64 and the tool package ($((SECONDS - start)) s)"
  else
    bad "scripts/publish.sh did not produce:$missing"; finish
  fi
else
  show "$work/publish.log"; bad "scripts/publish.sh failed"; finish
fi

export WINEDEBUG=-all WINEPREFIX="$work/wineprefix"
# Frequent collections: with them the Wine crash this build avoids (W^X, see the Cli project) came every time.
export DOTNET_GCgen0size=0x20000
win() { timeout 900 "$wine" "$work/dist/rdbridge-win-x64/rdbridge.exe" "$@"; }
winpath() { printf 'Z:%s' "${1//\//\\}"; }
linux="$work/dist/rdbridge-linux-x64/rdbridge"

# The first start in a new Wine prefix builds the prefix (~20 s); later ones take seconds.
start=$SECONDS
win demo --out "$(winpath "$work/win")" >"$work/win-demo.log" 2>&1; rc=$?
if [ $rc = 0 ] && grep -q '^verification passed' "$work/win-demo.log"; then
  ok "rdbridge.exe demo under Wine: $(grep '^verification passed' "$work/win-demo.log") ($((SECONDS - start)) s)"
else
  show "$work/win-demo.log"; bad "rdbridge.exe demo under Wine ended with exit code $rc without a passing verification"
fi
win init --config "$(winpath "$work/win/rdbridge.json")" >"$work/win-init2.log" 2>&1; rc=$?
if [ $rc = 0 ] && grep -q 'nothing changed' "$work/win-init2.log"; then
  ok "a second rdbridge.exe init: $(grep 'nothing changed' "$work/win-init2.log" | tail -n 1)"
else
  show "$work/win-init2.log"; bad "a second rdbridge.exe init (exit code $rc) did not report that nothing changed"
fi

# `sample` with one seed: the same regular files, byte for byte (symbolic links exist only where the OS allows them).
win sample --seed 7 --out "$(winpath "$work/sample-win")" >"$work/sample-win.log" 2>&1
"$linux" sample --seed 7 --out "$work/sample-linux" >"$work/sample-linux.log" 2>&1
if report="$(python3 "$here/scripts/compare-trees.py" "$work/sample-linux" "$work/sample-win" 2>&1)"; then
  ok "sample --seed 7 writes the same tree on Windows and Linux: $report"
else
  echo "$report" | head -n 20; bad "sample --seed 7 differs between Windows and Linux"
fi

# The same input for both builds (the Windows sample, with no links, copied for Linux): each build runs init on its
# own copy, and their bundles, catalogs and strategy library must be the same bytes.
cp -a "$work/sample-win" "$work/init-linux"
win init --config "$(winpath "$work/sample-win/rdbridge.json")" >"$work/init-win.log" 2>&1 || show "$work/init-win.log"
"$linux" init --config "$work/init-linux/rdbridge.json" >"$work/init-linux.log" 2>&1 || show "$work/init-linux.log"
bundles="$(find "$work/init-linux/RD-Agent-main/production_bundles" -name '*.tar.gz' 2>/dev/null | wc -l)"
differ=""
for d in RD-Agent-main/production_bundles RD-Agent-main/rdagent_data AIstock/rdagent_data rd-strategies-lib; do
  python3 "$here/scripts/compare-trees.py" "$work/init-linux/$d" "$work/sample-win/$d" --except-generated-at \
    >>"$work/compare.log" 2>&1 || differ+=" $d"
done
if [ -z "$differ" ] && [ "$bundles" -gt 0 ]; then
  ok "init on the same sample: $bundles bundles, the catalogs (but for their generated_at_utc) and the strategy" \
    "library are byte-identical from Windows and Linux"
else
  show "$work/compare.log"; bad "Windows and Linux wrote different files in:${differ:- (no bundles were built)}"
fi

# Windows path rules, in the Windows build: names Windows cannot hold and names differing only in case are refused by
# name (never a crash), a path longer than 260 characters extracts, and a registry across WSL gets doctor's warning.
if [ -d "$work/win/RD-Agent-main/production_bundles" ]; then
  python3 "$here/scripts/windows-smoke-bundles.py" "$work/win/RD-Agent-main/production_bundles" >/dev/null
  config="$(winpath "$work/win/rdbridge.json")"
  for case in "names:device name" "case:differ only in case" "long:verified"; do
    id="bundle_winsmoke_${case%%:*}"; expect="${case#*:}"
    win bundle verify "$id" --config "$config" >"$work/smoke-$id.log" 2>&1; rc=$?
    if grep -q "$expect" "$work/smoke-$id.log" && ! grep -qi 'unexpectedly\|fatal' "$work/smoke-$id.log"; then
      ok "rdbridge.exe bundle verify $id: $(grep -m1 "$expect" "$work/smoke-$id.log" | sed 's/^ *//' | cut -c1-150)"
    else
      show "$work/smoke-$id.log"; bad "rdbridge.exe bundle verify $id (exit code $rc) did not say '$expect'"
    fi
  done
  win doctor --config "$config" --set 'rdagent:registry=\\wsl$\Ubuntu\home\quant\RDagentDB\registry.sqlite' \
    >"$work/smoke-doctor.log" 2>&1
  if grep -q '^! SQLite across WSL' "$work/smoke-doctor.log"; then
    ok "rdbridge.exe doctor warns about a registry under \\\\wsl\$ and points to the two-machine setup"
  else
    show "$work/smoke-doctor.log"; bad "rdbridge.exe doctor gave no warning for a registry under \\\\wsl\$"
  fi
else
  bad "the Windows path-rule checks need the Windows demo's folder, which was not written"
fi

# The .NET tool package installs and runs.
if dotnet tool install --tool-path "$work/tool" rdbridge --add-source "$work/dist" >"$work/tool.log" 2>&1 &&
   "$work/tool/rdbridge" sample --out "$work/tool-sample" >>"$work/tool.log" 2>&1; then
  ok "dotnet tool install rdbridge --add-source dist, then rdbridge sample"
else
  show "$work/tool.log"; bad "the dotnet tool package did not install or run"
fi
finish
