{{/*
TLS files and credentials of the servers (kafka.tls, kafka.sasl, nats.tls, nats.auth, redis.*,
postgres.*): each secret is a key of a Secret of the user's, projected into one read-only volume
at /etc/tickmesh/credentials and named to the process by the *_FILE variable its flag reads
(internal/config/connection-security.ts). Nothing secret is in the pod spec or on a command line.
Every helper takes (dict "root" $ "needs" (list "kafka" "nats" "redis" "database") "role" "worker").
*/}}

{{- define "tickmesh.credentialsDir" -}}/etc/tickmesh/credentials{{- end -}}

{{/* One credential file: (list ENV ref path) appended when ref names a Secret. */}}
{{- define "tickmesh.credentialFiles" -}}
{{- $v := .root.Values -}}
{{- $candidates := list -}}
{{- if has "kafka" .needs -}}
{{- $k := $v.kafka -}}
{{- $candidates = concat $candidates (list
  (list "KAFKA_TLS_CA_FILE" $k.tls.ca "kafka/ca.crt")
  (list "KAFKA_TLS_CERT_FILE" $k.tls.cert "kafka/tls.crt")
  (list "KAFKA_TLS_KEY_FILE" $k.tls.key "kafka/tls.key")
  (list "KAFKA_SASL_PASSWORD_FILE" $k.sasl.password "kafka/password")
  (list "KAFKA_OAUTH_TOKEN_FILE" $k.sasl.oauth.token "kafka/oauth-token")
  (list "KAFKA_OAUTH_CLIENT_SECRET_FILE" $k.sasl.oauth.clientSecret "kafka/oauth-client-secret")) -}}
{{- end -}}
{{- if has "nats" .needs -}}
{{- $n := $v.nats -}}
{{- $own := index $n.auth.byRole .role | default dict -}}
{{- $candidates = concat $candidates (list
  (list "NATS_TLS_CA_FILE" $n.tls.ca "nats/ca.crt")
  (list "NATS_TLS_CERT_FILE" $n.tls.cert "nats/tls.crt")
  (list "NATS_TLS_KEY_FILE" $n.tls.key "nats/tls.key")) -}}
{{- range $kind := list (list "NATS_CREDS_FILE" "creds" "nats/user.creds") (list "NATS_NKEY_SEED_FILE" "nkeySeed" "nats/seed") (list "NATS_TOKEN_FILE" "token" "nats/token") (list "NATS_PASSWORD_FILE" "password" "nats/password") -}}
{{- $ref := index $n.auth (index $kind 1) -}}
{{- if and $ref.secretName $own.secretName -}}
{{- $ref = dict "secretName" $own.secretName "key" ($own.key | default $ref.key) -}}
{{- end -}}
{{- $candidates = append $candidates (list (index $kind 0) $ref (index $kind 2)) -}}
{{- end -}}
{{- end -}}
{{- if has "redis" .needs -}}
{{- $r := $v.redis -}}
{{- $candidates = concat $candidates (list
  (list "REDIS_TLS_CA_FILE" $r.tls.ca "redis/ca.crt")
  (list "REDIS_TLS_CERT_FILE" $r.tls.cert "redis/tls.crt")
  (list "REDIS_TLS_KEY_FILE" $r.tls.key "redis/tls.key")
  (list "REDIS_PASSWORD_FILE" $r.password "redis/password")) -}}
{{- end -}}
{{- if has "database" .needs -}}
{{- $p := $v.postgres -}}
{{- $candidates = concat $candidates (list
  (list "DATABASE_TLS_CA_FILE" $p.tls.ca "postgres/ca.crt")
  (list "DATABASE_PASSWORD_FILE" $p.password "postgres/password")) -}}
{{- end -}}
{{- $files := list -}}
{{- range $c := $candidates -}}
{{- $ref := index $c 1 -}}
{{- if $ref.secretName -}}
{{- $files = append $files (dict "env" (index $c 0) "secret" $ref.secretName "key" $ref.key "path" (index $c 2)) -}}
{{- end -}}
{{- end -}}
{{- toJson $files -}}
{{- end -}}

{{/* Environment: the *_FILE paths and the settings that are not secret. */}}
{{- define "tickmesh.credentialEnv" -}}
{{- $v := .root.Values -}}
{{- if has "kafka" .needs -}}
{{- $k := $v.kafka -}}
{{- $protocol := printf "%s%s" (ternary "sasl_" "" (ne $k.sasl.mechanism "")) (ternary "ssl" "plaintext" $k.tls.enabled) -}}
{{- if ne $protocol "plaintext" }}
- { name: KAFKA_SECURITY_PROTOCOL, value: {{ $protocol | quote }} }
{{- end }}
{{- with $k.sasl.mechanism }}
- { name: KAFKA_SASL_MECHANISM, value: {{ . | quote }} }
{{- end }}
{{- with $k.sasl.username }}
- { name: KAFKA_SASL_USERNAME, value: {{ . | quote }} }
{{- end }}
{{- $o := $k.sasl.oauth }}
{{- if $o.serviceAccountToken.enabled }}
- { name: KAFKA_OAUTH_TOKEN_FILE, value: {{ printf "%s/kafka/sa-token" (include "tickmesh.credentialsDir" .) | quote }} }
{{- end }}
{{- with $o.tokenEndpoint }}
- { name: KAFKA_OAUTH_TOKEN_ENDPOINT, value: {{ . | quote }} }
- { name: KAFKA_OAUTH_CLIENT_ID, value: {{ $o.clientId | quote }} }
{{- end }}
{{- with $o.scope }}
- { name: KAFKA_OAUTH_SCOPE, value: {{ . | quote }} }
{{- end }}
{{- end }}
{{- if has "nats" .needs }}
{{- if $v.nats.tls.enabled }}
- { name: NATS_TLS, value: "true" }
{{- end }}
{{- if $v.nats.auth.password.secretName }}
{{- $own := index $v.nats.auth.byRole .role | default dict }}
- { name: NATS_USER, value: {{ $own.user | default $v.nats.auth.user | quote }} }
{{- end }}
{{- end }}
{{- if and (has "redis" .needs) $v.redis.username }}
- { name: REDIS_USERNAME, value: {{ $v.redis.username | quote }} }
{{- end }}
{{- $dir := include "tickmesh.credentialsDir" . -}}
{{- range $f := include "tickmesh.credentialFiles" . | fromJsonArray }}
- { name: {{ $f.env }}, value: {{ printf "%s/%s" $dir $f.path | quote }} }
{{- end }}
{{- end -}}

{{/* The Kafka OAUTHBEARER token projected from the pod's ServiceAccount, when asked for. */}}
{{- define "tickmesh.kafkaServiceAccountToken" -}}
{{- if and (has "kafka" .needs) .root.Values.kafka.sasl.oauth.serviceAccountToken.enabled -}}true{{- end -}}
{{- end -}}

{{/* The volume mount, when the container has a credential file. */}}
{{- define "tickmesh.credentialMount" -}}
{{- if or (include "tickmesh.credentialFiles" . | fromJsonArray) (include "tickmesh.kafkaServiceAccountToken" .) }}
- { name: credentials, mountPath: {{ include "tickmesh.credentialsDir" . }}, readOnly: true }
{{- end }}
{{- end -}}

{{/* The projected volume of the container's credential files, one Secret source each. */}}
{{- define "tickmesh.credentialVolume" -}}
{{- $files := include "tickmesh.credentialFiles" . | fromJsonArray -}}
{{- $sa := include "tickmesh.kafkaServiceAccountToken" . -}}
{{- if or $files $sa }}
- name: credentials
  projected:
    sources:
      {{- range $f := $files }}
      - secret:
          name: {{ $f.secret | quote }}
          items: [{ key: {{ $f.key | quote }}, path: {{ $f.path | quote }} }]
      {{- end }}
      {{- if $sa }}
      {{- $t := .root.Values.kafka.sasl.oauth.serviceAccountToken }}
      - serviceAccountToken:
          audience: {{ required "kafka.sasl.oauth.serviceAccountToken.audience is required" $t.audience | quote }}
          expirationSeconds: {{ int $t.expirationSeconds }}
          path: kafka/sa-token
      {{- end }}
{{- end }}
{{- end -}}

{{/* Contradictions among the security values; renders nothing (called from checks.yaml). */}}
{{- define "tickmesh.credentialChecks" -}}
{{- $v := .Values -}}
{{- $k := $v.kafka -}}
{{- if and (not $k.tls.enabled) (or $k.tls.ca.secretName $k.tls.cert.secretName $k.tls.key.secretName) -}}
{{- fail "kafka.tls names a Secret but kafka.tls.enabled is false: the files would not be used (set kafka.tls.enabled=true)" -}}
{{- end -}}
{{- if ne (empty $k.tls.cert.secretName) (empty $k.tls.key.secretName) -}}
{{- fail "kafka.tls.cert and kafka.tls.key go together (mutual TLS needs both)" -}}
{{- end -}}
{{- $o := $k.sasl.oauth -}}
{{- $oauthSources := list -}}
{{- if $o.token.secretName }}{{ $oauthSources = append $oauthSources "token" }}{{ end -}}
{{- if $o.serviceAccountToken.enabled }}{{ $oauthSources = append $oauthSources "serviceAccountToken" }}{{ end -}}
{{- if or $o.tokenEndpoint $o.clientId $o.clientSecret.secretName }}{{ $oauthSources = append $oauthSources "tokenEndpoint" }}{{ end -}}
{{- if eq $k.sasl.mechanism "oauthbearer" -}}
{{- if ne (len $oauthSources) 1 -}}
{{- fail "kafka.sasl.mechanism oauthbearer needs exactly one of kafka.sasl.oauth.token, .serviceAccountToken.enabled, or .tokenEndpoint (with .clientId and .clientSecret)" -}}
{{- end -}}
{{- if and (has "tokenEndpoint" $oauthSources) (not (and $o.tokenEndpoint $o.clientId $o.clientSecret.secretName)) -}}
{{- fail "kafka.sasl.oauth.tokenEndpoint, clientId and clientSecret.secretName go together" -}}
{{- end -}}
{{- if or $k.sasl.username $k.sasl.password.secretName -}}
{{- fail "kafka.sasl.mechanism oauthbearer takes no username or password" -}}
{{- end -}}
{{- else if $oauthSources -}}
{{- fail "kafka.sasl.oauth is set but kafka.sasl.mechanism is not oauthbearer" -}}
{{- else if $k.sasl.mechanism -}}
{{- if not (has $k.sasl.mechanism (list "plain" "scram-sha-256" "scram-sha-512")) -}}
{{- fail (printf "kafka.sasl.mechanism %q: expected plain, scram-sha-256, scram-sha-512 or oauthbearer" $k.sasl.mechanism) -}}
{{- end -}}
{{- if or (not $k.sasl.username) (not $k.sasl.password.secretName) -}}
{{- fail (printf "kafka.sasl.mechanism %s needs kafka.sasl.username and kafka.sasl.password.secretName" $k.sasl.mechanism) -}}
{{- end -}}
{{- else if or $k.sasl.username $k.sasl.password.secretName -}}
{{- fail "kafka.sasl.username or kafka.sasl.password is set without kafka.sasl.mechanism" -}}
{{- end -}}
{{- $n := $v.nats -}}
{{- $kinds := list -}}
{{- range $kind := list "creds" "nkeySeed" "token" "password" -}}
{{- if (index $n.auth $kind).secretName }}{{ $kinds = append $kinds $kind }}{{ end -}}
{{- end -}}
{{- if gt (len $kinds) 1 -}}
{{- fail (printf "nats.auth: choose one kind of credential, not %s" (join " and " $kinds)) -}}
{{- end -}}
{{- if and $n.auth.password.secretName (not $n.auth.user) -}}
{{- fail "nats.auth.password needs nats.auth.user" -}}
{{- end -}}
{{- if and $n.auth.user (not $n.auth.password.secretName) -}}
{{- fail "nats.auth.user needs nats.auth.password.secretName (or put user and password in the URL)" -}}
{{- end -}}
{{- range $role, $own := $n.auth.byRole -}}
{{- if and $own $own.secretName (empty $kinds) -}}
{{- fail (printf "nats.auth.byRole.%s names a Secret but nats.auth chooses no kind of credential (creds, nkeySeed, token or password)" $role) -}}
{{- end -}}
{{- end -}}
{{- if and (not $n.tls.enabled) (or $n.tls.ca.secretName $n.tls.cert.secretName) -}}
{{- fail "nats.tls names a Secret but nats.tls.enabled is false (set nats.tls.enabled=true)" -}}
{{- end -}}
{{- range $server := list "nats" "redis" -}}
{{- $t := (index $v $server).tls -}}
{{- if ne (empty $t.cert.secretName) (empty $t.key.secretName) -}}
{{- fail (printf "%s.tls.cert and %s.tls.key go together (mutual TLS needs both)" $server $server) -}}
{{- end -}}
{{- end -}}
{{- if and $v.ingest.httpsProxy $v.ingest.proxySecret.secretName -}}
{{- fail "ingest.httpsProxy and ingest.proxySecret both name the proxy: choose one" -}}
{{- end -}}
{{- if $v.singleNode.enabled -}}
{{- $any := include "tickmesh.credentialFiles" (dict "root" . "needs" (list "kafka" "nats" "redis" "database") "role" "worker") | fromJsonArray -}}
{{- if or $any $k.tls.enabled $n.tls.enabled -}}
{{- fail "singleNode servers run without TLS or credentials: the kafka/nats/redis/postgres TLS and credential values are for external servers" -}}
{{- end -}}
{{- end -}}
{{- end -}}
