{{/*
Names, labels and the pieces every pod shares. Templates never spell a name or a label block
out themselves: they call these, so one change here reaches every object.
*/}}

{{/* The chart's name, overridable. */}}
{{- define "lab.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The release-wide prefix of every object name: the release name, with the chart's name added unless it is already in it. */}}
{{- define "lab.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The name of one component's objects: (dict "root" $ "component" "logging") → lab-logging. */}}
{{- define "lab.componentName" -}}
{{- printf "%s-%s" (include "lab.fullname" .root) .component | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "lab.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels that select one component's pods; never change after install (selectors are immutable). */}}
{{- define "lab.selectorLabels" -}}
app.kubernetes.io/name: {{ include "lab.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/*
The labels of a component's pods: the selector labels and the descriptive ones that stay the same
from one chart version to the next. A pod template's labels are part of the template, so a label
that changed with the chart (helm.sh/chart, app.kubernetes.io/version) would restart every pod on
every chart bump, image or not.
*/}}
{{- define "lab.podLabels" -}}
{{ include "lab.selectorLabels" . }}
app.kubernetes.io/part-of: {{ include "lab.name" .root }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- end -}}

{{/*
A pod's labels: the chart's own (`own`, by default the component's lab.podLabels), then the user's
podLabels, the component's over the chart-wide ones, but never one that would replace the chart's
own: the selector labels must stay what the workload selects.
(dict "root" $ "component" "logging" "labels" .Values.logging.podLabels ["own" (include "lab.labels" ...)])
*/}}
{{- define "lab.podTemplateLabels" -}}
{{- $own := .own | default (include "lab.podLabels" .) -}}
{{- $taken := fromYaml $own -}}
{{ $own }}
{{- range $key, $value := mergeOverwrite (deepCopy (.root.Values.podLabels | default dict)) (deepCopy (.labels | default dict)) }}
{{- if not (hasKey $taken $key) }}
{{ toYaml (dict $key $value) }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Every label of a component's objects: its pods' labels, the chart and the version. */}}
{{- define "lab.labels" -}}
helm.sh/chart: {{ include "lab.chart" .root }}
{{ include "lab.podLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
{{- end -}}

{{/*
The pods' ServiceAccount: serviceAccount.name, else the release's name prefix when the chart
creates it, else the namespace's "default".
*/}}
{{- define "lab.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- .Values.serviceAccount.name | default (include "lab.fullname" .) -}}
{{- else -}}
{{- .Values.serviceAccount.name | default "default" -}}
{{- end -}}
{{- end -}}

{{/*
An image reference from {registry, repository, tag, digest}: the registry, when set, goes before
the repository; the digest, when set, pins it.
*/}}
{{- define "lab.imageRef" -}}
{{- $repository := .image.repository -}}
{{- with .image.registry -}}
{{- $repository = printf "%s/%s" . $repository -}}
{{- end -}}
{{- $ref := printf "%s:%s" $repository (.image.tag | default .default | toString) -}}
{{- if .image.digest -}}
{{- $ref = printf "%s@%s" $ref .image.digest -}}
{{- end -}}
{{- $ref -}}
{{- end -}}

{{/* The lab image (all four services); its tag defaults to the chart's appVersion. */}}
{{- define "lab.image" -}}
{{- include "lab.imageRef" (dict "image" .Values.image "default" .Chart.AppVersion) -}}
{{- end -}}

{{/* Host names of the Services other components call. Short names: they resolve in the release's own namespace. */}}
{{- define "lab.hazelcast.service" -}}{{ include "lab.componentName" (dict "root" . "component" "hazelcast") }}{{- end -}}
{{- define "lab.hazelcast.headlessService" -}}{{ include "lab.componentName" (dict "root" . "component" "hazelcast-headless") }}{{- end -}}
{{- define "lab.logging.headlessService" -}}{{ include "lab.componentName" (dict "root" . "component" "logging-headless") }}{{- end -}}

{{/*
A pod's security context: the pod-level half of the "restricted" Pod Security Standard for a given
user id (non-root, RuntimeDefault seccomp), under the chart-wide podSecurityContext, under the
component's own: each field set there replaces the chart's, and the rest stay.
(dict "root" $ "uid" 1000 "values" .Values.logging); the helm test pod passes an empty "values".
*/}}
{{- define "lab.podSecurityContext" -}}
{{- $restricted := dict
  "runAsNonRoot" true
  "runAsUser" .uid
  "runAsGroup" .uid
  "fsGroup" .uid
  "seccompProfile" (dict "type" "RuntimeDefault")
-}}
{{- include "lab.securityContext" (dict "own" $restricted "wide" .root.Values.podSecurityContext "component" .values.podSecurityContext) -}}
{{- end -}}

{{/*
A container's security context: the container-level half of "restricted" plus a read-only root
filesystem, unless the image needs to write where it was built to ("writableRoot" true), under the
chart-wide containerSecurityContext, under the component's own.
(dict "root" $ "values" .Values.logging ["writableRoot" true])
*/}}
{{- define "lab.containerSecurityContext" -}}
{{- $restricted := dict
  "allowPrivilegeEscalation" false
  "privileged" false
  "readOnlyRootFilesystem" (not .writableRoot)
  "runAsNonRoot" true
  "capabilities" (dict "drop" (list "ALL"))
  "seccompProfile" (dict "type" "RuntimeDefault")
-}}
{{- include "lab.securityContext" (dict "own" $restricted "wide" .root.Values.containerSecurityContext "component" .values.containerSecurityContext) -}}
{{- end -}}

{{/*
The chart's own security context ("own") with the chart-wide ("wide") and then the component's
fields over it, deeply. mergeOverwrite, not merge: merge would keep the chart's true where a user
set false.
*/}}
{{- define "lab.securityContext" -}}
{{- toYaml (mergeOverwrite (deepCopy .own) (deepCopy (.wide | default dict)) (deepCopy (.component | default dict))) -}}
{{- end -}}

{{/*
Pod-spec fields every pod of the release shares: the release's ServiceAccount, with no token
mounted whichever it is (no pod talks to the Kubernetes API; Hazelcast discovers members through
DNS), no injected *_SERVICE_HOST variables (each service reads only its own validated settings),
and where and how urgently the pod runs: its component's nodeSelector, tolerations and
priorityClassName when set, else the chart-wide ones.
(dict "root" $ "values" .Values.logging); the helm test pod, of no component, passes an empty "values".
*/}}
{{- define "lab.podCommon" -}}
{{- $root := .root -}}
serviceAccountName: {{ include "lab.serviceAccountName" $root }}
automountServiceAccountToken: false
enableServiceLinks: false
{{- with $root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.nodeSelector | default $root.Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.tolerations | default $root.Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.priorityClassName | default $root.Values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- end -}}

{{/*
A component's topologySpreadConstraints, or nothing: its own when set, else the chart-wide ones;
a constraint with no labelSelector is given one that selects the component's pods (without one it
would count no pods at all).
(dict "ctx" (dict "root" $ "component" "logging") "constraints" .Values.logging.topologySpreadConstraints)
*/}}
{{- define "lab.topologySpreadConstraints" -}}
{{- $constraints := list -}}
{{- range .constraints | default .ctx.root.Values.topologySpreadConstraints -}}
{{- $constraint := deepCopy . -}}
{{- if not $constraint.labelSelector -}}
{{- $_ := set $constraint "labelSelector" (dict "matchLabels" (include "lab.selectorLabels" $.ctx | fromYaml)) -}}
{{- end -}}
{{- $constraints = append $constraints $constraint -}}
{{- end -}}
{{- with $constraints -}}
{{- toYaml . -}}
{{- end -}}
{{- end -}}

{{/*
A pod's affinity, or nothing: its component's `affinity` when set, else, for a component that
spreads (facade, logging, the members), preferred anti-affinity over nodes.
(dict "ctx" (dict "root" $ "component" "logging") "affinity" .Values.logging.affinity "spread" true)
*/}}
{{- define "lab.affinity" -}}
{{- if .affinity -}}
{{- toYaml .affinity -}}
{{- else if .spread -}}
{{- include "lab.spreadOverNodes" .ctx -}}
{{- end -}}
{{- end -}}

{{/*
A pod template's annotations, or nothing: the component's podAnnotations under the chart's own (a
config checksum, Prometheus's), which win on a clash so that no user value hides one the chart
relies on. (dict "own" (dict "checksum/config" ...) "extra" .Values.logging.podAnnotations)
*/}}
{{- define "lab.podAnnotations" -}}
{{- with merge (deepCopy .own) (deepCopy (.extra | default dict)) -}}
{{- toYaml . -}}
{{- end -}}
{{- end -}}

{{/*
A component's extraEnv as list items, or nothing. They come after the chart's variables, so they
may refer to them as $(NAME). A name the chart sets already fails the rendering: the duplicate
would silently replace the chart's value, and server-side apply refuses it.
(dict "component" "logging" "extraEnv" .Values.logging.extraEnv "taken" (list "HOST" "PORT" ...))
*/}}
{{- define "lab.extraEnv" -}}
{{- range .extraEnv -}}
{{- if has .name $.taken -}}
{{- fail (printf "%s: extraEnv sets %s, which the chart sets itself; change the value it comes from instead" $.component .name) -}}
{{- end -}}
{{- end -}}
{{- with .extraEnv -}}
{{- toYaml . -}}
{{- end -}}
{{- end -}}

{{/* Spreads a component's pods over nodes when it can (preferred anti-affinity), never blocking scheduling. */}}
{{- define "lab.spreadOverNodes" -}}
podAntiAffinity:
  preferredDuringSchedulingIgnoredDuringExecution:
    - weight: 100
      podAffinityTerm:
        topologyKey: kubernetes.io/hostname
        labelSelector:
          matchLabels:
            {{- include "lab.selectorLabels" . | nindent 12 }}
{{- end -}}

{{/*
The environment of a lab service: the computed settings first (where it listens, whom it calls),
then the service's tunable settings merged over the shared ones. The keys are exactly the
service's settings in services/<name>/config.ts; a test compares them.
(dict "root" $ "service" .Values.logging "computed" (list (dict "name" ... "value" ...) ...))
*/}}
{{- define "lab.serviceEnv" -}}
- name: HOST
  value: "0.0.0.0"
- name: PORT
  value: {{ .service.port | quote }}
{{- range .computed }}
- {{ toYaml . | nindent 2 | trim }}
{{- end }}
{{- range $key, $value := merge (deepCopy (.service.settings | default dict)) .root.Values.settings }}
- name: {{ $key }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- end -}}

{{/*
One lab service's container: the lab image with the service's name as its argument, the HTTP
port, probes on /healthz and /readyz, resources, and the restricted security context.
(dict "root" $ "name" "logging" "service" .Values.logging "computed" (list ...) "volumeMounts" (list ...))
*/}}
{{- define "lab.serviceContainer" -}}
{{- $root := .root -}}
- name: {{ .name }}
  image: {{ include "lab.image" $root | quote }}
  imagePullPolicy: {{ $root.Values.image.pullPolicy }}
  args:
    - {{ .name }}
  ports:
    - name: http
      containerPort: {{ .service.port }}
      protocol: TCP
  env:
    {{- include "lab.serviceEnv" . | nindent 4 }}
    {{- $taken := list }}
    {{- range include "lab.serviceEnv" . | fromYamlArray }}{{ $taken = append $taken .name }}{{ end }}
    {{- with include "lab.extraEnv" (dict "component" .name "extraEnv" .service.extraEnv "taken" $taken) }}
    {{- . | nindent 4 }}
    {{- end }}
  livenessProbe:
    httpGet:
      path: /healthz
      port: http
    {{- toYaml $root.Values.probes.liveness | nindent 4 }}
  readinessProbe:
    httpGet:
      path: /readyz
      port: http
    {{- toYaml $root.Values.probes.readiness | nindent 4 }}
  lifecycle:
    preStop:
      # Endpoints are removed while SIGTERM is delivered; a short pause lets callers stop
      # choosing this pod before it stops accepting connections.
      exec:
        command: ["sleep", {{ $root.Values.preStopSleepSeconds | quote }}]
  resources:
    {{- toYaml .service.resources | nindent 4 }}
  securityContext:
    {{- include "lab.containerSecurityContext" (dict "root" $root "values" .service) | nindent 4 }}
  {{- with .volumeMounts }}
  volumeMounts:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end -}}

{{/*
The Deployment of a lab service (facade, logging, messages, config-server), with the service's own
podAnnotations, extraEnv, affinity, nodeSelector and tolerations from its values.
(dict "root" $ "name" "logging" "service" .Values.logging "computed" (list ...)
      "volumeMounts" (list ...) "volumes" (list ...) "annotations" (dict ...) "spread" true)
*/}}
{{- define "lab.serviceDeployment" -}}
{{- $root := .root -}}
{{- $ctx := dict "root" $root "component" .name -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "lab.componentName" $ctx }}
  labels:
    {{- include "lab.labels" $ctx | nindent 4 }}
spec:
  {{- if not (and .service.autoscaling .service.autoscaling.enabled) }}
  replicas: {{ .service.replicas }}
  {{- end }}
  revisionHistoryLimit: 3
  strategy:
    type: RollingUpdate
    rollingUpdate:
      # Never fewer ready pods than asked for during a rollout.
      maxUnavailable: 0
      maxSurge: 1
  selector:
    matchLabels:
      {{- include "lab.selectorLabels" $ctx | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "lab.podTemplateLabels" (merge (dict "labels" .service.podLabels) $ctx) | nindent 8 }}
      {{- $own := .annotations | default dict }}
      {{- if $root.Values.metrics.scrapeAnnotations }}
      {{- $scrape := dict "prometheus.io/scrape" "true" "prometheus.io/port" (toString .service.port) "prometheus.io/path" "/metrics" }}
      {{- $own = merge $scrape $own }}
      {{- end }}
      {{- with include "lab.podAnnotations" (dict "own" $own "extra" .service.podAnnotations) }}
      annotations:
        {{- . | nindent 8 }}
      {{- end }}
    spec:
      {{- include "lab.podCommon" (dict "root" $root "values" .service) | nindent 6 }}
      terminationGracePeriodSeconds: {{ $root.Values.terminationGracePeriodSeconds }}
      securityContext:
        {{- include "lab.podSecurityContext" (dict "root" $root "uid" $root.Values.image.runAsUser "values" .service) | nindent 8 }}
      {{- with include "lab.affinity" (dict "ctx" $ctx "affinity" .service.affinity "spread" .spread) }}
      affinity:
        {{- . | nindent 8 }}
      {{- end }}
      {{- with include "lab.topologySpreadConstraints" (dict "ctx" $ctx "constraints" .service.topologySpreadConstraints) }}
      topologySpreadConstraints:
        {{- . | nindent 8 }}
      {{- end }}
      containers:
        {{- include "lab.serviceContainer" . | nindent 8 }}
      {{- with .volumes }}
      volumes:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end -}}

{{/*
A ClusterIP Service in front of a lab service's pods.
(dict "root" $ "name" "messages" "service" .Values.messages)
*/}}
{{- define "lab.serviceService" -}}
{{- $ctx := dict "root" .root "component" .name -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "lab.componentName" $ctx }}
  labels:
    {{- include "lab.labels" $ctx | nindent 4 }}
spec:
  type: {{ .service.serviceType | default "ClusterIP" }}
  selector:
    {{- include "lab.selectorLabels" $ctx | nindent 4 }}
  ports:
    - name: http
      port: {{ .service.port }}
      targetPort: http
      protocol: TCP
{{- end -}}

{{/*
A HorizontalPodAutoscaler on CPU for a stateless lab service, when its autoscaling is enabled.
(dict "root" $ "name" "facade" "service" .Values.facade)
*/}}
{{- define "lab.serviceAutoscaler" -}}
{{- if .service.autoscaling.enabled }}
{{- $ctx := dict "root" .root "component" .name }}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ include "lab.componentName" $ctx }}
  labels:
    {{- include "lab.labels" $ctx | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ include "lab.componentName" $ctx }}
  minReplicas: {{ .service.autoscaling.minReplicas }}
  maxReplicas: {{ .service.autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ .service.autoscaling.targetCPUUtilizationPercentage }}
{{- end }}
{{- end -}}

{{/*
The registry config-server serves, under the facade's names for logging and messages: logging as its
headless Service (expanded through DNS to one URL per ready pod), messages as a URL list.
*/}}
{{- define "lab.registry" -}}
{{- $logging := dict "dns" (include "lab.logging.headlessService" .) "port" (int .Values.logging.port) "path" "/logging" -}}
{{- $messagesHost := include "lab.componentName" (dict "root" . "component" "messages") -}}
{{- $messages := list (printf "http://%s:%v/messages" $messagesHost .Values.messages.port) -}}
{{- $names := .Values.facade.settings -}}
{{- toPrettyJson (dict $names.LOGGING_SERVICE_NAME $logging $names.MESSAGES_SERVICE_NAME $messages) -}}
{{- end -}}

{{/*
Synchronous backups of the messages map, as files/hazelcast.yaml declares them (2: with three
members every entry lives on all three, so any two may die at once). Logging's HZ_BACKUP_COUNT
takes it from here, since a client cannot read a map's configuration and the dashboard shows it.
*/}}
{{- define "lab.hazelcast.backupCount" -}}
{{- index (.Files.Get "files/hazelcast.yaml" | fromYaml).hazelcast.map "${lab.map.name}" "backup-count" -}}
{{- end -}}

{{/*
Members that must hold a write before logging acknowledges it (HZ_MIN_COPIES): the members'
split-brain minimum when it protects writes, else 1. Without it a member cut off from the others
acknowledges writes in the moment between dropping them and refusing writes (lib/write-copies.ts).
*/}}
{{- define "lab.hazelcast.minCopies" -}}
{{- with .Values.hazelcast.splitBrainProtection -}}
{{- if .enabled -}}{{ int .minimumMembers }}{{- else -}}1{{- end -}}
{{- end -}}
{{- end -}}

{{/*
The members' hazelcast.yaml: the ConfigMap holds it, and the StatefulSet's checksum/config annotation
is its hash, so a changed configuration rolls the members.

It is files/hazelcast.yaml, the one member configuration, which local members (npm start, the
tests) run as it is, with what differs on Kubernetes applied here and nowhere else: the local-only
keys dropped (the loopback address a member binds and connects from, its TCP-IP member list, the JDK
logger), the map names of the values in place of -Dlab.map.name, split-brain protection dropped when
it is off, and lab.hazelcast.onKubernetes laid over the rest. The file is the source rather than
this template because local members then run it with no helm and no generated copy, and every
setting the two share (maps, backups, indexes, split-brain protection, merge policy, query limit)
is written once; test/chart/member-files.test.ts fails on any difference it does not list. The
rendered YAML has no comments and sorted keys: the file's comments say why each setting is there.
*/}}
{{- define "lab.hazelcast.config" -}}
{{- $hz := .Values.hazelcast -}}
{{- $config := (.Files.Get "files/hazelcast.yaml" | fromYaml).hazelcast -}}
{{- range list "hazelcast.local.localAddress" "hazelcast.socket.bind.any" "hazelcast.socket.client.bind.any" "hazelcast.logging.type" -}}
{{- $_ := unset $config.properties . -}}
{{- end -}}
{{- $_ := unset $config.network "public-address" -}}
{{- $_ := unset $config.network.join "tcp-ip" -}}
{{- $maps := dict -}}
{{- range $name, $map := $config.map -}}
{{- if not $hz.splitBrainProtection.enabled -}}
{{- $_ := unset $map "split-brain-protection-ref" -}}
{{- end -}}
{{- $_ := set $maps (replace "${lab.map.name}" $hz.mapName $name) $map -}}
{{- end -}}
{{- $_ := set $config "map" $maps -}}
{{- if not $hz.splitBrainProtection.enabled -}}
{{- $_ := unset $config "split-brain-protection" -}}
{{- end -}}
{{- $config = mergeOverwrite $config (include "lab.hazelcast.onKubernetes" . | fromYaml) -}}
# Hazelcast {{ $hz.image.tag }} member configuration, rendered by the lab chart from its
# files/hazelcast.yaml (whose comments say why) with lab.hazelcast.onKubernetes (_helpers.tpl).
{{ toYaml (dict "hazelcast" $config) }}
{{- end -}}

{{/* What lab.hazelcast.config sets over files/hazelcast.yaml on Kubernetes, from the values. */}}
{{- define "lab.hazelcast.onKubernetes" -}}
{{- $hz := .Values.hazelcast -}}
cluster-name: {{ $hz.clusterName | quote }}
properties:
  # SIGTERM (pod deletion, rollout, drain) migrates the member's partitions away before it leaves,
  # bounded so the member is done before the kubelet's SIGKILL.
  hazelcast.graceful.shutdown.max.wait: {{ include "lab.hazelcast.gracefulWaitSeconds" . }}
  # A member that vanished without a goodbye (SIGKILL, node loss) is declared dead after this long.
  hazelcast.heartbeat.interval.seconds: 2
  hazelcast.max.no.heartbeat.seconds: {{ $hz.maxNoHeartbeatSeconds }}
  # After a split, the smaller side looks for the larger one this soon, and this often, and merges into it.
  hazelcast.merge.first.run.delay.seconds: {{ $hz.mergeFirstRunDelaySeconds }}
  hazelcast.merge.next.run.delay.seconds: {{ $hz.mergeNextRunDelaySeconds }}
network:
  port:
    port: {{ $hz.port }}
  join:
    # DNS lookup mode: the members' addresses come from the headless Service, no API access needed.
    kubernetes:
      enabled: true
      service-dns: {{ include "lab.hazelcast.headlessService" . }}.{{ .Release.Namespace }}.svc.{{ .Values.clusterDomain }}
      service-port: {{ $hz.port }}
{{- with $hz.splitBrainProtection }}
{{- if .enabled }}
{{- if gt (int .minimumMembers) (int $hz.replicas) }}
{{- fail (printf "hazelcast.splitBrainProtection.minimumMembers (%d) is more than hazelcast.replicas (%d): no side could ever take a write (every one would be 503 STORE_MINORITY). Lower minimumMembers to a majority of replicas, or turn splitBrainProtection off for a single member" (int .minimumMembers) (int $hz.replicas)) }}
{{- end }}
# A side of a split with fewer members than this refuses {{ .protectOn }} operations on the maps.
split-brain-protection:
  lab-majority:
    minimum-cluster-size: {{ .minimumMembers }}
    protect-on: {{ .protectOn }}
{{- end }}
{{- end }}
{{- end -}}

{{/* The members' Prometheus JMX exporter rules: files/jmx-exporter.yaml, which local members read too. */}}
{{- define "lab.hazelcast.exporterRules" -}}
{{ .Files.Get "files/jmx-exporter.yaml" }}
{{- end -}}

{{/* A Prometheus duration of the units the values allow (e.g. 1m30s, 500ms), in milliseconds. */}}
{{- define "lab.durationMillis" -}}
{{- $millis := 0 -}}
{{- $unit := dict "ms" 1 "s" 1000 "m" 60000 "h" 3600000 -}}
{{- range regexFindAll "[0-9]+(ms|s|m|h)" . -1 -}}
{{- $millis = add $millis (mul (regexFind "^[0-9]+" . | atoi) (get $unit (regexReplaceAll "^[0-9]+" . ""))) -}}
{{- end -}}
{{- $millis -}}
{{- end -}}

{{/* The member's graceful-shutdown bound: the pod's grace period less a margin for the JVM to exit. */}}
{{- define "lab.hazelcast.gracefulWaitSeconds" -}}
{{- sub .Values.hazelcast.terminationGracePeriodSeconds 15 -}}
{{- end -}}
