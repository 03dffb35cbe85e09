#!/usr/bin/env bash
# A throwaway PostgreSQL 15 server for tests and benchmarks: a temporary data directory, 127.0.0.1, a free port.
# Source this file, then:
#   pg_temp_start        starts the server; exports PGTEST_SERVER (a connection string without a database name),
#                        PGHOST, PGPORT, PGUSER and PG_TEMP_DIR
#   pg_temp_stop         stops it and removes the directory (safe to call twice)
# The server refuses to run as root, so as root it runs as the 'postgres' user (the image has one).

pg_temp_bin() {
  local d
  for d in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return 0; }
  return 1
}

pg_temp_as() { # run a server binary as the right user
  if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_temp_start() {
  local bin port
  bin="$(pg_temp_bin)" || {
    echo "PostgreSQL server binaries (initdb, pg_ctl) not found; install postgresql-15" >&2; return 1
  }
  PG_TEMP_DIR="$(mktemp -d /tmp/rdbridge-pg.XXXXXX)"
  [ "$(id -u)" = "0" ] && chown postgres "$PG_TEMP_DIR"
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
  if ! pg_temp_as "$bin/initdb" -D "$PG_TEMP_DIR/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
      >"$PG_TEMP_DIR/initdb.log" 2>&1; then
    echo "initdb failed:" >&2; cat "$PG_TEMP_DIR/initdb.log" >&2; return 1
  fi
  # Durability is not what a throwaway test server is for; everything else stays at its defaults.
  if ! pg_temp_as "$bin/pg_ctl" -D "$PG_TEMP_DIR/data" -l "$PG_TEMP_DIR/server.log" -w -t 60 \
      -o "-p $port -k $PG_TEMP_DIR -c listen_addresses=127.0.0.1 -c max_connections=200 ${PG_TEMP_OPTIONS:-}" \
      start >/dev/null; then
    echo "PostgreSQL did not start:" >&2; cat "$PG_TEMP_DIR/server.log" >&2; return 1
  fi
  export PG_TEMP_DIR PGHOST=127.0.0.1 PGPORT="$port" PGUSER=postgres
  export PGTEST_SERVER="Host=127.0.0.1;Port=$port;Username=postgres"
}

pg_temp_stop() {
  [ -n "${PG_TEMP_DIR:-}" ] && [ -d "$PG_TEMP_DIR" ] || return 0
  pg_temp_as "$(pg_temp_bin)/pg_ctl" -D "$PG_TEMP_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$PG_TEMP_DIR"
  PG_TEMP_DIR=
}
