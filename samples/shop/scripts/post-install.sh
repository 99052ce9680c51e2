#!/bin/sh
# Runs after the apps are launched (Kubefile: COPY scripts/post-install.sh scripts/).
kubectl -n monitoring rollout status daemonset/node-exporter --timeout=120s
