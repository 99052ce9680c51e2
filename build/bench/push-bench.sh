#!/usr/bin/env bash
# Push benchmark (not a test): pushes a ~1 GB cluster image with `sealer push` and with
# `skopeo copy oci:... docker://...` to fresh loopback docker-registry instances, in the same run, and prints the ratio.
#
#   build/bench/push-bench.sh [SIZE_MB (default 1024)] [RUNS (default 2)]
#   SEALER_BIN=/path/to/sealer build/bench/push-bench.sh     (a published binary instead of a Release build run by dotnet)
#   PUSH_SOURCE=archive build/bench/push-bench.sh 4096 1     (push a plain OCI archive file: `sealer push FILE DEST` against
#        `skopeo copy oci-archive:FILE docker://...`; each tool's temporary disk use is measured too, as both used to
#        unpack the archive first; SEALER_BEFORE=/path/to/old/sealer adds that binary's push as a third row)
#
# The image is generated (random, incompressible content, so nobody wins by compressing): a cluster image shaped like
# ours — a few big layers (app image blobs), many small ones, a config and a manifest — in an OCI layout. Each push goes
# to an empty registry (its own storage directory), so neither tool finds blobs already there.
# Ports: SEALER_TEST_PORT_BASE+60 (default 20160). Only loopback is used.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
size_mb="${1:-1024}"
runs="${2:-2}"
port=$(( ${SEALER_TEST_PORT_BASE:-20100} + 60 ))
work="${SEALER_BENCH_DIR:-$root/artifacts/bench/push}"
for t in docker-registry skopeo python3 dotnet curl; do command -v "$t" >/dev/null || { echo "push-bench: $t is missing (build/install-test-deps.sh)" >&2; exit 1; }; done

mkdir -p "$work"
reg_pid=""
cleanup() { if [ -n "$reg_pid" ] && kill -0 "$reg_pid" 2>/dev/null; then kill "$reg_pid"; wait "$reg_pid" 2>/dev/null || true; fi; }
trap cleanup EXIT

# 1. the image (generated once per size)
layout="$work/image-$size_mb"
if [ ! -f "$layout/index.json" ]; then
  echo "push-bench: generating a ${size_mb} MB cluster image in $layout" >&2
  rm -rf "$layout"
  python3 - "$layout" "$size_mb" <<'PY'
import hashlib, json, os, sys
out, size_mb = sys.argv[1], int(sys.argv[2])
os.makedirs(os.path.join(out, "blobs", "sha256"))
def blob(data_iter, media):
    h = hashlib.sha256(); n = 0
    tmp = os.path.join(out, "blobs", "sha256", "tmp")
    with open(tmp, "wb") as f:
        for chunk in data_iter:
            h.update(chunk); f.write(chunk); n += len(chunk)
    d = h.hexdigest()
    os.replace(tmp, os.path.join(out, "blobs", "sha256", d))
    return {"mediaType": media, "digest": "sha256:" + d, "size": n}
def rand(nbytes):
    while nbytes > 0:
        k = min(nbytes, 8 << 20); nbytes -= k
        yield os.urandom(k)
total = size_mb << 20
# 70% in 6 big layers, 30% in 40 small ones (the shape of app-image blobs in a cluster image)
big = [int(total * 0.70 / 6)] * 6
small = [int(total * 0.30 / 40)] * 40
layers = [blob(rand(n), "application/vnd.oci.image.layer.v1.tar") for n in big + small]
config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Labels": {"cluster.alpha.sealer.io/cluster-runtime-type": "kubernetes"}},
                     "rootfs": {"type": "layers", "diff_ids": [l["digest"] for l in layers]}}, separators=(",", ":")).encode()
cfg = blob([config], "application/vnd.oci.image.config.v1+json")
manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": cfg, "layers": layers}, separators=(",", ":")).encode()
m = blob([manifest], "application/vnd.oci.image.manifest.v1+json")
m["annotations"] = {"org.opencontainers.image.ref.name": "bench.local/cluster:v1"}
with open(os.path.join(out, "index.json"), "w") as f: json.dump({"schemaVersion": 2, "manifests": [m]}, f)
with open(os.path.join(out, "oci-layout"), "w") as f: json.dump({"imageLayoutVersion": "1.0.0"}, f)
PY
fi
bytes=$(du -sb "$layout/blobs" | cut -f1)

# 2. the sealer CLI (Release) and a store holding the image (load is not timed)
if [ -n "${SEALER_BIN:-}" ]; then
  sealer() { "$SEALER_BIN" "$@"; }     # e.g. the NativeAOT binary from dotnet publish src/Sealer.Cli -r linux-x64
else
  echo "push-bench: building sealer (Release)" >&2
  dotnet build "$root/src/Sealer.Cli/Sealer.Cli.csproj" -c Release -nologo -v:q -o "$work/cli" >/dev/null
  sealer() { dotnet "$work/cli/sealer.dll" "$@"; }
fi
export SEALER_IMAGES_DIR="$work/store"
rm -rf "$SEALER_IMAGES_DIR"
source_kind="${PUSH_SOURCE:-store}"
if [ "$source_kind" = archive ]; then
  archive="$work/image-$size_mb.tar"
  [ -f "$archive" ] || tar -C "$layout" -cf "$archive" oci-layout index.json blobs
else
  sealer load -i "$layout" >/dev/null
fi

# The peak of what a command writes under its own TMPDIR and /var/tmp (skopeo unpacks an oci-archive into /var/tmp
# whatever TMPDIR says), sampled every 0.1 s; left in $work/tmp-NAME.peak (the function runs in a command substitution).
# Prints the wall time.
timed_with_tmp() { # timed_with_tmp NAME command...
  local dir="$work/tmp-$1" name="$1"; shift
  rm -rf "$dir"; mkdir -p "$dir"
  local t0 t1 pid peak=0 now_b base
  base=$(du -sb /var/tmp 2>/dev/null | cut -f1)
  t0=$(now)
  TMPDIR="$dir" "$@" >/dev/null & pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    now_b=$(( $(du -sb "$dir" 2>/dev/null | cut -f1) + $(du -sb /var/tmp 2>/dev/null | cut -f1) - base ))
    [ "$now_b" -gt "$peak" ] && peak=$now_b
    sleep 0.1
  done
  wait "$pid"
  t1=$(now)
  echo "$peak" > "$work/tmp-$name.peak"
  echo "$t1 - $t0" | bc -l
}

start_registry() { # fresh, empty storage each time
  cleanup
  rm -rf "$work/registry"; mkdir -p "$work/registry/storage"
  cat > "$work/registry/config.yml" <<YML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $work/registry/storage}, maintenance: {uploadpurging: {enabled: false}}}
http: {addr: 127.0.0.1:$port, secret: bench}
YML
  docker-registry serve "$work/registry/config.yml" >"$work/registry/log" 2>&1 &
  reg_pid=$!
  for _ in $(seq 100); do curl -fsS -o /dev/null "http://127.0.0.1:$port/v2/" 2>/dev/null && return 0; sleep 0.05; done
  echo "push-bench: registry did not start; see $work/registry/log" >&2; exit 1
}
now() { date +%s.%N; }
sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true

declare -a ts tk tb
declare -a ms mk mb_
for r in $(seq "$runs"); do
  start_registry
  if [ "$source_kind" = archive ]; then
    tk+=("$(timed_with_tmp skopeo skopeo copy --quiet --preserve-digests --dest-tls-verify=false "oci-archive:$archive:bench.local/cluster:v1" "docker://127.0.0.1:$port/bench/cluster:skopeo")")
    mk+=("$(cat "$work/tmp-skopeo.peak")")
    start_registry
    ts+=("$(timed_with_tmp sealer sealer push "$archive" "127.0.0.1:$port/bench/cluster:sealer")")
    ms+=("$(cat "$work/tmp-sealer.peak")")
    if [ -n "${SEALER_BEFORE:-}" ]; then
      start_registry
      tb+=("$(timed_with_tmp before "$SEALER_BEFORE" push "$archive" "127.0.0.1:$port/bench/cluster:sealer")")
      mb_+=("$(cat "$work/tmp-before.peak")")
    fi
  else
    t0=$(now); skopeo copy --quiet --preserve-digests --dest-tls-verify=false "oci:$layout:bench.local/cluster:v1" "docker://127.0.0.1:$port/bench/cluster:skopeo" >/dev/null; t1=$(now)
    tk+=("$(echo "$t1 - $t0" | bc -l)")
    start_registry
    t0=$(now); sealer push bench.local/cluster:v1 "127.0.0.1:$port/bench/cluster:sealer" >/dev/null; t1=$(now)
    ts+=("$(echo "$t1 - $t0" | bc -l)")
  fi
  # both tools must have produced the same image
  ds=$(skopeo inspect --tls-verify=false --raw "docker://127.0.0.1:$port/bench/cluster:sealer" | sha256sum | cut -c1-16)
  dl=$(sha256sum < "$layout/blobs/sha256/$(python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["manifests"][0]["digest"][7:])' "$layout/index.json")" | cut -c1-16)
  [ "$ds" = "$dl" ] || { echo "push-bench: sealer pushed manifest $ds, the layout has $dl" >&2; exit 1; }
  echo "push-bench: run $r: skopeo ${tk[-1]} s, sealer ${ts[-1]} s${tb:+, before ${tb[-1]} s} (manifest sha256:$ds… identical)" >&2
done
best() { printf '%s\n' "$@" | sort -g | head -n1; }
bk=$(best "${tk[@]}"); bs=$(best "${ts[@]}")
mb=$(echo "$bytes / 1048576" | bc -l)
printf 'image: %.0f MiB in %d blobs, pushed from the %s; best of %d runs each, loopback docker-registry\n' "$mb" "$(ls "$layout/blobs/sha256" | wc -l)" "$source_kind" "$runs"
mib() { echo "$1 / 1048576" | bc -l; }
if [ "$source_kind" = archive ]; then
  printf '| tool | s | MiB/s | temporary disk at its peak (MiB) | ×skopeo (time) |\n|---|---|---|---|---|\n'
  printf '| skopeo copy oci-archive: | %.2f | %.1f | %.0f | 1.00 |\n' "$bk" "$(echo "$mb / $bk" | bc -l)" "$(mib "$(best "${mk[@]}")")"
  printf '| sealer push FILE | %.2f | %.1f | %.0f | %.2f |\n' "$bs" "$(echo "$mb / $bs" | bc -l)" "$(mib "$(best "${ms[@]}")")" "$(echo "$bs / $bk" | bc -l)"
  if [ -n "${SEALER_BEFORE:-}" ]; then
    bb=$(best "${tb[@]}")
    printf '| sealer push FILE (before: %s) | %.2f | %.1f | %.0f | %.2f |\n' "$(basename "$SEALER_BEFORE")" "$bb" "$(echo "$mb / $bb" | bc -l)" "$(mib "$(best "${mb_[@]}")")" "$(echo "$bb / $bk" | bc -l)"
  fi
else
  printf 'skopeo copy:  %6.2f s  (%6.1f MiB/s)\n' "$bk" "$(echo "$mb / $bk" | bc -l)"
  printf 'sealer push:  %6.2f s  (%6.1f MiB/s)\n' "$bs" "$(echo "$mb / $bs" | bc -l)"
fi
printf 'ratio skopeo/sealer: %.2f (>= 1.00 means sealer is at least as fast)\n' "$(echo "$bk / $bs" | bc -l)"
