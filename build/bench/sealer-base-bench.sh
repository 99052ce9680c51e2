#!/usr/bin/env bash
# sealer mirror of a Sealer base's own images (not a test): a cluster image whose rootfs carries a docker/distribution
# tree (registry/docker/registry/v2, as Sealer's kubernetes bases carry kubeadm's images) in one gzip layer, put into a
# site's own registry, against what a person does by hand in the same run: unpack the layer, serve the tree with
# docker-registry, skopeo copy each tag.
#
#   build/bench/sealer-base-bench.sh [M_IMAGES] [TOTAL_MB]   default 40 images, 1536 MiB
#   SEALER_BIN=artifacts/cli/linux-x64/sealer                the sealer to run (default: bench-sealer.sh's choice)
#   SB_PORT_BASE=5890                                        4 loopback ports: the hand-served tree, 3 targets
#   SB_BENCH_DIR=artifacts/bench/sealer-base                 work directory (removed at the end unless SB_KEEP=1)
#
# The images: build/bench/scale-project.py (M images over 4 domains' repositories with shared base layers, random bytes;
# a tenth as amd64+arm64 indexes), its 4 storage trees merged into one (Sealer drops the domain). The cluster image: an
# OCI layout with one gzip rootfs layer (gzip -1) holding registry/docker/registry/v2 and Sealer's labels/annotation.
# Rows, each into an empty docker-registry:
#   sealer mirror LAYOUT           reads the tree's manifests out of the gzip layer, asks the registry for its blobs, then
#                                  unpacks those it lacks (each hashed) and pushes every tag
#   sealer mirror (again)          the same into the now full registry: the tree's manifests read, every blob HEADed,
#                                  nothing unpacked (since session 25) and nothing sent
#   sealer mirror --check          asks the full registry for every tag: reads the tree's manifests only (cold cache)
#   (SEALER_BEFORE_BIN=FILE        the same cold run, again-run and --check by another sealer, e.g. one before a change)
#   by hand, one at a time         tar xzf of the layer + docker-registry on the tree + skopeo copy of each tag in turn
#   by hand, 4 at once             the same with xargs -P4 (sealer uploads 4 blobs at once)
# Also sealer's peak RSS (GNU time). Columns: wall seconds, MiB into the target's storage, ratio to sealer's cold run.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
m="${1:-40}" mb="${2:-1536}"
pb="${SB_PORT_BASE:-5890}"
work="${SB_BENCH_DIR:-$root/artifacts/bench/sealer-base}"
for t in docker-registry skopeo python3 curl gzip; do command -v "$t" >/dev/null || { echo "sealer-base-bench: $t is missing (build/install-test-deps.sh)" >&2; exit 1; }; done
source "$here/bench-registry.sh"
bench_ports_free sealer-base-bench "$pb" 4 SB_PORT_BASE
rm -rf "$work"; mkdir -p "$work/logs"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; [ "${SB_KEEP:-0}" = 1 ] || rm -rf "$work"; }
trap cleanup EXIT
source "$here/bench-sealer.sh"
sealer="$(bench_sealer sealer-base-bench "$work")"

echo "sealer-base-bench: generating $m images, $mb MiB" >&2
python3 "$here/scale-project.py" "$work/gen" "$work/src" 1 "$m" "$mb" > /dev/null
mkdir -p "$work/rootfs/registry"
for d in "$work"/src/*; do cp -rl "$d/docker" "$work/rootfs/registry/"; done # one tree, the domains dropped
rm -rf "$work/src"
echo "sealer-base-bench: the gzip rootfs layer and the cluster image" >&2
python3 - "$work/rootfs" "$work/image" <<'PY'
import hashlib, json, os, subprocess, sys, tarfile
rootfs, out = sys.argv[1], sys.argv[2]
os.makedirs(out + "/blobs/sha256", exist_ok=True)
class Hashing:
    def __init__(self, f): self.f, self.h = f, hashlib.sha256()
    def write(self, b): self.h.update(b); return self.f.write(b)
    def flush(self): self.f.flush()
gz = subprocess.Popen(["gzip", "-1", "-c"], stdin=subprocess.PIPE, stdout=open(out + "/layer.tmp", "wb"))
hw = Hashing(gz.stdin)
with tarfile.open(fileobj=hw, mode="w|", format=tarfile.PAX_FORMAT) as t:
    for d, dirs, files in os.walk(rootfs):
        dirs.sort()
        for n in sorted(files):
            p = os.path.join(d, n)
            t.add(p, arcname=os.path.relpath(p, rootfs), recursive=False)
gz.stdin.close(); gz.wait()
def blob(path=None, data=None):
    h = hashlib.sha256()
    if data is None:
        with open(path, "rb") as f:
            for c in iter(lambda: f.read(1 << 20), b""): h.update(c)
    else: h.update(data)
    d = h.hexdigest()
    if data is None: os.replace(path, f"{out}/blobs/sha256/{d}")
    else: open(f"{out}/blobs/sha256/{d}", "wb").write(data)
    return {"digest": "sha256:" + d, "size": os.path.getsize(f"{out}/blobs/sha256/{d}")}
layer = blob(out + "/layer.tmp")
config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Labels": {"cluster.alpha.sealer.io/cluster-runtime-type": "kubernetes", "cluster.alpha.sealer.io/container-runtime-type": "containerd"}},
                     "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hw.h.hexdigest()]}}).encode()
c = blob(data=config)
manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "config": dict(mediaType="application/vnd.oci.image.config.v1+json", **c),
                       "layers": [dict(mediaType="application/vnd.oci.image.layer.v1.tar+gzip", **layer)],
                       "annotations": {"sealer.image.extension": json.dumps({"buildClient": {"sealerVersion": "0.9.0"}, "type": "kube-installer"})}}).encode()
mf = blob(data=manifest)
json.dump({"schemaVersion": 2, "manifests": [dict(mediaType="application/vnd.oci.image.manifest.v1+json", annotations={"org.opencontainers.image.ref.name": "sealer-base:1"}, **mf)]}, open(out + "/index.json", "w"))
open(out + "/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
PY
layer="$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1]+"/blobs/sha256/"+json.load(open(sys.argv[1]+"/index.json"))["manifests"][0]["digest"][7:])); print(m["layers"][0]["digest"][7:])' "$work/image")"
# the tags of the tree (path tag), what a person copies
( cd "$work/rootfs/registry/docker/registry/v2/repositories" && find . -path '*/_manifests/tags/*/current/link' | sed 's|^\./||; s|/_manifests/tags/| |; s|/current/link$||' | sort ) > "$work/tags.txt"
n=$(wc -l < "$work/tags.txt")
rm -rf "$work/rootfs"

du_b() { du -sb "$1" 2>/dev/null | cut -f1 || echo 0; }
rows=()
row() { rows+=("$1|$2|$3"); }
sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
registry target-a $((pb + 1)) "$work/target-a"
t0=$(date +%s.%N)
/usr/bin/time -f %M -o "$work/logs/mirror.rss" "$sealer" mirror "$work/image" "127.0.0.1:$((pb + 1))" --format json > "$work/logs/mirror.json" 2> "$work/logs/mirror.err"
t1=$(date +%s.%N)
row "sealer mirror LAYOUT" "$(echo "$t1 - $t0" | bc)" "$(du_b "$work/target-a")"
t0=$(date +%s.%N)
"$sealer" mirror "$work/image" "127.0.0.1:$((pb + 1))" --format json > "$work/logs/mirror-again.json"
t1=$(date +%s.%N)
row "sealer mirror (again)" "$(echo "$t1 - $t0" | bc)" "0"
if [ -n "${SEALER_BEFORE_BIN:-}" ]; then
  t0=$(date +%s.%N)
  "$(readlink -f "$SEALER_BEFORE_BIN")" mirror "$work/image" "127.0.0.1:$((pb + 1))" --format json > /dev/null
  t1=$(date +%s.%N)
  row "sealer mirror (again), SEALER_BEFORE_BIN" "$(echo "$t1 - $t0" | bc)" "0"
fi
check_row() { # NAME SEALER: mirror --check against the full registry (reads the tree's manifests only since session 25)
  sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
  local t0 t1
  t0=$(date +%s.%N)
  "$2" mirror "$work/image" "127.0.0.1:$((pb + 1))" --check > "$work/logs/check-$1.out" 2>&1 || { cat "$work/logs/check-$1.out" >&2; exit 1; }
  t1=$(date +%s.%N)
  row "$1" "$(echo "$t1 - $t0" | bc)" "0"
}
check_row "sealer mirror --check" "$sealer"
if [ -n "${SEALER_BEFORE_BIN:-}" ]; then check_row "sealer mirror --check, SEALER_BEFORE_BIN" "$(readlink -f "$SEALER_BEFORE_BIN")"; fi

by_hand() { # NAME PARALLEL TARGET_PORT
  registry "target-$1" "$3" "$work/target-$1"
  local target_pid=${pids[-1]}
  sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
  local t0 t1
  t0=$(date +%s.%N)
  mkdir -p "$work/unpacked-$1"
  tar -xzf "$work/image/blobs/sha256/$layer" -C "$work/unpacked-$1"
  registry "tree-$1" "$pb" "$work/unpacked-$1/registry"
  local tree_pid=${pids[-1]}
  xargs -P"$2" -L1 sh -c 'skopeo copy -q --all --src-tls-verify=false --dest-tls-verify=false "docker://$2/$0:$1" "docker://$3/$0:$1"' \
    < <(sed "s|\$| 127.0.0.1:$pb 127.0.0.1:$3|" "$work/tags.txt")
  t1=$(date +%s.%N)
  row "by hand ($2 at once): tar xzf, docker-registry, skopeo copy per tag" "$(echo "$t1 - $t0" | bc)" "$(du_b "$work/target-$1")"
  kill "$target_pid" "$tree_pid"; wait "$target_pid" "$tree_pid" 2>/dev/null || true
  rm -rf "$work/target-$1" "$work/unpacked-$1"
}
by_hand b 1 $((pb + 2))
by_hand c 4 $((pb + 3))
if [ -n "${SEALER_BEFORE_BIN:-}" ]; then # its cold run, into an empty registry of its own
  registry target-d $((pb + 2)) "$work/target-d"
  sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
  t0=$(date +%s.%N)
  "$(readlink -f "$SEALER_BEFORE_BIN")" mirror "$work/image" "127.0.0.1:$((pb + 2))" --format json > /dev/null
  t1=$(date +%s.%N)
  row "sealer mirror LAYOUT, SEALER_BEFORE_BIN" "$(echo "$t1 - $t0" | bc)" "$(du_b "$work/target-d")"
fi

python3 - "$work/logs/mirror.json" "$work/logs/mirror-again.json" "$n" "$(du_b "$work/image")" "$(tail -n 1 "$work/logs/mirror.rss")" "${rows[@]}" <<'PY'
import json, sys
cold, again = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
n, image, rss = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
rows = [r.split('|') for r in sys.argv[6:]]
base = float(rows[0][1])
print(f"{n} tags in the tree, cluster image {image / 2**20:.0f} MiB (one gzip layer); sealer: {len(cold['images'])} images, {cold['blobsUploaded']} blobs uploaded "
      f"({cold['bytesUploaded'] / 2**20:.0f} MiB), {cold['blobsMounted']} mounted, peak RSS {rss / 1024:.0f} MiB; again: {again['blobsUploaded']} uploaded, {again['blobsPresent']} present")
print()
print("| tool | s | MiB into the target's storage | × sealer |")
print("|---|---|---|---|")
for name, s, b in rows:
    print(f"| {name} | {float(s):.2f} | {int(b) / 2**20:.0f} | {float(s) / base:.2f} |")
PY
