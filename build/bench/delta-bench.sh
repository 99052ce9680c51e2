#!/usr/bin/env bash
# Delta benchmark (not a test): a ~1 GiB cluster image 1.4.0 and its 1.5.0 in which one 50 MiB app image blob changed.
# Measures the delta's size against the changed bytes (target: within 1%), `sealer save --since` against a full
# `sealer save`, and `sealer load` of the delta against a load of the full archive, both into a store holding 1.4.0.
#
#   build/bench/delta-bench.sh [SIZE_MB (default 1024)] [CHANGED_MB (default 50)] [RUNS (default 3)]
#   SEALER_BIN=/path/to/sealer build/bench/delta-bench.sh     (a published binary instead of a Release build run by dotnet)
#
# Content is random (incompressible). The images are shaped like ours: a rootfs layer, per-blob image-blob layers
# (annotated io.sealer.sdk.layer) and a small registry metadata layer that changes with the app image. Nothing but the
# local disk is used.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
size_mb="${1:-1024}"
changed_mb="${2:-50}"
runs="${3:-3}"
work="${SEALER_BENCH_DIR:-$root/artifacts/bench/delta}"
for t in python3 dotnet; do command -v "$t" >/dev/null || { echo "delta-bench: $t is missing" >&2; exit 1; }; done
mkdir -p "$work"

# 1. the two images in one OCI layout (generated once per size)
layout="$work/images-$size_mb-$changed_mb"
if [ ! -f "$layout/index.json" ]; then
  echo "delta-bench: generating 1.4.0 (${size_mb} MiB) and 1.5.0 (${changed_mb} MiB changed) in $layout" >&2
  rm -rf "$layout"
  python3 - "$layout" "$size_mb" "$changed_mb" <<'PY'
import hashlib, io, json, os, sys, tarfile
out, size_mb, changed_mb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
MB = 1 << 20
os.makedirs(os.path.join(out, "blobs", "sha256"))
def put(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for c in iter(lambda: f.read(MB), b""): h.update(c)
    d = h.hexdigest(); n = os.path.getsize(path)
    os.replace(path, os.path.join(out, "blobs", "sha256", d))
    return "sha256:" + d, n
def put_bytes(b):
    tmp = os.path.join(out, "tmp"); open(tmp, "wb").write(b); return put(tmp)
class Rand(io.RawIOBase):
    def readable(self): return True
    def readinto(self, b): n = len(b); b[:n] = os.urandom(n); return n
def layer(kind, files, blob=None):
    """An uncompressed tar layer of (name, size) random files; returns its descriptor."""
    tmp = os.path.join(out, "tmp")
    with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as t:
        for name, size in files:
            ti = tarfile.TarInfo(name); ti.size, ti.mode, ti.mtime = size, 0o644, 0
            if isinstance(size, bytes): ti.size = len(size); t.addfile(ti, io.BytesIO(size))
            else: t.addfile(ti, io.BufferedReader(Rand(), MB))
    d, n = put(tmp)
    ann = {"io.sealer.sdk.layer": kind}
    if blob: ann["io.sealer.sdk.blob"] = blob
    return {"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": d, "size": n, "annotations": ann}
total = size_mb * MB
rootfs = layer("rootfs", [("bin/kubelet", int(total * 0.12)), ("bin/kubeadm", int(total * 0.03))])
apps_total = total - rootfs["size"] - changed_mb * MB
sizes = [int(apps_total * w / 100) for w in (22, 18, 14, 12, 10, 8, 6, 4, 3, 2, 1)]
apps = [layer("image-blob", [(f"registry/blobs/sha256/app{i}", s)], blob=f"app{i}") for i, s in enumerate(sizes)]
def image(version, changed):
    meta = json.dumps({"version": version, "changed": changed["digest"]}).encode()
    registry = layer("registry", [("registry/images.json", meta)])
    layers = [rootfs] + apps + [changed, registry]
    cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Labels": {"version": version}},
                      "rootfs": {"type": "layers", "diff_ids": [l["digest"] for l in layers]}}, separators=(",", ":")).encode()
    cd, cn = put_bytes(cfg)
    m = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cn}, "layers": layers}, separators=(",", ":")).encode()
    md, mn = put_bytes(m)
    return {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": mn,
            "annotations": {"org.opencontainers.image.ref.name": f"bench.local/shop:{version}"}}
old = layer("image-blob", [("registry/blobs/sha256/changed-old", changed_mb * MB)], blob="changed-old")
new = layer("image-blob", [("registry/blobs/sha256/changed-new", changed_mb * MB)], blob="changed-new")
index = {"schemaVersion": 2, "manifests": [image("1.4.0", old), image("1.5.0", new)]}
json.dump(index, open(os.path.join(out, "index.json"), "w"))
json.dump({"imageLayoutVersion": "1.0.0"}, open(os.path.join(out, "oci-layout"), "w"))
PY
fi

# 2. the sealer CLI (Release) and a build-side store holding both images (not timed)
if [ -n "${SEALER_BIN:-}" ]; then
  sealer() { "$SEALER_BIN" "$@"; }
else
  echo "delta-bench: building sealer (Release)" >&2
  dotnet build "$root/src/Sealer.Cli/Sealer.Cli.csproj" -c Release -nologo -v:q -o "$work/cli" >/dev/null
  sealer() { dotnet "$work/cli/sealer.dll" "$@"; }
fi
build="$work/build-store" site="$work/site-store"
rm -rf "$build" "$site"
SEALER_IMAGES_DIR="$build" sealer load -i "$layout" >/dev/null
SEALER_IMAGES_DIR="$build" sealer save -o "$work/base.tar" bench.local/shop:1.4.0 >/dev/null
SEALER_IMAGES_DIR="$site" sealer load -i "$work/base.tar" >/dev/null
rm -f "$work/base.tar"

# The changed bytes: the blobs 1.5.0 has that 1.4.0 lacks (the app blob layer, the registry layer, config, manifest).
changed=$(python3 - "$layout" <<'PY'
import json, os, sys
lay = sys.argv[1]
idx = json.load(open(os.path.join(lay, "index.json")))["manifests"]
def blobs(m):
    man = json.load(open(os.path.join(lay, "blobs", "sha256", m["digest"][7:])))
    return {l["digest"]: l["size"] for l in man["layers"] + [man["config"]]} | {m["digest"]: m["size"]}
old, new = blobs(idx[0]), blobs(idx[1])
print(sum(s for d, s in new.items() if d not in old))
PY
)
full_bytes=$(du -sb "$layout/blobs" | cut -f1)

t() { local s e; s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N); python3 -c "print(f'{$e-$s:.2f}')"; }
median() { python3 -c "import statistics,sys; print(f'{statistics.median(map(float, sys.argv[1:])):.2f}')" "$@"; }
save_full=() save_delta=() load_full=() load_delta=() startup=()
for i in $(seq "$runs"); do
  startup+=("$(SEALER_IMAGES_DIR="$site" t sealer images)") # process start-up (JIT when run by dotnet), in every time below
  rm -f "$work/full.tar" "$work/delta.tar"
  save_full+=("$(SEALER_IMAGES_DIR="$build" t sealer save -o "$work/full.tar" bench.local/shop:1.5.0)")
  save_delta+=("$(SEALER_IMAGES_DIR="$build" t sealer save --since bench.local/shop:1.4.0 bench.local/shop:1.5.0 -o "$work/delta.tar")")
  # each load starts from a site that holds 1.4.0 only
  sync
  load_delta+=("$(SEALER_IMAGES_DIR="$site" t sealer load -i "$work/delta.tar")")
  SEALER_IMAGES_DIR="$site" sealer rmi --prune bench.local/shop:1.5.0 >/dev/null
  sync
  load_full+=("$(SEALER_IMAGES_DIR="$site" t sealer load -i "$work/full.tar")")
  SEALER_IMAGES_DIR="$site" sealer rmi --prune bench.local/shop:1.5.0 >/dev/null
done
delta_size=$(stat -c %s "$work/delta.tar") full_size=$(stat -c %s "$work/full.tar")
python3 - "$size_mb" "$changed_mb" "$changed" "$delta_size" "$full_size" "$(median "${save_full[@]}")" "$(median "${save_delta[@]}")" \
  "$(median "${load_full[@]}")" "$(median "${load_delta[@]}")" "$runs" "$(median "${startup[@]}")" <<'PY'
import sys
size_mb, changed_mb, changed, delta, full = map(int, sys.argv[1:6])
sf, sd, lf, ld = map(float, sys.argv[6:10]); runs = sys.argv[10]; st = float(sys.argv[11])
net = lambda a, b: f"{(a - st) / max(b - st, 0.01):.1f}x"
MB = 1 << 20
print(f"delta-bench: {size_mb} MiB cluster image, one {changed_mb} MiB app blob changed; medians of {runs} runs")
print()
print("| what | value |")
print("|---|---|")
print(f"| changed bytes (blobs 1.5.0 has that 1.4.0 lacks) | {changed} ({changed / MB:.1f} MiB) |")
print(f"| delta archive | {delta} ({delta / MB:.1f} MiB): **{delta / changed:.4f}x** the changed bytes ({(delta - changed) / changed * 100:+.2f}%) |")
print(f"| full archive of 1.5.0 | {full} ({full / MB:.1f} MiB): delta is {delta / full * 100:.1f}% of it |")
print(f"| process start-up (`sealer images`) | {st:.2f} s (included in the times below) |")
print(f"| `sealer save` full / `--since` | {sf:.2f} s / {sd:.2f} s: **{sf / sd:.1f}x** faster ({net(sf, sd)} without start-up) |")
print(f"| `sealer load` full / delta (store holds 1.4.0) | {lf:.2f} s / {ld:.2f} s: **{lf / ld:.1f}x** faster ({net(lf, ld)} without start-up) |")
PY
