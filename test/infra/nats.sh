#!/usr/bin/env bash
# nats-server from Debian's package, with JetStream storing under RUN.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DATA=$RUN/nats

install() {
  apt_install nats-server curl
}

healthy() {
  # /healthz answers ok only once JetStream is ready.
  http_ok "http://$HOST:$PORT_NATS_MONITOR/healthz"
}

launch() {
  require_free_ports "$PORT_NATS" "$PORT_NATS_MONITOR"
  mkdir -p "$DATA"
  cat >"$DATA/nats.conf" <<CONF
server_name: tickmesh-test
host: $HOST
port: $PORT_NATS
http: "$HOST:$PORT_NATS_MONITOR"
jetstream {
  store_dir: "$DATA"
  max_memory_store: 512MB
  max_file_store: 4GB
}
CONF
  spawn nats nats-server -c "$DATA/nats.conf"
}

start() {
  ensure_started nats 30 healthy launch
}

env() {
  emit NATS_URL "nats://$HOST:$PORT_NATS"
}

stop() {
  stop_process nats TERM 20
}

dispatch "$@"
