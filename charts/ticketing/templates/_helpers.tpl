{{/* Chart name, truncated to the 63 characters a label value allows. */}}
{{- define "ticketing.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: release name, plus the chart name unless the release already contains it. */}}
{{- define "ticketing.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
"<fullname>-<suffix>" within `max` characters (default 63, the limit of object names and labels; a CronJob
needs 52, its Jobs get an 11-character suffix). The fullname is cut, never the suffix, so a long release
name cannot make two components' names collide. Call with (dict "ctx" $ "suffix" "event-api") and
optionally "max" 52.
*/}}
{{- define "ticketing.componentName" -}}
{{- $max := int (default 63 .max) -}}
{{- $room := int (sub (sub $max (len .suffix)) 1) -}}
{{- printf "%s-%s" (include "ticketing.fullname" .ctx | trunc $room | trimSuffix "-") .suffix -}}
{{- end }}

{{- define "ticketing.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Selector labels of one component. Call with (dict "ctx" $ "component" "event-api"). */}}
{{- define "ticketing.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ticketing.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Full label set of one component. */}}
{{- define "ticketing.labels" -}}
helm.sh/chart: {{ include "ticketing.chart" .ctx }}
{{ include "ticketing.selectorLabels" . }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
app.kubernetes.io/part-of: ticketing
{{- end }}

{{/* Labels of release-wide objects that belong to no single component. */}}
{{- define "ticketing.commonLabels" -}}
helm.sh/chart: {{ include "ticketing.chart" . }}
app.kubernetes.io/name: {{ include "ticketing.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: ticketing
{{- end }}

{{/* Label that lets a pod through the event API NetworkPolicy. */}}
{{- define "ticketing.eventApiClientLabel" -}}
ticketing.io/event-api-client: "true"
{{- end }}

{{- define "ticketing.eventApiName" -}}
{{- include "ticketing.componentName" (dict "ctx" . "suffix" "event-api") }}
{{- end }}

{{- define "ticketing.bookingApiName" -}}
{{- include "ticketing.componentName" (dict "ctx" . "suffix" "booking-api") }}
{{- end }}

{{- define "ticketing.webAppName" -}}
{{- include "ticketing.componentName" (dict "ctx" . "suffix" "web-app") }}
{{- end }}

{{- define "ticketing.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "ticketing.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "ticketing.secretName" -}}
{{- default (include "ticketing.componentName" (dict "ctx" . "suffix" "secrets")) .Values.secrets.existingSecret }}
{{- end }}

{{/*
Image reference. Skaffold sets tag to "<tag>@<digest>"; for images that were loaded into kind
without a registry the digest is empty, so a trailing "@" is dropped.
Call with (dict "ctx" $ "image" .Values.eventService.image).
*/}}
{{- define "ticketing.image" -}}
{{- $tag := default .ctx.Chart.AppVersion .image.tag | toString | trimSuffix "@" }}
{{- printf "%s:%s" .image.repository $tag }}
{{- end }}

{{- define "ticketing.podSecurityContext" -}}
{{ toYaml .Values.podSecurityContext }}
{{- end }}

{{- define "ticketing.securityContext" -}}
{{ toYaml .Values.securityContext }}
{{- end }}

{{/* The only writable path: an emptyDir at /tmp. */}}
{{- define "ticketing.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.tmpVolumeSizeLimit }}
{{- end }}

{{- define "ticketing.tmpVolumeMount" -}}
- name: tmp
  mountPath: /tmp
{{- end }}

{{/* Scheduling and pod-wide settings shared by every workload. */}}
{{- define "ticketing.podCommon" -}}
securityContext:
  {{- include "ticketing.podSecurityContext" . | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/*
Environment shared by every process. Call with (dict "ctx" $ "serviceName" "event-service-api").
*/}}
{{- define "ticketing.commonEnv" -}}
- name: NODE_ENV
  value: {{ .ctx.Values.config.nodeEnv | quote }}
- name: LOG_LEVEL
  value: {{ .ctx.Values.config.logLevel | quote }}
- name: OTEL_SERVICE_NAME
  value: {{ .serviceName | quote }}
{{- if .ctx.Values.otel.endpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ .ctx.Values.otel.endpoint | quote }}
- name: OTEL_EXPORTER_OTLP_TRACES_PROTOCOL
  value: {{ .ctx.Values.otel.protocol | quote }}
{{- end }}
{{- end }}

{{/*
DATABASE_PASSWORD from the database Secret, then DATABASE_URL built from it with Kubernetes
$(VAR) expansion. Call with (dict "ctx" $ "database" "event_service").
*/}}
{{- define "ticketing.databaseEnv" -}}
{{- $db := .ctx.Values.database -}}
- name: DATABASE_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $db.passwordSecret.name | quote }}
      key: {{ $db.passwordSecret.key | quote }}
- name: DATABASE_URL
  value: {{ printf "postgres://%s:$(DATABASE_PASSWORD)@%s:%d/%s" $db.username $db.host (int $db.port) .database | quote }}
{{- end }}

{{/*
RabbitMQ credentials of one process: its own user (rabbitmq.booking / rabbitmq.eventConsumer, least
privilege: no configure permission, so the broker's definitions declare the topology and the process only
checks it) or, when that user has no username, the shared rabbitmq.username (which declares the topology
itself, as in local development). Only the booking API and the event consumer talk to the broker.
Call with (dict "ctx" $ "user" .Values.rabbitmq.booking).
*/}}
{{/* The URL path of a RabbitMQ virtual host: none for the default "/", else "/" and the name, percent-encoded. */}}
{{- define "ticketing.vhostPath" -}}
{{- if and . (ne . "/") -}}/{{ . | urlquery | replace "+" "%20" }}{{- end -}}
{{- end }}

{{- define "ticketing.rabbitmqEnv" -}}
{{- $mq := .ctx.Values.rabbitmq -}}
{{- $own := and .user .user.username -}}
{{- $username := ternary .user.username $mq.username (not (not $own)) -}}
{{- $secret := ternary .user.passwordSecret $mq.passwordSecret (not (not $own)) -}}
- name: RABBITMQ_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $secret.name | quote }}
      key: {{ $secret.key | quote }}
- name: RABBITMQ_URL
  value: {{ printf "amqp://%s:$(RABBITMQ_PASSWORD)@%s:%d%s" $username $mq.host (int $mq.port) (include "ticketing.vhostPath" $mq.vhost) | quote }}
- name: RABBITMQ_DECLARE_TOPOLOGY
  value: {{ ternary (not $mq.definitionsDeclareTopology) true (not (not $own)) | quote }}
{{- end }}

{{- define "ticketing.redisEnv" -}}
{{- $r := .Values.redis -}}
{{- if $r.passwordSecret.name -}}
- name: REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $r.passwordSecret.name | quote }}
      key: {{ $r.passwordSecret.key | quote }}
- name: REDIS_URL
  value: {{ printf "redis://:$(REDIS_PASSWORD)@%s:%d" $r.host (int $r.port) | quote }}
{{- else -}}
- name: REDIS_URL
  value: {{ printf "redis://%s:%d" $r.host (int $r.port) | quote }}
{{- end }}
{{- end }}

{{/*
Identity settings every process reads (the APIs use them; the consumer, migrations and expiry job check them,
so a release never runs one process securely and another not): AUTH_MODE, the clock skew and the token cache from values, the
token keys, issuer, audience and the internal API token from the application Secret. Keys a Secret does not
hold are left unset (optional), so either auth-jwt-secret or auth-jwks-url may be given; the processes refuse
to start in production unless one is.
*/}}
{{- define "ticketing.identityEnv" -}}
- name: AUTH_MODE
  value: {{ .Values.auth.mode | quote }}
- name: AUTH_CLOCK_SKEW_SECONDS
  value: {{ .Values.auth.clockSkewSeconds | quote }}
- name: AUTH_TOKEN_CACHE_SECONDS
  value: {{ .Values.auth.tokenCacheSeconds | quote }}
{{- range $variable, $key := dict "AUTH_JWT_SECRET" "auth-jwt-secret" "AUTH_JWKS_URL" "auth-jwks-url" "AUTH_JWT_ISSUER" "auth-jwt-issuer" "AUTH_JWT_AUDIENCE" "auth-jwt-audience" }}
- name: {{ $variable }}
  valueFrom:
    secretKeyRef:
      name: {{ include "ticketing.secretName" $ }}
      key: {{ $key }}
      optional: true
{{- end }}
{{ include "ticketing.internalTokenEnv" . }}
{{- end }}

{{/*
The HTTP edge of an API process: trusted proxy hops and the CORS allow-list (values .edge).
*/}}
{{- define "ticketing.edgeEnv" -}}
- name: TRUST_PROXY_HOPS
  value: {{ .Values.edge.trustProxyHops | quote }}
- name: CORS_ALLOWED_ORIGINS
  value: {{ join "," .Values.edge.corsAllowedOrigins | quote }}
{{- end }}

{{- define "ticketing.internalTokenEnv" -}}
- name: INTERNAL_API_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ include "ticketing.secretName" . }}
      key: internal-api-token
{{- end }}

{{/*
Init container that waits, for a bounded time, until a TCP port accepts connections. It uses
the service image's node (no extra image to pull). Call with
(dict "ctx" $ "image" .Values.eventService.image "host" "postgresql" "port" 5432 "name" "wait-for-postgres").
*/}}
{{- define "ticketing.waitForTcp" -}}
- name: {{ .name }}
  image: {{ include "ticketing.image" (dict "ctx" .ctx "image" .image) | quote }}
  imagePullPolicy: {{ .image.pullPolicy }}
  command:
    - node
    - -e
    - |
      const net = require('node:net');
      const host = process.env.WAIT_HOST, port = Number(process.env.WAIT_PORT);
      const deadline = Date.now() + Number(process.env.WAIT_TIMEOUT_SECONDS) * 1000;
      const attempt = () => {
        const socket = net.connect({ host, port, timeout: 3000 });
        socket.once('connect', () => { console.log(`${host}:${port} accepts connections`); socket.destroy(); process.exit(0); });
        const retry = (err) => {
          socket.destroy();
          if (Date.now() > deadline) { console.error(`gave up waiting for ${host}:${port}: ${err.message}`); process.exit(1); }
          console.log(`waiting for ${host}:${port}: ${err.message}`);
          setTimeout(attempt, 2000);
        };
        socket.once('error', retry);
        socket.once('timeout', () => retry(new Error('connect timed out')));
      };
      attempt();
  env:
    - name: WAIT_HOST
      value: {{ .host | quote }}
    - name: WAIT_PORT
      value: {{ .port | quote }}
    - name: WAIT_TIMEOUT_SECONDS
      value: {{ .ctx.Values.waitForDatabase.timeoutSeconds | quote }}
  resources:
    requests:
      cpu: 10m
      memory: 32Mi
    limits:
      cpu: 100m
      memory: 64Mi
  securityContext:
    {{- include "ticketing.securityContext" .ctx | nindent 4 }}
  volumeMounts:
    {{- include "ticketing.tmpVolumeMount" .ctx | nindent 4 }}
{{- end }}
