#!/usr/bin/env bash
# Prometheus from Debian's package. It scrapes every second whatever targets the tests write as
# file_sd JSON files into PROMETHEUS_SD_DIR (one file per test; remove it when done). A target
# group may set its own `job` label, which a test uses to find its series. Rule files a test
# writes into PROMETHEUS_RULES_DIR are evaluated every second after a POST to /-/reload.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DATA=$RUN/prometheus
SD_DIR=$DATA/sd
RULES_DIR=$DATA/rules

install() {
  apt_install prometheus curl
}

healthy() {
  # A Prometheus launched by an older harness, without the rules directory, is restarted.
  grep -q "$RULES_DIR" "$DATA/prometheus.yml" 2>/dev/null && http_ok "http://$HOST:$PORT_PROMETHEUS/-/ready"
}

launch() {
  require_free_ports "$PORT_PROMETHEUS"
  mkdir -p "$DATA/tsdb" "$SD_DIR" "$RULES_DIR"
  cat >"$DATA/prometheus.yml" <<CONF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files: ['$RULES_DIR/*.yaml']
scrape_configs:
  - job_name: file_sd
    file_sd_configs:
      - files: ['$SD_DIR/*.json']
        refresh_interval: 1s
CONF
  spawn prometheus prometheus --config.file="$DATA/prometheus.yml" \
    --storage.tsdb.path="$DATA/tsdb" --storage.tsdb.retention.time=1d \
    --web.listen-address="$HOST:$PORT_PROMETHEUS" --web.enable-lifecycle --web.enable-admin-api
}

start() {
  ensure_started prometheus 60 healthy launch
}

env() {
  emit PROMETHEUS_URL "http://$HOST:$PORT_PROMETHEUS"
  emit PROMETHEUS_SD_DIR "$SD_DIR"
  emit PROMETHEUS_RULES_DIR "$RULES_DIR"
}

stop() {
  stop_process prometheus TERM 30
}

dispatch "$@"
