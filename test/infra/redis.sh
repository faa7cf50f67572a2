#!/usr/bin/env bash
# Redis from Debian's redis-server package, in memory only (no RDB, no AOF).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DATA=$RUN/redis
# TICKMESH_REDIS_TLS=1: a TLS port besides the plain one (the test CA's server certificate,
# client certificates optional) and an ACL user $REDIS_TEST_USER. Only a private set turns it on.
TLS=${TICKMESH_REDIS_TLS:-0}
PORT_REDIS_TLS=${TICKMESH_PORT_REDIS_TLS:-56380}
REDIS_TEST_USER=tickmesh
REDIS_TEST_PASSWORD=tickmesh-secret

install() {
  apt_install redis-server
}

healthy() {
  [[ $(redis-cli -h "$HOST" -p "$PORT_REDIS" ping 2>/dev/null) == PONG ]]
}

launch() {
  require_free_ports "$PORT_REDIS"
  mkdir -p "$DATA"
  local tls=()
  if [[ $TLS == 1 ]]; then
    require_free_ports "$PORT_REDIS_TLS"
    ensure_test_certs
    tls=(--tls-port "$PORT_REDIS_TLS" --tls-cert-file "$CERTS/server.pem" --tls-key-file "$CERTS/server.key"
      --tls-ca-cert-file "$CERTS/ca.pem" --tls-auth-clients optional
      --user "$REDIS_TEST_USER" on ">$REDIS_TEST_PASSWORD" '~*' '&*' '+@all')
  fi
  spawn redis redis-server --bind "$HOST" --port "$PORT_REDIS" --dir "$DATA" \
    --save '' --appendonly no --daemonize no --loglevel notice "${tls[@]}"
}

start() {
  ensure_started redis 30 healthy launch
}

env() {
  emit REDIS_URL "redis://$HOST:$PORT_REDIS"
  if [[ $TLS == 1 ]]; then
    emit TEST_REDIS_TLS_URL "rediss://$HOST:$PORT_REDIS_TLS"
    emit TEST_REDIS_USER "$REDIS_TEST_USER"
    emit TEST_REDIS_PASSWORD "$REDIS_TEST_PASSWORD"
    emit TEST_CERTS "$CERTS"
  fi
}

stop() {
  stop_process redis TERM 20
}

dispatch "$@"
