#!/usr/bin/env bash
# Installs what is missing (cached) and starts, on loopback, every real server the integration
# tests use; a server already running and answering is left as it is. stdout carries only
# `export NAME=value` lines, so `eval "$(bash test/infra/up.sh)"` sets up a shell; progress goes
# to stderr. TICKMESH_INFRA_SERVERS picks the servers (default: all of them). A server whose script
# is missing or that cannot start fails the whole run.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
INFRA_NAME=up

read -r -a SERVERS <<<"${TICKMESH_INFRA_SERVERS:-postgres redis nats prometheus jaeger kafka s3 kube chromium schemathesis}"
((${#SERVERS[@]} > 0)) || die "TICKMESH_INFRA_SERVERS names no server"
for s in "${SERVERS[@]}"; do
  [[ -f $INFRA_DIR/$s.sh ]] || die "no script for server '$s': $INFRA_DIR/$s.sh is missing"
done

# One up or down at a time per RUN directory: a second caller (another test run, a shell) waits,
# then finds the servers running and returns at once.
eval "exec $LOCK_FD_UP>\"\$RUN/infra.lock\""
if ! flock -n "$LOCK_FD_UP"; then
  log "another up/down holds $RUN/infra.lock; waiting for it"
  flock "$LOCK_FD_UP"
fi

# phase NAME: runs `<server>.sh NAME` for every server at once (apt installs serialize on their own
# lock); fails naming each server that failed, after all of them have finished.
phase() {
  local phase=$1 i pids=() failed=()
  for s in "${SERVERS[@]}"; do
    bash "$INFRA_DIR/$s.sh" "$phase" >&2 &
    pids+=($!)
  done
  for i in "${!SERVERS[@]}"; do
    wait "${pids[$i]}" || failed+=("${SERVERS[$i]}")
  done
  ((${#failed[@]} == 0)) || die "$phase failed for: ${failed[*]} (their errors are above)"
}

# The shared set's fixed ports only: a private set (its own TICKMESH_RUN) takes ports the kernel
# just handed out, and reserving those would pile up a new entry on every run.
[[ -n ${TICKMESH_RUN:-} ]] || reserve_ports "$PORT_POSTGRES" "$PORT_REDIS" "$PORT_NATS" "$PORT_NATS_MONITOR" "$PORT_PROMETHEUS" "$PORT_KAFKA" \
  "$PORT_KAFKA_CONTROLLER" "$PORT_KAFKA_POD" "$PORT_ETCD" "$PORT_ETCD_PEER" "$PORT_KUBE_APISERVER" \
  "$PORT_JAEGER_OTLP_GRPC" "$PORT_JAEGER_OTLP" "$PORT_JAEGER_QUERY" "$PORT_JAEGER_QUERY_GRPC" "$PORT_S3"

t0=$SECONDS
phase install
t1=$SECONDS
phase start
log "${SERVERS[*]}: ready (install $((t1 - t0))s, start $((SECONDS - t1))s; logs in $LOGS)"

for s in "${SERVERS[@]}"; do
  bash "$INFRA_DIR/$s.sh" env
done
