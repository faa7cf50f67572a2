#!/usr/bin/env bash
# A real Kubernetes control plane: etcd, kube-apiserver (RBAC, client-certificate auth),
# kube-controller-manager and kube-scheduler, plus helm; kubelet and kube-proxy are built here too
# for node.sh. Without node.sh no kubelet runs: pods of a Deployment are created and, once a test
# creates a Node, scheduled, but nothing runs them; tests patch pod status themselves. The real
# node of node.sh is tainted, so that those pods stay as they are. A Node a test creates stays
# as created: the TaintNodesByCondition admission plugin (which taints every new Node not-ready
# until the node lifecycle controller sees it Ready) and that controller (which taints a Node that
# sends no heartbeats unreachable and so evicts its pods after 5 minutes) are both off.
#
# Everything is built with Go from the modules under test/infra/kube/ (versions pinned by their
# go.mod/go.sum) into $CACHE/bin, once per version. A start that does not find the control plane
# running and answering makes a fresh cluster: new etcd data,
# new certificates.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SRC=$INFRA_DIR/kube
BIN=$CACHE/bin
DATA=$RUN/kube
PKI=$DATA/pki
KUBECONFIG_ADMIN=$DATA/kubeconfig
APISERVER_URL=https://$HOST:$PORT_KUBE_APISERVER
SERVICE_CIDR=10.96.0.0/16
# The first address of SERVICE_CIDR: the `kubernetes` Service, a SAN of the serving certificate.
SERVICE_IP=10.96.0.1
PROCESSES=(etcd kube-apiserver kube-controller-manager kube-scheduler)

# --- install -------------------------------------------------------------------------------------

go_ready() {
  command -v go >/dev/null 2>&1 || PATH=/usr/local/go/bin:$PATH
  command -v go >/dev/null 2>&1 || die "Go is not installed (looked in PATH and /usr/local/go/bin); the control plane is built with it"
}

# mod_version DIR MODULE: the version of MODULE that DIR/go.mod requires.
mod_version() {
  awk -v m="$2" '$1 == m { print $2; exit } $1 == "require" && $2 == m { print $3; exit }' "$1/go.mod"
}

# build_module NAME LDFLAGS PKG...: builds the packages of module $SRC/NAME into $BIN, unless the
# stamp says this exact module (go.mod, go.sum, sources, flags) was built by this exact Go already.
build_module() {
  local name=$1 ldflags=$2
  shift 2
  local dir=$SRC/$name stamp=$BIN/.$name.stamp want have pkg bin stale=0
  want=$(cd "$dir" && { cat go.mod go.sum ./*.go 2>/dev/null; go version; echo "$ldflags"; } | sha256sum | cut -d' ' -f1)
  have=$(cat "$stamp" 2>/dev/null || true)
  for pkg in "$@"; do
    bin=${pkg##*/}
    [[ $pkg == . ]] && bin=$name
    [[ -x $BIN/$bin ]] || stale=1
  done
  if [[ $want == "$have" && $stale == 0 ]]; then
    log "$name binaries cached in $BIN"
    return 0
  fi
  log "building $name with $(go version | cut -d' ' -f3) (the first build takes minutes: see $LOGS/kube-build-$name.log)"
  local tmp t0=$SECONDS
  tmp=$(mktemp -d "$BIN/.build-$name.XXXXXX")
  # -mod=readonly: the committed go.sum decides every dependency; -s -w: no symbol tables, which
  # makes the link of kube-apiserver faster and lighter on memory.
  if ! (cd "$dir" && GOFLAGS='-mod=readonly -buildvcs=false' \
    go build -trimpath -ldflags="-s -w $ldflags" -o "$tmp/" "$@") >"$LOGS/kube-build-$name.log" 2>&1; then
    rm -rf "$tmp"
    die_with_log "go build of $name" "$LOGS/kube-build-$name.log"
  fi
  mv -f "$tmp"/* "$BIN/"
  rm -rf "$tmp"
  echo "$want" >"$stamp"
  log "built $name in $((SECONDS - t0))s"
}

# The version a release build stamps in with -X. Without it the API server reports gitVersion
# v0.0.0-master, which fails every chart's kubeVersion constraint, and helm calls itself v4.3.
k8s_ldflags() {
  local v p flags=''
  v=$(mod_version "$SRC/k8s" k8s.io/kubernetes)
  local major=${v#v} minor
  minor=${major#*.}
  minor=${minor%%.*}
  major=${major%%.*}
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $p.gitVersion=$v -X $p.gitMajor=$major -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
  done
  echo "$flags"
}

install() {
  go_ready
  mkdir -p "$BIN"
  local helm_version
  helm_version=$(mod_version "$SRC/helm" helm.sh/helm/v4)
  (
    # Two concurrent installs would race on the same binaries: one builds, the other waits.
    flock 7
    build_module etcd '' .
    build_module k8s "$(k8s_ldflags)" k8s.io/kubernetes/cmd/kube-apiserver \
      k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler \
      k8s.io/kubernetes/cmd/kubectl k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy
    build_module helm "-X helm.sh/helm/v4/internal/version.version=$helm_version" helm.sh/helm/v4/cmd/helm
  ) 7>"$BIN/.kube-build.lock"
}

# --- certificates and kubeconfigs ----------------------------------------------------------------

# cert NAME SUBJECT EXTENSIONS: an EC P-256 key and a certificate signed by the cluster CA.
cert() {
  local name=$1 subject=$2 ext=$3
  openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
    -keyout "$PKI/$name.key" -out "$PKI/$name.csr" -subj "$subject" 2>/dev/null
  printf '%b' "$ext" >"$PKI/$name.ext"
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
    -days 365 -sha256 -extfile "$PKI/$name.ext" -out "$PKI/$name.crt" 2>/dev/null
}

make_pki() {
  rm -rf "$PKI"
  mkdir -p "$PKI"
  chmod 700 "$PKI"
  openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
    -keyout "$PKI/ca.key" -out "$PKI/ca.crt" -days 365 -sha256 -subj "/CN=tickmesh-test-ca" \
    -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign' 2>/dev/null
  local client='basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n'
  cert apiserver "/CN=kube-apiserver" "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:$HOST,DNS:localhost,IP:$NODE_IP,IP:$SERVICE_IP,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\n"
  # system:masters bypasses RBAC: the tests' own identity. Code under test that must live with
  # its RBAC rules authenticates as a service account instead.
  cert admin "/O=system:masters/CN=tickmesh-admin" "$client"
  # The names the bootstrap RBAC policy binds for these two components.
  cert controller-manager "/CN=system:kube-controller-manager" "$client"
  cert scheduler "/CN=system:kube-scheduler" "$client"
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$PKI/sa.key" 2>/dev/null
  openssl pkey -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
}

# kubeconfig FILE CERT_NAME
kubeconfig() {
  write_kubeconfig "$1" "$APISERVER_URL" "$PKI/ca.crt" "$PKI/$2.crt" "$PKI/$2.key"
}

# --- health --------------------------------------------------------------------------------------

# api PATH: GET on the API server as the admin.
api() {
  curl -fsS --max-time 3 --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" "$APISERVER_URL$1"
}

etcd_healthy() {
  [[ $(curl -fsS --max-time 2 "http://$HOST:$PORT_ETCD/health" 2>/dev/null) == *'"health":"true"'* ]]
}

apiserver_ready() {
  [[ $(api /readyz 2>/dev/null) == ok ]]
}

# lease_held NAME: a component holds its leader-election Lease in kube-system, i.e. it talks to the
# API server and runs its loops. (Both serve no port of their own here: --secure-port=0.)
lease_held() {
  api "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/$1" 2>/dev/null |
    grep -q '"holderIdentity": *"[^"]'
}

# The controller-manager's service-account controller creates `default` in every namespace; pods
# are refused until it exists.
controller_manager_ready() {
  lease_held kube-controller-manager && api /api/v1/namespaces/default/serviceaccounts/default >/dev/null 2>&1
}

scheduler_ready() {
  lease_held kube-scheduler
}

all_ready() {
  local p
  for p in "${PROCESSES[@]}"; do is_running "$p" || return 1; done
  [[ -f $KUBECONFIG_ADMIN ]] && apiserver_ready && controller_manager_ready && scheduler_ready
}

# --- launch --------------------------------------------------------------------------------------

launch_etcd() {
  # --unsafe-no-fsync: the data is thrown away on the next start anyway.
  spawn etcd "$BIN/etcd" --name tickmesh --data-dir "$DATA/etcd" \
    --listen-client-urls "http://$HOST:$PORT_ETCD" --advertise-client-urls "http://$HOST:$PORT_ETCD" \
    --listen-peer-urls "http://$HOST:$PORT_ETCD_PEER" --initial-advertise-peer-urls "http://$HOST:$PORT_ETCD_PEER" \
    --initial-cluster "tickmesh=http://$HOST:$PORT_ETCD_PEER" --initial-cluster-state new \
    --unsafe-no-fsync --log-level warn
}

launch_apiserver() {
  # Pods of the real node (node.sh) reach it through the `kubernetes` Service, whose endpoint is
  # the advertised NODE_IP, the host as pods see it. It has one bind address: every address, so
  # that tests keep 127.0.0.1 and pods get NODE_IP (which exists only once node.sh made the
  # bridge). RBAC lets an anonymous caller see only /version and the health checks.
  spawn kube-apiserver "$BIN/kube-apiserver" \
    --bind-address=0.0.0.0 --advertise-address="$NODE_IP" --secure-port="$PORT_KUBE_APISERVER" \
    --etcd-servers="http://$HOST:$PORT_ETCD" \
    --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" --cert-dir="$PKI" \
    --client-ca-file="$PKI/ca.crt" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
    --service-cluster-ip-range="$SERVICE_CIDR" \
    --authorization-mode=RBAC \
    --allow-privileged=true \
    --disable-admission-plugins=TaintNodesByCondition \
    --profiling=false
}

launch_controller_manager() {
  spawn kube-controller-manager "$BIN/kube-controller-manager" \
    --kubeconfig="$DATA/controller-manager.kubeconfig" \
    --secure-port=0 \
    --use-service-account-credentials=true \
    --service-account-private-key-file="$PKI/sa.key" \
    --root-ca-file="$PKI/ca.crt" \
    --controllers='*,-node-lifecycle-controller' \
    --profiling=false
}

launch_scheduler() {
  spawn kube-scheduler "$BIN/kube-scheduler" \
    --kubeconfig="$DATA/scheduler.kubeconfig" \
    --secure-port=0 \
    --profiling=false
}

# One start or stop at a time, also when called directly rather than through up.sh: a second
# start would find the control plane half up and tear it down. The lock sits on the fd that
# spawn closes, so the servers do not inherit it; reopening it does not release up.sh's own lock.
kube_lock() {
  eval "exec $LOCK_FD_UP>\"\$RUN/kube.lock\""
  flock "$LOCK_FD_UP"
}

start() {
  kube_lock
  install
  if all_ready; then
    log "control plane already running at $APISERVER_URL"
    return 0
  fi
  # Half a control plane (a process died, or the last start failed) is not worth repairing: stop
  # what is left and start a fresh cluster.
  stop_all
  require_free_ports "$PORT_ETCD" "$PORT_ETCD_PEER" "$PORT_KUBE_APISERVER"
  local t0=$SECONDS
  rm -rf "$DATA"
  mkdir -p "$DATA"
  make_pki
  kubeconfig "$DATA/controller-manager.kubeconfig" controller-manager
  kubeconfig "$DATA/scheduler.kubeconfig" scheduler
  ensure_started etcd 60 etcd_healthy launch_etcd
  ensure_started kube-apiserver 180 apiserver_ready launch_apiserver
  ensure_started kube-controller-manager 120 controller_manager_ready launch_controller_manager
  ensure_started kube-scheduler 120 scheduler_ready launch_scheduler
  # Written last: a kubeconfig on disk means the whole control plane answered.
  kubeconfig "$KUBECONFIG_ADMIN" admin
  log "control plane up at $APISERVER_URL after $((SECONDS - t0))s (kubeconfig: $KUBECONFIG_ADMIN)"
}

env() {
  emit KUBECONFIG "$KUBECONFIG_ADMIN"
  emit KUBE_APISERVER_URL "$APISERVER_URL"
  emit HELM "$BIN/helm"
  emit KUBECTL "$BIN/kubectl"
}

stop_all() {
  local i
  for ((i = ${#PROCESSES[@]} - 1; i >= 0; i--)); do
    stop_process "${PROCESSES[i]}" TERM 30
  done
  rm -f "$KUBECONFIG_ADMIN"
}

stop() {
  kube_lock
  stop_all
}

dispatch "$@"; exit
