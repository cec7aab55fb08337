{{/*
Names, labels and the pieces the worker Deployment and the Job share.
*/}}

{{- define "ffpod.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "ffpod.fullname" -}}
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

{{- define "ffpod.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels shared by every object of the release. */}}
{{- define "ffpod.labels" -}}
helm.sh/chart: {{ include "ffpod.chart" . }}
{{ include "ffpod.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* The labels every pod of the release carries (workers and Jobs). */}}
{{- define "ffpod.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ffpod.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* cpu, nvidia or intel, after gpu.vendor: which of images/ffmpeg-* the pool runs. */}}
{{- define "ffpod.flavor" -}}
{{- if eq .Values.gpu.vendor "none" }}cpu{{ else }}{{ .Values.gpu.vendor }}{{ end }}
{{- end }}

{{/* An image reference from {registry, repository, tag, digest} and a default repository. */}}
{{- define "ffpod.imageRef" -}}
{{- $img := index . 0 }}
{{- $defaultRepo := index . 1 }}
{{- $defaultTag := index . 2 }}
{{- $repo := default $defaultRepo $img.repository }}
{{- if $img.registry }}{{ $repo = printf "%s/%s" $img.registry $repo }}{{ end }}
{{- if $img.digest }}
{{- printf "%s@%s" $repo $img.digest }}
{{- else }}
{{- printf "%s:%s" $repo (default $defaultTag $img.tag) }}
{{- end }}
{{- end }}

{{/*
The image that carries ffpod (and, outside injection mode, runs the work). The project publishes
no images: rendering fails until image.repository names the one built from images/.
*/}}
{{- define "ffpod.image" -}}
{{- $msg := printf "image.repository is required: the ffpod project publishes no images. Build images/ffmpeg-%s/Dockerfile, push it to your registry and set image.repository (and image.tag or image.digest); see images/README.md and docs/kubernetes.md#install" (include "ffpod.flavor" .) }}
{{- $repo := required $msg .Values.image.repository }}
{{- include "ffpod.imageRef" (list .Values.image $repo .Chart.AppVersion) }}
{{- end }}

{{/* Injection mode: the user's FFmpeg image. */}}
{{- define "ffpod.ffmpegImage" -}}
{{- $img := .Values.injection.ffmpegImage }}
{{- $repo := required "injection.ffmpegImage.repository is required when injection.enabled is true" $img.repository }}
{{- if and (not $img.tag) (not $img.digest) }}
{{- fail "injection.ffmpegImage needs a tag or a digest" }}
{{- end }}
{{- include "ffpod.imageRef" (list $img $repo "") }}
{{- end }}

{{/* The path of the ffpod executable in the container that runs the work. */}}
{{- define "ffpod.binary" -}}
{{- if .Values.injection.enabled }}/ffpod/ffpod{{ else }}/usr/local/bin/ffpod{{ end }}
{{- end }}

{{/* "true" when the `helm test` pod is rendered (it asks the workers through the Service). */}}
{{- define "ffpod.testEnabled" -}}
{{- if and .Values.worker.enabled .Values.service.enabled .Values.tests.enabled }}true{{ end }}
{{- end }}

{{- define "ffpod.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "ffpod.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret holding the Redis URL (and KEDA's address/password). */}}
{{- define "ffpod.redisSecretName" -}}
{{- if .Values.redis.existingSecret }}
{{- .Values.redis.existingSecret }}
{{- else if .Values.redis.url }}
{{- printf "%s-redis" (include "ffpod.fullname" .) }}
{{- else }}
{{- fail "redis.existingSecret or redis.url is required: workers, KEDA and job.reportToRedis read the queue's Redis" }}
{{- end }}
{{- end }}

{{/* Redis behind Sentinel: the primary's name ("" for a plain Redis), from a redis+sentinel://
URL's path or redis.sentinelMaster. */}}
{{- define "ffpod.redisSentinelMaster" -}}
{{- $url := .Values.redis.url }}
{{- if and (not .Values.redis.existingSecret) (regexMatch "^(?i)rediss?\\+sentinel://" $url) }}
{{- regexReplaceAll "^[^:]+://[^/?]*/([^/?]*).*$" $url "${1}" }}
{{- else }}
{{- .Values.redis.sentinelMaster }}
{{- end }}
{{- end }}

{{/* A redis+sentinel:// URL's Sentinels as KEDA's addresses: host:port,host:port (26379 when
the port is left out). */}}
{{- define "ffpod.redisSentinelAddresses" -}}
{{- $hosts := regexReplaceAll "^[^:]+://([^@/]*@)?([^/?]*).*$" . "${2}" }}
{{- $out := list }}
{{- range splitList "," $hosts }}
{{- $out = append $out (ternary . (printf "%s:26379" .) (regexMatch ":[0-9]+$" .)) }}
{{- end }}
{{- join "," $out }}
{{- end }}

{{/* The Secret key of each KEDA parameter ("" when absent). */}}
{{- define "ffpod.redisKey" -}}
{{- $root := index . 0 }}
{{- $what := index . 1 }}
{{- if $root.Values.redis.existingSecret }}
{{- if eq $what "address" }}{{ $root.Values.redis.addressKey }}
{{- else if eq $what "username" }}{{ $root.Values.redis.usernameKey }}
{{- else if eq $what "password" }}{{ $root.Values.redis.passwordKey }}
{{- else if eq $what "sentinelPassword" }}{{ $root.Values.redis.sentinelPasswordKey }}
{{- else }}{{ $root.Values.redis.urlKey }}{{ end }}
{{- else if regexMatch "^(?i)rediss?\\+sentinel://" $root.Values.redis.url }}
{{- $url := $root.Values.redis.url }}
{{- $info := regexReplaceAll "^[^:]+://(([^@/]*)@)?.*$" $url "${2}" }}
{{- if eq $what "url" }}url
{{- else if eq $what "address" }}address
{{- else if eq $what "username" }}{{ if regexMatch "^[^:]+:" $info }}username{{ end }}
{{- else if eq $what "password" }}{{ if contains ":" $info }}password{{ end }}
{{- else if eq $what "sentinelPassword" }}{{ if regexMatch "[?&]sentinel_password=" $url }}sentinelPassword{{ end }}
{{- end }}
{{- else }}
{{- $u := urlParse $root.Values.redis.url }}
{{- if eq $what "url" }}url
{{- else if eq $what "address" }}{{ if $u.host }}address{{ end }}
{{- else if eq $what "username" }}{{ if regexMatch "^[^:]+:" $u.userinfo }}username{{ end }}
{{- else if eq $what "password" }}{{ if contains ":" $u.userinfo }}password{{ end }}
{{- end }}
{{- end }}
{{- end }}

{{/* The encoders readiness requires, comma-separated ("" for none). */}}
{{- define "ffpod.requireEncoders" -}}
{{- $enc := .Values.worker.requireEncoders }}
{{- if and (not $enc) (eq .Values.gpu.vendor "nvidia") }}{{ $enc = .Values.gpu.nvidia.requireEncoders }}{{ end }}
{{- if and (not $enc) (eq .Values.gpu.vendor "intel") }}{{ $enc = .Values.gpu.intel.requireEncoders }}{{ end }}
{{- join "," $enc }}
{{- end }}

{{/* resources, with the GPU added to the limits. Argument: (list root resources). */}}
{{- define "ffpod.resources" -}}
{{- $root := index . 0 }}
{{- $res := deepCopy (index . 1 | default dict) }}
{{- $gpu := $root.Values.gpu }}
{{- if ne $gpu.vendor "none" }}
{{- $limits := deepCopy ($res.limits | default dict) }}
{{- $name := ternary $gpu.nvidia.resourceName $gpu.intel.resourceName (eq $gpu.vendor "nvidia") }}
{{- $_ := set $limits $name (int $gpu.count) }}
{{- $_ := set $res "limits" $limits }}
{{- end }}
{{- toYaml $res }}
{{- end }}

{{/*
Environment shared by the worker and the Job: the Downward API (worker id, span resource,
result document), the image the results name, the listener, logging, OpenTelemetry, the GPU
runtime and injection paths.
*/}}
{{- define "ffpod.commonEnv" -}}
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: POD_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
- name: NODE_NAME
  valueFrom:
    fieldRef:
      fieldPath: spec.nodeName
- name: POD_UID
  valueFrom:
    fieldRef:
      fieldPath: metadata.uid
- name: FFPOD_IMAGE
  value: {{ include "ffpod.workImage" . | quote }}
- name: FFPOD_LISTEN
  value: {{ printf "%s:%d" (include "ffpod.listenHost" .) (int .Values.http.port) | quote }}
- name: FFPOD_LOG_FORMAT
  value: {{ .Values.logging.format | quote }}
- name: FFPOD_LOG_LEVEL
  value: {{ .Values.logging.level | quote }}
{{- if .Values.injection.enabled }}
- name: FFPOD_FFMPEG
  value: {{ .Values.injection.ffmpegPath | quote }}
- name: FFPOD_FFPROBE
  value: {{ .Values.injection.ffprobePath | quote }}
{{- if .Values.injection.caBundle }}
- name: SSL_CERT_FILE
  value: {{ .Values.injection.caBundle | quote }}
{{- end }}
{{- end }}
{{- if eq .Values.gpu.vendor "nvidia" }}
- name: NVIDIA_DRIVER_CAPABILITIES
  value: {{ .Values.gpu.nvidia.driverCapabilities | quote }}
{{- end }}
{{- if eq .Values.gpu.vendor "intel" }}
- name: LIBVA_DRIVER_NAME
  value: {{ .Values.gpu.intel.vaDriver | quote }}
{{- end }}
{{- if .Values.otel.enabled }}
- name: OTEL_SERVICE_NAME
  value: {{ .Values.otel.serviceName | quote }}
{{- if .Values.otel.tracesEndpoint }}
- name: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
  value: {{ .Values.otel.tracesEndpoint | quote }}
{{- else }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ required "otel.endpoint or otel.tracesEndpoint is required when otel.enabled is true" .Values.otel.endpoint | quote }}
{{- end }}
- name: OTEL_EXPORTER_OTLP_PROTOCOL
  value: http/json
- name: OTEL_RESOURCE_ATTRIBUTES
  value: {{ include "ffpod.resourceAttributes" . | quote }}
{{- if .Values.otel.headersSecret.name }}
- name: OTEL_EXPORTER_OTLP_HEADERS
  valueFrom:
    secretKeyRef:
      name: {{ .Values.otel.headersSecret.name }}
      key: {{ .Values.otel.headersSecret.key }}
{{- end }}
{{- else }}
- name: OTEL_TRACES_EXPORTER
  value: none
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "ffpod.listenHost" -}}
{{- if contains ":" .Values.http.address }}[{{ .Values.http.address | trimPrefix "[" | trimSuffix "]" }}]{{ else }}{{ .Values.http.address }}{{ end }}
{{- end }}

{{/*
The span resource: the release's namespace, and one service.instance.id per pod, the pod's UID.
The kubelet expands $(POD_UID) because POD_UID comes earlier in ffpod.commonEnv.
*/}}
{{- define "ffpod.resourceAttributes" -}}
{{- $attrs := list (printf "service.namespace=%s" .Release.Namespace) "service.instance.id=$(POD_UID)" }}
{{- if .Values.otel.resourceAttributes }}{{ $attrs = append $attrs .Values.otel.resourceAttributes }}{{ end }}
{{- join "," $attrs }}
{{- end }}

{{/* The FFPOD_REDIS variable from the Secret. */}}
{{- define "ffpod.redisEnv" -}}
- name: {{ index . 1 }}
  valueFrom:
    secretKeyRef:
      name: {{ include "ffpod.redisSecretName" (index . 0) }}
      key: {{ include "ffpod.redisKey" (list (index . 0) "url") }}
{{- end }}

{{/* Pod-level settings shared by the worker and the Job. */}}
{{- define "ffpod.podSpecCommon" -}}
serviceAccountName: {{ include "ffpod.serviceAccountName" . }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- $psc := deepCopy .Values.podSecurityContext }}
{{- if eq .Values.gpu.vendor "intel" }}
{{- $groups := default list $psc.supplementalGroups }}
{{- $_ := set $psc "supplementalGroups" (append $groups (int .Values.gpu.intel.renderGroupId) | uniq) }}
{{- end }}
securityContext:
  {{- toYaml $psc | nindent 2 }}
{{- if eq .Values.gpu.vendor "nvidia" }}
{{- with .Values.gpu.nvidia.runtimeClassName }}
runtimeClassName: {{ . }}
{{- end }}
{{- end }}
{{- $nodeSelector := dict }}
{{- $tolerations := list }}
{{- if eq .Values.gpu.vendor "nvidia" }}
{{- $nodeSelector = deepCopy .Values.gpu.nvidia.nodeSelector }}
{{- $tolerations = .Values.gpu.nvidia.tolerations }}
{{- else if eq .Values.gpu.vendor "intel" }}
{{- $nodeSelector = deepCopy .Values.gpu.intel.nodeSelector }}
{{- $tolerations = .Values.gpu.intel.tolerations }}
{{- end }}
{{- $nodeSelector = merge (deepCopy .Values.nodeSelector) $nodeSelector }}
{{- $tolerations = concat $tolerations .Values.tolerations }}
{{- with $nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- if .Values.injection.enabled }}
initContainers:
  - name: install-ffpod
    image: {{ include "ffpod.image" . }}
    imagePullPolicy: {{ .Values.image.pullPolicy }}
    command:
      - cp
      - {{ .Values.injection.sourcePath }}
      - /ffpod/ffpod
    securityContext:
      {{- toYaml .Values.securityContext | nindent 6 }}
    resources:
      requests:
        cpu: 10m
        memory: 16Mi
      limits:
        memory: 64Mi
    volumeMounts:
      - name: ffpod-bin
        mountPath: /ffpod
{{- end }}
{{- end }}

{{/* The image the main container runs (ffmpeg's): its image, and the results' image.image. */}}
{{- define "ffpod.workImage" -}}
{{- if .Values.injection.enabled }}{{ include "ffpod.ffmpegImage" . }}{{ else }}{{ include "ffpod.image" . }}{{ end }}
{{- end }}

{{/* The main container's image and command. */}}
{{- define "ffpod.containerImage" -}}
image: {{ include "ffpod.workImage" . }}
{{- if .Values.injection.enabled }}
imagePullPolicy: {{ .Values.injection.ffmpegImage.pullPolicy }}
{{- else }}
imagePullPolicy: {{ .Values.image.pullPolicy }}
{{- end }}
command:
  - {{ include "ffpod.binary" . }}
{{- end }}

{{/*
The outputs volume (docs/storage.md) of worker and Job pods, from outputs.type. Fails when the
chosen type lacks what it needs, or when outputs.mountPath is a directory the chart mounts
already.
*/}}
{{- define "ffpod.outputsVolume" -}}
{{- $o := .Values.outputs }}
{{- range $taken := list .Values.worker.workDir.path .Values.job.workDir.path "/tmp" "/ffpod" }}
{{- if or (eq (clean $o.mountPath) (clean $taken)) (hasPrefix (printf "%s/" (clean $taken)) (clean $o.mountPath)) (hasPrefix (printf "%s/" (clean $o.mountPath)) (clean $taken)) }}
{{- fail (printf "outputs.mountPath %s overlaps %s, which the chart mounts already: choose another directory" $o.mountPath $taken) }}
{{- end }}
{{- end }}
- name: outputs
{{- if eq $o.type "emptyDir" }}
  emptyDir:
    sizeLimit: {{ $o.emptyDir.sizeLimit }}
{{- else if eq $o.type "persistentVolumeClaim" }}
  persistentVolumeClaim:
    claimName: {{ required "outputs.persistentVolumeClaim.claimName is required with outputs.type persistentVolumeClaim: the name of an existing claim (ReadWriteMany for a pool)" $o.persistentVolumeClaim.claimName }}
{{- else if eq $o.type "nfs" }}
  nfs:
    server: {{ required "outputs.nfs.server is required with outputs.type nfs: the NFS server's host name or address" $o.nfs.server }}
    path: {{ required "outputs.nfs.path is required with outputs.type nfs: the exported directory" $o.nfs.path }}
{{- else if eq $o.type "hostPath" }}
  hostPath:
    path: {{ required "outputs.hostPath.path is required with outputs.type hostPath: a directory of the node" $o.hostPath.path }}
    type: {{ $o.hostPath.type }}
{{- end }}
{{- end }}

{{/* Volumes: the scratch directory, /tmp, the injected binary, the outputs, extra volumes. Arg: (list root workDir). */}}
{{- define "ffpod.volumes" -}}
{{- $root := index . 0 }}
{{- $wd := index . 1 }}
- name: work
  emptyDir:
    {{- with $wd.medium }}
    medium: {{ . }}
    {{- end }}
    sizeLimit: {{ $wd.sizeLimit }}
- name: tmp
  emptyDir:
    sizeLimit: 1Gi
{{- if $root.Values.injection.enabled }}
- name: ffpod-bin
  emptyDir:
    sizeLimit: 64Mi
{{- end }}
{{ include "ffpod.outputsVolume" $root }}
{{- with $root.Values.extraVolumes }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "ffpod.volumeMounts" -}}
{{- $root := index . 0 }}
{{- $wd := index . 1 }}
- name: work
  mountPath: {{ $wd.path }}
- name: tmp
  mountPath: /tmp
{{- if $root.Values.injection.enabled }}
- name: ffpod-bin
  mountPath: /ffpod
  readOnly: true
{{- end }}
- name: outputs
  mountPath: {{ $root.Values.outputs.mountPath }}
  {{- with $root.Values.outputs.subPath }}
  subPath: {{ . }}
  {{- end }}
{{- with $root.Values.extraVolumeMounts }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* The selector of this release's series in PromQL. */}}
{{- define "ffpod.promSelector" -}}
{{- if .Values.prometheusRule.selector }}
{{- .Values.prometheusRule.selector }}
{{- else }}
{{- printf "namespace=%q,pod=~%q" .Release.Namespace (printf "%s-.+" (include "ffpod.fullname" .)) }}
{{- end }}
{{- end }}

{{/* One egress rule to the peers of a networkPolicy entry. Arg: (list peer ports). */}}
{{- define "ffpod.egressRule" -}}
{{- $peer := index . 0 }}
{{- $ports := index . 1 }}
- to:
    {{- if or $peer.namespaceSelector $peer.podSelector }}
    - {{- with $peer.namespaceSelector }}
      namespaceSelector:
        matchLabels:
          {{- toYaml . | nindent 10 }}
      {{- end }}
      {{- with $peer.podSelector }}
      podSelector:
        matchLabels:
          {{- toYaml . | nindent 10 }}
      {{- end }}
    {{- end }}
    {{- range $peer.cidrs }}
    - ipBlock:
        cidr: {{ . }}
    {{- end }}
  ports:
    {{- range $ports }}
    - port: {{ int .port }}
      protocol: {{ .protocol }}
    {{- end }}
{{- end }}

{{/*
The queues the worker pool serves, as a YAML list of {name, weight, trigger}: worker.queues when
it is set, else worker.queue with weight 1. `trigger` names the queue's KEDA trigger in the
scalingModifiers formula: "pending" for a single queue, else "pending_" and the queue name with
each character outside [A-Za-z0-9_] replaced by "_".
*/}}
{{- define "ffpod.kedaQueues" -}}
{{- $w := .Values.worker }}
{{- $list := $w.queues }}
{{- if not $list }}{{ $list = list (dict "name" $w.queue) }}{{ end }}
{{- $seen := dict }}
{{- $out := list }}
{{- range $list }}
{{- $trigger := "pending" }}
{{- if gt (len $list) 1 }}{{ $trigger = printf "pending_%s" (regexReplaceAll "[^A-Za-z0-9_]" .name "_") }}{{ end }}
{{- if hasKey $seen $trigger }}
{{- fail (printf "worker.queues: %q and %q give the same KEDA trigger name %s: rename one" (get $seen $trigger) .name $trigger) }}
{{- end }}
{{- $_ := set $seen $trigger .name }}
{{- $out = append $out (dict "name" .name "weight" (int (default 1 .weight)) "trigger" $trigger) }}
{{- end }}
{{- toYaml $out }}
{{- end }}

{{/* The worker's FFPOD_QUEUE: the queues of ffpod.kedaQueues as NAME[:WEIGHT],... (weight 1 left out). */}}
{{- define "ffpod.workerQueue" -}}
{{- $parts := list }}
{{- range include "ffpod.kedaQueues" . | fromYamlArray }}
{{- $parts = append $parts (ternary .name (printf "%s:%d" .name (int .weight)) (eq (int .weight) 1)) }}
{{- end }}
{{- join "," $parts }}
{{- end }}

{{/* An alert's runbook: its section of docs/operations.md under prometheusRule.runbookBaseURL. Arg: (list . ALERT). */}}
{{- define "ffpod.runbookURL" -}}
{{- $ctx := index . 0 }}
{{- printf "%s/operations.md#%s" (trimSuffix "/" $ctx.Values.prometheusRule.runbookBaseURL) (lower (index . 1)) }}
{{- end }}
