#!/usr/bin/env bash
# Builds the release: a self-contained single-file rdbridge for win-x64, linux-x64 and osx-arm64 (the web UI is
# embedded in it, SQLite's native library too), each also as an archive, plus the `dotnet tool` package.
#   scripts/publish.sh [OUT] [RID...]     (OUT defaults to ./dist; RIDs default to all three)
# Trimmed (TrimMode=partial): the .NET runtime and ASP.NET Core lose what nothing reaches; RdBridge's own assemblies
# and the libraries not marked trimmable are kept whole, because the HTTP API's handlers are bound by reflection
# (ASP.NET Core minimal APIs) and a few small JSON values are still serialised by reflection (README: "Install",
# the trimmed release). TRIM=false publishes untrimmed. READY_TO_RUN=true compiles the app ahead of time (commands
# start faster; the framework already is): it took crossgen2 over 10 minutes for one RID on a busy 2-core machine.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$(mkdir -p "${1:-$here/dist}" && cd "${1:-$here/dist}" && pwd)"
shift || true
rids=("$@"); [ ${#rids[@]} -gt 0 ] || rids=(win-x64 linux-x64 osx-arm64)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
cli="$here/src/RdBridge.Cli/RdBridge.Cli.csproj"
for rid in "${rids[@]}"; do
  dir="$out/rdbridge-$rid"
  rm -rf "$dir"
  echo "publish: $rid → $dir" >&2
  # The Windows binary unpacks itself on first start (into %TEMP%\.net\rdbridge\, reused later): under Wine 8 the
  # runtime cannot map System.Private.CoreLib from inside a single-file bundle (E_INVALIDARG), and Wine is how CI
  # proves the Windows build. Real Windows would map it, at the cost of nothing but that first unpacking.
  extract=false; case "$rid" in win-*) extract=true ;; esac
  dotnet publish "$cli" -c Release -r "$rid" --self-contained true -o "$dir" --nologo -v quiet \
    -p:PublishSingleFile=true -p:IncludeNativeLibrariesForSelfExtract=true -p:IncludeAllContentForSelfExtract=$extract \
    -p:PublishReadyToRun="${READY_TO_RUN:-false}" -p:DebugType=none -p:GenerateDocumentationFile=false \
    -p:PublishTrimmed="${TRIM:-true}" -p:TrimMode=partial
  case "$rid" in
    win-*) (cd "$out" && rm -f "rdbridge-$rid.zip" && python3 -m zipfile -c "rdbridge-$rid.zip" "rdbridge-$rid/") ;;
    *) tar -C "$out" -czf "$out/rdbridge-$rid.tar.gz" "rdbridge-$rid" ;;
  esac
done
echo "pack: dotnet tool package → $out" >&2
dotnet pack "$cli" -c Release -o "$out" --nologo -v quiet
ls -l "$out" >&2
