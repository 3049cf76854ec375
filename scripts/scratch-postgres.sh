#!/usr/bin/env bash
# A throwaway PostgreSQL server on loopback for tests, benchmarks and trying FactorLab on PostgreSQL.
#   scripts/scratch-postgres.sh start [PORT]          prints the server URL (postgres://postgres@127.0.0.1:PORT/postgres)
#   scripts/scratch-postgres.sh database NAME [PORT]  (re)creates an empty database NAME on it and prints its URL
#   scripts/scratch-postgres.sh stop [PORT]           stops it and removes its data directory
# PORT defaults to 55432; servers on different ports are independent (a developer's beside CI's). Installs Debian's
# postgresql when no server binaries are present. Data lives in a temporary directory (fsync off: scratch only); the
# directory is remembered in /tmp/factorlab-scratch-postgres-PORT.
set -euo pipefail
state_of() { echo "/tmp/factorlab-scratch-postgres-$1"; }

pgbin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

as_postgres() {
  if [[ $(id -u) == 0 ]]; then su postgres -s /bin/sh -c "$1"; else sh -c "$1"; fi
}

case "${1:-}" in
  start)
    port="${2:-55432}"
    state="$(state_of "$port")"
    if [[ -z "$(pgbin)" ]]; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    fi
    bin="$(pgbin)"
    if [[ -f $state ]]; then "$0" stop "$port" >/dev/null 2>&1 || true; fi
    data="$(mktemp -d /tmp/factorlab-pgdata.XXXXXX)"
    [[ $(id -u) == 0 ]] && chown postgres:postgres "$data"
    as_postgres "$bin/initdb -D $data -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null"
    as_postgres "$bin/pg_ctl -D $data -l $data/server.log -o '-c listen_addresses=127.0.0.1 -p $port -k /tmp -c fsync=off -c max_connections=200' -w start >/dev/null"
    echo "$data $port" > "$state"
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    ;;
  database)
    name="${2:?usage: $0 database NAME [PORT]}"
    state="$(state_of "${3:-55432}")"
    [[ -f $state ]] || { echo "no scratch server is running on port ${3:-55432} (start one first)" >&2; exit 1; }
    read -r data port < "$state"
    "$(pgbin)/psql" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -c "DROP DATABASE IF EXISTS \"$name\"" -c "CREATE DATABASE \"$name\"" >/dev/null
    echo "postgres://postgres@127.0.0.1:$port/$name"
    ;;
  stop)
    state="$(state_of "${2:-55432}")"
    [[ -f $state ]] || exit 0
    read -r data port < "$state"
    as_postgres "$(pgbin)/pg_ctl -D $data -m fast -w stop >/dev/null" || true
    rm -rf "$data" "$state"
    ;;
  *)
    echo "usage: $0 start [PORT] | database NAME [PORT] | stop [PORT]" >&2
    exit 64
    ;;
esac
