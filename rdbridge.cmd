@echo off
rem Runs the RdBridge CLI from a source checkout on Windows, like ./rdbridge does on Linux/macOS: builds it once
rem (again only when a source file changed), then starts the built program directly.
setlocal
set "here=%~dp0"
set "out=%here%.build\cli-win"
set "stamp=%out%\.built"
set DOTNET_CLI_TELEMETRY_OPTOUT=1
set DOTNET_NOLOGO=1
set DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
set "rid=win-x64"
if /i "%PROCESSOR_ARCHITECTURE%"=="ARM64" set "rid=win-arm64"
set "rebuild="
if not exist "%stamp%" set "rebuild=1"
if defined rebuild goto build
rem A source file newer than the last build? (cmd cannot compare times; Windows PowerShell is on every Windows.)
powershell -NoProfile -ExecutionPolicy Bypass -Command ^
  "$s = (Get-Item -LiteralPath $env:stamp).LastWriteTimeUtc;" ^
  "$n = Get-ChildItem -LiteralPath ($env:here + 'src'), ($env:here + 'Directory.Build.props'), ($env:here + 'Directory.Packages.props') -Recurse -File |" ^
  "  Where-Object { $_.FullName -notmatch '\\(obj|bin)\\' -and ($_.Extension -in '.cs', '.csproj', '.props' -or $_.FullName -match '\\wwwroot\\') -and $_.LastWriteTimeUtc -gt $s } |" ^
  "  Select-Object -First 1;" ^
  "if ($n) { exit 1 } else { exit 0 }"
if errorlevel 1 set "rebuild=1"
if not defined rebuild goto run
:build
echo rdbridge: building (first run or sources changed)... 1>&2
call dotnet publish "%here%src\RdBridge.Cli\RdBridge.Cli.csproj" -c Release -r %rid% --self-contained false -p:PublishReadyToRun=true -o "%out%" --nologo -v quiet
if errorlevel 1 (
  echo rdbridge: build failed 1>&2
  exit /b 2
)
type nul > "%stamp%"
:run
"%out%\rdbridge.exe" %*
exit /b %errorlevel%
