#!/usr/bin/env bash
# A real Kubernetes node for the control plane of kube.sh: containerd 2.x with runc, the CNI
# bridge, kubelet and kube-proxy (iptables mode), and CoreDNS in the cluster as its DNS. Pods run
# for real; test/cluster/ installs the chart on it. Needs root (a bridge, iptables, cgroups), and
# kube.sh's control plane running (`kube.sh start` first; up.sh lists kube before node).
#
# Only pods that tolerate the taint tickmesh.test/real-node=true:NoSchedule land on the node: the
# other tests create pods that must stay Pending, or bind them to Nodes they play themselves.
#
# The node is named by its address, the bridge gateway NODE_IP (lib.sh): the API server dials
# kubelets by node name and there is no DNS for it. The harness servers on the host listen on
# loopback; pods reach them at NODE_IP, whose harness ports are forwarded (DNAT) to 127.0.0.1 for
# packets coming from the bridge (route_localnet on the bridge only). Kafka advertises NODE_IP on
# a listener of its own (PORT_KAFKA_POD, kafka.sh); the API server listens on every address
# (kube.sh) and is the `kubernetes` Service's endpoint at NODE_IP.
#
# Everything is built with Go or gcc into $CACHE/node, once per version: containerd (the module
# version below), kubelet and kube-proxy (kube.sh, from its pinned k8s.io/kubernetes), CoreDNS
# (test/infra/kube/coredns), the pause image from the Kubernetes module's pause.c; the two images
# are OCI archives made here. runc and the CNI plugins are Debian's.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CONTAINERD_VERSION=v2.4.2
NODE_CACHE=$CACHE/node
CONTAINERD_BIN=$NODE_CACHE/containerd-$CONTAINERD_VERSION
# CoreDNS from test/infra/kube/coredns (its version pinned there), cached by the hash of its sources.
COREDNS_SRC=$INFRA_DIR/kube/coredns
COREDNS_KEY=$(cat "$COREDNS_SRC/go.mod" "$COREDNS_SRC/go.sum" "$COREDNS_SRC/main.go" | sha256sum | cut -c1-16)
COREDNS_BIN=$NODE_CACHE/coredns-$COREDNS_KEY
IMAGES=$NODE_CACHE/images
BIN=$CACHE/bin
CNI_BIN=/usr/lib/cni

KUBE_DATA=$RUN/kube
KUBE_PKI=$KUBE_DATA/pki
KUBECONFIG_ADMIN=$KUBE_DATA/kubeconfig
APISERVER_URL=https://$HOST:$PORT_KUBE_APISERVER

DATA=$RUN/node
PKI=$DATA/pki
CONTAINERD_SOCK=$DATA/containerd.sock
NODE_NAME=$NODE_IP
CLUSTER_DNS=10.96.0.10
PAUSE_IMAGE=tickmesh.test/pause:3.10
COREDNS_IMAGE=tickmesh.test/coredns:$COREDNS_KEY
TAINT_KEY=tickmesh.test/real-node
# The host ports pods reach at NODE_IP: the harness servers that listen on loopback only.
FORWARDED_PORTS=("$PORT_POSTGRES" "$PORT_REDIS" "$PORT_NATS" "$PORT_KAFKA_POD")
# The kernel settings kubelet changes (it wants them so); saved before its first start, put back by stop.
SYSCTLS=(kernel.panic kernel.panic_on_oops vm.overcommit_memory)
PROCESSES=(containerd kubelet kube-proxy)
NAT_CHAIN=TICKMESH-NODE

export PATH=$CONTAINERD_BIN:/usr/local/go/bin:$PATH

ctr_() {
  "$CONTAINERD_BIN/ctr" --address "$CONTAINERD_SOCK" -n k8s.io "$@"
}

kubectl_() {
  "$BIN/kubectl" --kubeconfig "$KUBECONFIG_ADMIN" "$@"
}

# --- install -------------------------------------------------------------------------------------

# go_build DIR NAME CMD...: runs the Go build CMD (static, stripped) with its output in DIR
# ($OUT), once per DIR.
go_build() {
  local dir=$1 name=$2
  shift 2
  [[ -f $dir/.complete ]] && return 0
  log "building $name with $(go version | cut -d' ' -f3) (see $LOGS/node-build-$name.log)"
  local t0=$SECONDS tmp=$dir.tmp.$$
  rm -rf "$tmp"
  mkdir -p "$tmp"
  if ! (OUT=$tmp CGO_ENABLED=0 GOFLAGS=-buildvcs=false "$@") >"$LOGS/node-build-$name.log" 2>&1; then
    rm -rf "$tmp"
    die_with_log "go build of $name" "$LOGS/node-build-$name.log"
  fi
  touch "$tmp/.complete"
  rm -rf "$dir"
  mv "$tmp" "$dir"
  log "built $name in $((SECONDS - t0))s"
}

# oci_archive OUT NAME ROOTFS ENTRYPOINT_JSON: an OCI image layout (one uncompressed layer of
# ROOTFS) as a tar, named NAME for `ctr images import` (annotation io.containerd.image.name).
oci_archive() {
  local out=$1 name=$2 rootfs=$3 entrypoint=$4
  local dir
  dir=$(mktemp -d)
  mkdir -p "$dir/blobs/sha256"
  tar -C "$rootfs" --owner=0 --group=0 --numeric-owner --sort=name --mtime=@0 -cf "$dir/layer.tar" .
  local layer layer_size config config_size manifest manifest_size
  layer=$(sha256sum "$dir/layer.tar" | cut -d' ' -f1)
  layer_size=$(stat -c %s "$dir/layer.tar")
  mv "$dir/layer.tar" "$dir/blobs/sha256/$layer"
  printf '{"architecture":"amd64","os":"linux","config":{"Entrypoint":%s},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
    "$entrypoint" "$layer" >"$dir/config.json"
  config=$(sha256sum "$dir/config.json" | cut -d' ' -f1)
  config_size=$(stat -c %s "$dir/config.json")
  mv "$dir/config.json" "$dir/blobs/sha256/$config"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' \
    "$config" "$config_size" "$layer" "$layer_size" >"$dir/manifest.json"
  manifest=$(sha256sum "$dir/manifest.json" | cut -d' ' -f1)
  manifest_size=$(stat -c %s "$dir/manifest.json")
  mv "$dir/manifest.json" "$dir/blobs/sha256/$manifest"
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}]}' \
    "$manifest" "$manifest_size" "$name" "${name##*:}" >"$dir/index.json"
  echo '{"imageLayoutVersion":"1.0.0"}' >"$dir/oci-layout"
  tar -C "$dir" -cf "$out.tmp" oci-layout index.json blobs
  mv -f "$out.tmp" "$out"
  rm -rf "$dir"
}

install_containerd() {
  local m=github.com/containerd/containerd/v2/cmd
  # The snapshotters that need C libraries are left out.
  GOBIN=$OUT go install -trimpath -ldflags='-s -w' -tags 'no_btrfs no_devmapper' "$m/containerd@$CONTAINERD_VERSION" \
    "$m/ctr@$CONTAINERD_VERSION" "$m/containerd-shim-runc-v2@$CONTAINERD_VERSION"
}

build_coredns() {
  cd "$COREDNS_SRC" && GOFLAGS='-mod=readonly -buildvcs=false' go build -trimpath -ldflags='-s -w' -o "$OUT/coredns" .
}

k8s_module_dir() {
  local v
  v=$(awk '$1 == "require" && $2 == "k8s.io/kubernetes" { print $3 }' "$INFRA_DIR/kube/k8s/go.mod")
  echo "$(go env GOMODCACHE)/k8s.io/kubernetes@$v"
}

build_images() {
  mkdir -p "$IMAGES"
  local root
  if [[ ! -f $IMAGES/pause.tar ]]; then
    local src
    src=$(k8s_module_dir)/build/pause/linux/pause.c
    [[ -f $src ]] || (cd "$INFRA_DIR/kube/k8s" && go mod download k8s.io/kubernetes)
    root=$(mktemp -d)
    gcc -Os -static -o "$root/pause" "$src" || die "gcc -static of $src failed"
    strip "$root/pause"
    oci_archive "$IMAGES/pause.tar" "$PAUSE_IMAGE" "$root" '["/pause"]'
    rm -rf "$root"
  fi
  if [[ ! -f $IMAGES/coredns-$COREDNS_KEY.tar ]]; then
    root=$(mktemp -d)
    cp "$COREDNS_BIN/coredns" "$root/coredns"
    oci_archive "$IMAGES/coredns-$COREDNS_KEY.tar" "$COREDNS_IMAGE" "$root" '["/coredns"]'
    rm -rf "$root"
  fi
}

install() {
  apt_install runc containernetworking-plugins iptables conntrack gcc libc6-dev openssl
  bash "$INFRA_DIR/kube.sh" install
  (
    flock 7
    go_build "$CONTAINERD_BIN" containerd install_containerd
    go_build "$COREDNS_BIN" coredns build_coredns
    build_images
  ) 7>"$NODE_CACHE.lock"
}

# --- host network --------------------------------------------------------------------------------

save_sysctls() {
  [[ -f $RUN/node-sysctl.saved ]] && return 0
  local k
  for k in "${SYSCTLS[@]}"; do echo "$k=$(sysctl -n "$k")"; done >"$RUN/node-sysctl.saved"
}

restore_sysctls() {
  [[ -f $RUN/node-sysctl.saved ]] || return 0
  local line
  while IFS= read -r line; do sysctl -q -w "$line" >/dev/null || err "could not restore $line"; done <"$RUN/node-sysctl.saved"
  rm -f "$RUN/node-sysctl.saved"
}

# The bridge the CNI plugin attaches pods to, made here so that kubelet can bind NODE_IP before
# the first pod; the forwarding of the harness ports from it.
network_up() {
  modprobe br_netfilter 2>/dev/null || true
  sysctl -q -w net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1 >/dev/null
  if ! ip link show "$NODE_BRIDGE" >/dev/null 2>&1; then
    ip link add "$NODE_BRIDGE" type bridge
  fi
  ip addr replace "$NODE_IP/${POD_CIDR#*/}" dev "$NODE_BRIDGE"
  ip link set "$NODE_BRIDGE" up
  sysctl -q -w "net.ipv4.conf.$NODE_BRIDGE.route_localnet=1" >/dev/null
  # DNAT to the loopback listener, and SNAT to 127.0.0.1 as well: the servers then see a pod as a
  # local client (PostgreSQL's pg_hba, Redis' protected mode), as they see the tests.
  local chain port
  for chain in "$NAT_CHAIN" "$NAT_CHAIN-SNAT"; do
    iptables -t nat -N "$chain" 2>/dev/null || iptables -t nat -F "$chain"
  done
  for port in "${FORWARDED_PORTS[@]}"; do
    iptables -t nat -A "$NAT_CHAIN" -i "$NODE_BRIDGE" -d "$NODE_IP" -p tcp --dport "$port" \
      -j DNAT --to-destination "127.0.0.1:$port"
    iptables -t nat -A "$NAT_CHAIN-SNAT" -i "$NODE_BRIDGE" -d 127.0.0.1 -p tcp --dport "$port" \
      -j SNAT --to-source 127.0.0.1
  done
  iptables -t nat -C PREROUTING -j "$NAT_CHAIN" 2>/dev/null || iptables -t nat -I PREROUTING -j "$NAT_CHAIN"
  iptables -t nat -C INPUT -j "$NAT_CHAIN-SNAT" 2>/dev/null || iptables -t nat -I INPUT -j "$NAT_CHAIN-SNAT"
}

network_down() {
  iptables -t nat -D PREROUTING -j "$NAT_CHAIN" 2>/dev/null || true
  iptables -t nat -D INPUT -j "$NAT_CHAIN-SNAT" 2>/dev/null || true
  local chain
  for chain in "$NAT_CHAIN" "$NAT_CHAIN-SNAT"; do
    iptables -t nat -F "$chain" 2>/dev/null || true
    iptables -t nat -X "$chain" 2>/dev/null || true
  done
  ip link del "$NODE_BRIDGE" 2>/dev/null || true
  # What kubelet itself adds (kube-proxy --cleanup removes kube-proxy's).
  iptables -D INPUT -j KUBE-FIREWALL 2>/dev/null || true
  iptables -D OUTPUT -j KUBE-FIREWALL 2>/dev/null || true
  iptables -F KUBE-FIREWALL 2>/dev/null && iptables -X KUBE-FIREWALL 2>/dev/null || true
  local table
  for table in nat filter mangle; do iptables -t "$table" -X KUBE-KUBELET-CANARY 2>/dev/null || true; done
}

write_cni_config() {
  mkdir -p "$DATA/cni"
  cat >"$DATA/cni/10-tickmesh.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "tickmesh",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$NODE_BRIDGE",
      "isDefaultGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{ "subnet": "$POD_CIDR", "gateway": "$NODE_IP" }]],
        "dataDir": "$DATA/cni/ipam"
      }
    },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
EOF
}

# --- credentials ---------------------------------------------------------------------------------

# node_cert NAME SUBJECT: a client certificate signed by the control plane's CA, and a kubeconfig.
node_cert() {
  local name=$1 subject=$2
  openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
    -keyout "$PKI/$name.key" -out "$PKI/$name.csr" -subj "$subject" 2>/dev/null
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n' >"$PKI/$name.ext"
  openssl x509 -req -in "$PKI/$name.csr" -CA "$KUBE_PKI/ca.crt" -CAkey "$KUBE_PKI/ca.key" -CAcreateserial \
    -days 365 -sha256 -extfile "$PKI/$name.ext" -out "$PKI/$name.crt" 2>/dev/null
  write_kubeconfig "$DATA/$name.kubeconfig" "$APISERVER_URL" "$KUBE_PKI/ca.crt" "$PKI/$name.crt" "$PKI/$name.key"
}

# --- processes -----------------------------------------------------------------------------------

launch_containerd() {
  mkdir -p "$DATA/containerd"
  cat >"$DATA/containerd.toml" <<EOF
version = 3
root = "$DATA/containerd/root"
state = "$DATA/containerd/state"
[grpc]
  address = "$CONTAINERD_SOCK"
[plugins.'io.containerd.cri.v1.runtime']
  # Root here cannot lower a process's oom_score_adj (no CAP_SYS_RESOURCE in this VM): runc
  # failed every sandbox asking -998. Restricted, containers keep the host's score or higher.
  restrict_oom_score_adj = true
  [plugins.'io.containerd.cri.v1.runtime'.cni]
    bin_dirs = ["$CNI_BIN"]
    conf_dir = "$DATA/cni"
  [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
    SystemdCgroup = false
[plugins.'io.containerd.cri.v1.images']
  [plugins.'io.containerd.cri.v1.images'.pinned_images]
    sandbox = "$PAUSE_IMAGE"
EOF
  spawn containerd "$CONTAINERD_BIN/containerd" --config "$DATA/containerd.toml"
}

containerd_ready() {
  ctr_ version
}

import_images() {
  local image archive
  for archive in "$IMAGES/pause.tar" "$IMAGES/coredns-$COREDNS_KEY.tar"; do
    ctr_ images import "$archive" >/dev/null || die "ctr images import $archive failed"
  done
  local present
  present=$(ctr_ images ls -q)
  for image in "$PAUSE_IMAGE" "$COREDNS_IMAGE"; do
    grep -qx "$image" <<<"$present" || die "$image is not in containerd after the import"
  done
}

launch_kubelet() {
  mkdir -p "$DATA/kubelet"
  cat >"$DATA/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
healthzBindAddress: 127.0.0.1
readOnlyPort: 0
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
# Only the API server calls the kubelet (logs, exec), from this machine.
authentication:
  anonymous: { enabled: true }
  webhook: { enabled: false }
authorization: { mode: AlwaysAllow }
clusterDNS: [$CLUSTER_DNS]
clusterDomain: cluster.local
resolvConf: /etc/resolv.conf
registerWithTaints:
  - { key: $TAINT_KEY, value: "true", effect: NoSchedule }
# A small shared disk: the defaults would evict pods or delete the imported images.
evictionHard: { memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1% }
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
maxPods: 60
serializeImagePulls: false
EOF
  spawn kubelet "$BIN/kubelet" --config "$DATA/kubelet.yaml" --kubeconfig "$DATA/kubelet.kubeconfig" \
    --root-dir "$DATA/kubelet" --hostname-override "$NODE_NAME" --node-ip "$NODE_IP" \
    --node-labels "$TAINT_KEY=true" --v 1
}

node_ready() {
  [[ $(kubectl_ get node "$NODE_NAME" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null) == True ]]
}

launch_kube_proxy() {
  cat >"$DATA/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clientConnection: { kubeconfig: $DATA/kube-proxy.kubeconfig }
hostnameOverride: $NODE_NAME
bindAddress: $NODE_IP
clusterCIDR: $POD_CIDR
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
# Leave the host's conntrack table size alone.
conntrack: { maxPerCore: 0 }
EOF
  spawn kube-proxy "$BIN/kube-proxy" --config "$DATA/kube-proxy.yaml"
}

kube_proxy_ready() {
  http_ok http://127.0.0.1:10256/healthz
}

# The node's RBAC (the API server runs RBAC only, without the Node authorizer) and CoreDNS.
apply_cluster_objects() {
  kubectl_ apply -f - >/dev/null <<EOF
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: tickmesh-test-nodes }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: system:node }
subjects: [{ apiGroup: rbac.authorization.k8s.io, kind: Group, name: system:nodes }]
EOF
}

apply_coredns() {
  kubectl_ apply -f - >/dev/null <<EOF
apiVersion: v1
kind: ServiceAccount
metadata: { name: coredns, namespace: kube-system }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: tickmesh-test-coredns }
rules:
  - { apiGroups: [""], resources: [endpoints, services, pods, namespaces], verbs: [list, watch] }
  - { apiGroups: [discovery.k8s.io], resources: [endpointslices], verbs: [list, watch] }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: tickmesh-test-coredns }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: tickmesh-test-coredns }
subjects: [{ kind: ServiceAccount, name: coredns, namespace: kube-system }]
---
apiVersion: v1
kind: ConfigMap
metadata: { name: coredns, namespace: kube-system }
data:
  # Cluster names only: nothing is resolved off this machine.
  Corefile: |
    .:53 {
        errors
        health :8080
        ready :8181
        kubernetes cluster.local in-addr.arpa ip6.arpa {
            pods insecure
            fallthrough in-addr.arpa ip6.arpa
        }
        cache 30
        loop
        reload
    }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: coredns, namespace: kube-system, labels: { k8s-app: kube-dns } }
spec:
  replicas: 1
  selector: { matchLabels: { k8s-app: kube-dns } }
  template:
    metadata: { labels: { k8s-app: kube-dns } }
    spec:
      serviceAccountName: coredns
      dnsPolicy: Default
      nodeSelector: { $TAINT_KEY: "true" }
      tolerations: [{ key: $TAINT_KEY, operator: Exists, effect: NoSchedule }]
      containers:
        - name: coredns
          image: $COREDNS_IMAGE
          imagePullPolicy: Never
          args: [-conf, /etc/coredns/Corefile]
          ports:
            - { name: dns, containerPort: 53, protocol: UDP }
            - { name: dns-tcp, containerPort: 53, protocol: TCP }
          readinessProbe: { httpGet: { path: /ready, port: 8181 }, periodSeconds: 2 }
          livenessProbe: { httpGet: { path: /health, port: 8080 }, periodSeconds: 10 }
          resources: { requests: { cpu: 10m, memory: 32Mi }, limits: { memory: 128Mi } }
          volumeMounts: [{ name: config, mountPath: /etc/coredns }]
      volumes: [{ name: config, configMap: { name: coredns } }]
---
apiVersion: v1
kind: Service
metadata: { name: kube-dns, namespace: kube-system, labels: { k8s-app: kube-dns } }
spec:
  clusterIP: $CLUSTER_DNS
  selector: { k8s-app: kube-dns }
  ports:
    - { name: dns, port: 53, protocol: UDP }
    - { name: dns-tcp, port: 53, protocol: TCP }
EOF
}

coredns_ready() {
  [[ $(kubectl_ -n kube-system get deploy coredns -o 'jsonpath={.status.readyReplicas}' 2>/dev/null) == 1 ]]
}

all_ready() {
  local p
  for p in "${PROCESSES[@]}"; do is_running "$p" || return 1; done
  containerd_ready >/dev/null 2>&1 && node_ready && kube_proxy_ready && coredns_ready
}

# One start or stop at a time (see kube.sh's kube_lock).
node_lock() {
  eval "exec $LOCK_FD_UP>\"\$RUN/node.lock\""
  flock "$LOCK_FD_UP"
}

start() {
  node_lock
  ((EUID == 0)) || die "the node needs root (a bridge, iptables rules, cgroups)"
  install
  [[ -f $KUBECONFIG_ADMIN ]] || die "the control plane is not running: start it first (kube.sh start, or up.sh)"
  if all_ready; then
    log "node $NODE_NAME already running"
    return 0
  fi
  stop_all
  local t0=$SECONDS
  mkdir -p "$DATA" "$PKI"
  save_sysctls
  network_up
  write_cni_config
  node_cert kubelet "/O=system:nodes/CN=system:node:$NODE_NAME"
  node_cert kube-proxy "/CN=system:kube-proxy"
  apply_cluster_objects
  ensure_started containerd 60 containerd_ready launch_containerd
  import_images
  ensure_started kubelet 120 node_ready launch_kubelet
  ensure_started kube-proxy 60 kube_proxy_ready launch_kube_proxy
  apply_coredns
  wait_for 120 "CoreDNS to be Ready" coredns_ready || {
    kubectl_ -n kube-system describe pods -l k8s-app=kube-dns >&2 || true
    die_with_log kubelet "$LOGS/kubelet.log"
  }
  log "node $NODE_NAME up after $((SECONDS - t0))s (pods on $POD_CIDR, DNS $CLUSTER_DNS)"
}

env() {
  emit TICKMESH_NODE_IP "$NODE_IP"
  emit TICKMESH_NODE_NAME "$NODE_NAME"
  emit TICKMESH_NODE_TAINT "$TAINT_KEY"
  emit TICKMESH_NODE_CTR "$CONTAINERD_BIN/ctr"
  emit TICKMESH_NODE_CONTAINERD "$CONTAINERD_SOCK"
  emit KAFKA_BROKERS_POD "$NODE_IP:$PORT_KAFKA_POD"
  # For a test's private servers (test/cluster/secured.test.ts): the chains and bridge of the
  # forwarding above, to add its own ports.
  emit TICKMESH_NODE_NAT_CHAIN "$NAT_CHAIN"
  emit TICKMESH_NODE_BRIDGE "$NODE_BRIDGE"
}

# Every container of the node, killed and removed, with its mounts and network namespace.
remove_containers() {
  containerd_ready >/dev/null 2>&1 || return 0
  local id
  for id in $(ctr_ tasks ls -q 2>/dev/null); do
    ctr_ tasks kill -a -s SIGKILL "$id" >/dev/null 2>&1 || true
  done
  for id in $(ctr_ tasks ls -q 2>/dev/null); do
    ctr_ tasks delete -f "$id" >/dev/null 2>&1 || true
  done
  for id in $(ctr_ containers ls -q 2>/dev/null); do
    ctr_ containers delete "$id" >/dev/null 2>&1 || true
  done
}

stop_all() {
  stop_process kube-proxy TERM 30
  stop_process kubelet TERM 30
  remove_containers
  stop_process containerd TERM 30
  local ns m
  for ns in $(ip netns list 2>/dev/null | awk '$1 ~ /^cni-/ { print $1 }'); do ip netns del "$ns" 2>/dev/null || true; done
  # Mounts left under the node's directories (pod volumes, container root filesystems).
  for m in $(awk -v d="$DATA/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r); do umount -l "$m" 2>/dev/null || true; done
  "$BIN/kube-proxy" --cleanup >/dev/null 2>&1 || true
  network_down
  # All but containerd's content and snapshots: an image imported once (the project's takes half
  # a minute) stays for the next start.
  if [[ -d $DATA ]]; then
    find "$DATA" -mindepth 1 -maxdepth 1 ! -name containerd -exec rm -rf {} +
    rm -rf "$DATA/containerd/state"
  fi
  restore_sysctls
}

stop() {
  node_lock
  if [[ -f $KUBECONFIG_ADMIN ]]; then
    # Its pods go at once (no kubelet will confirm them): CoreDNS's ReplicaSet makes a new one,
    # which the next start runs, instead of waiting for the pod GC to notice the Node is gone.
    kubectl_ delete pods --all-namespaces --field-selector "spec.nodeName=$NODE_NAME" --force --grace-period=0 \
      --wait=false >/dev/null 2>&1 || true
    kubectl_ delete node "$NODE_NAME" --ignore-not-found --wait=false >/dev/null 2>&1 || true
  fi
  stop_all
}

dispatch "$@"
exit
