#!/usr/bin/env python3
"""Writes a generated cluster image (OCI layout) for build/bench/deliver-bench.sh.

    deliver-bench-image.py OUT_DIR SIZE_MB KIND

KIND 'app': a realistic cluster image: ~15% rootfs (a small scripts layer + one "kube binaries" layer) and ~85% app
image content as per-blob image-blob layers (12 blobs of varied size) + a registry metadata layer naming the app image.
KIND 'scale': like 'app', with the app blobs sized as build/bench/scale-project.py's layers (per image 2-5 small ones,
log-normal, median 256 KiB, at most 24 MiB; then 100-500 MiB ones up to the size): thousands of small blobs, as the
scale bench's distribute step sends them.
KIND 'rootfs': the worst case: everything is rootfs (the scripts layer + 4 big layers), every host needs all of it.
Content is random (incompressible). Layers carry io.sealer.sdk.layer as the SDK's assembly writes them. Also writes
master.list / node.list: the layer digests a registry host / another host needs (for the scp baseline).
"""
import hashlib
import json
import os
import sys

import benchimage
from benchimage import MB, data, rnd, script, tar

out, size_mb, kind = sys.argv[1], int(sys.argv[2]), sys.argv[3]
os.makedirs(f"{out}/blobs/sha256", exist_ok=True)


def store(path=None, data=None):
    return benchimage.store(f"{out}/blobs/sha256", path, data)


scripts = {
    "scripts/containerd.sh": script("true"),
    "scripts/init-kube.sh": script("true"),
    "bin/kubectl": script("true"),
    "bin/kubeadm": script('case "$*" in "token create --print-join-command") echo "kubeadm join 10.200.0.11:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash sha256:00";; '
                          '"init phase upload-certs --upload-certs") echo key; echo 0123456789abcdef;; esac'),
    "etc/padding.bin": data(os.urandom(64 * 1024)),
}
layers = []  # (digest, size, kind, extra annotations)
total = size_mb * MB
tmp = f"{out}/layer.tmp"
if kind == "rootfs":
    scripts["registry/oci-layout"] = data(b'{"imageLayoutVersion":"1.0.0"}')
    scripts["registry/index.json"] = data(b'{"schemaVersion":2,"manifests":[]}')
    tar(scripts, tmp)
    layers.append((*store(tmp), "rootfs", {}))
    for i in range(4):
        tar({f"data/big{i}.bin": rnd(total // 4, 0o644)}, tmp)
        layers.append((*store(tmp), "rootfs", {}))
elif kind in ("app", "scale"):
    tar(scripts, tmp)
    layers.append((*store(tmp), "rootfs", {}))
    rootfs = total * 15 // 100
    tar({"bin/kubelet": rnd(rootfs * 45 // 100), "bin/kubeadm-real": rnd(rootfs * 20 // 100),
         "bin/kubectl-real": rnd(rootfs * 20 // 100), "bin/containerd": rnd(rootfs - rootfs * 85 // 100)}, tmp)
    layers.append((*store(tmp), "rootfs", {}))
    # app image blobs of varied size, like real images: a few big base layers, several small ones
    weights = [24, 18, 14, 10, 8, 7, 6, 5, 4, 2, 1, 1]
    app = total - rootfs
    if kind == "app":
        sizes = [app * w // sum(weights) for w in weights]
    else:
        import math, random
        rng = random.Random(17)
        sizes = []
        for _ in range(max(1, size_mb * 600 // 8192)):  # as many images per MiB as the scale bench's 300/600/8192
            sizes += [min(24 * MB, max(4096, int(rng.lognormvariate(math.log(256 * 1024), 1.6)))) for _ in range(rng.randint(2, 5))]
        while app - sum(sizes) >= 100 * MB:
            sizes.append(min(app - sum(sizes), rng.randint(100, 500) * MB))
    app_blobs = []
    raw = f"{out}/blob.tmp"
    for size in sizes:
        h = hashlib.sha256()
        with open(raw, "wb") as f:
            left = size
            while left:
                chunk = os.urandom(min(left, MB))
                h.update(chunk)
                f.write(chunk)
                left -= len(chunk)
        hexd = h.hexdigest()
        app_blobs.append((hexd, size))
        tar({f"registry/blobs/sha256/{hexd}": (lambda: open(raw, "rb"), size, 0o644)}, tmp)
        layers.append((*store(tmp), "image-blob", {"io.sealer.sdk.blob": "sha256:" + hexd}))
    os.remove(raw)
    cfg = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    cfgd = hashlib.sha256(cfg).hexdigest()
    man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                      "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:" + cfgd, "size": len(cfg)},
                      "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": "sha256:" + d, "size": n} for d, n in app_blobs]}).encode()
    mand = hashlib.sha256(man).hexdigest()
    idx = json.dumps({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + mand,
                                                          "size": len(man), "annotations": {"org.opencontainers.image.ref.name": "docker.io/bench/app:1.0"}}]}).encode()
    tar({"registry/oci-layout": data(b'{"imageLayoutVersion":"1.0.0"}'), "registry/index.json": data(idx),
         f"registry/blobs/sha256/{cfgd}": data(cfg), f"registry/blobs/sha256/{mand}": data(man)}, tmp)
    layers.append((*store(tmp), "registry", {}))
else:
    sys.exit(f"unknown image kind {kind!r} (app, scale or rootfs)")

cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Labels": {
    "cluster.alpha.sealer.io/cluster-runtime-type": "kubernetes", "cluster.alpha.sealer.io/container-runtime-type": "containerd"}},
    "rootfs": {"type": "layers", "diff_ids": []}}).encode()
cd, cs = store(data=cfg)
man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                  "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:" + cd, "size": cs},
                  "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": "sha256:" + d, "size": n,
                              "annotations": {"io.sealer.sdk.layer": k, **a}} for d, n, k, a in layers],
                  "annotations": {"sealer.image.extension": json.dumps({"type": "kube-installer", "launch": {}})}}).encode()
md, ms = store(data=man)
with open(f"{out}/oci-layout", "w") as f:
    f.write('{"imageLayoutVersion":"1.0.0"}')
with open(f"{out}/index.json", "w") as f:
    f.write(json.dumps({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + md,
                                                           "size": ms, "annotations": {"org.opencontainers.image.ref.name": "bench/deliver:v1"}}]}))
with open(f"{out}/master.list", "w") as f:
    f.write("".join(f"{d}\n" for d, _, _, _ in layers))
with open(f"{out}/node.list", "w") as f:
    f.write("".join(f"{d}\n" for d, _, k, _ in layers if k == "rootfs"))
all_bytes = sum(n for _, n, _, _ in layers)
rootfs_bytes = sum(n for _, n, k, _ in layers if k == "rootfs")
with open(f"{out}/sizes", "w") as f:
    f.write(f"{all_bytes} {rootfs_bytes}\n")
print(f"deliver-bench: image '{kind}': {all_bytes / MB:.0f} MiB in {len(layers)} layers, {rootfs_bytes / MB:.0f} MiB of them rootfs", file=sys.stderr)
