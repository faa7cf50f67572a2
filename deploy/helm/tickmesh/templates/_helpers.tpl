{{/* Names are cut at 63 characters (DNS label); component suffixes are short. */}}
{{- define "tickmesh.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "tickmesh.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: tickmesh
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: tickmesh
{{- end -}}

{{/* Selector labels of one component: (dict "root" $ "component" "worker"). */}}
{{- define "tickmesh.selectorLabels" -}}
app.kubernetes.io/name: tickmesh
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "tickmesh.componentLabels" -}}
{{ include "tickmesh.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* The label selector the operator uses to find this release's worker pods. */}}
{{- define "tickmesh.workerSelector" -}}
app.kubernetes.io/name=tickmesh,app.kubernetes.io/instance={{ .Release.Name }},app.kubernetes.io/component=worker
{{- end -}}

{{- define "tickmesh.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{- define "tickmesh.kafkaBrokers" -}}
{{- if .Values.singleNode.enabled -}}
{{- printf "%s-kafka.%s.svc:9092" (include "tickmesh.fullname" .) .Release.Namespace -}}
{{- else -}}
{{- required "kafka.brokers is required (or set singleNode.enabled=true)" .Values.kafka.brokers -}}
{{- end -}}
{{- end -}}

{{- define "tickmesh.natsUrl" -}}
{{- if .Values.singleNode.enabled -}}
{{- printf "nats://%s-nats.%s.svc:4222" (include "tickmesh.fullname" .) .Release.Namespace -}}
{{- else -}}
{{- required "nats.url is required (or set singleNode.enabled=true)" .Values.nats.url -}}
{{- end -}}
{{- end -}}

{{- define "tickmesh.redisUrl" -}}
{{- if .Values.singleNode.enabled -}}
{{- printf "redis://%s-redis.%s.svc:6379/0" (include "tickmesh.fullname" .) .Release.Namespace -}}
{{- else -}}
{{- required "redis.url is required (or set singleNode.enabled=true)" .Values.redis.url -}}
{{- end -}}
{{- end -}}

{{/* The Secret holding DATABASE_URL, and its key. */}}
{{- define "tickmesh.databaseSecretName" -}}
{{- if and (not .Values.singleNode.enabled) .Values.postgres.existingSecret -}}
{{- .Values.postgres.existingSecret -}}
{{- else -}}
{{- printf "%s-database" (include "tickmesh.fullname" .) -}}
{{- end -}}
{{- end -}}

{{- define "tickmesh.databaseSecretKey" -}}
{{- if and (not .Values.singleNode.enabled) .Values.postgres.existingSecret -}}
{{- .Values.postgres.existingSecretKey -}}
{{- else -}}
DATABASE_URL
{{- end -}}
{{- end -}}

{{/*
Environment of a tickmesh container: (dict "root" $ "needs" (list "kafka" "nats" "redis" "database")).
Every container gets its pod name and namespace, the log level and the OTLP endpoint.
*/}}
{{- define "tickmesh.env" -}}
{{- $root := .root -}}
- name: POD_NAME
  valueFrom: { fieldRef: { fieldPath: metadata.name } }
- name: POD_NAMESPACE
  valueFrom: { fieldRef: { fieldPath: metadata.namespace } }
- name: LOG_LEVEL
  value: {{ $root.Values.logLevel | quote }}
{{- if has "kafka" .needs }}
- name: KAFKA_BROKERS
  value: {{ include "tickmesh.kafkaBrokers" $root | quote }}
{{- end }}
{{- if has "nats" .needs }}
- name: NATS_URL
  value: {{ include "tickmesh.natsUrl" $root | quote }}
{{- end }}
{{- if has "redis" .needs }}
- name: REDIS_URL
  value: {{ include "tickmesh.redisUrl" $root | quote }}
{{- end }}
{{- if has "database" .needs }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "tickmesh.databaseSecretName" $root }}
      key: {{ include "tickmesh.databaseSecretKey" $root }}
{{- end }}
{{- with $root.Values.tracing.otlpEndpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ . | quote }}
# Read by the OpenTelemetry SDK's environment resource detector: spans name their pod.
- name: OTEL_RESOURCE_ATTRIBUTES
  value: "k8s.namespace.name=$(POD_NAMESPACE),k8s.pod.name=$(POD_NAME),service.namespace={{ $root.Release.Name }}"
{{- end }}
{{- with $root.Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* `--name=value` arguments from a map, sorted by name (stable across renders). */}}
{{- define "tickmesh.flags" -}}
{{- range $name, $value := . }}
- {{ printf "--%s=%v" $name $value | quote }}
{{- end }}
{{- end -}}

{{/*
Probes of a tickmesh process: /healthz (startup, liveness), /readyz (readiness), on the named
container port that serves them: (dict "root" $ "port" "metrics").
*/}}
{{- define "tickmesh.probes" -}}
{{- $p := .root.Values.probes -}}
{{- $port := .port -}}
startupProbe:
  httpGet: { path: /healthz, port: {{ $port }} }
  periodSeconds: {{ $p.startup.periodSeconds }}
  timeoutSeconds: {{ $p.startup.timeoutSeconds }}
  failureThreshold: {{ $p.startup.failureThreshold }}
readinessProbe:
  httpGet: { path: /readyz, port: {{ $port }} }
  initialDelaySeconds: {{ $p.readiness.initialDelaySeconds }}
  periodSeconds: {{ $p.readiness.periodSeconds }}
  timeoutSeconds: {{ $p.readiness.timeoutSeconds }}
  failureThreshold: {{ $p.readiness.failureThreshold }}
livenessProbe:
  httpGet: { path: /healthz, port: {{ $port }} }
  initialDelaySeconds: {{ $p.liveness.initialDelaySeconds }}
  periodSeconds: {{ $p.liveness.periodSeconds }}
  timeoutSeconds: {{ $p.liveness.timeoutSeconds }}
  failureThreshold: {{ $p.liveness.failureThreshold }}
{{- end -}}

{{/* Pod-level settings shared by the tickmesh Deployments: (dict "root" $ "c" .Values.worker). */}}
{{- define "tickmesh.podCommon" -}}
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .root.Values.podSecurityContext | nindent 2 }}
{{- with .c.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .c.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .c.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* Container fields shared by the tickmesh containers. */}}
{{- define "tickmesh.containerCommon" -}}
image: {{ include "tickmesh.image" . }}
imagePullPolicy: {{ .Values.image.pullPolicy }}
securityContext:
  {{- toYaml .Values.securityContext | nindent 2 }}
{{- end -}}

{{/* Security of the single-node servers' containers (their images choose the user). */}}
{{- define "tickmesh.singleNodeSecurity" -}}
allowPrivilegeEscalation: false
capabilities: { drop: [ALL] }
{{- end -}}

{{/* Volume `data` of a single-node server: emptyDir unless persistence is on (then a claim template). */}}
{{- define "tickmesh.singleNodeClaims" -}}
{{- if .Values.singleNode.persistence.enabled }}
volumeClaimTemplates:
  - metadata: { name: data }
    spec:
      accessModes: [ReadWriteOnce]
      {{- with .Values.singleNode.persistence.storageClass }}
      storageClassName: {{ . | quote }}
      {{- end }}
      resources: { requests: { storage: {{ .Values.singleNode.persistence.size | quote }} } }
{{- end }}
{{- end -}}

{{- define "tickmesh.singleNodeDataVolume" -}}
{{- if not .Values.singleNode.persistence.enabled }}
- { name: data, emptyDir: {} }
{{- end }}
{{- end -}}
