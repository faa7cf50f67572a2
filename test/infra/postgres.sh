#!/usr/bin/env bash
# PostgreSQL from Debian's package, a cluster of its own under RUN, owned by the postgres user
# (the server refuses to run as root). Tuned for tests, not durability: fsync is off, so a
# machine crash (not a server or test-process crash) can lose the cluster; `down` + `up` after
# deleting $RUN/postgres rebuilds it.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DATA=$RUN/postgres/data
SOCKETS=$RUN/postgres
DB_USER=tickmesh
DB_PASSWORD=tickmesh
DB_NAME=tickmesh
DATABASE_URL="postgres://$DB_USER:$DB_PASSWORD@$HOST:$PORT_POSTGRES/$DB_NAME"
# TICKMESH_POSTGRES_SSL=1: TLS with the test CA's server certificate (ensure_test_certs), and TCP
# logins only over TLS (hostssl). Only a private set of servers turns it on.
SSL=${TICKMESH_POSTGRES_SSL:-0}

install() {
  apt_install postgresql
}

pg_bin() {
  local dir
  dir=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  [[ -x $dir/postgres ]] || die "no PostgreSQL server under /usr/lib/postgresql: run '$0 install'"
  echo "$dir"
}

# The prefix that runs a command as the postgres user when we are root. setpriv execs (no fork),
# so the pid that spawn records is the server's.
AS_POSTGRES=()
if ((EUID == 0)); then AS_POSTGRES=(setpriv --reuid=postgres --regid=postgres --init-groups); fi

# psql as the superuser over the unix socket (trusted locally), reading SQL from stdin.
psql_admin() {
  psql -X -q -v ON_ERROR_STOP=1 -h "$SOCKETS" -p "$PORT_POSTGRES" -U postgres -d postgres
}

accepting() {
  pg_isready -q -h "$HOST" -p "$PORT_POSTGRES"
}

healthy() {
  [[ $(psql -X -Atq "$DATABASE_URL" -c 'select 1' 2>/dev/null) == 1 ]]
}

init_cluster() {
  [[ -f $DATA/PG_VERSION ]] && return 0
  log "creating a cluster in $DATA"
  mkdir -p "$DATA"
  if ((EUID == 0)); then chown -R postgres:postgres "$RUN/postgres"; fi
  chmod 700 "$DATA"
  "${AS_POSTGRES[@]}" "$BIN/initdb" -D "$DATA" -U postgres -E UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 --no-sync >"$LOGS/postgres-initdb.log" 2>&1 ||
    die_with_log postgres-initdb "$LOGS/postgres-initdb.log"
}

launch() {
  require_free_ports "$PORT_POSTGRES"
  BIN=$(pg_bin)
  init_cluster
  # postgres resolves relative paths against the working directory, which it must be able to read.
  local ssl=()
  if [[ $SSL == 1 ]]; then
    ensure_test_certs
    # The server refuses a key that others can read; the postgres user must own its copy.
    command install -m 600 "$CERTS/server.key" "$RUN/postgres/server.key"
    command install -m 644 "$CERTS/server.pem" "$RUN/postgres/server.pem"
    if ((EUID == 0)); then chown postgres:postgres "$RUN/postgres/server.key" "$RUN/postgres/server.pem"; fi
    ssl=(-c ssl=on -c ssl_cert_file="$RUN/postgres/server.pem" -c ssl_key_file="$RUN/postgres/server.key"
      -c ssl_ca_file="$CERTS/ca.pem")
    sed -i -E 's/^host(\s)/hostssl\1/' "$DATA/pg_hba.conf"
  fi
  cd "$RUN"
  spawn postgres "${AS_POSTGRES[@]}" "$BIN/postgres" -D "$DATA" -p "$PORT_POSTGRES" \
    -c listen_addresses="$HOST" -c unix_socket_directories="$SOCKETS" \
    -c max_connections=200 -c shared_buffers=128MB \
    -c fsync=off -c synchronous_commit=off -c full_page_writes=off "${ssl[@]}"
}

# The role and database the tests use; idempotent.
bootstrap() {
  wait_up postgres 60 accepting
  psql_admin <<SQL || die_with_log postgres "$LOGS/postgres.log"
SELECT format('CREATE ROLE %I LOGIN CREATEDB PASSWORD %L', '$DB_USER', '$DB_PASSWORD')
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DB_USER') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', '$DB_NAME', '$DB_USER')
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$DB_NAME') \gexec
SQL
}

launch_and_bootstrap() {
  launch
  bootstrap
}

start() {
  ensure_started postgres 60 healthy launch_and_bootstrap
}

env() {
  emit DATABASE_URL "$DATABASE_URL"
  if [[ $SSL == 1 ]]; then emit TEST_CERTS "$CERTS"; fi
}

stop() {
  # SIGINT is PostgreSQL's fast shutdown; SIGTERM would wait for every client to disconnect.
  stop_process postgres INT 60
}

dispatch "$@"
