# shellcheck shell=bash disable=SC2034 # (its variables are used by the scripts that source it)
# Shared by test/infra/<server>.sh, up.sh and down.sh; sourced, never run.
#
# Every server script has the subcommands install (idempotent, cached), start (a no-op when the
# server already runs and answers; otherwise starts it and waits until it really answers, or fails
# with the tail of its log), env (`export NAME=value` lines on stdout, nothing else) and stop.
# Progress goes to stderr; TICKMESH_INFRA_QUIET=1 hides it, errors are always shown.
set -euo pipefail

INFRA_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Built binaries and fetched jars: kept across runs and across `down`.
CACHE=${TICKMESH_CACHE:-$HOME/.cache/tickmesh}
# Data directories, logs and pid files of the running servers.
RUN=${TICKMESH_RUN:-/tmp/tickmesh-infra}
LOGS=$RUN/logs
PIDS=$RUN/pids
mkdir -p "$CACHE" "$LOGS" "$PIDS"

# Every server listens on loopback only, on fixed ports defined here and nowhere else, so that a
# shell that ran `eval "$(npm run -s infra:up)"` and the tests talk to the same servers. They are
# away from each server's default port so that a system-wide instance does not collide.
# TICKMESH_PORT_<NAME> overrides one, together with a TICKMESH_RUN of its own: a second, private
# set of servers that a test may stop and restart without disturbing the shared ones
# (test/integration/worker-outage.test.ts).
HOST=127.0.0.1
PORT_POSTGRES=${TICKMESH_PORT_POSTGRES:-55432}
PORT_REDIS=${TICKMESH_PORT_REDIS:-56379}
PORT_NATS=${TICKMESH_PORT_NATS:-54222}
PORT_NATS_MONITOR=${TICKMESH_PORT_NATS_MONITOR:-58222}
PORT_PROMETHEUS=${TICKMESH_PORT_PROMETHEUS:-59090}
PORT_KAFKA=${TICKMESH_PORT_KAFKA:-59092}
PORT_KAFKA_CONTROLLER=${TICKMESH_PORT_KAFKA_CONTROLLER:-59093}
# Kafka's listener for pods of the real node (node.sh): bound on loopback like the others, it
# advertises NODE_IP, where node.sh forwards it.
PORT_KAFKA_POD=${TICKMESH_PORT_KAFKA_POD:-59094}
# Only with TICKMESH_KAFKA_SECURITY=1 (kafka.sh): a SASL_SSL listener and a mutual-TLS one.
PORT_KAFKA_SASL_SSL=${TICKMESH_PORT_KAFKA_SASL_SSL:-59096}
PORT_KAFKA_MTLS=${TICKMESH_PORT_KAFKA_MTLS:-59097}
# Jaeger (jaeger.sh): OTLP in over gRPC and HTTP; its query API and UI, and the query's gRPC.
PORT_JAEGER_OTLP_GRPC=${TICKMESH_PORT_JAEGER_OTLP_GRPC:-54317}
PORT_JAEGER_OTLP=${TICKMESH_PORT_JAEGER_OTLP:-54318}
PORT_JAEGER_QUERY=${TICKMESH_PORT_JAEGER_QUERY:-56686}
PORT_JAEGER_QUERY_GRPC=${TICKMESH_PORT_JAEGER_QUERY_GRPC:-56685}
# Reserved for test/infra/kube.sh.
PORT_ETCD=${TICKMESH_PORT_ETCD:-52379}
PORT_ETCD_PEER=${TICKMESH_PORT_ETCD_PEER:-52380}
PORT_KUBE_APISERVER=${TICKMESH_PORT_KUBE_APISERVER:-56443}
# The S3-compatible server of the trades archive's tests (s3.sh).
PORT_S3=${TICKMESH_PORT_S3:-59000}
# The real node (node.sh): its pods' subnet, and the bridge they hang on, whose gateway address
# NODE_IP is the host as pods see it (and the node's name).
POD_CIDR=10.213.0.0/24
NODE_IP=10.213.0.1
NODE_BRIDGE=tickmesh0
export HOST PORT_POSTGRES PORT_REDIS PORT_NATS PORT_NATS_MONITOR PORT_PROMETHEUS PORT_KAFKA \
  PORT_KAFKA_CONTROLLER PORT_KAFKA_POD PORT_KAFKA_SASL_SSL PORT_KAFKA_MTLS PORT_ETCD PORT_ETCD_PEER \
  PORT_KUBE_APISERVER PORT_JAEGER_OTLP_GRPC PORT_JAEGER_OTLP PORT_JAEGER_QUERY PORT_JAEGER_QUERY_GRPC PORT_S3

# File descriptors that up.sh/down.sh and apt_install hold flocks on. (A server started while one
# is open would inherit it and hold the lock for as long as it runs: spawn closes every fd above 2.)
LOCK_FD_UP=9
LOCK_FD_APT=8

INFRA_NAME=${INFRA_NAME:-$(basename "${BASH_SOURCE[1]:-infra}" .sh)}

log() {
  [[ ${TICKMESH_INFRA_QUIET:-0} == 1 ]] || printf '[infra %s] %s\n' "$INFRA_NAME" "$*" >&2
}

err() {
  printf '[infra %s] ERROR: %s\n' "$INFRA_NAME" "$*" >&2
}

die() {
  err "$*"
  exit 1
}

# die_with_log NAME LOGFILE: fails with the last 80 lines of a server's log.
die_with_log() {
  local name=$1 logfile=$2
  err "$name did not start; last 80 lines of $logfile:"
  if [[ -s $logfile ]]; then
    tail -n 80 "$logfile" | sed 's/^/    /' >&2
  else
    err "($logfile is empty or missing)"
  fi
  exit 1
}

# wait_for SECONDS WHAT CMD...: polls CMD until it succeeds; false after SECONDS.
wait_for() {
  local timeout=$1 what=$2
  shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      err "timed out after ${timeout}s waiting for $what"
      return 1
    fi
    sleep 0.2
  done
}

# Root runs apt-get directly; anyone else through sudo. (Server scripts define functions named
# install and env: call those programs by path.)
as_root() {
  if ((EUID == 0)); then "$@"; else sudo "$@"; fi
}

apt_get() {
  as_root /usr/bin/env DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=600 "$@" >>"$LOGS/apt.log" 2>&1 || {
    err "apt-get $* failed; last 40 lines of $LOGS/apt.log:"
    tail -n 40 "$LOGS/apt.log" | sed 's/^/    /' >&2
    return 1
  }
}

# apt_install PKG...: installs the packages that dpkg does not report installed (dpkg -s). `apt-get update`
# runs at most once per machine (a marker in CACHE), plus once more if an install fails on a
# stale package list.
apt_install() {
  local missing=() p
  for p in "$@"; do
    [[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null) == 'install ok installed' ]] || missing+=("$p")
  done
  ((${#missing[@]} > 0)) || return 0
  log "installing Debian packages: ${missing[*]}"
  (
    flock "$LOCK_FD_APT"
    if [[ ! -f $CACHE/apt-updated ]]; then
      apt_get update
      touch "$CACHE/apt-updated"
    fi
    apt_get install -y --no-install-recommends "${missing[@]}" ||
      { apt_get update && apt_get install -y --no-install-recommends "${missing[@]}"; }
  ) 8>"$CACHE/apt.lock"
}

pid_of() {
  [[ -s $PIDS/$1.pid ]] && cat "$PIDS/$1.pid"
}

# is_running NAME: the process in NAME's pid file is alive. A zombie (dead, not yet reaped by the
# script that spawned it) does not count.
is_running() {
  local pid state
  pid=$(pid_of "$1") || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
  [[ $state != Z ]]
}

port_open() {
  (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
}

http_ok() {
  curl -fsS -o /dev/null --max-time 2 "$1"
}

# require_free_ports PORT...: fails when something we did not start holds one of our ports.
# reserve_ports PORT...: keeps the kernel from handing PORT out as the local port of an outgoing
# connection. Every default port here lies in Linux's ephemeral range (32768-60999), and a client
# connection that happened to get, say, 59092 made Kafka fail to bind it ("Address already in
# use") several seconds after the free-port check passed. Needs root (as on the CI machines);
# without it, a warning.
reserve_ports() {
  local file=/proc/sys/net/ipv4/ip_local_reserved_ports current wanted
  [[ -r $file ]] || return 0
  current=$(<"$file")
  wanted=$(printf '%s\n' ${current//,/ } "$@" | grep -v '^$' | sort -un | paste -sd, -)
  [[ $wanted == "$current" ]] && return 0
  if ! echo "$wanted" >"$file" 2>/dev/null; then
    log "warning: cannot reserve ports $* from the ephemeral range (not root?); a client socket may take one"
  fi
}

require_free_ports() {
  local port
  for port in "$@"; do
    if port_open "$port"; then
      err "port $port on $HOST is already in use by a process this harness does not know:"
      ss -ltnp "sport = :$port" >&2 || true
      exit 1
    fi
  done
}

# spawn NAME CMD...: runs CMD detached, in its own session, with its output in $LOGS/NAME.log (the
# previous run's log is kept as NAME.log.1) and its pid in $PIDS/NAME.pid. CMD must exec the
# server itself (not fork it) so that the pid is the server's.
spawn() {
  local name=$1
  shift
  [[ -f $LOGS/$name.log ]] && mv -f "$LOGS/$name.log" "$LOGS/$name.log.1"
  # The server must not inherit our descriptors: a held flock would block the next up.sh, and an
  # inherited pipe (the test runner reading up.sh's output) would never reach end-of-file.
  # A non-interactive shell's background job is not a process group leader, so setsid does not
  # fork, and both execs keep $! the server's pid.
  (
    for fd in /proc/"$BASHPID"/fd/*; do
      fd=${fd##*/}
      if ((fd > 2)); then eval "exec $fd>&-"; fi
    done
    exec setsid "$@" </dev/null >"$LOGS/$name.log" 2>&1
  ) &
  echo $! >"$PIDS/$name.pid"
}

# wait_up NAME SECONDS CMD...: waits until CMD succeeds while NAME's process lives; on failure
# (the process exited or the time ran out) fails with the tail of its log.
wait_up() {
  local name=$1 timeout=$2
  shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if ! is_running "$name"; then
      err "$name exited during startup"
      die_with_log "$name" "$LOGS/$name.log"
    fi
    if ((SECONDS >= deadline)); then
      err "$name did not answer within ${timeout}s"
      die_with_log "$name" "$LOGS/$name.log"
    fi
    sleep 0.2
  done
}

# stop_process NAME [SIGNAL] [SECONDS]: signals NAME's process (TERM by default), waits for it to
# exit, then kills it. Idempotent.
stop_process() {
  local name=$1 signal=${2:-TERM} timeout=${3:-30} pid
  if ! is_running "$name"; then
    rm -f "$PIDS/$name.pid"
    return 0
  fi
  pid=$(pid_of "$name")
  log "stopping $name (pid $pid)"
  kill "-$signal" "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + timeout))
  while is_running "$name"; do
    if ((SECONDS >= deadline)); then
      err "$name (pid $pid) did not exit within ${timeout}s after SIG$signal; killing it"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.5
      break
    fi
    sleep 0.1
  done
  rm -f "$PIDS/$name.pid"
}

# ensure_started NAME SECONDS HEALTHY_FN LAUNCH_FN: a no-op when NAME runs and HEALTHY_FN
# succeeds; a running process that does not answer is restarted; otherwise LAUNCH_FN starts it and
# we wait up to SECONDS for HEALTHY_FN.
ensure_started() {
  local name=$1 timeout=$2 healthy=$3 launch=$4
  if is_running "$name"; then
    if wait_for 5 "$name to answer" "$healthy"; then
      log "$name already running (pid $(pid_of "$name"))"
      return 0
    fi
    err "$name is running but does not answer; restarting it"
    stop_process "$name"
  fi
  log "starting $name"
  local t0=$SECONDS
  "$launch"
  wait_up "$name" "$timeout" "$healthy"
  log "$name is up after $((SECONDS - t0))s (log: $LOGS/$name.log)"
}

# emit NAME VALUE: one `export NAME=value` line, single-quoted when the value needs it.
emit() {
  local name=$1 value=$2
  if [[ $value =~ ^[A-Za-z0-9_./:@,=+-]*$ ]]; then
    printf 'export %s=%s\n' "$name" "$value"
  else
    printf "export %s='%s'\n" "$name" "${value//\'/\'\\\'\'}"
  fi
}

# write_kubeconfig FILE SERVER CA CERT KEY: a kubeconfig for a client certificate, the files'
# contents embedded, so that it can be copied elsewhere.
write_kubeconfig() {
  local file=$1 server=$2 ca=$3 cert=$4 key=$5
  cat >"$file" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: tickmesh-test
  cluster:
    server: $server
    certificate-authority-data: $(base64 -w0 "$ca")
users:
- name: user
  user:
    client-certificate-data: $(base64 -w0 "$cert")
    client-key-data: $(base64 -w0 "$key")
contexts:
- name: tickmesh-test
  context:
    cluster: tickmesh-test
    user: user
current-context: tickmesh-test
EOF
  chmod 600 "$file"
}

# dispatch "$@": runs the server script's subcommand (functions install, start, env, stop).
dispatch() {
  case ${1:-} in
  install | start | env | stop) "$1" ;;
  *)
    echo "usage: $0 install|start|env|stop" >&2
    exit 2
    ;;
  esac
}

# ensure_test_certs: a test CA and certificates it signed under $RUN/certs, made once per run
# directory (several server scripts of one private set call it at the same time: flock):
# ca.pem/ca.key, server.pem/server.key (for 127.0.0.1, localhost and NODE_IP, where pods of the
# real node reach the host: test/cluster/secured.test.ts), client.pem/client.key
# (CN tickmesh-client, for mutual TLS). Only the TICKMESH_*_SECURITY knobs below use them.
CERTS=$RUN/certs
ensure_test_certs() {
  mkdir -p "$CERTS"
  (
    flock 7
    [[ -f $CERTS/.complete ]] && exit 0
    command -v openssl >/dev/null || apt_install openssl
    cd "$CERTS"
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj '/CN=tickmesh test CA' \
      -keyout ca.key -out ca.pem 2>/dev/null
    local name cn ext
    for name in server client; do
      if [[ $name == server ]]; then
        cn=localhost ext="subjectAltName=IP:127.0.0.1,DNS:localhost,IP:$NODE_IP
extendedKeyUsage=serverAuth"
      else
        cn=tickmesh-client ext='extendedKeyUsage=clientAuth'
      fi
      openssl req -newkey rsa:2048 -nodes -subj "/CN=$cn" -keyout "$name.raw.key" -out "$name.csr" 2>/dev/null
      openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 \
        -extfile <(printf '%s\n' "$ext") -out "$name.pem" 2>/dev/null
      # PKCS#8, which every server here reads (Kafka's PEM key store requires it).
      openssl pkcs8 -topk8 -nocrypt -in "$name.raw.key" -out "$name.key"
      rm -f "$name.raw.key" "$name.csr"
    done
    chmod 644 ./*.pem ./*.key
    touch .complete
  ) 7>"$RUN/certs.lock"
}
