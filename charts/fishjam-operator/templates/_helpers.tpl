{{- define "fishjam-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "fishjam-operator.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "fishjam-operator.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "fishjam-operator.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "fishjam-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "fishjam-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "fishjam-operator.labels" -}}
{{ include "fishjam-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "fishjam-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "fishjam-operator.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- /*
RBAC rules, one place for the ClusterRole and the per-namespace Roles. docs/operator.md has a table saying what
each verb is for; operator/test/chart.test.ts checks the rendered rules against the calls the controller makes.
*/ -}}
{{- define "fishjam-operator.workloadRules" -}}
- apiGroups: ["fishjam-ts.dev"]
  resources: ["fishjamclusters"]
  verbs: ["list", "watch"]
- apiGroups: ["fishjam-ts.dev"]
  resources: ["fishjamclusters/status"]
  verbs: ["patch"]
# Owner references with blockOwnerDeletion need this where OwnerReferencesPermissionEnforcement is on.
- apiGroups: ["fishjam-ts.dev"]
  resources: ["fishjamclusters/finalizers"]
  verbs: ["update"]
- apiGroups: ["apps"]
  resources: ["statefulsets"]
  verbs: ["list", "watch", "create", "patch"]
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["list", "watch"]
- apiGroups: [""]
  resources: ["services"]
  verbs: ["list", "create", "patch", "delete"]
- apiGroups: ["networking.k8s.io"]
  resources: ["networkpolicies"]
  verbs: ["list", "create", "patch", "delete"]
- apiGroups: ["policy"]
  resources: ["poddisruptionbudgets"]
  verbs: ["list", "create", "patch", "delete"]
- apiGroups: ["monitoring.coreos.com"]
  resources: ["servicemonitors"]
  verbs: ["list", "create", "patch", "delete"]
# Events about FishjamClusters (kubectl describe fjc); each is created once, never updated.
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create"]
{{- end -}}

{{- /* Never cluster-wide: create + get of Secrets in a namespace is enough to mint and read its service account tokens. */ -}}
{{- define "fishjam-operator.secretRules" -}}
# Generated Secrets are created once; Secrets are read one by name (never listed or watched) to check they may be
# used (owned by the cluster, or annotated fishjam-ts.dev/allowed-clusters) and to read the API token for drains.
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "create"]
{{- end -}}

{{- /* watchNamespaces (deduplicated); empty = all namespaces. */ -}}
{{- define "fishjam-operator.watchNamespaces" -}}
{{- join "," (uniq (default (list) .Values.watchNamespaces)) -}}
{{- end -}}
