#!/usr/bin/env python3
"""Writes two generated cluster images (OCI layouts) for build/bench/upgrade-bench.sh.

    upgrade-bench-image.py OUT_DIR SIZE_MB CHANGED_MB

OUT_DIR/v1 (bench/deliver:v1) and OUT_DIR/v2 (bench/deliver:v2): the same realistic image as deliver-bench-image.py's
'app' kind (~15% rootfs, the rest app image content as per-blob image-blob layers and a registry metadata layer naming
the app image docker.io/bench/app), except that one app image blob of CHANGED_MB differs between them (so the app image's
manifest, the registry layer and the cluster image's config and manifest differ too). Content is random
(incompressible); the shared blobs are hard links. Prints the changed bytes: the blobs v2 has that v1 lacks.
"""
import hashlib
import json
import os
import sys

import benchimage
from benchimage import MB, data, rnd, script, tar

out, size_mb, changed_mb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
pool = f"{out}/pool"
os.makedirs(pool, exist_ok=True)


def store(path=None, data=None):
    return benchimage.store(pool, path, data)


tmp = f"{out}/layer.tmp"
raw = f"{out}/blob.tmp"


def app_blob(size):
    """A random app image blob as an image-blob layer (registry/blobs/sha256/HEX); returns (blob hex, size, layer)."""
    h = hashlib.sha256()
    with open(raw, "wb") as f:
        left = size
        while left:
            chunk = os.urandom(min(left, MB))
            h.update(chunk)
            f.write(chunk)
            left -= len(chunk)
    hexd = h.hexdigest()
    tar({f"registry/blobs/sha256/{hexd}": (lambda: open(raw, "rb"), size, 0o644)}, tmp)
    return hexd, size, (*store(tmp), "image-blob", {"io.sealer.sdk.blob": "sha256:" + hexd})


scripts = {
    "scripts/containerd.sh": script("true"),
    "scripts/init-kube.sh": script("true"),
    "bin/kubectl": script("true"),
    "bin/kubeadm": script('case "$*" in "token create --print-join-command") echo "kubeadm join 10.200.0.11:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash sha256:00";; '
                          '"init phase upload-certs --upload-certs") echo key; echo 0123456789abcdef;; esac'),
    "etc/padding.bin": data(os.urandom(64 * 1024)),
}
total = size_mb * MB
shared = []
tar(scripts, tmp)
shared.append((*store(tmp), "rootfs", {}))
rootfs = total * 15 // 100
tar({"bin/kubelet": rnd(rootfs * 45 // 100), "bin/kubeadm-real": rnd(rootfs * 20 // 100),
     "bin/kubectl-real": rnd(rootfs * 20 // 100), "bin/containerd": rnd(rootfs - rootfs * 85 // 100)}, tmp)
shared.append((*store(tmp), "rootfs", {}))
weights = [24, 18, 14, 10, 8, 7, 6, 5, 4, 2, 1, 1]
app = total - rootfs - changed_mb * MB
blobs = []
for w in weights:
    hexd, size, layer = app_blob(app * w // sum(weights))
    blobs.append((hexd, size))
    shared.append(layer)
old = app_blob(changed_mb * MB)
new = app_blob(changed_mb * MB)
os.remove(raw)


def image(tag, changed):
    hexd, size, layer = changed
    app_blobs = blobs + [(hexd, size)]
    cfg = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    cfgd = hashlib.sha256(cfg).hexdigest()
    man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                      "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:" + cfgd, "size": len(cfg)},
                      "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": "sha256:" + d, "size": n} for d, n in app_blobs]}).encode()
    mand = hashlib.sha256(man).hexdigest()
    idx = json.dumps({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + mand,
                                                          "size": len(man), "annotations": {"org.opencontainers.image.ref.name": "docker.io/bench/app:" + tag}}]}).encode()
    tar({"registry/oci-layout": data(b'{"imageLayoutVersion":"1.0.0"}'), "registry/index.json": data(idx),
         f"registry/blobs/sha256/{cfgd}": data(cfg), f"registry/blobs/sha256/{mand}": data(man)}, tmp)
    layers = shared + [layer, (*store(tmp), "registry", {})]
    ccfg = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Labels": {
        "cluster.alpha.sealer.io/cluster-runtime-type": "kubernetes", "cluster.alpha.sealer.io/container-runtime-type": "containerd"}},
        "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    cd, cs = store(data=ccfg)
    cman = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:" + cd, "size": cs},
                       "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": "sha256:" + d, "size": n,
                                   "annotations": {"io.sealer.sdk.layer": k, **a}} for d, n, k, a in layers],
                       "annotations": {"sealer.image.extension": json.dumps({"type": "kube-installer", "launch": {}})}}).encode()
    md, ms = store(data=cman)
    lay = f"{out}/{tag}"
    os.makedirs(f"{lay}/blobs/sha256", exist_ok=True)
    blobs_of = {d: n for d, n, _, _ in layers} | {cd: cs, md: ms}
    for d in blobs_of:
        if not os.path.exists(f"{lay}/blobs/sha256/{d}"):
            os.link(f"{pool}/{d}", f"{lay}/blobs/sha256/{d}")
    with open(f"{lay}/oci-layout", "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')
    with open(f"{lay}/index.json", "w") as f:
        f.write(json.dumps({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + md,
                                                               "size": ms, "annotations": {"org.opencontainers.image.ref.name": "bench/deliver:" + tag}}]}))
    return blobs_of


v1 = image("v1", old)
v2 = image("v2", new)
changed = sum(n for d, n in v2.items() if d not in v1)
print(f"{changed} {sum(v2.values())}")
print(f"upgrade-bench: v1 and v2: {sum(v2.values()) / MB:.0f} MiB each; v2 has {changed / MB:.2f} MiB that v1 lacks", file=sys.stderr)
