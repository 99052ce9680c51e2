#!/usr/bin/env python3
"""archive-load-gen.py DIR BLOBS MIB: an OCI layout at DIR with one image (ref scale/cluster:v1) of BLOBS layers of random
content totalling MIB MiB, sized as scale-project.py's are (many small, a few of 100-500 MiB), for archive-load-bench.sh."""
import hashlib, json, os, random, sys
d, n, mib = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rnd = random.Random(17)
total = mib << 20
big = max(1, n // 40)
sizes = [rnd.randint(100, 500) << 20 for _ in range(big)]
scale = min(1.0, total * 0.7 / sum(sizes))
sizes = [int(s * scale) for s in sizes]
rest = total - sum(sizes)
small = [rnd.lognormvariate(0, 1) for _ in range(n - big)]
sizes += [max(512, int(rest * s / sum(small))) for s in small]
rnd.shuffle(sizes)
os.makedirs(f"{d}/blobs/sha256", exist_ok=True)
def put(b):
    h = hashlib.sha256(b).hexdigest()
    with open(f"{d}/blobs/sha256/{h}", "wb") as f: f.write(b)
    return {"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": "sha256:" + h, "size": len(b)}
seed = os.urandom(64 << 20)
layers = []
for i, s in enumerate(sizes):
    h = hashlib.sha256(); tmp = f"{d}/blobs/sha256/tmp"
    with open(tmp, "wb") as f:
        left = s
        while left:
            k = min(left, len(seed)); o = rnd.randrange(0, len(seed) - k + 1)
            c = bytes([i & 255, (i >> 8) & 255]) + seed[o + 2:o + k] if k >= 2 else seed[:k]
            f.write(c); h.update(c); left -= k
    dg = h.hexdigest(); os.rename(tmp, f"{d}/blobs/sha256/{dg}")
    layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": "sha256:" + dg, "size": s})
cfg = put(json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": [l["digest"] for l in layers]}}).encode())
cfg["mediaType"] = "application/vnd.oci.image.config.v1+json"
m = put(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": cfg, "layers": layers}).encode())
m["mediaType"] = "application/vnd.oci.image.manifest.v1+json"
m["annotations"] = {"org.opencontainers.image.ref.name": "scale/cluster:v1"}
json.dump({"schemaVersion": 2, "manifests": [m]}, open(f"{d}/index.json", "w"))
json.dump({"imageLayoutVersion": "1.0.0"}, open(f"{d}/oci-layout", "w"))
print(f"{len(layers)} layers, {sum(sizes) / 2**20:.0f} MiB", file=sys.stderr)
