# Builds the release on Windows, the same steps as scripts/publish.sh: a self-contained single-file rdbridge for
# win-x64, linux-x64 and osx-arm64 (web UI and SQLite's native library embedded), each also as an archive, plus the
# `dotnet tool` package.
#   powershell -ExecutionPolicy Bypass -File scripts\publish.ps1 [-Out dist] [-Rids win-x64,linux-x64,osx-arm64]
# Trimmed as publish.sh trims (TrimMode=partial: the runtime and ASP.NET Core trimmed, RdBridge's assemblies kept
# whole; README: "Install", the trimmed release); -NoTrim publishes untrimmed, as publish.sh's TRIM=false.
# -ReadyToRun compiles the app ahead of time (faster start; a long compile), as publish.sh's READY_TO_RUN=true.
param(
    [string]$Out = (Join-Path (Split-Path -Parent $PSScriptRoot) 'dist'),
    [string[]]$Rids = @('win-x64', 'linux-x64', 'osx-arm64'),
    [switch]$ReadyToRun,
    [switch]$NoTrim
)
$ErrorActionPreference = 'Stop'
$env:DOTNET_CLI_TELEMETRY_OPTOUT = '1'
$env:DOTNET_NOLOGO = '1'
$env:DOTNET_SKIP_FIRST_TIME_EXPERIENCE = '1'
$cli = Join-Path (Split-Path -Parent $PSScriptRoot) 'src\RdBridge.Cli\RdBridge.Cli.csproj'
New-Item -ItemType Directory -Force -Path $Out | Out-Null
$Out = (Resolve-Path $Out).Path
foreach ($rid in $Rids) {
    $dir = Join-Path $Out "rdbridge-$rid"
    if (Test-Path $dir) { Remove-Item -Recurse -Force $dir }
    Write-Host "publish: $rid -> $dir"
    # The Windows binary unpacks itself on first start (see publish.sh: Wine cannot map CoreLib inside the bundle).
    $extract = $rid -like 'win-*'
    & dotnet publish $cli -c Release -r $rid --self-contained true -o $dir --nologo -v quiet `
        -p:PublishSingleFile=true -p:IncludeNativeLibrariesForSelfExtract=true `
        "-p:IncludeAllContentForSelfExtract=$extract" "-p:PublishReadyToRun=$($ReadyToRun.IsPresent)" `
        -p:DebugType=none -p:GenerateDocumentationFile=false "-p:PublishTrimmed=$(-not $NoTrim.IsPresent)" `
        -p:TrimMode=partial
    if ($LASTEXITCODE -ne 0) { throw "publish for $rid failed" }
    if ($rid -like 'win-*') {
        $zip = Join-Path $Out "rdbridge-$rid.zip"
        if (Test-Path $zip) { Remove-Item -Force $zip }
        Compress-Archive -Path $dir -DestinationPath $zip
    } else {
        # tar.exe ships with Windows 10 1803 and later.
        & tar -C $Out -czf (Join-Path $Out "rdbridge-$rid.tar.gz") "rdbridge-$rid"
        if ($LASTEXITCODE -ne 0) { throw "archive for $rid failed" }
    }
}
Write-Host "pack: dotnet tool package -> $Out"
& dotnet pack $cli -c Release -o $Out --nologo -v quiet
if ($LASTEXITCODE -ne 0) { throw 'dotnet pack failed' }
Get-ChildItem $Out
