#!/usr/bin/env bash
# sealer mirror (not a test): the app images of a cluster image put into a site's own registry, against skopeo copying
# the same images one by one from the build's image cache (an OCI layout on the same disk) in the same run.
#
#   build/bench/mirror-bench.sh [M_IMAGES] [TOTAL_MB]        default 200 images, 3072 MiB
#   SEALER_BIN=artifacts/cli/linux-x64/sealer                 the sealer to run (default: bench-sealer.sh's choice)
#   MIRROR_PORT_BASE=5880                                     6 loopback ports: 4 source registries, 2 targets
#   MIRROR_BENCH_DIR=artifacts/bench/mirror                   work directory (removed at the end unless MIRROR_KEEP=1)
#
# The images: build/bench/scale-project.py (M images over 4 domains, each domain's 3 base layers shared by all its images,
# 2-5 small own layers per image, big 100-500 MiB layers on some, random bytes; a tenth served as an amd64+arm64 index),
# in loopback docker-registry instances. `sealer build` of a Kubefile listing them (linux/amd64) gives the archive.
# Rows, each into an empty docker-registry:
#   sealer mirror ARCHIVE          read in place from the archive, each distinct blob sent once, mounted elsewhere
#   sealer mirror (again)          the same, into the now full registry: what a re-run costs
#   skopeo copy, one at a time     oci:CACHE:REF -> docker://TARGET/PATH:TAG for each image (the script a person writes)
#   skopeo copy, 4 at once         the same with xargs -P4 (sealer uploads 4 blobs at once)
# Also sealer's peak RSS (GNU time). Columns: wall seconds, bytes received by the target registry (its storage grows by), ratio to sealer's cold run.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
m="${1:-200}" mb="${2:-3072}"
pb="${MIRROR_PORT_BASE:-5880}"
work="${MIRROR_BENCH_DIR:-$root/artifacts/bench/mirror}"
for t in docker-registry skopeo python3 curl; do command -v "$t" >/dev/null || { echo "mirror-bench: $t is missing (build/install-test-deps.sh)" >&2; exit 1; }; done
source "$here/bench-registry.sh"
bench_ports_free mirror-bench "$pb" 6 MIRROR_PORT_BASE
rm -rf "$work"; mkdir -p "$work/logs"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; [ "${MIRROR_KEEP:-0}" = 1 ] || rm -rf "$work"; }
trap cleanup EXIT
source "$here/bench-sealer.sh"
sealer="$(bench_sealer mirror-bench "$work")"

echo "mirror-bench: generating $m images, $mb MiB" >&2
python3 "$here/scale-project.py" "$work/gen" "$work/src" 1 "$m" "$mb" > /dev/null
domains=(docker.io quay.io registry.k8s.io ghcr.io)
mirrors=()
for i in 0 1 2 3; do
  registry "src-$i" $((pb + i)) "$work/src/${domains[$i]}"
  mirrors+=(--mirror "${domains[$i]}=http://127.0.0.1:$((pb + i))")
done
mkdir -p "$work/kf"
printf 'FROM scratch\nCOPY imageList manifests\n' > "$work/kf/Kubefile"
python3 -c 'import json,sys; [print(i["reference"]) for i in json.load(open(sys.argv[1]))["images"]]' "$work/gen/project.json" > "$work/kf/imageList"
echo "mirror-bench: sealer build" >&2
"$sealer" build -t mirror-bench:1 --platform linux/amd64 --cache-dir "$work/cache" --no-fallback "${mirrors[@]}" "$work/kf" > "$work/logs/build.log" 2>&1
archive="$work/kf/bin/mirror-bench.tar"
for i in 0 1 2 3; do kill "${pids[$i]}"; done # the sources are not needed any more
rm -rf "$work/src"

du_b() { du -sb "$1" 2>/dev/null | cut -f1 || echo 0; }
sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
rows=()
row() { rows+=("$1|$2|$3"); }

registry target-a $((pb + 4)) "$work/target-a"
t0=$(date +%s.%N)
/usr/bin/time -f %M -o "$work/logs/mirror.rss" "$sealer" mirror "$archive" "127.0.0.1:$((pb + 4))" --format json > "$work/logs/mirror.json"
t1=$(date +%s.%N)
row "sealer mirror ARCHIVE" "$(echo "$t1 - $t0" | bc)" "$(du_b "$work/target-a")"
t0=$(date +%s.%N)
"$sealer" mirror "$archive" "127.0.0.1:$((pb + 4))" --format json > "$work/logs/mirror-again.json"
t1=$(date +%s.%N)
row "sealer mirror (again)" "$(echo "$t1 - $t0" | bc)" "0"

# the references and their paths in the target, from the image list
python3 - "$work/kf/imageList" > "$work/refs.txt" <<'PY'
import sys
for line in open(sys.argv[1]):
    ref = line.strip()
    if not ref or ref.startswith('#'): continue
    domain, path = ref.split('/', 1)
    print(ref, path)
PY
n=$(wc -l < "$work/refs.txt")
registry target-b $((pb + 5)) "$work/target-b"
sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
t0=$(date +%s.%N)
while read -r ref path; do
  skopeo copy -q --dest-tls-verify=false "oci:$work/cache:$ref" "docker://127.0.0.1:$((pb + 5))/$path"
done < "$work/refs.txt"
t1=$(date +%s.%N)
row "skopeo copy, one at a time" "$(echo "$t1 - $t0" | bc)" "$(du_b "$work/target-b")"
kill "${pids[-1]}"; rm -rf "$work/target-b"
registry target-c $((pb + 5)) "$work/target-c"
sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
t0=$(date +%s.%N)
xargs -P4 -L1 sh -c 'skopeo copy -q --dest-tls-verify=false "oci:$0:$1" "docker://$3/$2"' "$work/cache" < <(sed "s|\$| 127.0.0.1:$((pb + 5))|" "$work/refs.txt")
t1=$(date +%s.%N)
row "skopeo copy, 4 at once" "$(echo "$t1 - $t0" | bc)" "$(du_b "$work/target-c")"

python3 - "$work/logs/mirror.json" "$work/logs/mirror-again.json" "$n" "$(du_b "$archive")" "$(tail -n 1 "$work/logs/mirror.rss")" "${rows[@]}" <<'PY'
import json, sys
cold, again = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
n, archive, rss = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
rows = [r.split('|') for r in sys.argv[6:]]
base = float(rows[0][1])
left = sum(1 for i in cold["images"] if i["platformsLeftOut"] > 0)
print(f"{n} images, archive {archive / 2**20:.0f} MiB; sealer: {cold['blobsUploaded']} blobs uploaded ({cold['bytesUploaded'] / 2**20:.0f} MiB), "
      f"{cold['blobsMounted']} mounted, {left} partial indexes cut to the carried platform, peak RSS {rss / 1024:.0f} MiB; again: {again['blobsUploaded']} uploaded, {again['blobsPresent']} present")
print()
print("| tool | s | MiB into the target's storage | × sealer |")
print("|---|---|---|---|")
for name, s, b in rows:
    print(f"| {name} | {float(s):.2f} | {int(b) / 2**20:.0f} | {float(s) / base:.2f} |")
PY
