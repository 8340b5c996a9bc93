#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server for the tests: Debian's packages, a temp directory, a
# free port on 127.0.0.1, run as the unprivileged `postgres` user, trust authentication for
# the user `ttlive` on loopback only. Prints the connection URL on stdout (and nothing else),
# so that:
#
#   export TTLIVE_POSTGRES_URL="$(bash scripts/start-postgres.sh)"
#   cargo test -p ttlive-outputs --features postgres
#
# Installs the `postgresql` package first when it is missing (needs root and apt).
# Stop it with:  runuser -u postgres -- /usr/lib/postgresql/*/bin/pg_ctl -D <dir>/data stop
# (the directory is printed on stderr).
set -euo pipefail

say() { echo "start-postgres: $*" >&2; }

bin_dir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

if [ -z "$(bin_dir)" ] || [ ! -x "$(bin_dir)/initdb" ]; then
    say "installing Debian's postgresql"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q postgresql >&2 || { apt-get update -q >&2 && apt-get install -y -q postgresql >&2; }
fi
BIN="$(bin_dir)"
RUN_AS=postgres
id "$RUN_AS" >/dev/null 2>&1 || { say "no '$RUN_AS' user (is the package installed?)"; exit 1; }

DIR="$(mktemp -d /tmp/ttlive-pg.XXXXXX)"
chown "$RUN_AS" "$DIR"
PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u "$RUN_AS" -- "$@"; else "$@"; fi; }

as_pg "$BIN/initdb" -D "$DIR/data" -A trust -U ttlive --no-sync -E UTF8 >"$DIR/initdb.log" 2>&1 \
    || { cat "$DIR/initdb.log" >&2; exit 1; }
as_pg "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c fsync=off -c synchronous_commit=off -c max_connections=200" \
    start >&2 || { cat "$DIR/server.log" >&2; exit 1; }
as_pg "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U ttlive ttlive

say "server in $DIR (port $PORT); stop: runuser -u $RUN_AS -- $BIN/pg_ctl -D $DIR/data stop"
echo "postgres://ttlive@127.0.0.1:$PORT/ttlive"
