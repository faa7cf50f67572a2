#!/usr/bin/env bash
# Apache Kafka 4.x, one node in KRaft mode (broker and controller in one process), run by Java 17
# from the broker's jars on Maven Central. The jars are fetched with Maven into CACHE, keyed by
# the hash of kafka/pom.xml; the log (data) directory lives under RUN.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

POM=$INFRA_DIR/kafka/pom.xml
DATA=$RUN/kafka
LOG_DIRS=$DATA/data
JAVA_HEAP=${TICKMESH_KAFKA_HEAP:-1g}
# TICKMESH_KAFKA_SECURITY=1 adds, beside the plain listener, a SASL_SSL listener (PLAIN and
# SCRAM-SHA-256/512, user $KAFKA_TEST_USER) and a mutual-TLS one, both with the test CA's server
# certificate (ensure_test_certs), and makes the POD listener (for the real node's pods) SASL_SSL
# as well. Only a private set of servers turns it on.
SECURITY=${TICKMESH_KAFKA_SECURITY:-0}
# With SECURITY: TICKMESH_KAFKA_OAUTH_JWKS_URL=<url> also offers OAUTHBEARER on the SASL_SSL
# listener, tokens validated as Confluent Cloud and Strimzi do (OAuthBearerValidatorCallbackHandler):
# a JWT signed by a key of that JWKS, issuer tickmesh-test-idp, audience tickmesh-kafka, unexpired.
OAUTH_JWKS_URL=${TICKMESH_KAFKA_OAUTH_JWKS_URL:-}
KAFKA_TEST_USER=tickmesh
KAFKA_TEST_PASSWORD=tickmesh-secret

libs_dir() {
  local key
  key=$(sha256sum "$POM" | cut -c1-16)
  echo "$CACHE/kafka/$key/libs"
}

install() {
  command -v java >/dev/null || apt_install openjdk-17-jre-headless
  command -v mvn >/dev/null || apt_install maven
  local libs
  libs=$(libs_dir)
  if [[ -f $libs/.complete ]]; then
    log "Kafka jars cached in $libs"
    return 0
  fi
  log "fetching Kafka jars with Maven into $libs"
  local tmp=$libs.tmp.$$
  rm -rf "$tmp"
  mkdir -p "$tmp"
  # Maven's own output goes to a log; its default local repository (~/.m2) is reused.
  if ! mvn -q -B -Dstyle.color=never -f "$POM" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$tmp" >"$LOGS/kafka-maven.log" 2>&1; then
    rm -rf "$tmp"
    die_with_log kafka-maven "$LOGS/kafka-maven.log"
  fi
  ls "$tmp"/kafka_2.13-*.jar >/dev/null 2>&1 || die "Maven finished but fetched no kafka_2.13 jar into $tmp"
  touch "$tmp/.complete"
  rm -rf "$libs"
  mv "$tmp" "$libs"
}

java_cmd() {
  local libs
  libs=$(libs_dir)
  [[ -f $libs/.complete ]] || die "Kafka jars missing in $libs: run '$0 install'"
  JAVA=(java -Xms256m "-Xmx$JAVA_HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true
    "-Dlog4j2.configurationFile=$INFRA_DIR/kafka/log4j2.xml" -cp "$libs/*")
  # Kafka 4 fetches a JWKS only from a URL on this list.
  [[ -z $OAUTH_JWKS_URL ]] || JAVA+=("-Dorg.apache.kafka.sasl.oauthbearer.allowed.urls=$OAUTH_JWKS_URL")
}

# A PEM value inline in a properties file: one line per PEM line, joined by backslashes.
pem_property() {
  sed -e 's/$/ \\/' -e '$ s/ \\$//' "$1"
}

# POD: for pods of the real node (node.sh), which reach this loopback listener at NODE_IP and must
# be told that address, not 127.0.0.1, in the metadata. With TICKMESH_KAFKA_SECURITY=1 also a
# SASL_SSL listener and a mutual-TLS one, and POD speaks SASL_SSL too.
listener_properties() {
  if [[ $SECURITY != 1 ]]; then
    cat <<CONF
listeners=PLAINTEXT://$HOST:$PORT_KAFKA,CONTROLLER://$HOST:$PORT_KAFKA_CONTROLLER,POD://$HOST:$PORT_KAFKA_POD
advertised.listeners=PLAINTEXT://$HOST:$PORT_KAFKA,POD://$NODE_IP:$PORT_KAFKA_POD
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,POD:PLAINTEXT
CONF
    return 0
  fi
  cat <<CONF
listeners=PLAINTEXT://$HOST:$PORT_KAFKA,CONTROLLER://$HOST:$PORT_KAFKA_CONTROLLER,POD://$HOST:$PORT_KAFKA_POD,SASL_SSL://$HOST:$PORT_KAFKA_SASL_SSL,MTLS://$HOST:$PORT_KAFKA_MTLS
advertised.listeners=PLAINTEXT://$HOST:$PORT_KAFKA,POD://$NODE_IP:$PORT_KAFKA_POD,SASL_SSL://$HOST:$PORT_KAFKA_SASL_SSL,MTLS://$HOST:$PORT_KAFKA_MTLS
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,POD:SASL_SSL,SASL_SSL:SASL_SSL,MTLS:SSL
ssl.keystore.type=PEM
ssl.keystore.certificate.chain=$(pem_property "$CERTS/server.pem")
ssl.keystore.key=$(pem_property "$CERTS/server.key")
ssl.truststore.type=PEM
ssl.truststore.location=$CERTS/ca.pem
ssl.endpoint.identification.algorithm=
listener.name.mtls.ssl.client.auth=required
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$KAFKA_TEST_USER="$KAFKA_TEST_PASSWORD";
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.pod.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$KAFKA_TEST_USER="$KAFKA_TEST_PASSWORD";
listener.name.pod.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.pod.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
CONF
  [[ -n $OAUTH_JWKS_URL ]] || return 0
  cat <<CONF
listener.name.sasl_ssl.sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER
listener.name.sasl_ssl.oauthbearer.sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;
listener.name.sasl_ssl.oauthbearer.sasl.server.callback.handler.class=org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler
sasl.oauthbearer.jwks.endpoint.url=$OAUTH_JWKS_URL
sasl.oauthbearer.expected.audience=tickmesh-kafka
sasl.oauthbearer.expected.issuer=tickmesh-test-idp
CONF
}

write_properties() {
  [[ $SECURITY != 1 ]] || ensure_test_certs
  mkdir -p "$DATA"
  cat >"$DATA/server.properties" <<CONF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$PORT_KAFKA_CONTROLLER
$(listener_properties)
log.dirs=$LOG_DIRS
# Topics are created explicitly (tests and the tickmesh admin); a typo must not create one.
auto.create.topics.enable=false
num.partitions=1
default.replication.factor=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Tests create and join consumer groups constantly; the default 3s delay only slows them.
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
log.retention.hours=24
log.segment.bytes=67108864
CONF
}

# Formats the log directory once, with a cluster id of its own.
format_storage() {
  [[ -f $LOG_DIRS/meta.properties ]] && return 0
  local id
  # What `StorageTool random-uuid` prints (16 random bytes, base64url without padding), minus a JVM
  # start. Like Kafka's Uuid.randomUuid, never one that starts with '-': the tool's argument parser
  # takes `-t -abc` for a missing value (one fresh-clone run failed so, about 1 format in 64).
  id=-
  while [[ $id == -* ]]; do id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | cut -c1-22); done
  log "formatting $LOG_DIRS (cluster id $id)"
  local scram=()
  if [[ $SECURITY == 1 ]]; then
    # SCRAM credentials live in the metadata log: written with the format, before the first start.
    scram=(--add-scram "SCRAM-SHA-256=[name=$KAFKA_TEST_USER,password=$KAFKA_TEST_PASSWORD]"
      --add-scram "SCRAM-SHA-512=[name=$KAFKA_TEST_USER,password=$KAFKA_TEST_PASSWORD]")
  fi
  "${JAVA[@]}" kafka.tools.StorageTool format -t "$id" -c "$DATA/server.properties" "${scram[@]}" \
    >>"$LOGS/kafka-format.log" 2>&1 || die_with_log kafka-format "$LOGS/kafka-format.log"
}

# The listener is bound before the broker has caught up with the metadata log, so an open port is
# not enough: the broker logs "Kafka Server started" once it serves requests.
healthy() {
  port_open "$PORT_KAFKA" && grep -q 'Kafka Server started' "$LOGS/kafka.log"
}

launch() {
  require_free_ports "$PORT_KAFKA" "$PORT_KAFKA_CONTROLLER" "$PORT_KAFKA_POD"
  [[ $SECURITY != 1 ]] || require_free_ports "$PORT_KAFKA_SASL_SSL" "$PORT_KAFKA_MTLS"
  java_cmd
  write_properties
  format_storage
  spawn kafka "${JAVA[@]}" kafka.Kafka "$DATA/server.properties"
}

start() {
  ensure_started kafka 120 healthy launch
}

env() {
  emit KAFKA_BROKERS "$HOST:$PORT_KAFKA"
  if [[ $SECURITY == 1 ]]; then
    emit TEST_KAFKA_SASL_SSL_BROKERS "$HOST:$PORT_KAFKA_SASL_SSL"
    emit TEST_KAFKA_MTLS_BROKERS "$HOST:$PORT_KAFKA_MTLS"
    emit TEST_KAFKA_POD_SASL_SSL_BROKERS "$NODE_IP:$PORT_KAFKA_POD"
    emit TEST_KAFKA_USER "$KAFKA_TEST_USER"
    emit TEST_KAFKA_PASSWORD "$KAFKA_TEST_PASSWORD"
    emit TEST_CERTS "$CERTS"
  fi
}

stop() {
  # A controlled shutdown of a single node takes a few seconds.
  stop_process kafka TERM 60
}

dispatch "$@"
