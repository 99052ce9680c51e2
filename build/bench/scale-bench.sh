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
#   SCALE_DELIVER=auto                          the distribute phases (below): auto (default) = when running as root with
#                                               sshd/ssh/scp/ip; 1 = insist (fail if impossible); 0 = skip
#   SCALE_HOSTS_LOCK=/run/sealer-netns.lock     taken (flock) around the distribute phases only, while the netns hosts
#                                               are this bench's; do not also wrap the whole bench in flock of the same file
#   SCALE_BASE_MB=64                            the base image's "kube binaries" rootfs layer (every host gets it)
#   SCALE_LINK_RATE=                            e.g. 1gbit: each netns host's link limited to it (tc tbf on its veth), for
#                                               the distribute phase and its scp floor alike, as a site's LAN; unset, the
#                                               veth is as fast as this machine's 2 cores (which sealer, ssh, every sshd,
#                                               cat and openssl then share: the CPU, not a link, is the limit)
# The project (build/bench/scale-project.py): N charts (Bitnami-style with the shared `common` library and subcharts,
# plain ones, ones with CRDs), a manifest and an image list, M images over 4 registry domains with shared base layers,
# many small layers and some of 100-500 MiB, random incompressible content, served by loopback docker-registry
# instances (one per domain, access logs on: requests are counted there). The project is FROM an installable base
# (build/bench/scale-base-image.py, SealerBaseImage oci:DIR: lifecycle scripts that really run on the hosts, stand-in
# kubeadm/kubectl, a SCALE_BASE_MB rootfs layer), so its image installs as a user's would: the app images (the many GB)
# go to the registry host (the master) only, the rootfs to every host.
#
# Phases, each a separate process tree measured by build/bench/scale-measure.py (wall, CPU, peak RSS over the tree,
# bytes read/written, requests; MSBuild runs with -nodeReuse:false so its nodes are in the tree):
#   discovery   dotnet build -t:ResolveClusterImages          (charts, manifests, list -> image list; offline)
#   pull        dotnet build -t:PullClusterImages, cold cache  floor: read + sha256 of the blobs it pulled (cat | openssl)
#               second floor (transfer, build/bench/scale-transfer-floor.py): one `curl --parallel` (6 at once, as the
#               pull) of the same blobs from the same registries into files, then openssl sha256 of each, verified;
#               for both, the source docker-registry processes' CPU is recorded apart (serverCpu: same 2 cores)
#   resolve     the same with SealerRefresh=true, blobs cached (every tag resolved again: manifests only)
#   assemble    dotnet build -t:AssembleClusterImage -p:SealerArchive=false (the OCI layout)   floor: cp -r of the cache;
#               floor_hash (an extra row): cp -r, then sha256 of the copy (cat | openssl), as every layer's digest is new
#   archive     the same with the archive                                                       floor: cp of the .tar
#               second floor (sync): cp of the .tar, then `sync FILE` of the copy (the archive is flushed before its rename);
#               third (files): cat of the layout's blob files (what the archive is written from) into one file
#   noop        dotnet build (everything up to date)           target: < 2 s MSBuild time, 0 requests
#   onechart    dotnet build after one chart's template changed (should not grow with the project)
#   push        dotnet build -t:PushClusterImage to an empty loopback registry   floor: skopeo copy to an empty one
#   load/save   sealer load of the .tar into an empty store; sealer save of it   floor: cp of the .tar
#               (load: + openssl sha256 of the copy; second floor (sync): cp, `sync FILE` of the copy, then sha256;
#               save's second floor (sync): cp, then `sync FILE` of the copy; its third (before): the cp, measured
#               right before save instead of after it; its fourth (files): cat of the store's blob files, what save
#               reads, into one file); all of them SCALE_ROUNDS times in turn (default 3), the report
#               taking each one's median
#   distribute  `sealer run` of the .tar to 3 netns hosts (build/test-hosts.sh, 10.200.0.11 master + .12, .13 nodes;
#               needs root): the whole run (distribute, unpack, the base's lifecycle, the registry on the master),
#               measured on this machine's side (sealer and its ssh clients); "Sealer task s" is the distribute step
#               alone (from its start line to unpack's)   floor (distribute-floor): scp of the same layer blobs each host
#               receives (everything to the master, the rootfs layers to the nodes), host by host in turn; second
#               floor (verify): the same, then sha256 of every copy on its host against its name, as sealer checks them.
#               Before it, the build side the phase no longer needs (source registries, cache, store) is removed, and
#               after it everything on the hosts (sealer delete, then the hosts go down); the disk's use at the peak of
#               the two (df, sampled every second) is recorded and printed: the master holds the app bytes twice
#               (content store + unpacked rootfs), next to the build's layout and archive: ~4x the size at the peak.
# Results: artifacts/bench/scale/results.jsonl (one line per phase and size) and the table scale-report.py prints; at the
# largest size also where each phase's time went (its threads running or waiting for the disk, by system call, and the
# disk's requests: scale-measure.py).
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
hosts_up=""
on_exit() { stop; [ -z "$hosts_up" ] || SEALER_TEST_HOSTS_DIR="$hosts_up" bash "$root/build/test-hosts.sh" down >&2 || true; }
trap on_exit EXIT

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
rm -rf "$work/base"
python3 "$here/scale-base-image.py" "$work/base" "${SCALE_BASE_MB:-64}"

deliver="${SCALE_DELIVER:-auto}"
can_deliver() { [ "$(id -u)" = 0 ] && command -v sshd >/dev/null && command -v ssh >/dev/null && command -v scp >/dev/null && command -v ip >/dev/null; }
case "$deliver" in
  auto) if can_deliver; then deliver=1; else deliver=0; echo "scale-bench: no distribute phase (needs root, sshd, ssh, scp, ip; SCALE_DELIVER=1 to insist)" >&2; fi ;;
  1) can_deliver || { echo "scale-bench: SCALE_DELIVER=1 needs root, sshd, ssh, scp and ip (build/install-test-deps.sh)" >&2; exit 1; } ;;
  0) ;;
  *) echo "scale-bench: SCALE_DELIVER is auto, 1 or 0, not '$deliver'" >&2; exit 1 ;;
esac
if [ -n "${SCALE_LINK_RATE:-}" ] && [ "$deliver" = 1 ] && ! command -v tc >/dev/null; then echo "scale-bench: SCALE_LINK_RATE needs tc (apt-get install iproute2)" >&2; exit 1; fi

# distribute TAG SW ARCHIVE LAYOUT: `sealer run` of ARCHIVE to 3 netns hosts, then scp of the same blobs host by host in
# turn; the hosts are this bench's only while it holds SCALE_HOSTS_LOCK, and go down (with all they hold) afterwards.
distribute() {
  local tag="$1" sw="$2" archive="$3" layout="$4" lk dfpid key kh i r
  exec {lk}>"${SCALE_HOSTS_LOCK:-/run/sealer-netns.lock}"
  echo "scale-bench: $tag distribute: waiting for ${SCALE_HOSTS_LOCK:-/run/sealer-netns.lock}" >&2
  flock "$lk"
  local -a roots=()
  export SEALER_TEST_HOSTS_DIR="$sw/test-hosts"
  local th="$root/build/test-hosts.sh"
  bash "$th" down >/dev/null 2>&1 || true
  hosts_up="$SEALER_TEST_HOSTS_DIR"
  bash "$th" up 3 >&2
  if [ -n "${SCALE_LINK_RATE:-}" ]; then
    for i in 1 2 3; do tc qdisc replace dev "sealer-v$i" root tbf rate "$SCALE_LINK_RATE" burst 512kb latency 50ms; done
    echo "scale-bench: $tag distribute: each host's link limited to $SCALE_LINK_RATE (tc tbf; the floor's scp too)" >&2
  fi
  key=$(python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['privateKey'])" "$SEALER_TEST_HOSTS_DIR/hosts.json")
  kh=$(python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['knownHosts'])" "$SEALER_TEST_HOSTS_DIR/hosts.json")
  mapfile -t roots < <(python3 -c "import json,sys;[print(h['root']) for h in json.load(open(sys.argv[1]))['hosts']]" "$SEALER_TEST_HOSTS_DIR/hosts.json")
  printf 'apiVersion: sealer.io/v2\nkind: Cluster\nmetadata:\n  name: scale\nspec:\n  image: scale/cluster:v1\n  ssh:\n    pk: %s\n  hosts:\n    - ips: [10.200.0.11]\n      roles: [master]\n    - ips: [10.200.0.12-10.200.0.13]\n      roles: [node]\n' "$key" > "$sw/Clusterfile"
  # the disk: used bytes of the file system every second, from before the run to after the floor's clean-up
  local before; before=$(df -B1 --output=used "$sw" | tail -n 1)
  ( while :; do df -B1 --output=used,avail "$sw" | tail -n 1; sleep 1; done ) > "$sw/df.log" 2>/dev/null &
  dfpid=$!
  measure "$tag" distribute --step distribute:unpack --log "$sw/distribute.log" -- "$sealer" run -f "$sw/Clusterfile" --image "$archive" \
    --known-hosts "$kh" --sealer-binary "$sealer" --state-dir "$sw/run-state"
  # the base's lifecycle really ran: every host's runtime script, kubeadm init on the master
  for i in 1 2 3; do
    grep -q "containerd.sh sealer-h$i" "${roots[$((i - 1))]}/var/lib/sealer/scale-evidence.log" 2>/dev/null \
      || echo "scale-bench: $tag distribute: the base's scripts/containerd.sh did not run on sealer-h$i (see $sw/distribute.log)" >&2
  done
  grep -q "kubeadm init" "${roots[0]}/var/lib/sealer/scale-evidence.log" 2>/dev/null || echo "scale-bench: $tag distribute: no kubeadm init on the master" >&2
  python3 - "$results" "$tag" "${roots[@]}" <<'PY'
import json, os, sys
out, tag, roots = sys.argv[1], sys.argv[2], sys.argv[3:]
def du(p):
    n = 0
    for d, _, fs in os.walk(p):
        for f in fs:
            try: n += os.lstat(os.path.join(d, f)).st_blocks * 512
            except OSError: pass
    return n
held = [du(os.path.join(r, "var/lib/sealer")) for r in roots]
print(f"scale-bench: {tag} distribute: the hosts hold {', '.join(f'{b / 1048576:.0f}' for b in held)} MiB under /var/lib/sealer", file=sys.stderr)
with open(out, "a") as f: f.write(json.dumps({"size": tag, "phase": "_hosts", "held": held}) + "\n")
PY
  "$sealer" delete -f "$sw/Clusterfile" --all --yes --known-hosts "$kh" --state-dir "$sw/run-state" >> "$sw/delete.log" 2>&1 \
    || echo "scale-bench: $tag: sealer delete failed (see $sw/delete.log); the hosts go down anyway" >&2
  wipe_hosts() { for r in "${roots[@]}"; do rm -rf "$r/var/lib/sealer/"* "$r/etc/containerd/"* "$r/tmp/"* 2>/dev/null || true; done; sync; }
  wipe_hosts
  # the floor: the layer blobs each host gets (a registry host every layer, the others all but the app image content)
  python3 - "$layout" "$sw" <<'PY'
import json, sys
layout, sw = sys.argv[1], sys.argv[2]
def blob(d): return json.load(open(f"{layout}/blobs/sha256/{d.split(':', 1)[1]}"))
top = json.load(open(f"{layout}/index.json"))["manifests"][0]
m = blob(top["digest"])
if "manifests" in m:
    m = blob(next(x for x in m["manifests"] if x.get("platform", {}).get("architecture") == "amd64")["digest"])
layers = m["layers"]
app = lambda l: (l.get("annotations") or {}).get("io.sealer.sdk.layer") in ("image-blob", "registry")
for name, pick in (("master", lambda l: True), ("node", lambda l: not app(l))):
    with open(f"{sw}/{name}.list", "w") as f:
        f.write("".join(l["digest"].split(":", 1)[1] + "\n" for l in layers if pick(l)))
PY
  cat > "$sw/scp-floor.sh" <<'SH'
# scp-floor.sh KEY KNOWN_HOSTS BLOBS_DIR MASTER_LIST NODE_LIST [verify]: the blobs each host needs, host by host in turn,
# one scp each; with "verify", then sha256 of every copy on the host, each against its name (as sealer checks every blob)
set -eu
key="$1" kh="$2"; cd "$3"
for i in 1 2 3; do
  list="$5"; [ "$i" = 1 ] && list="$4"
  ssh -q -i "$key" -o UserKnownHostsFile="$kh" -o StrictHostKeyChecking=yes -o BatchMode=yes "root@10.200.0.1$i" 'mkdir -p /var/lib/sealer/scp'
  # shellcheck disable=SC2046
  scp -q -i "$key" -o UserKnownHostsFile="$kh" -o StrictHostKeyChecking=yes -o BatchMode=yes $(cat "$list") "root@10.200.0.1$i:/var/lib/sealer/scp/"
  if [ "${6:-}" = verify ]; then
    ssh -q -i "$key" -o UserKnownHostsFile="$kh" -o StrictHostKeyChecking=yes -o BatchMode=yes "root@10.200.0.1$i" \
      "cd /var/lib/sealer/scp && sha256sum -- * | awk '\$1 != \$2 { bad++ } END { if (bad) { print bad \" blobs do not hash to their names\"; exit 1 } }'"
  fi
done
SH
  measure "$tag" distribute-floor --floor-of distribute --log "$sw/distribute-floor.log" -- bash "$sw/scp-floor.sh" "$key" "$kh" "$layout/blobs/sha256" "$sw/master.list" "$sw/node.list"
  wipe_hosts
  # and with every copy hashed on its host, as sealer does before it names a blob
  measure "$tag" distribute-floor-verify --floor-of distribute:verify --log "$sw/distribute-floor-verify.log" -- bash "$sw/scp-floor.sh" "$key" "$kh" "$layout/blobs/sha256" "$sw/master.list" "$sw/node.list" verify
  wipe_hosts
  kill "$dfpid" 2>/dev/null || true; wait "$dfpid" 2>/dev/null || true
  bash "$th" down >/dev/null 2>&1 || true   # (its parallel host_down calls race on the pid files: harmless noise)
  hosts_up=""
  unset SEALER_TEST_HOSTS_DIR
  flock -u "$lk"; exec {lk}>&-
  python3 - "$results" "$tag" "$before" "$sw/df.log" <<'PY'
import json, sys
out, tag, before, log = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
rows = [tuple(int(x) for x in l.split()) for l in open(log) if len(l.split()) == 2]
peak, avail = (max(r[0] for r in rows), min(r[1] for r in rows)) if rows else (before, 0)
print(f"scale-bench: {tag} distribute: disk used {before / 2**30:.1f} GiB before, {peak / 2**30:.1f} GiB at the peak (+{(peak - before) / 2**30:.1f}), "
      f"{avail / 2**30:.1f} GiB free at the least (the whole file system: other users' writes count too)", file=sys.stderr)
with open(out, "a") as f: f.write(json.dumps({"size": tag, "phase": "_disk", "before": before, "peak": peak, "availMin": avail}) + "\n")
PY
}

# Every step starts with no dirty pages (sync first, not measured): otherwise a floor pays the write-back of the phase
# before it (2026-12-03: `cp` of the 3 GiB archive took 11.7 s right after the archive, `cp` + sync of it 3.7 s next).
# And every step that moves the image bytes starts with them out of the page cache (scale-evict.py), phase and floor
# alike: otherwise which of the two reads from the disk depends on what the page cache kept (at 8 GiB the data is more
# than the memory). The metadata phases (discovery, resolve, noop, onechart) keep a warm cache, as a developer's rebuild.
# SCALE_COLD=0 turns the eviction off (the runs before 2026-12-03's third one had none).
measure() {
  sync
  case "$2" in
    discovery|resolve|noop|onechart) ;;
    *) [ "${SCALE_COLD:-1}" = 0 ] || python3 "$here/scale-evict.py" "$sw" "$work/base" ;;
  esac
  python3 "$here/scale-measure.py" "$results" "$@" || echo "scale-bench: $2 failed (see its log); going on" >&2
}
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
  sed -i "s|__BASE_IMAGE__|oci:$work/base|" "$proj/scale.kubeproj"
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
  srv=""; mirrors=()
  for i in "${!domains[@]}"; do srv="$srv,${pids[${domains[$i]}]}"; mirrors+=("${domains[$i]}=http://127.0.0.1:$((pb + i))"); done
  measure "$tag" pull $(L pull) --watch "$srv" -- $build --no-restore -t:PullClusterImages
  # The project's size is what the build needs: the blobs the pull put into the cache (the registries hold a few more).
  bytes=$(du -sb "$sw/cache/blobs" | cut -f1)
  echo "{\"size\": \"$tag\", \"phase\": \"_project\", \"charts\": $n, \"images\": $m, \"bytes\": $bytes}" >> "$results"
  measure "$tag" pull-floor --floor-of pull --log "$sw/pull-floor.log" -- bash -c "cat '$sw/cache/blobs/sha256/'* | openssl dgst -sha256"
  python3 "$here/scale-transfer-floor.py" "$sw/cache" "$sw/transfer" 6 "${mirrors[@]}"
  measure "$tag" pull-floor-transfer --floor-of pull:transfer --watch "$srv" --log "$sw/pull-floor-transfer.log" -- bash "$sw/transfer/run.sh"
  rm -rf "$sw/transfer/blobs"
  measure "$tag" resolve $(L resolve) -- $build --no-restore -t:PullClusterImages -p:SealerRefresh=true
  measure "$tag" assemble $(L assemble) -- $build --no-restore -t:AssembleClusterImage -p:SealerArchive=false
  measure "$tag" assemble-floor --floor-of assemble -- cp -r "$sw/cache" "$sw/cache-copy"
  rm -rf "$sw/cache-copy"
  # floor_hash: what assembly must do at least (every layer's digest is new): the copy, then sha256 of the bytes written
  measure "$tag" assemble-floor-hash --floor-of 'assemble#hash' -- bash -c "cp -r '$sw/cache' '$sw/cache-copy' && cat '$sw/cache-copy/blobs/sha256/'* | openssl dgst -sha256 >/dev/null"
  rm -rf "$sw/cache-copy"
  measure "$tag" archive $(L archive) -- $build --no-restore -t:AssembleClusterImage
  archive="$(find "$proj/bin" -maxdepth 3 -name '*.tar' -print -quit)"
  layout="${archive%.tar}"
  [ -f "$archive" ] && [ -f "$layout/index.json" ] || { echo "scale-bench: no archive/layout under $proj/bin" >&2; exit 1; }
  measure "$tag" archive-floor --floor-of archive -- cp "$archive" "$sw/copy.tar"
  rm -f "$sw/copy.tar"
  # floor_sync: the archive is on the disk before its rename (durability), so the fair floor is cp, then fsync of the copy
  measure "$tag" archive-floor-sync --floor-of archive:sync -- bash -c "cp '$archive' '$sw/copy.tar' && sync '$sw/copy.tar'"
  rm -f "$sw/copy.tar"
  # floor_files: the same bytes out of the files the archive is written from (the layout's blobs: thousands of files, read
  # in smaller requests than one big file's) into one file
  measure "$tag" archive-floor-files --floor-of archive:files -- bash -c "cat '$layout/blobs/sha256/'* > '$sw/copy.tar'"
  rm -f "$sw/copy.tar"
  # The phases above ran single targets (AssembleClusterImage): the first full `dotnet build` still writes what only Build
  # does (the SBOM, ~130 ms at 600 images). Once, unmeasured, so noop is a no-op (runs before 2026-12-04's run 7 measured
  # that first build as noop).
  $build --no-restore > "$sw/noop-warmup.log" 2>&1 || { echo "scale-bench: the full build before noop failed (see $sw/noop-warmup.log)" >&2; exit 1; }
  measure "$tag" noop $(L noop) -- $build
  charts=("$proj"/charts/bitnami-*)   # a glob, not `ls | head`: under pipefail, ls dies of SIGPIPE when head has its line
  f="${charts[0]}/templates/configmap.yaml"
  printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-changed\ndata:\n  at: "%s"\n' "$(date +%s)" > "$f"
  measure "$tag" onechart $(L onechart) -- $build

  restart_registry push $((pb + 4)) "$sw/push-storage"
  measure "$tag" push --log "$sw/push.log" --logs "$work/logs/push.log" -- $build --no-restore -t:PushClusterImage -p:PushClusterImageDependsOn= -p:SealerPushDestination=127.0.0.1:$((pb + 4))/scale/cluster:v1 -p:SealerPushPlainHttp=true -p:SealerPushSbom=false
  restart_registry push $((pb + 4)) "$sw/push-storage"
  refname=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['manifests'][0].get('annotations', {}).get('org.opencontainers.image.ref.name', ''))" "$layout/index.json")
  measure "$tag" push-floor --floor-of push --log "$sw/push-floor.log" -- skopeo copy --quiet --preserve-digests --dest-tls-verify=false "oci:$layout:$refname" "docker://127.0.0.1:$((pb + 4))/scale/cluster:skopeo"
  restart_registry push $((pb + 4)) "$sw/push-storage"

  # load and save with their floors in SCALE_ROUNDS rounds, each in turn, the report taking each one's median: one sample
  # of these ~10 s phases is at the mercy of this VM's disk (2026-12-06: the same save of the same store took 6.5 s or 14 s
  # at random, a save of 17 s next to a floor of 8 s came out 7.3 s next to 8.2 s in eight rounds alternating)
  for round in $(seq "${SCALE_ROUNDS:-3}"); do
    rm -rf "$sw/store"
    measure "$tag" load --log "$sw/load.log" -- "$sealer" load -i "$archive"
    measure "$tag" load-floor --floor-of load -- bash -c "cp '$archive' '$sw/copy.tar' && openssl dgst -sha256 '$sw/copy.tar' >/dev/null"
    rm -f "$sw/copy.tar"
    # and load's: every blob it stores is on the disk before it is named
    measure "$tag" load-floor-sync --floor-of load:sync -- bash -c "cp '$archive' '$sw/copy.tar' && sync '$sw/copy.tar' && openssl dgst -sha256 '$sw/copy.tar' >/dev/null"
    rm -f "$sw/copy.tar"
    # save's floor once more before it (the same cp): the floor after save has the room save's deleted output left in the
    # page cache, save had whatever load and its floors left; the two floors' difference is what the order is worth
    measure "$tag" save-floor-before --floor-of save:before -- cp "$archive" "$sw/copy.tar"
    rm -f "$sw/copy.tar"
    measure "$tag" save --log "$sw/save.log" -- "$sealer" save -o "$sw/saved.tar" scale/cluster:v1
    rm -f "$sw/saved.tar" # the floors' copies need its room (run 8's save floors at 8 GiB stopped at 6 GiB: the disk was full)
    measure "$tag" save-floor --floor-of save -- cp "$archive" "$sw/copy.tar"
    rm -f "$sw/copy.tar"
    # save's own: the saved archive is on the disk before its rename, as the build's
    measure "$tag" save-floor-sync --floor-of save:sync -- bash -c "cp '$archive' '$sw/copy.tar' && sync '$sw/copy.tar'"
    rm -f "$sw/copy.tar"
    # and out of the files save reads (the store's blobs) into one
    measure "$tag" save-floor-files --floor-of save:files -- bash -c "cat '$sw/store/blobs/sha256/'* > '$sw/copy.tar'"
    rm -f "$sw/copy.tar"
  done

  if [ -n "${SCALE_CANCEL:-}" ] && [ "$spec" = "${sizes[-1]}" ]; then
    python3 "$here/scale-cancel.py" "$results" "$tag" "$proj" "$sw" "$logs" || echo "scale-bench: the cancellation check failed" >&2
  fi
  stop
  if [ "$deliver" = 1 ]; then
    # what no later phase reads goes first (the disk holds the layout, the archive and the hosts' copies at the peak)
    [ -n "${SCALE_KEEP:-}" ] || rm -rf "$sw/storage" "$sw/cache" "$sw/store"
    distribute "$tag" "$sw" "$archive" "$layout"
  fi
  du -sh "$sw" >&2
  # The phases' build logs (MSBuild performance summaries, Sealer messages) outlive the size's data.
  mkdir -p "$work/logs/$tag"; cp "$sw"/*.log "$work/logs/$tag/" 2>/dev/null || true
  [ -n "${SCALE_KEEP:-}" ] || rm -rf "$sw"
done
echo "scale-bench: machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GB, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
python3 "$here/scale-report.py" "$results"
