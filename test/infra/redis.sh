#!/usr/bin/env bash
# Redis from Debian's redis-server package, in memory only (no RDB, no AOF).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DATA=$RUN/redis

install() {
  apt_install redis-server
}

healthy() {
  [[ $(redis-cli -h "$HOST" -p "$PORT_REDIS" ping 2>/dev/null) == PONG ]]
}

launch() {
  require_free_ports "$PORT_REDIS"
  mkdir -p "$DATA"
  spawn redis redis-server --bind "$HOST" --port "$PORT_REDIS" --dir "$DATA" \
    --save '' --appendonly no --daemonize no --loglevel notice
}

start() {
  ensure_started redis 30 healthy launch
}

env() {
  emit REDIS_URL "redis://$HOST:$PORT_REDIS"
}

stop() {
  stop_process redis TERM 20
}

dispatch "$@"
