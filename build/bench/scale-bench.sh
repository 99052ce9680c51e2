#!/usr/bin/env bash
# Scale benchmark (issue 17; not a test): how every phase of building and shipping a cluster image grows with the
# project, at three sizes in one run, each phase next to its physical floor measured in the same run.
#
#   build/bench/scale-bench.sh [N:M:MB ...]     default "30:60:1024 100:200:3072 300:600:8192" (charts:images:MiB)
#   SEALER_BIN=artifacts/cli/linux-x64/sealer   the sealer for save/load (default: bench-sealer.sh's choice)
#   SCALE_PORT_BASE=5780                        7 loopback ports from here: 4 source registries (docker.io, quay.io,
#                                               registry.k8s.io, ghcr.io), the push target, the skopeo target
#   SCALE_KEEP=1                                keep artifacts/bench/scale/<size>/ (default: removed after each size, so
#                                               the disk holds one size at a time: about 5x its MiB at the peak)
#   SCALE_CANCEL=1                              at the largest size, also SIGINT mid-pull and mid-archive: time to exit,
#                                               then the rebuild that completes them (requests, bytes)
#
# The project (build/bench/scale-project.py): N charts (Bitnami-style with the shared `common` library and subcharts,
# plain ones, ones with CRDs), a manifest and an image list, M images over 4 registry domains with shared base layers,
# many small layers and some of 100-500 MiB, random incompressible content, served by loopback docker-registry
# instances (one per domain, access logs on: requests are counted there).
#
# Phases, each a separate process tree measured by build/bench/scale-measure.py (wall, CPU, peak RSS over the tree,
# bytes read/written, requests; MSBuild runs with -nodeReuse:false so its nodes are in the tree):
#   discovery   dotnet build -t:ResolveClusterImages          (charts, manifests, list -> image list; offline)
#   pull        dotnet build -t:PullClusterImages, cold cache  floor: read + sha256 of the blobs it pulled (cat | openssl)
#   resolve     the same with SealerRefresh=true, blobs cached (every tag resolved again: manifests only)
#   assemble    dotnet build -t:AssembleClusterImage -p:SealerArchive=false (the OCI layout)   floor: cp -r of the cache
#   archive     the same with the archive                                                       floor: cp of the .tar
#   noop        dotnet build (everything up to date)           target: < 2 s MSBuild time, 0 requests
#   onechart    dotnet build after one chart's template changed (should not grow with the project)
#   push        dotnet build -t:PushClusterImage to an empty loopback registry   floor: skopeo copy to an empty one
#   load/save   sealer load of the .tar into an empty store; sealer save of it   floor: cp of the .tar
# Distribution to the netns hosts is deliver-bench.sh's (it needs an installable image; see RESULTS.md).
# Results: artifacts/bench/scale/results.jsonl (one line per phase and size) and the table scale-report.py prints.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
sizes=("$@"); [ ${#sizes[@]} -gt 0 ] || sizes=(30:60:1024 100:200:3072 300:600:8192)
pb="${SCALE_PORT_BASE:-5780}"
work="${SCALE_BENCH_DIR:-$root/artifacts/bench/scale}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1 MSBUILDDISABLENODEREUSE=1
for t in docker-registry skopeo python3 dotnet curl openssl; do command -v "$t" >/dev/null || { echo "scale-bench: $t is missing (build/install-test-deps.sh)" >&2; exit 1; }; done
for i in $(seq 0 6); do
  if ss -ltn | awk '{print $4}' | grep -q ":$((pb + i))\$"; then echo "scale-bench: port $((pb + i)) is taken (SCALE_PORT_BASE)" >&2; exit 1; fi
done
mkdir -p "$work"
results="$work/results.jsonl"
: > "$results"
domains=(docker.io quay.io registry.k8s.io ghcr.io)
declare -A pids=()
stop() { local k; for k in "${!pids[@]}"; do kill "${pids[$k]}" 2>/dev/null || true; wait "${pids[$k]}" 2>/dev/null || true; unset "pids[$k]"; done; }
trap stop EXIT

# registry NAME PORT STORAGE: a docker-registry on 127.0.0.1:PORT with an access log at $work/logs/NAME.log
registry() {
  local name="$1" port="$2" storage="$3"
  mkdir -p "$storage" "$work/logs"
  cat > "$work/logs/$name.yml" <<YML
version: 0.1
log: {level: error, formatter: text, accesslog: {disabled: false}}
storage: {filesystem: {rootdirectory: $storage}, maintenance: {uploadpurging: {enabled: false}}}
http: {addr: 127.0.0.1:$port, secret: scale-bench}
YML
  docker-registry serve "$work/logs/$name.yml" >> "$work/logs/$name.log" 2>&1 &
  pids[$name]=$!
  for _ in $(seq 200); do curl -fsS -o /dev/null "http://127.0.0.1:$port/v2/" 2>/dev/null && return 0; sleep 0.05; done
  echo "scale-bench: registry $name did not start; see $work/logs/$name.log" >&2; exit 1
}
restart_registry() { local name="$1"; kill "${pids[$name]:-}" 2>/dev/null || true; wait "${pids[$name]:-}" 2>/dev/null || true; unset "pids[$name]"; rm -rf "$3"; registry "$@"; }

# The SDK package (a local feed) and the sealer CLI.
echo "scale-bench: packing the SDK" >&2
mkdir -p "$work/feed"; rm -f "$work/feed/"*.nupkg
cp "$(bash "$root/build/pack.sh" | tail -n 1)" "$work/feed/"
source "$here/bench-sealer.sh"
sealer="$(bench_sealer scale-bench "$work")"

measure() { python3 "$here/scale-measure.py" "$results" "$@" || echo "scale-bench: $2 failed (see its log); going on" >&2; }
mb() { python3 -c "print(round($1 / 1048576))"; }

for spec in "${sizes[@]}"; do
  IFS=: read -r n m size_mb <<<"$spec"
  tag="${n}c-${m}i-${size_mb}M"
  sw="$work/$tag"
  rm -rf "$sw"; mkdir -p "$sw"
  echo "scale-bench: === $tag: generating ===" >&2
  t0=$(date +%s)
  python3 "$here/scale-project.py" "$sw/gen" "$sw/storage" "$n" "$m" "$size_mb"
  echo "scale-bench: generated in $(( $(date +%s) - t0 )) s" >&2
  proj="$sw/gen/proj"
  logs=""
  for i in "${!domains[@]}"; do
    d="${domains[$i]}"
    registry "$d" $((pb + i)) "$sw/storage/$d"
    sed -i "s|__MIRROR_$(echo "$d" | tr 'a-z.' 'A-Z_')__|http://127.0.0.1:$((pb + i))|" "$proj/scale.kubeproj"
    logs="$logs,$work/logs/$d.log"
  done
  cat > "$proj/NuGet.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration><packageSources><clear /><add key="bench" value="$work/feed" /></packageSources></configuration>
XML
  export NUGET_PACKAGES="$work/packages" SEALER_CACHE_DIR="$sw/cache" SEALER_IMAGES_DIR="$sw/store"
  build="dotnet build $proj/scale.kubeproj -c Release -nologo -nodeReuse:false -v:m -clp:Summary;PerformanceSummary"
  dotnet restore "$proj/scale.kubeproj" -nologo -v:q >/dev/null

  L() { echo "--log $sw/$1.log --logs $logs"; }
  # shellcheck disable=SC2046
  measure "$tag" discovery $(L discovery) -- $build --no-restore -t:ResolveClusterImages
  measure "$tag" pull $(L pull) -- $build --no-restore -t:PullClusterImages
  # The project's size is what the build needs: the blobs the pull put into the cache (the registries hold a few more).
  bytes=$(du -sb "$sw/cache/blobs" | cut -f1)
  echo "{\"size\": \"$tag\", \"phase\": \"_project\", \"charts\": $n, \"images\": $m, \"bytes\": $bytes}" >> "$results"
  measure "$tag" pull-floor --floor-of pull --log "$sw/pull-floor.log" -- bash -c "cat '$sw/cache/blobs/sha256/'* | openssl dgst -sha256"
  measure "$tag" resolve $(L resolve) -- $build --no-restore -t:PullClusterImages -p:SealerRefresh=true
  measure "$tag" assemble $(L assemble) -- $build --no-restore -t:AssembleClusterImage -p:SealerArchive=false
  measure "$tag" assemble-floor --floor-of assemble -- cp -r "$sw/cache" "$sw/cache-copy"
  rm -rf "$sw/cache-copy"
  measure "$tag" archive $(L archive) -- $build --no-restore -t:AssembleClusterImage
  archive="$(find "$proj/bin" -maxdepth 3 -name '*.tar' | head -n1)"
  layout="${archive%.tar}"
  [ -f "$archive" ] && [ -f "$layout/index.json" ] || { echo "scale-bench: no archive/layout under $proj/bin" >&2; exit 1; }
  measure "$tag" archive-floor --floor-of archive -- cp "$archive" "$sw/copy.tar"
  rm -f "$sw/copy.tar"
  measure "$tag" noop $(L noop) -- $build
  f="$(ls -d "$proj"/charts/bitnami-* | head -n1)/templates/configmap.yaml"
  printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-changed\ndata:\n  at: "%s"\n' "$(date +%s)" > "$f"
  measure "$tag" onechart $(L onechart) -- $build

  restart_registry push $((pb + 4)) "$sw/push-storage"
  measure "$tag" push --log "$sw/push.log" --logs "$work/logs/push.log" -- $build --no-restore -t:PushClusterImage -p:PushClusterImageDependsOn= -p:SealerPushDestination=127.0.0.1:$((pb + 4))/scale/cluster:v1 -p:SealerPushPlainHttp=true -p:SealerPushSbom=false
  restart_registry push $((pb + 4)) "$sw/push-storage"
  refname=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['manifests'][0].get('annotations', {}).get('org.opencontainers.image.ref.name', ''))" "$layout/index.json")
  measure "$tag" push-floor --floor-of push --log "$sw/push-floor.log" -- skopeo copy --quiet --preserve-digests --dest-tls-verify=false "oci:$layout:$refname" "docker://127.0.0.1:$((pb + 4))/scale/cluster:skopeo"
  restart_registry push $((pb + 4)) "$sw/push-storage"

  rm -rf "$sw/store"
  measure "$tag" load --log "$sw/load.log" -- "$sealer" load -i "$archive"
  measure "$tag" load-floor --floor-of load -- bash -c "cp '$archive' '$sw/copy.tar' && openssl dgst -sha256 '$sw/copy.tar' >/dev/null"
  rm -f "$sw/copy.tar"
  measure "$tag" save --log "$sw/save.log" -- "$sealer" save -o "$sw/saved.tar" scale/cluster:v1
  measure "$tag" save-floor --floor-of save -- cp "$archive" "$sw/copy.tar"
  rm -f "$sw/copy.tar" "$sw/saved.tar"

  if [ -n "${SCALE_CANCEL:-}" ] && [ "$spec" = "${sizes[-1]}" ]; then
    python3 "$here/scale-cancel.py" "$results" "$tag" "$proj" "$sw" "$logs" || echo "scale-bench: the cancellation check failed" >&2
  fi
  stop
  du -sh "$sw" >&2
  # The phases' build logs (MSBuild performance summaries, Sealer messages) outlive the size's data.
  mkdir -p "$work/logs/$tag"; cp "$sw"/*.log "$work/logs/$tag/" 2>/dev/null || true
  [ -n "${SCALE_KEEP:-}" ] || rm -rf "$sw"
done
echo "scale-bench: machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GB, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
python3 "$here/scale-report.py" "$results"
