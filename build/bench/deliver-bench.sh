#!/usr/bin/env bash
# Delivery benchmark (not a test): distributes a ~1 GB cluster image to 1, 3 and 6 SSH hosts (network namespaces from
# build/test-hosts.sh, 10.200.0.0/24 only) with `sealer run` (BlobDistributor: bounded parallelism + host-to-host
# relay) and with `scp` of the same blobs to each host in turn, in the same run, and prints times and ratios.
#
#   build/bench/deliver-bench.sh [SIZE_MB (default 1024)] [HOST_COUNTS (default "1 3 6")]
#   SEALER_BIN=/path/to/sealer build/bench/deliver-bench.sh   (a published binary instead of the Debug/Release build run by dotnet)
#
# The image is generated: random, incompressible layers (4 big tar layers of SIZE_MB/4 each) plus a small rootfs
# layer with no-op lifecycle scripts and a fake kubeadm/kubectl (there is no kubelet here), so `sealer run` completes.
# 'distribute' is the time of the distribute step as sealer reports it; 'run' is the whole `sealer run` (unpack of
# 1 GB per host included). Everything it creates (hosts, image, state) is removed at the end. Needs root.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
size_mb="${1:-1024}"
counts="${2:-1 3 6}"
work="${SEALER_BENCH_DIR:-$root/artifacts/bench/deliver}"
[ "$(id -u)" = 0 ] || { echo "deliver-bench: must run as root (network namespaces)" >&2; exit 1; }
for t in python3 dotnet scp ssh; do command -v "$t" >/dev/null || { echo "deliver-bench: $t is missing (build/install-test-deps.sh)" >&2; exit 1; }; done
max=0; for n in $counts; do [ "$n" -gt "$max" ] && max=$n; done

cleanup() { bash "$root/build/test-hosts.sh" down >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
rm -rf "$work"; mkdir -p "$work"

if [ -n "${SEALER_BIN:-}" ]; then sealer="$SEALER_BIN"; else
  dll=""
  for c in Release Debug; do [ -f "$root/src/Sealer.Cli/bin/$c/net10.0/sealer.dll" ] && { dll="$root/src/Sealer.Cli/bin/$c/net10.0/sealer.dll"; break; }; done
  [ -n "$dll" ] || { echo "deliver-bench: build the solution first (no sealer.dll)" >&2; exit 1; }
  sealer="$work/sealer"
  printf '#!/bin/sh\nexport DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1\nexec dotnet %q "$@"\n' "$dll" > "$sealer"; chmod +x "$sealer"
fi

echo "deliver-bench: generating a ${size_mb} MB image ..." >&2
python3 - "$work/image" "$size_mb" <<'PY'
import hashlib, io, json, os, sys, tarfile
out, size_mb = sys.argv[1], int(sys.argv[2])
os.makedirs(f"{out}/blobs/sha256", exist_ok=True)
def blob(data_path=None, data=None):
    h = hashlib.sha256()
    if data is not None:
        h.update(data); d = h.hexdigest(); open(f"{out}/blobs/sha256/{d}", "wb").write(data); return d, len(data)
    with open(data_path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""): h.update(chunk)
    d = h.hexdigest(); os.replace(data_path, f"{out}/blobs/sha256/{d}"); return d, os.path.getsize(f"{out}/blobs/sha256/{d}")
def tar(files, path):
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as t:
        for name, (gen, size, mode) in files.items():
            ti = tarfile.TarInfo(name); ti.size = size; ti.mode = mode; ti.mtime = 0
            t.addfile(ti, gen())
def f(b, mode=0o644): return (lambda: io.BytesIO(b), len(b), mode)
def s(body): return f(("#!/bin/bash\nset -e\n" + body + "\n").encode(), 0o755)
rootfs = {
  "scripts/containerd.sh": s("true"), "scripts/init-kube.sh": s("true"), "bin/kubectl": s("true"),
  "bin/kubeadm": s('case "$*" in "token create --print-join-command") echo "kubeadm join 10.200.0.11:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash sha256:00";; "init phase upload-certs --upload-certs") echo key; echo 0123456789abcdef;; esac'),
  "registry/oci-layout": f(b'{"imageLayoutVersion":"1.0.0"}'),
  "registry/index.json": f(b'{"schemaVersion":2,"manifests":[]}'),
}
layers = []
tar(rootfs, f"{out}/l0"); layers.append(blob(f"{out}/l0"))
per = size_mb * 1024 * 1024 // 4
for i in range(4):
    tar({f"data/big{i}.bin": (lambda: open("/dev/urandom", "rb"), per, 0o644)}, f"{out}/l{i+1}")
    layers.append(blob(f"{out}/l{i+1}"))
cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Labels": {"cluster.alpha.sealer.io/cluster-runtime-type": "kubernetes", "cluster.alpha.sealer.io/container-runtime-type": "containerd"}}, "rootfs": {"type": "layers", "diff_ids": []}}).encode()
cd, cs = blob(data=cfg)
ext = json.dumps({"type": "kube-installer", "launch": {}})
man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
  "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:" + cd, "size": cs},
  "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": "sha256:" + d, "size": n} for d, n in layers],
  "annotations": {"sealer.image.extension": ext}}).encode()
md, ms = blob(data=man)
open(f"{out}/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
open(f"{out}/index.json", "w").write(json.dumps({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + md, "size": ms, "annotations": {"org.opencontainers.image.ref.name": "bench/deliver:v1"}}]}))
print(f"deliver-bench: {sum(n for _, n in layers)} bytes in {len(layers)} layers", file=sys.stderr)
PY
bytes=$(du -sb "$work/image/blobs" | cut -f1)

bash "$root/build/test-hosts.sh" down >/dev/null 2>&1 || true
bash "$root/build/test-hosts.sh" up "$max" >&2
hj="$root/artifacts/test-hosts/hosts.json"
key=$(python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['privateKey'])" "$hj")
kh=$(python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['knownHosts'])" "$hj")
mapfile -t roots < <(python3 -c "import json,sys;[print(h['root']) for h in json.load(open(sys.argv[1]))['hosts']]" "$hj")
wipe() { for r in "${roots[@]}"; do rm -rf "$r/var/lib/sealer/"* "$r/etc/containerd/"* "$r/tmp/"* 2>/dev/null || true; done; }
now() { date +%s.%N; }

declare -A t_sealer t_dist t_scp
for n in $counts; do
  wipe
  { printf 'apiVersion: sealer.io/v2\nkind: Cluster\nmetadata:\n  name: bench\nspec:\n  image: bench/deliver:v1\n  ssh:\n    pk: %s\n  hosts:\n    - ips: [10.200.0.11]\n      roles: [master]\n' "$key"
    [ "$n" -gt 1 ] && printf '    - ips: [10.200.0.12-10.200.0.%d]\n      roles: [node]\n' $((10 + n)); } > "$work/Clusterfile"
  s=$(now)
  # every output line time-stamped: the distribute step is from its start line to the unpack step's start line
  "$sealer" run -f "$work/Clusterfile" --image "$work/image" --known-hosts "$kh" --sealer-binary "$sealer" --state-dir "$work/state-$n" 2>&1 \
    | python3 -u -c 'import sys,time
for l in sys.stdin: print(f"{time.time():.3f} {l}", end="")' > "$work/run-$n.log" \
    || { cat "$work/run-$n.log" >&2; echo "deliver-bench: sealer run failed" >&2; exit 1; }
  t_sealer[$n]=$(python3 -c "print(f'{$(now)-$s:.1f}')")
  # stop what the run started on the hosts (the registry) before the next round
  "$sealer" delete -f "$work/Clusterfile" --all --yes --known-hosts "$kh" --state-dir "$work/state-$n" >> "$work/delete-$n.log" 2>&1 \
    || { cat "$work/delete-$n.log" >&2; echo "deliver-bench: sealer delete failed" >&2; exit 1; }
  t_dist[$n]=$(python3 - "$work/run-$n.log" <<'PY'
import re, sys
ts = {}
for l in open(sys.argv[1], errors="replace"):
    m = re.match(r"([0-9.]+) (distribute|unpack) ", l)
    if m and m.group(2) not in ts: ts[m.group(2)] = float(m.group(1))
print(f"{ts['unpack'] - ts['distribute']:.1f}" if len(ts) == 2 else "?")
PY
)
  wipe
  s=$(now)
  for i in $(seq 1 "$n"); do
    ip="10.200.0.$((10 + i))"
    ssh -q -i "$key" -o UserKnownHostsFile="$kh" -o StrictHostKeyChecking=yes -o BatchMode=yes "root@$ip" 'mkdir -p /var/lib/sealer/scp'
    scp -q -i "$key" -o UserKnownHostsFile="$kh" -o StrictHostKeyChecking=yes -o BatchMode=yes "$work"/image/blobs/sha256/* "root@$ip:/var/lib/sealer/scp/"
  done
  t_scp[$n]=$(python3 -c "print(f'{$(now)-$s:.1f}')")
  echo "deliver-bench: $n host(s): sealer distribute ${t_dist[$n]} s (run ${t_sealer[$n]} s), scp ${t_scp[$n]} s" >&2
done
wipe

printf '\nimage: %.0f MiB of incompressible blobs; hosts: netns sshd on one machine (%s cores)\n' "$(python3 -c "print($bytes / 1048576)")" "$(nproc)"
printf '%-6s %16s %14s %12s %14s\n' hosts "sealer distribute" "sealer run" "scp in turn" "scp/distribute"
first=""
for n in $counts; do
  printf '%-6s %15ss %13ss %11ss %13sx\n' "$n" "${t_dist[$n]}" "${t_sealer[$n]}" "${t_scp[$n]}" "$(python3 -c "print(f'{${t_scp[$n]}/max(${t_dist[$n]},0.001):.2f}')")"
  [ -z "$first" ] && first=$n
done
for n in $counts; do
  [ "$n" = "$first" ] && continue
  echo "sealer distribute: $n hosts / $first host = $(python3 -c "print(f'{${t_dist[$n]}/max(${t_dist[$first]},0.001):.2f}')")x   scp: $(python3 -c "print(f'{${t_scp[$n]}/max(${t_scp[$first]},0.001):.2f}')")x"
done
