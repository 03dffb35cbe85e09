#!/usr/bin/env bash
# A Debian trixie chroot (Python 3.13, pandas 2.2, numpy 2.2) in which Microsoft RD-Agent's own code runs offline:
# the RD-Agent harness (tests/RdBridge.Tests/RdAgentHarness) drives RD-Agent's real loops in it, and pickle tests use
# it for pandas-2 pickles. There is no PyPI here, so every dependency comes from Debian's mirror (../shared/NOTES.md).
#
#   scripts/rdagent-chroot.sh build            builds the chroot unless a complete one is cached; prints its folder
#   scripts/rdagent-chroot.sh path             prints the folder (whether built or not)
#   scripts/rdagent-chroot.sh run [--bind HOST:INSIDE]... [--ro-bind HOST:INSIDE]... [--env NAME=VALUE]... -- CMD...
#                                              runs CMD inside (building first when needed), /proc mounted
#
# The cache is RDBRIDGE_TRIXIE_DIR (default /var/cache/rdbridge/trixie), outside any repository and reused by every
# run and every clone. A build goes to a temporary sibling folder and is renamed into place only once it is complete
# and checked, so an interrupted build is never taken for a finished one. The mirror is the one this machine's apt
# sources name (RDBRIDGE_DEBIAN_MIRROR overrides it). Needs root (debootstrap, chroot, mount) and no terminal.
#
# 'run' works in a private mount namespace (unshare): /proc and the bind mounts exist only for that process tree and
# vanish with it whatever way it ends, so no mount outlives a run and concurrent runs do not see each other's binds.
set -euo pipefail

dir="${RDBRIDGE_TRIXIE_DIR:-/var/cache/rdbridge/trixie}"
# python3-pandas for pandas 2 pickles; the rest is what RD-Agent imports (../shared/NOTES.md, 2026-12-06).
packages=(python3-pandas python3-pydantic python3-pydantic-settings python3-loguru python3-psutil python3-tqdm
  python3-filelock python3-dill python3-fuzzywuzzy python3-rich python3-scipy python3-fire python3-jinja2
  python3-yaml python3-dotenv python3-tabulate python3-regex python3-setuptools python3-docker python3-requests
  python3-nest-asyncio python3-typer python3-tenacity python3-plotly python3-jsonschema python3-joblib)
# What a complete chroot must import, checked before a build is renamed into place. The stamp file holds the package
# list, so a change of the list rebuilds the cache.
check_imports="import pandas, numpy, pydantic, pydantic_settings, loguru, psutil, dill, fuzzywuzzy, scipy, jinja2, \
yaml, dotenv, regex, docker, tenacity, plotly, jsonschema, joblib, fire, typer, rich, tqdm, filelock, tabulate"
stamp_name=".rdbridge-chroot"

die() { echo "rdagent-chroot: $*" >&2; exit 1; }

stamp_text() { printf 'packages: %s\n' "${packages[*]}"; }

# Removes a (partial) chroot: first whatever is still mounted beneath it (an interrupted debootstrap leaves /proc
# mounted in its target), then the files, never crossing into another file system.
remove_tree() {
  local m
  [ -e "$1" ] || return 0
  awk -v d="$(realpath "$1")" '$2 == d || index($2, d "/") == 1 {print $2}' /proc/self/mounts | sort -r |
    while read -r m; do umount -l "$m" || true; done
  rm -rf --one-file-system "$1"
}

complete() { # the folder holds a finished build of this package list
  [ -f "$1/$stamp_name" ] && [ "$(head -n 1 "$1/$stamp_name")" = "$(stamp_text)" ] && [ -x "$1/usr/bin/python3" ]
}

mirror() {
  if [ -n "${RDBRIDGE_DEBIAN_MIRROR:-}" ]; then echo "$RDBRIDGE_DEBIAN_MIRROR"; return; fi
  local uri
  # deb822 sources first (URIs: lines), then one-line sources; the first Debian archive (not -security) wins.
  uri="$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/ {for (i = 2; i <= NF; i++) print $i}' |
    grep -E '/debian/?$' | head -n 1 || true)"
  if [ -z "$uri" ]; then
    uri="$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '$1 == "deb" {
      for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i !~ /\]$/) { print $i; break } }' |
      grep -E '/debian/?$' | head -n 1 || true)"
  fi
  [ -n "$uri" ] || die "no Debian mirror in /etc/apt/sources*; set RDBRIDGE_DEBIAN_MIRROR" \
    "(e.g. http://deb.debian.org/debian)"
  echo "$uri"
}

build() {
  if complete "$dir"; then echo "$dir"; return 0; fi
  [ "$(id -u)" = 0 ] || die "building the trixie chroot needs root (debootstrap): run as root, or point" \
    "RDBRIDGE_TRIXIE_DIR at a built one"
  command -v debootstrap >/dev/null || die "debootstrap is not installed: apt-get install -y debootstrap"
  mkdir -p "$(dirname "$dir")"
  # One builder at a time: a second caller waits for the first and then finds the cache complete.
  exec 9>"$dir.lock"
  flock 9
  if complete "$dir"; then echo "$dir"; return 0; fi
  local tmp uri start stale
  # Builds that were interrupted (holding the lock, no other build is running).
  for stale in "$dir".building.*; do
    [ -e "$stale" ] || continue
    if [ -d "$stale" ]; then remove_tree "$stale"; else rm -f "$stale"; fi
  done
  tmp="$(mktemp -d "$dir.building.XXXXXX")"
  uri="$(mirror)"
  start=$(date +%s)
  echo "rdagent-chroot: building Debian trixie in $dir from $uri (a few minutes, once; cached afterwards)…" >&2
  if ! debootstrap --variant=minbase --include="$(IFS=,; echo "${packages[*]}")" trixie "$tmp" "$uri" \
      >"$tmp.log" 2>&1; then
    tail -n 30 "$tmp.log" >&2
    remove_tree "$tmp"
    die "debootstrap failed (log above, full log in $tmp.log)"
  fi
  if ! chroot "$tmp" /usr/bin/python3 -c "$check_imports" >>"$tmp.log" 2>&1; then
    tail -n 10 "$tmp.log" >&2
    remove_tree "$tmp"
    die "the new chroot cannot import RD-Agent's dependencies (log above)"
  fi
  # Downloaded .debs are not needed once installed.
  rm -rf "$tmp"/var/cache/apt/archives/*.deb
  stamp_text >"$tmp/$stamp_name"
  chroot "$tmp" /usr/bin/python3 -c 'import sys, pandas, numpy; print("python", sys.version.split()[0], "pandas",
    pandas.__version__, "numpy", numpy.__version__)' >>"$tmp/$stamp_name"
  remove_tree "$dir"
  mv "$tmp" "$dir"
  rm -f "$tmp.log"
  echo "rdagent-chroot: built in $(( $(date +%s) - start )) s: $(tail -n 1 "$dir/$stamp_name")" >&2
  echo "$dir"
}

run() {
  local binds=() envs=() spec
  while [ $# -gt 0 ]; do
    case "$1" in
      --bind|--ro-bind)
        [ $# -ge 2 ] || die "$1 needs HOST:INSIDE"
        spec="$2"; [[ "$spec" == *:/* ]] || die "$1 $spec: expected HOST:/INSIDE"
        [ -e "${spec%%:*}" ] || die "$1 $spec: ${spec%%:*} does not exist"
        binds+=("$1" "$spec"); shift 2 ;;
      --env)
        [ $# -ge 2 ] || die "--env needs NAME=VALUE"
        envs+=("$2"); shift 2 ;;
      --) shift; break ;;
      *) die "unknown option $1 (the command follows --)" ;;
    esac
  done
  [ $# -gt 0 ] || die "run: no command given after --"
  build >/dev/null
  command -v unshare >/dev/null || die "unshare (util-linux) is needed for a private mount namespace"
  # The inner script mounts inside the new namespace; an explicit unmount at its end keeps that visible, and the
  # namespace's end removes whatever a killed run left.
  unshare --mount --propagation private -- bash -euo pipefail -c '
    root="$1"; shift
    mounted=()
    cleanup() { local i; for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[i]}" || true; done; }
    trap cleanup EXIT
    while [ "$1" != "--" ]; do
      mode="$1"; spec="$2"; shift 2
      host="${spec%%:*}"; inside="$root${spec#*:}"
      if [ -d "$host" ]; then mkdir -p "$inside"; else mkdir -p "$(dirname "$inside")"; touch "$inside"; fi
      mount --bind "$host" "$inside"; mounted+=("$inside")
      if [ "$mode" = --ro-bind ]; then mount -o remount,bind,ro "$inside"; fi
    done
    shift
    mount -t proc proc "$root/proc"; mounted+=("$root/proc")
    envs=()
    while [ "$1" != "--" ]; do envs+=("$1"); shift; done
    shift
    chroot "$root" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/root LANG=C.UTF-8 PYTHONIOENCODING=utf-8 \
      "${envs[@]}" "$@" </dev/null
  ' rdagent-chroot "$dir" "${binds[@]}" -- "${envs[@]}" -- "$@"
}

case "${1:-}" in
  build) build ;;
  path) echo "$dir" ;;
  run) shift; run "$@" ;;
  *) die "usage: $0 build | path | run [--bind HOST:INSIDE]... [--ro-bind HOST:INSIDE]... [--env N=V]... -- CMD..." ;;
esac
