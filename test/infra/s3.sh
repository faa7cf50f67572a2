#!/usr/bin/env bash
# An S3-compatible server for the trades archive's tests: moto's server mode (PyPI moto[server]),
# in a virtualenv under CACHE, pinned, installed once. It keeps its buckets in memory.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MOTO_VERSION=5.2.6
VENV=$CACHE/moto-$MOTO_VERSION
# moto accepts any credentials; these are what the tests pass.
S3_ACCESS_KEY=tickmesh
S3_SECRET_KEY=tickmesh-secret

install() {
  [[ -x $VENV/bin/moto_server ]] && return 0
  apt_install python3-venv
  log "installing moto[server] $MOTO_VERSION into $VENV"
  # A venv records its own path in its scripts, so it is built in place; moto_server appears last
  # (pip installs the entry point after the package), which marks a complete install.
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
}

healthy() {
  http_ok "http://$HOST:$PORT_S3/moto-api/"
}

launch() {
  require_free_ports "$PORT_S3"
  spawn s3 "$VENV/bin/moto_server" -H "$HOST" -p "$PORT_S3"
}

start() {
  ensure_started s3 60 healthy launch
}

env() {
  emit S3_ENDPOINT "http://$HOST:$PORT_S3"
  emit S3_ACCESS_KEY "$S3_ACCESS_KEY"
  emit S3_SECRET_KEY "$S3_SECRET_KEY"
}

stop() {
  stop_process s3 TERM 20
}

dispatch "$@"
