#!/usr/bin/env bash
# nats-server from Debian's package, with JetStream storing under RUN.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DATA=$RUN/nats
# TICKMESH_NATS_TLS=1: TLS required on the client port, the test CA's server certificate
# (ensure_test_certs), client certificates verified when presented. TICKMESH_NATS_CONF_EXTRA:
# lines appended to nats.conf (an authorization block of users, NKeys, accounts).
# Only a private set of servers turns them on.
TLS=${TICKMESH_NATS_TLS:-0}
CONF_EXTRA=${TICKMESH_NATS_CONF_EXTRA:-}

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
  local tls=''
  if [[ $TLS == 1 ]]; then
    ensure_test_certs
    tls="tls {
  cert_file: \"$CERTS/server.pem\"
  key_file: \"$CERTS/server.key\"
  ca_file: \"$CERTS/ca.pem\"
  timeout: 5
}"
  fi
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
$tls
$CONF_EXTRA
CONF
  spawn nats nats-server -c "$DATA/nats.conf"
}

start() {
  ensure_started nats 30 healthy launch
}

env() {
  if [[ $TLS == 1 ]]; then
    emit NATS_URL "tls://$HOST:$PORT_NATS"
    emit TEST_CERTS "$CERTS"
  else
    emit NATS_URL "nats://$HOST:$PORT_NATS"
  fi
}

stop() {
  stop_process nats TERM 20
}

dispatch "$@"
