{{- define "web.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trimSuffix "-" -}}
{{- end -}}
{{- define "web.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
