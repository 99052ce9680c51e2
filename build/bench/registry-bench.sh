#!/usr/bin/env bash
# Benchmark: our registry (`sealer registry serve`, the NativeAOT binary) vs Debian's docker-registry (distribution 2.8)
# serving the SAME image (pushed into docker-registry with skopeo), in the same run.
#   build/bench/registry-bench.sh [seconds-per-case]      (default 8)
#   SEALER_BIN=path (default artifacts/cli/linux-x64/sealer); SEALER_BEFORE_BIN=path adds an earlier build's registry,
#   measured interleaved in the same run (its column "before req/s", and "x before" = ours/before).
# Measures manifest and blob (1 MiB, 16 MiB) GETs with wrk at 1 and 64 concurrent connections: requests/s, MB/s and p99 latency,
# and prints ours/theirs ratios; plus idle and after-load memory (RSS) of both servers. The "-linked" rows serve the same
# blobs as a registry host does after `sealer run`: links (registry/in-store) to one-member tar layers in a content store.
# Loopback only (ports 16101/16102). Not a test: run it by hand. Needs wrk, skopeo, docker-registry, python3 (apt).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
secs="${1:-8}"
ours_port=16101 theirs_port=16102 before_port=16103 linked_port=16104
for tool in wrk skopeo docker-registry python3; do command -v "$tool" >/dev/null || { echo "registry-bench: $tool missing (apt-get install wrk skopeo docker-registry python3)" >&2; exit 1; }; done
sealer="${SEALER_BIN:-$root/artifacts/cli/linux-x64/sealer}"
[ -x "$sealer" ] || bash "$root/build/publish-cli.sh" linux-x64 >/dev/null
before="${SEALER_BEFORE_BIN:-}"
work="$(mktemp -d /tmp/sealer-bench.XXXXXX)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

# 1. A fixture OCI layout: one image with a 1 MiB and a 16 MiB layer, stored under its full reference.
python3 - "$work/layout" <<'PY'
import gzip, hashlib, json, os, sys
root = sys.argv[1]
os.makedirs(f"{root}/blobs/sha256", exist_ok=True)
def blob(data, mt):
    d = hashlib.sha256(data).hexdigest()
    open(f"{root}/blobs/sha256/{d}", "wb").write(data)
    return {"mediaType": mt, "digest": "sha256:" + d, "size": len(data)}
# Real gzip streams (of incompressible bytes): skopeo would otherwise compress "uncompressed" layers and change their digests.
layers = [blob(gzip.compress(os.urandom(n), compresslevel=1, mtime=0), "application/vnd.oci.image.layer.v1.tar+gzip") for n in (1 << 20, 16 << 20)]
cfg = blob(json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": [l["digest"] for l in layers]}}).encode(), "application/vnd.oci.image.config.v1+json")
man = blob(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": cfg, "layers": layers}).encode(), "application/vnd.oci.image.manifest.v1+json")
man["annotations"] = {"org.opencontainers.image.ref.name": "docker.io/library/bench:1"}
json.dump({"schemaVersion": 2, "manifests": [man]}, open(f"{root}/index.json", "w"))
open(f"{root}/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
print(layers[0]["digest"], layers[1]["digest"], file=open(f"{root}/../digests", "w"))
PY
read -r small big < "$work/digests"
# 1b. The same layout as a registry host holds it: each layer blob inside a one-member tar (an image-blob layer, ustar as the
#     SDK writes it) in a content store, linked from in-store/sha256/<blob hex>; the blob files are not there.
python3 - "$work/layout" "$work/linked" "$work/store" <<'PY'
import hashlib, io, os, shutil, sys, tarfile
src, dst, store = sys.argv[1:]
shutil.copytree(src, dst)
os.makedirs(f"{store}/blobs/sha256", exist_ok=True); os.makedirs(f"{dst}/in-store/sha256", exist_ok=True)
for line in open(f"{src}/../digests"):
    for d in line.split():
        hexd = d.split(":")[1]
        data = open(f"{src}/blobs/sha256/{hexd}", "rb").read()
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as t:
            info = tarfile.TarInfo(f"registry/blobs/sha256/{hexd}"); info.size = len(data); info.mode = 0o644; info.mtime = 0
            t.addfile(info, io.BytesIO(data))
        layer = buf.getvalue(); lhex = hashlib.sha256(layer).hexdigest()
        open(f"{store}/blobs/sha256/{lhex}", "wb").write(layer)
        os.remove(f"{dst}/blobs/sha256/{hexd}")
        os.symlink(f"{store}/blobs/sha256/{lhex}", f"{dst}/in-store/sha256/{hexd}")
PY

# 2. Debian docker-registry, seeded with skopeo.
mkdir -p "$work/dr"
cat > "$work/dr/config.yml" <<YML
version: 0.1
log: { level: error, accesslog: { disabled: true } }
storage: { filesystem: { rootdirectory: $work/dr/data }, delete: { enabled: false } }
http: { addr: 127.0.0.1:$theirs_port }
YML
docker-registry serve "$work/dr/config.yml" >"$work/dr/log" 2>&1 & pids+=($!); theirs_pid=$!
# 3. Ours, serving the layout as-is.
"$sealer" registry serve --layout "$work/layout" --address 127.0.0.1 --port $ours_port >"$work/ours.log" 2>&1 & pids+=($!); ours_pid=$!
"$sealer" registry serve --layout "$work/linked" --address 127.0.0.1 --port $linked_port >"$work/linked.log" 2>&1 & pids+=($!)
ports="$ours_port $theirs_port $linked_port"
if [ -n "$before" ]; then
  "$before" registry serve --layout "$work/layout" --address 127.0.0.1 --port $before_port >"$work/before.log" 2>&1 & pids+=($!)
  ports="$ports $before_port"
fi
for port in $ports; do
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.1; done
done
skopeo copy -q --dest-tls-verify=false "oci:$work/layout:docker.io/library/bench:1" "docker://127.0.0.1:$theirs_port/library/bench:1" >/dev/null
for d in $small $big; do
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$theirs_port/v2/library/bench/blobs/$d")
  [ "$code" = 200 ] || { echo "registry-bench: docker-registry does not serve $d after the push (HTTP $code)" >&2; exit 1; }
done
rss() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
ours_idle=$(rss $ours_pid); theirs_idle=$(rss $theirs_pid)

accept='Accept: application/vnd.oci.image.manifest.v1+json'
# wrk prints e.g. "Requests/sec:  12345.67", "Transfer/sec:  1.23GB" and, with --latency, "99%  1.23ms".
run() { # $1 port, $2 path, $3 connections -> "rps mbps p99ms"
  local threads=$(( $3 < 2 ? 1 : 2 ))
  wrk -t$threads -c"$3" -d"${secs}s" --latency -H "$accept" "http://127.0.0.1:$1$2" > "$work/wrk.out" 2>&1
  python3 - "$work/wrk.out" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
def unit(v, u, table): return float(v) * table[u]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
m = re.search(r"Transfer/sec:\s+([\d.]+)(B|KB|MB|GB)", t)
mbps = unit(m.group(1), m.group(2), {"B": 1/1048576, "KB": 1/1024, "MB": 1, "GB": 1024})
m = re.search(r"^\s*99%\s+([\d.]+)(us|ms|s)\s*$", t, re.M)
p99 = unit(m.group(1), m.group(2), {"us": 0.001, "ms": 1, "s": 1000})
errs = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
if errs: print(f"WARNING: {errs.group(1)} non-2xx responses", file=sys.stderr)
print(f"{rps:.0f} {mbps:.1f} {p99:.2f}")
PY
}
printf "%-22s %5s | %10s %9s %9s | %10s %9s %9s | %8s %8s | %12s %9s\n" case conns "ours req/s" "MB/s" "p99 ms" "dist req/s" "MB/s" "p99 ms" "req/s x" "p99 x" "before req/s" "x before"
for case in "manifest:/v2/library/bench/manifests/1" "blob-1MiB:/v2/library/bench/blobs/$small" "blob-16MiB:/v2/library/bench/blobs/$big" \
            "blob-1MiB-linked:/v2/library/bench/blobs/$small" "blob-16MiB-linked:/v2/library/bench/blobs/$big"; do
  name="${case%%:*}"; path="${case#*:}"
  port=$ours_port; case "$name" in *-linked) port=$linked_port ;; esac
  for c in 1 64; do
    read -r o_rps o_mb o_p99 < <(run $port "$path" $c)
    read -r t_rps t_mb t_p99 < <(run $theirs_port "$path" $c)
    b_rps=-; bratio=-
    if [ -n "$before" ] && [ $port = $ours_port ]; then read -r b_rps _ _ < <(run $before_port "$path" $c); bratio=$(python3 -c "print(f'{$o_rps/max($b_rps,1e-9):.2f}')"); fi
    ratio=$(python3 -c "print(f'{$o_rps/max($t_rps,1e-9):.2f}')"); pratio=$(python3 -c "print(f'{$o_p99/max($t_p99,1e-9):.2f}')")
    printf "%-22s %5s | %10s %9s %9s | %10s %9s %9s | %8s %8s | %12s %9s\n" "$name" "$c" "$o_rps" "$o_mb" "$o_p99" "$t_rps" "$t_mb" "$t_p99" "$ratio" "$pratio" "$b_rps" "$bratio"
  done
done
echo
echo "memory (RSS MiB): ours idle $ours_idle, after load $(rss $ours_pid); docker-registry idle $theirs_idle, after load $(rss $theirs_pid)  (target: ours idle < 50)"
echo "binary: $(stat -c %s "$sealer") bytes ($sealer)"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
echo "req/s x = ours/docker-registry throughput (higher is better); p99 x = ours/docker-registry p99 latency (lower is better)"
