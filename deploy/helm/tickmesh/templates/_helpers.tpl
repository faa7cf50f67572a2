{{/* Names are cut at 63 characters (DNS label); component suffixes are short. */}}
{{- define "tickmesh.name" -}}
{{- .Values.nameOverride | default .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}

{{- define "tickmesh.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "tickmesh.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The operator's ServiceAccount (the only component that talks to the Kubernetes API). */}}
{{- define "tickmesh.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- .Values.serviceAccount.name | default (printf "%s-operator" (include "tickmesh.fullname" .)) -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
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

{{/* repository:tag, or repository@digest when image.digest is set (the tag is then ignored). */}}
{{- define "tickmesh.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}
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
{{- required "nats.url (or nats.existingSecret) is required, or set singleNode.enabled=true" .Values.nats.url -}}
{{- end -}}
{{- end -}}

{{- define "tickmesh.redisUrl" -}}
{{- if .Values.singleNode.enabled -}}
{{- printf "redis://%s-redis.%s.svc:6379/0" (include "tickmesh.fullname" .) .Release.Namespace -}}
{{- else -}}
{{- required "redis.url (or redis.existingSecret) is required, or set singleNode.enabled=true" .Values.redis.url -}}
{{- end -}}
{{- end -}}

{{/*
The Secret and key holding one server URL: (dict "root" $ "server" "postgres" "env" "DATABASE_URL").
With <server>.existingSecret set (and no single-node servers) that Secret, otherwise the
<fullname>-database (PostgreSQL) or <fullname>-urls (NATS, Redis) Secret the chart makes.
*/}}
{{- define "tickmesh.urlSecretRef" -}}
{{- $v := index .root.Values .server -}}
{{- if and (not .root.Values.singleNode.enabled) $v.existingSecret -}}
name: {{ $v.existingSecret }}
key: {{ $v.existingSecretKey | default .env }}
{{- else -}}
name: {{ include "tickmesh.fullname" .root }}-{{ ternary "database" "urls" (eq .server "postgres") }}
key: {{ .env }}
{{- end -}}
{{- end -}}


{{/*
Pod annotation of the components that read the URL Secrets: a hash of the values the chart's
Secrets are made from. A Secret's new value reaches a container's environment only when the
container starts, so a `helm upgrade` that corrects a URL (a wrong password) rolls these pods.
*/}}
{{- define "tickmesh.urlsChecksum" -}}
{{- $v := .Values -}}
{{- $inputs := list $v.postgres $v.nats $v.redis $v.singleNode.enabled $v.singleNode.postgres -}}
{{- dict "tickmesh.io/urls-checksum" ($inputs | toJson | sha256sum | trunc 16) | toJson -}}
{{- end -}}

{{/*
Environment of a tickmesh container:
(dict "root" $ "role" "worker" "needs" (list "kafka" "nats" "redis" "database")).
Every container gets its pod name and namespace, the log level and the OTLP endpoint; the
servers it needs, with their TLS and credential settings (_credentials.tpl).
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
  valueFrom:
    secretKeyRef:
      {{- include "tickmesh.urlSecretRef" (dict "root" $root "server" "nats" "env" "NATS_URL") | nindent 6 }}
{{- end }}
{{- if has "redis" .needs }}
- name: REDIS_URL
  valueFrom:
    secretKeyRef:
      {{- include "tickmesh.urlSecretRef" (dict "root" $root "server" "redis" "env" "REDIS_URL") | nindent 6 }}
{{- end }}
{{- if has "database" .needs }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      {{- include "tickmesh.urlSecretRef" (dict "root" $root "server" "postgres" "env" "DATABASE_URL") | nindent 6 }}
{{- end }}
{{- with $root.Values.tracing.otlpEndpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ . | quote }}
# Read by the OpenTelemetry SDK's environment resource detector: spans name their pod.
- name: OTEL_RESOURCE_ATTRIBUTES
  value: "k8s.namespace.name=$(POD_NAMESPACE),k8s.pod.name=$(POD_NAME),service.namespace={{ $root.Release.Name }}"
{{- with $root.Values.tracing.sampler }}
- name: OTEL_TRACES_SAMPLER
  value: {{ . | quote }}
{{- end }}
{{- with $root.Values.tracing.samplerArg }}
- name: OTEL_TRACES_SAMPLER_ARG
  value: {{ . | quote }}
{{- end }}
{{- end }}
{{- include "tickmesh.credentialEnv" . }}
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

{{/*
Pod template metadata of a component: (dict "root" $ "component" "worker" "c" .Values.worker):
its labels plus podLabels, and the annotations in "extra", of the component and of the chart.
*/}}
{{- define "tickmesh.podMetadata" -}}
labels:
  {{- include "tickmesh.componentLabels" (dict "root" .root "component" .component) | nindent 2 }}
  {{- with .root.Values.podLabels }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- $annotations := merge (dict) (.extra | default dict) (.c.podAnnotations | default dict) (.root.Values.podAnnotations | default dict) }}
{{- with $annotations }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* Volumes of a tickmesh pod: /tmp (the root filesystem is read-only) and extraVolumes. */}}
{{- define "tickmesh.volumes" -}}
volumes:
  - { name: tmp, emptyDir: {} }
  {{- with .Values.extraVolumes }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end -}}

{{- define "tickmesh.volumeMounts" -}}
volumeMounts:
  - { name: tmp, mountPath: /tmp }
  {{- with .Values.extraVolumeMounts }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end -}}

{{/* Pod-level settings shared by the tickmesh Deployments: (dict "root" $ "c" .Values.worker). */}}
{{- define "tickmesh.podCommon" -}}
{{- with .root.Values.priorityClassName }}
priorityClassName: {{ . | quote }}
{{- end }}
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
{{- with .Values.envFrom }}
envFrom:
  {{- toYaml . | nindent 2 }}
{{- end }}
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
