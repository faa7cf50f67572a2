#!/usr/bin/env bash
# Brings tickmesh up on a local kind cluster: builds the image, creates the cluster (or reuses
# it), loads the image into its nodes, and installs the chart with its single-node Kafka, NATS,
# Redis and PostgreSQL. Extra arguments go to `helm upgrade --install` (e.g. --set worker.replicas=4).
#
#   deploy/kind/up.sh                      # build, create, install
#   TICKMESH_SKIP_BUILD=1 deploy/kind/up.sh  # reuse the tickmesh:dev image already built
#   kind delete cluster --name tickmesh    # tear it all down
#
# Needs docker, kind, kubectl and helm on PATH. Idempotent: run it again after a change.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cluster=${TICKMESH_KIND_CLUSTER:-tickmesh}
image_repo=tickmesh
namespace=${TICKMESH_NAMESPACE:-tickmesh}
release=${TICKMESH_RELEASE:-tickmesh}
context="kind-$cluster"
# The chart's object names: the release name when it contains "tickmesh", else <release>-tickmesh.
if [[ "$release" == *tickmesh* ]]; then fullname=$release; else fullname=$release-tickmesh; fi
timeout=${TICKMESH_KIND_TIMEOUT:-600s}

say() { printf '[kind up] %s\n' "$*" >&2; }
die() { printf '[kind up] error: %s\n' "$*" >&2; exit 1; }

for tool in docker kind kubectl helm; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is not on PATH"
done
docker info >/dev/null 2>&1 || die "docker does not answer (is the daemon running?)"

if [[ "${TICKMESH_SKIP_BUILD:-0}" != 1 ]]; then
  say "building $image_repo:dev from $root"
  docker build -t "$image_repo:dev" "$root"
fi
# Tagged by content: a rebuilt image changes the pod templates, so the Deployments roll out
# (an unchanged tag with pullPolicy Never would keep the old image running).
image_id=$(docker image inspect --format '{{.Id}}' "$image_repo:dev") || die "no image $image_repo:dev (build it first)"
image_id=${image_id#sha256:}
image_tag="dev-${image_id:0:12}"
image="$image_repo:$image_tag"
docker tag "$image_repo:dev" "$image"

if kind get clusters 2>/dev/null | grep -qx "$cluster"; then
  say "reusing kind cluster $cluster"
else
  say "creating kind cluster $cluster"
  kind create cluster --name "$cluster" --config "$here/cluster.yaml" --wait 180s
fi

say "loading $image into the nodes of $cluster"
kind load docker-image "$image" --name "$cluster"

kubectl() { command kubectl --context "$context" "$@"; }

say "installing release $release in namespace $namespace"
helm upgrade --install "$release" "$root/deploy/helm/tickmesh" \
  --kube-context "$context" \
  --namespace "$namespace" --create-namespace \
  -f "$here/values.yaml" \
  --set image.repository="$image_repo" --set image.tag="$image_tag" \
  "$@"

selector="app.kubernetes.io/instance=$release"

# The servers first: the tickmesh processes exit (and are restarted) until Kafka, its topics and
# PostgreSQL are there.
say "waiting for the single-node servers"
for server in kafka nats redis postgres; do
  kubectl -n "$namespace" rollout status "statefulset/$fullname-$server" --timeout "$timeout"
done

say "waiting for the topics"
kubectl -n "$namespace" wait --for=condition=complete job \
  -l "$selector,app.kubernetes.io/component=topics" --timeout "$timeout"

# Processes that exited while the servers started may sit in CrashLoopBackOff's delay (up to
# 5 minutes): restart the Deployments that are not fully ready, then wait for all of them.
deployments=$(kubectl -n "$namespace" get deployment -l "$selector" -o name)
for deployment in $deployments; do
  want=$(kubectl -n "$namespace" get "$deployment" -o jsonpath='{.spec.replicas}')
  ready=$(kubectl -n "$namespace" get "$deployment" -o jsonpath='{.status.readyReplicas}')
  if [[ "${ready:-0}" != "$want" ]]; then
    say "restarting $deployment ($((${ready:-0})) of $want ready)"
    kubectl -n "$namespace" rollout restart "$deployment"
  fi
done
for deployment in $deployments; do
  kubectl -n "$namespace" rollout status "$deployment" --timeout "$timeout"
done

say "tickmesh is up"
kubectl -n "$namespace" get pods -o wide >&2
cat >&2 <<MSG

  placement:  kubectl --context $context -n $namespace get configmap tickmesh-placement -o jsonpath='{.data.owners\.txt}'
  scale:      deploy/kind/up.sh --set worker.replicas=4     (TICKMESH_SKIP_BUILD=1 to skip the build)
  api:        kubectl --context $context -n $namespace port-forward service/$fullname-api 8080   then http://127.0.0.1:8080/
  metrics:    kubectl --context $context -n $namespace port-forward deployment/$fullname-worker 9464   then /metrics
MSG
