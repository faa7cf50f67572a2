#!/usr/bin/env bash
# Stops the servers up.sh started, in reverse order. Data and logs stay in RUN (delete it for a
# clean slate), built binaries and jars in CACHE. Idempotent.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
INFRA_NAME=down

read -r -a SERVERS <<<"${TICKMESH_INFRA_SERVERS:-postgres redis nats prometheus jaeger kafka s3 kube chromium schemathesis}"

eval "exec $LOCK_FD_UP>\"\$RUN/infra.lock\""
flock "$LOCK_FD_UP"

failed=()
for ((i = ${#SERVERS[@]} - 1; i >= 0; i--)); do
  s=${SERVERS[$i]}
  if [[ ! -f $INFRA_DIR/$s.sh ]]; then
    err "no script for server '$s': $INFRA_DIR/$s.sh is missing"
    failed+=("$s")
    continue
  fi
  bash "$INFRA_DIR/$s.sh" stop >&2 || failed+=("$s")
done
((${#failed[@]} == 0)) || die "stop failed for: ${failed[*]}"
log "stopped: ${SERVERS[*]}"
