#!/usr/bin/env python3
"""Writes the installable base cluster image of build/bench/scale-bench.sh (an OCI layout the scale project names as
SealerBaseImage oci:DIR), so the built image can be delivered with `sealer run` to the netns hosts.

    scale-base-image.py OUT_DIR ROOTFS_MB

A kube-installer base as a user's project starts FROM: the lifecycle scripts sealer runs on the hosts (scripts/containerd.sh,
scripts/init-kube.sh; stand-ins that really run, each leaves a line in /var/lib/sealer/scale-evidence.log on its host),
bin/kubeadm and bin/kubectl stand-ins (kubeadm answers the join-command and upload-certs questions as deliver-bench's
image does), and one "kube binaries" layer of ROOTFS_MB of random (incompressible) bytes. Every layer is rootfs (every
host gets it); the app images of the project go on top as the SDK's image-blob and registry layers (the registry host only).
Labels and the sealer.image.extension (type kube-installer) as a real base carries them; one platform, linux/amd64.
"""
import json
import os
import sys

import benchimage
from benchimage import MB, data, rnd, script, tar

out, rootfs_mb = sys.argv[1], int(sys.argv[2])
os.makedirs(f"{out}/blobs/sha256", exist_ok=True)
evidence = "/var/lib/sealer/scale-evidence.log"


def store(path=None, data=None):
    return benchimage.store(f"{out}/blobs/sha256", path, data)


files = {
    "scripts/containerd.sh": script(f'echo "containerd.sh $(hostname)" >> {evidence}'),
    "scripts/init-kube.sh": script(f'echo "init-kube.sh $(hostname)" >> {evidence}'),
    "bin/kubectl": script(f'echo "kubectl $* on $(hostname)" >> {evidence}\n'
                          'case "$*" in "get deployments,statefulsets,daemonsets -A -o json"|"get pods -A -o json") echo \'{"items":[]}\';; esac'),
    "bin/kubeadm": script(f'echo "kubeadm $* on $(hostname)" >> {evidence}\n'
                          'case "$*" in "token create --print-join-command") echo "kubeadm join 10.200.0.11:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash sha256:00";; '
                          '"init phase upload-certs --upload-certs") echo key; echo 0123456789abcdef;; esac'),
    "etc/kubeadm.yml": data(b"apiVersion: kubeadm.k8s.io/v1beta3\nkind: InitConfiguration\n"),
}
tmp = f"{out}/layer.tmp"
layers = []
tar(files, tmp)
layers.append(store(tmp))
if rootfs_mb > 0:
    tar({"bin/kube-binaries.bin": rnd(rootfs_mb * MB, 0o644)}, tmp)
    layers.append(store(tmp))

cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Labels": {
    "cluster.alpha.sealer.io/cluster-runtime-type": "kubernetes", "cluster.alpha.sealer.io/container-runtime-type": "containerd"}},
    "rootfs": {"type": "layers", "diff_ids": [f"sha256:{d}" for d, _ in layers]}}).encode()
cd, cs = store(data=cfg)
man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                  "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:" + cd, "size": cs},
                  "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": "sha256:" + d, "size": n,
                              "annotations": {"io.sealer.sdk.layer": "rootfs"}} for d, n in layers],
                  "annotations": {"sealer.image.extension": json.dumps({"type": "kube-installer", "launch": {}})}}).encode()
md, ms = store(data=man)
with open(f"{out}/oci-layout", "w") as f:
    f.write('{"imageLayoutVersion":"1.0.0"}')
with open(f"{out}/index.json", "w") as f:
    f.write(json.dumps({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + md, "size": ms,
                                                           "platform": {"architecture": "amd64", "os": "linux"},
                                                           "annotations": {"org.opencontainers.image.ref.name": "scale/base:v1"}}]}))
print(f"scale-bench: base image: {sum(n for _, n in layers) / MB:.0f} MiB of rootfs in {len(layers)} layers", file=sys.stderr)
