#!/usr/bin/env bash
# Jaeger (v2, on the OpenTelemetry Collector) as the trace collector of the tests: OTLP over gRPC
# and HTTP in, spans kept in memory, read back through its query API (`/api/traces`). Built with
# Go from the module in test/infra/jaeger/ (github.com/jaegertracing/jaeger v1.75.0, pinned by its
# go.mod/go.sum) into $CACHE/bin, once per version. Nothing points at it unless a test sets
# OTEL_EXPORTER_OTLP_ENDPOINT=$JAEGER_OTLP_ENDPOINT on the processes it starts.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SRC=$INFRA_DIR/jaeger
BIN=$CACHE/bin
DATA=$RUN/jaeger

go_ready() {
  command -v go >/dev/null 2>&1 || PATH=/usr/local/go/bin:$PATH
  command -v go >/dev/null 2>&1 || die "Go is not installed (looked in PATH and /usr/local/go/bin); Jaeger is built with it"
}

install() {
  apt_install curl
  go_ready
  mkdir -p "$BIN"
  local stamp=$BIN/.jaeger.stamp want
  want=$(cd "$SRC" && { cat go.mod go.sum; go version; } | sha256sum | cut -d' ' -f1)
  if [[ -x $BIN/jaeger && $want == "$(cat "$stamp" 2>/dev/null || true)" ]]; then
    log "jaeger cached in $BIN"
    return 0
  fi
  log "building jaeger with $(go version | cut -d' ' -f3) (the first build takes minutes: see $LOGS/jaeger-build.log)"
  local tmp t0=$SECONDS
  tmp=$(mktemp -d "$BIN/.build-jaeger.XXXXXX")
  if ! (cd "$SRC" && GOFLAGS='-mod=readonly -buildvcs=false' \
    go build -ldflags='-s -w' -o "$tmp/jaeger" github.com/jaegertracing/jaeger/cmd/jaeger) >"$LOGS/jaeger-build.log" 2>&1; then
    rm -rf "$tmp"
    die_with_log "go build of jaeger" "$LOGS/jaeger-build.log"
  fi
  mv -f "$tmp/jaeger" "$BIN/jaeger"
  rm -rf "$tmp"
  echo "$want" >"$stamp"
  log "built jaeger in $((SECONDS - t0))s"
}

healthy() {
  http_ok "http://$HOST:$PORT_JAEGER_QUERY/api/services"
}

launch() {
  require_free_ports "$PORT_JAEGER_OTLP_GRPC" "$PORT_JAEGER_OTLP" "$PORT_JAEGER_QUERY" "$PORT_JAEGER_QUERY_GRPC"
  mkdir -p "$DATA"
  # The all-in-one configuration cut to what the tests use, on the harness's ports: no Jaeger or
  # Zipkin receivers, no sampling server, no internal metrics port.
  cat >"$DATA/config.yaml" <<CONF
service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: info
extensions:
  jaeger_storage:
    backends:
      memory_store:
        memory:
          max_traces: 100000
  jaeger_query:
    storage:
      traces: memory_store
    http:
      endpoint: $HOST:$PORT_JAEGER_QUERY
    grpc:
      endpoint: $HOST:$PORT_JAEGER_QUERY_GRPC
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: $HOST:$PORT_JAEGER_OTLP_GRPC
      http:
        endpoint: $HOST:$PORT_JAEGER_OTLP
processors:
  batch:
    timeout: 200ms
exporters:
  jaeger_storage_exporter:
    trace_storage: memory_store
CONF
  spawn jaeger "$BIN/jaeger" --config "$DATA/config.yaml"
}

start() {
  ensure_started jaeger 60 healthy launch
}

env() {
  emit JAEGER_QUERY_URL "http://$HOST:$PORT_JAEGER_QUERY"
  emit JAEGER_OTLP_ENDPOINT "http://$HOST:$PORT_JAEGER_OTLP"
}

stop() {
  stop_process jaeger TERM 30
}

dispatch "$@"
