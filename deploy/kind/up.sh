#!/usr/bin/env bash
# Brings tickmesh up on a local kind cluster with the same steps the real-node cluster test runs:
# test/infra/image.sh builds the image from the Dockerfile with buildah and writes it as an OCI
# archive, the archive is loaded into the nodes, and the chart is installed with
# deploy/kind/values.yaml (its single-node Kafka, NATS, Redis and PostgreSQL). Only `kind create`
# and `kind load` are not run by the tests. Extra arguments go to `helm upgrade --install`
# (e.g. --set worker.replicas=4).
#
#   deploy/kind/up.sh                        # build, create, load, install
#   deploy/kind/up.sh --with-grafana         # also Prometheus and Grafana with the tickmesh dashboards
#   TICKMESH_SKIP_BUILD=1 deploy/kind/up.sh  # reuse the last build
#   kind delete cluster --name tickmesh      # tear it all down
#
# Needs kind, kubectl and helm on PATH, and what test/infra/image.sh needs (Debian or Ubuntu, root
# or sudo: it installs buildah and debootstrap with apt). TICKMESH_BASE_IMAGE=node:24-bookworm-slim
# builds on the official base where it can be pulled, instead of the locally made one.
# Idempotent: run it again after a change.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cluster=${TICKMESH_KIND_CLUSTER:-tickmesh}
namespace=${TICKMESH_NAMESPACE:-tickmesh}
release=${TICKMESH_RELEASE:-tickmesh}
context="kind-$cluster"
# The chart's object names: the release name when it contains "tickmesh", else <release>-tickmesh.
if [[ "$release" == *tickmesh* ]]; then fullname=$release; else fullname=$release-tickmesh; fi
timeout=${TICKMESH_KIND_TIMEOUT:-600s}
with_grafana=0
if [[ ${1:-} == --with-grafana ]]; then
  with_grafana=1
  shift
fi

say() { printf '[kind up] %s\n' "$*" >&2; }
die() { printf '[kind up] error: %s\n' "$*" >&2; exit 1; }

for tool in kind kubectl helm; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is not on PATH"
done

# The image: built (or, with TICKMESH_SKIP_BUILD=1, the last build reused) by the tests' own script.
# Its tag is the git tree of a clean checkout, `dev` otherwise.
if [[ "${TICKMESH_SKIP_BUILD:-0}" != 1 ]]; then
  say "building the image with test/infra/image.sh"
  eval "$(bash "$root/test/infra/image.sh" build)"
else
  archive=$(ls -t "${TICKMESH_CACHE:-$HOME/.cache/tickmesh}"/image/tickmesh-*.oci.tar 2>/dev/null | head -n 1) ||
    die "no image archive built yet (run without TICKMESH_SKIP_BUILD)"
  tag=${archive##*/tickmesh-}
  TICKMESH_IMAGE=localhost/tickmesh:${tag%.oci.tar}
  TICKMESH_IMAGE_ARCHIVE=$archive
fi
image_repo=${TICKMESH_IMAGE%:*}
image_tag=${TICKMESH_IMAGE##*:}
# A rebuilt `dev` image keeps its tag: the archive's digest goes into a pod annotation so that the
# Deployments roll out (pullPolicy Never would otherwise keep the old image running).
image_digest=$(sha256sum "$TICKMESH_IMAGE_ARCHIVE" | cut -c1-16)

if kind get clusters 2>/dev/null | grep -qx "$cluster"; then
  say "reusing kind cluster $cluster"
else
  say "creating kind cluster $cluster"
  kind create cluster --name "$cluster" --config "$here/cluster.yaml" --wait 180s
fi

say "loading $TICKMESH_IMAGE into the nodes of $cluster"
kind load image-archive "$TICKMESH_IMAGE_ARCHIVE" --name "$cluster"

kubectl() { command kubectl --context "$context" "$@"; }

observability=()
if ((with_grafana)); then
  # kube-prometheus-stack: Prometheus finds the chart's ServiceMonitor (label release=monitoring),
  # Grafana's sidecar loads the dashboards of dashboards/grafana from the chart's ConfigMaps.
  say "installing kube-prometheus-stack (Prometheus and Grafana) as release monitoring"
  helm repo add prometheus-community https://prometheus-community.github.io/helm-charts >/dev/null
  helm repo update prometheus-community >/dev/null
  helm upgrade --install monitoring prometheus-community/kube-prometheus-stack \
    --kube-context "$context" --namespace monitoring --create-namespace --wait --timeout "$timeout" \
    --set grafana.sidecar.dashboards.enabled=true \
    --set grafana.sidecar.dashboards.searchNamespace=ALL \
    --set alertmanager.enabled=false
  observability=(--set serviceMonitor.enabled=true --set serviceMonitor.labels.release=monitoring
    --set grafanaDashboards.enabled=true)
fi

say "installing release $release in namespace $namespace"
helm upgrade --install "$release" "$root/deploy/helm/tickmesh" \
  --kube-context "$context" \
  --namespace "$namespace" --create-namespace \
  -f "$here/values.yaml" \
  --set image.repository="$image_repo" --set image.tag="$image_tag" \
  --set-string podAnnotations.tickmesh\\.io/image-archive="$image_digest" \
  "${observability[@]}" \
  "$@"

selector="app.kubernetes.io/instance=$release"

say "waiting for the single-node servers"
for server in kafka nats redis postgres; do
  kubectl -n "$namespace" rollout status "statefulset/$fullname-$server" --timeout "$timeout"
done

say "waiting for the topics"
kubectl -n "$namespace" wait --for=condition=complete job \
  -l "$selector,app.kubernetes.io/component=topics" --timeout "$timeout"

# ingest and the workers wait for their topics (not ready meanwhile) and start once they exist.
for deployment in $(kubectl -n "$namespace" get deployment -l "$selector" -o name); do
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
if ((with_grafana)); then
  cat >&2 <<MSG
  grafana:    kubectl --context $context -n monitoring port-forward service/monitoring-grafana 3000:80
              then http://127.0.0.1:3000/ (admin / prom-operator), folder tickmesh
MSG
fi
