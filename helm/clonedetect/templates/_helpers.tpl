{{/* vim: set filetype=mustache: */}}

{{/*
Expand the name of the chart.
*/}}
{{- define "clonedetect.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Create a default fully qualified app name (63 characters at most: some Kubernetes
name fields are limited to that by the DNS naming spec). If the release name
already contains the chart name it is used as the full name.
*/}}
{{- define "clonedetect.fullname" -}}
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

{{/*
A name derived from the full name with a suffix, still within 63 characters.
Usage: {{ include "clonedetect.componentName" (dict "context" $ "suffix" "headless") }}
*/}}
{{- define "clonedetect.componentName" -}}
{{- $full := include "clonedetect.fullname" .context -}}
{{- printf "%s-%s" ($full | trunc (int (sub 62 (len .suffix)))) .suffix | trimSuffix "-" -}}
{{- end -}}

{{/*
Chart name and version, as used by the helm.sh/chart label.
*/}}
{{- define "clonedetect.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Common labels.
*/}}
{{- define "clonedetect.labels" -}}
helm.sh/chart: {{ include "clonedetect.chart" . }}
app.kubernetes.io/name: {{ include "clonedetect.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: clonedetect
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
Selector labels of the Triton server pods. The component label keeps other pods of
the release (the reload Job) out of the Service, the PDB and the HPA.
*/}}
{{- define "clonedetect.selectorLabels" -}}
app.kubernetes.io/name: {{ include "clonedetect.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: server
{{- end -}}

{{/*
Name of the service account to use.
*/}}
{{- define "clonedetect.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "clonedetect.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/*
Render an image reference from {registry, repository, tag, digest}; the tag defaults
to the given default (the chart appVersion for the serving image).
Usage: {{ include "clonedetect.imageRef" (dict "image" .Values.image "defaultTag" .Chart.AppVersion) }}
*/}}
{{- define "clonedetect.imageRef" -}}
{{- $repo := .image.repository -}}
{{- if .image.registry -}}
{{- $repo = printf "%s/%s" .image.registry .image.repository -}}
{{- end -}}
{{- if .image.digest -}}
{{- printf "%s@%s" $repo .image.digest -}}
{{- else -}}
{{- printf "%s:%s" $repo (toString (default .defaultTag .image.tag)) -}}
{{- end -}}
{{- end -}}

{{- define "clonedetect.image" -}}
{{- include "clonedetect.imageRef" (dict "image" .Values.image "defaultTag" .Chart.AppVersion) -}}
{{- end -}}

{{/*
The settings of the active hardware profile (.Values.cpu or .Values.gpu).
*/}}
{{- define "clonedetect.profileName" -}}
{{- .Values.profile | default "cpu" -}}
{{- end -}}

{{- define "clonedetect.isGpu" -}}
{{- if eq (include "clonedetect.profileName" .) "gpu" -}}true{{- end -}}
{{- end -}}

{{- define "clonedetect.profile" -}}
{{- if include "clonedetect.isGpu" . -}}
{{- toYaml .Values.gpu -}}
{{- else -}}
{{- toYaml .Values.cpu -}}
{{- end -}}
{{- end -}}

{{/*
Container resources of the active profile; the GPU profile adds the GPU limit
(extended resources are requested through limits only).
*/}}
{{- define "clonedetect.resources" -}}
{{- $profile := include "clonedetect.profile" . | fromYaml -}}
{{- $resources := deepCopy (default dict $profile.resources) -}}
{{- if include "clonedetect.isGpu" . -}}
{{- $limits := default dict $resources.limits -}}
{{- $_ := set $limits .Values.gpu.resourceName (int .Values.gpu.count) -}}
{{- $_ := set $resources "limits" $limits -}}
{{- end -}}
{{- toYaml $resources -}}
{{- end -}}

{{/*
Whole CPU cores the container may use: the CPU limit of the active profile, else
its request, rounded down (at least 1); 0 when neither is set.
*/}}
{{- define "clonedetect.cpuCores" -}}
{{- $resources := include "clonedetect.resources" . | fromYaml -}}
{{- $cpu := "" -}}
{{- if and $resources.limits $resources.limits.cpu -}}
{{- $cpu = toString $resources.limits.cpu -}}
{{- else if and $resources.requests $resources.requests.cpu -}}
{{- $cpu = toString $resources.requests.cpu -}}
{{- end -}}
{{- if not $cpu -}}
0
{{- else if hasSuffix "m" $cpu -}}
{{- max 1 (div (atoi (trimSuffix "m" $cpu)) 1000) -}}
{{- else -}}
{{- max 1 (int (floor (float64 $cpu))) -}}
{{- end -}}
{{- end -}}

{{/*
ONNX Runtime intra-op thread count: the explicit value, or the CPU cores.
*/}}
{{- define "clonedetect.ortIntraOpThreads" -}}
{{- $explicit := int .Values.onnxruntime.intraOpThreadCount -}}
{{- if gt $explicit 0 -}}
{{- $explicit -}}
{{- else -}}
{{- include "clonedetect.cpuCores" . -}}
{{- end -}}
{{- end -}}

{{/*
The --model-config-name of the active profile ("" = the default config.pbtxt).
*/}}
{{- define "clonedetect.modelConfigName" -}}
{{- $profile := include "clonedetect.profile" . | fromYaml -}}
{{- $profile.modelConfigName | default "" -}}
{{- end -}}

{{/*
Where Triton reads the model repository: a path in the container, or an object
storage URI that Triton reads natively.
*/}}
{{- define "clonedetect.modelRepositoryPath" -}}
{{- if eq .Values.modelRepository.source "remote" -}}
{{- .Values.modelRepository.remote.uri -}}
{{- else -}}
{{- .Values.modelRepository.mountPath -}}
{{- end -}}
{{- end -}}

{{/*
Scheme of the remote model repository URI (s3, gs or as).
*/}}
{{- define "clonedetect.remoteScheme" -}}
{{- regexReplaceAll "^([a-z0-9]+)://.*$" .Values.modelRepository.remote.uri "${1}" -}}
{{- end -}}

{{/*
Secret and key holding the model-repository API key.
*/}}
{{- define "clonedetect.adminKeySecretName" -}}
{{- if .Values.modelControl.restrictedApi.existingSecret -}}
{{- .Values.modelControl.restrictedApi.existingSecret -}}
{{- else -}}
{{- include "clonedetect.componentName" (dict "context" . "suffix" "admin-key") -}}
{{- end -}}
{{- end -}}

{{- define "clonedetect.adminKeySecretKey" -}}
{{- .Values.modelControl.restrictedApi.existingSecretKey | default "admin-key" -}}
{{- end -}}

{{/*
The environment variable the restricted-API key is read into: the one the
`clonedetect` CLI reads its --admin-key default from. Kubernetes expands
$(CLONEDETECT_ADMIN_KEY) in the container args at start, so the key never appears in
the pod spec.
*/}}
{{- define "clonedetect.adminKeyEnv" -}}CLONEDETECT_ADMIN_KEY{{- end -}}

{{/*
The tritonserver command line (the first item is the program; the image's
entrypoint runs it).
*/}}
{{- define "clonedetect.tritonArgs" -}}
{{- $bind := .Values.server.bindAddress -}}
- tritonserver
- --model-repository={{ include "clonedetect.modelRepositoryPath" . }}
- --model-control-mode={{ .Values.modelControl.mode }}
{{- if eq .Values.modelControl.mode "explicit" }}
{{- range .Values.modelControl.loadModels }}
- --load-model={{ . }}
{{- end }}
{{- end }}
- --strict-readiness={{ .Values.server.strictReadiness }}
- --http-address={{ $bind }}
- --http-port={{ .Values.server.ports.http }}
- --grpc-address={{ $bind }}
- --grpc-port={{ .Values.server.ports.grpc }}
- --allow-metrics=true
- --metrics-address={{ $bind }}
- --metrics-port={{ .Values.server.ports.metrics }}
{{- range .Values.server.metricsConfig }}
- --metrics-config={{ . }}
{{- end }}
- --allow-gpu-metrics={{ ternary "true" "false" (eq (include "clonedetect.isGpu" .) "true") }}
- --exit-timeout-secs={{ .Values.server.exitTimeoutSeconds }}
{{- if gt (int64 .Values.server.responseCacheBytes) 0 }}
- --cache-config=local,size={{ int64 .Values.server.responseCacheBytes }}
{{- end }}
{{- with include "clonedetect.modelConfigName" . }}
- --model-config-name={{ . }}
{{- end }}
{{- if .Values.modelControl.restrictedApi.enabled }}
{{- $rule := printf "model-repository:%s=$(%s)" .Values.modelControl.restrictedApi.header (include "clonedetect.adminKeyEnv" .) }}
- --http-restricted-api={{ $rule }}
- --grpc-restricted-protocol={{ $rule }}
{{- end }}
{{- if .Values.onnxruntime.globalThreadPool }}
{{- $intra := include "clonedetect.ortIntraOpThreads" . }}
- --backend-config=onnxruntime,enable-global-threadpool=1
- --backend-config=onnxruntime,intra_op_thread_count={{ $intra }}
- --backend-config=onnxruntime,inter_op_thread_count={{ .Values.onnxruntime.interOpThreadCount }}
{{- end }}
{{- include "clonedetect.traceArgs" . }}
- --log-verbose={{ .Values.server.logVerbose }}
{{- range .Values.server.extraArgs }}
- {{ . }}
{{- end }}
{{- end -}}

{{/*
Triton's --trace-config flags (tracing.enabled): the global settings, then the
OpenTelemetry exporter or Triton's own trace file. Starts with a newline, like the
lines of clonedetect.tritonArgs it is included in.
*/}}
{{- define "clonedetect.traceArgs" -}}
{{- with .Values.tracing }}
{{- if .enabled }}
- --trace-config=mode={{ .mode }}
- --trace-config=level={{ .level }}
- --trace-config=rate={{ int64 .rate }}
- --trace-config=count={{ int64 .count }}
{{- if eq .mode "opentelemetry" }}
- --trace-config=opentelemetry,url={{ .opentelemetry.url }}
- --trace-config=opentelemetry,resource=service.name={{ .opentelemetry.serviceName }}
{{- else }}
- --trace-config=triton,file={{ .triton.file }}
- --trace-config=triton,log-frequency={{ int64 .triton.logFrequency }}
{{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/*
A check of the project's run in the Triton container: clonedetect.readiness
(probes.readiness.checkEnsembles: exit 0 only when every ensemble can answer) or
clonedetect.liveness (probes.liveness.checkStubs: exit 0 only while every READY
Python-backend model has its process). It reaches Triton on loopback unless the server
binds one address only. Call with (dict "module" MODULE "root" $).
*/}}
{{- define "clonedetect.probeCommand" -}}
{{- $bind := .root.Values.server.bindAddress -}}
{{- $host := ternary "127.0.0.1" $bind (eq $bind "0.0.0.0") -}}
- python3
- -m
- {{ .module }}
- --url
- {{ printf "%s:%v" $host .root.Values.server.ports.http }}
{{- end -}}

{{/*
Label selector for this release's Triton series in Prometheus (both the
ServiceMonitor and the PodMonitor attach namespace and pod labels).
*/}}
{{- define "clonedetect.promSelector" -}}
namespace="{{ .Release.Namespace }}",pod=~"{{ include "clonedetect.fullname" . }}-[a-z0-9]+-[a-z0-9]+"
{{- end -}}

{{/*
Checks that fail the render with a clear message.
*/}}
{{- define "clonedetect.validate" -}}
{{- $exit := int .Values.server.exitTimeoutSeconds -}}
{{- $preStop := int .Values.server.preStopSleepSeconds -}}
{{- $grace := int .Values.terminationGracePeriodSeconds -}}
{{- if le $grace (add $exit $preStop) -}}
{{- fail (printf "terminationGracePeriodSeconds (%d) must exceed server.preStopSleepSeconds + server.exitTimeoutSeconds (%d + %d) so in-flight requests can finish" $grace $preStop $exit) -}}
{{- end -}}
{{- $source := .Values.modelRepository.source -}}
{{- if and (eq $source "remote") (not (regexMatch "^(s3|gs|as)://.+" .Values.modelRepository.remote.uri)) -}}
{{- fail "modelRepository.remote.uri must be an s3://, gs:// or as:// URI when modelRepository.source=remote" -}}
{{- end -}}
{{- if and (eq $source "sync") (not .Values.modelRepository.sync.uri) -}}
{{- fail "modelRepository.sync.uri is required when modelRepository.source=sync" -}}
{{- end -}}
{{- if and (eq $source "pvc") (not .Values.modelRepository.pvc.existingClaim) (not .Values.modelRepository.pvc.create) -}}
{{- fail "set modelRepository.pvc.existingClaim or modelRepository.pvc.create=true when modelRepository.source=pvc" -}}
{{- end -}}
{{- if and .Values.autoscaling.queueTime.enabled (not .Values.autoscaling.enabled) -}}
{{- fail "autoscaling.queueTime.enabled needs autoscaling.enabled=true" -}}
{{- end -}}
{{- if and .Values.reloadHook.enabled (not .Values.modelControl.restrictedApi.enabled) -}}
{{- fail "reloadHook.enabled needs modelControl.restrictedApi.enabled=true (the hook authenticates with the admin key)" -}}
{{- end -}}
{{- if and .Values.tracing.enabled (eq .Values.tracing.mode "opentelemetry") (not .Values.tracing.opentelemetry.url) -}}
{{- fail "tracing.opentelemetry.url is required with tracing.enabled=true and tracing.mode=opentelemetry: the OTLP/HTTP traces endpoint of your collector, e.g. http://otel-collector.observability:4318/v1/traces" -}}
{{- end -}}
{{- if and .Values.gateway.enabled (not .Values.gateway.parentRefs) -}}
{{- fail "gateway.parentRefs is required with gateway.enabled=true: the Gateway (and its listener, e.g. sectionName: https) the routes attach to" -}}
{{- end -}}
{{- if and .Values.ingress.enabled (not .Values.ingress.host) -}}
{{- fail "ingress.host is required with ingress.enabled=true: the host name clients use (and the TLS certificate is issued for)" -}}
{{- end -}}
{{- if and .Values.reloadHook.enabled (ne .Values.modelControl.mode "explicit") -}}
{{- fail "reloadHook.enabled needs modelControl.mode=explicit" -}}
{{- end -}}
{{- end -}}
