#!/usr/bin/env bash
# Upgrade benchmark (not a test): a ~1 GiB cluster image v1 installed on two netns SSH hosts (build/test-hosts.sh:
# 10.200.0.11 master + registry, 10.200.0.12 node), then upgraded to v2, in which one 50 MiB app image blob changed,
# shipped as a delta (`sealer save --since v1 v2`) and run as one (`sealer run --image delta.tar`, the site store holding
# v1). Measures the delta's size against the changed bytes (target: within 1%) and what the upgrade moved to each host:
# the bytes its network interface received (eth0 RX counter: blobs, SSH, state saves, everything) and what its content
# store grew by (target for the registry host: at most the changed bytes + a small fixed overhead; the node: ~nothing).
# The hosts are global on this machine: run it under the lock; it brings them down at the end.
#
#   flock /work/wt/hosts.lock build/bench/upgrade-bench.sh [SIZE_MB (default 1024)] [CHANGED_MB (default 50)]
#   SEALER_BIN=artifacts/cli/linux-x64/sealer ...   a NativeAOT build; default: the Release/Debug sealer.dll through dotnet
#
# Content is random (incompressible). Needs root (network namespaces).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
size_mb="${1:-1024}"
changed_mb="${2:-50}"
work="${SEALER_BENCH_DIR:-$root/artifacts/bench/upgrade}"
[ "$(id -u)" = 0 ] || { echo "upgrade-bench: must run as root (network namespaces)" >&2; exit 1; }
for t in python3 ip; do command -v "$t" >/dev/null || { echo "upgrade-bench: $t is missing (build/install-test-deps.sh)" >&2; exit 1; }; done

cleanup() { bash "$root/build/test-hosts.sh" down >/dev/null 2>&1 || true; [ -n "${SEALER_BENCH_KEEP:-}" ] || rm -rf "$work"; }
trap cleanup EXIT
rm -rf "$work"; mkdir -p "$work"

source "$here/bench-sealer.sh"
sealer="$(bench_sealer upgrade-bench "$work")"

echo "upgrade-bench: generating v1 and v2 (${size_mb} MiB, ${changed_mb} MiB changed) ..." >&2
read -r changed image_bytes < <(python3 "$here/upgrade-bench-image.py" "$work/images" "$size_mb" "$changed_mb")

# the build side: both images in a store, the delta saved from it; the site: a store holding v1 only
export SEALER_IMAGES_DIR="$work/build-store"
"$sealer" load -i "$work/images/v1" >/dev/null
"$sealer" load -i "$work/images/v2" >/dev/null
s=$(date +%s.%N)
"$sealer" save --since bench/deliver:v1 bench/deliver:v2 -o "$work/delta.tar" >/dev/null
t_save=$(python3 -c "print(f'{$(date +%s.%N)-$s:.1f}')")
delta=$(stat -c %s "$work/delta.tar")
export SEALER_IMAGES_DIR="$work/site-store"
"$sealer" load -i "$work/images/v1" >/dev/null

bash "$root/build/test-hosts.sh" down >/dev/null 2>&1 || true
bash "$root/build/test-hosts.sh" up 2 >&2
hj="$root/artifacts/test-hosts/hosts.json"
key=$(python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['privateKey'])" "$hj")
kh=$(python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['knownHosts'])" "$hj")
mapfile -t roots < <(python3 -c "import json,sys;[print(h['root']) for h in json.load(open(sys.argv[1]))['hosts']]" "$hj")
printf 'apiVersion: sealer.io/v2\nkind: Cluster\nmetadata:\n  name: bench\nspec:\n  image: bench/deliver:v1\n  ssh:\n    pk: %s\n  hosts:\n    - ips: [10.200.0.11]\n      roles: [master]\n    - ips: [10.200.0.12]\n      roles: [node]\n' "$key" > "$work/Clusterfile"
run() { "$sealer" run -f "$work/Clusterfile" --known-hosts "$kh" --sealer-binary "$sealer" --state-dir "$work/state" "$@" >> "$work/run.log" 2>&1 \
          || { tail -40 "$work/run.log" >&2; echo "upgrade-bench: sealer run $* failed" >&2; exit 1; }; }
rx() { ip -n "sealer-h$1" -s -j link show eth0 | python3 -c "import json,sys; print(json.load(sys.stdin)[0]['stats64']['rx']['bytes'])"; }
store_bytes() { du -sb "${roots[$(($1 - 1))]}/var/lib/sealer/data/.store/blobs" | cut -f1; }

echo "upgrade-bench: installing v1 (from the site store, by name) ..." >&2
run
rx1=$(rx 1) rx2=$(rx 2) st1=$(store_bytes 1) st2=$(store_bytes 2)
echo "upgrade-bench: upgrading to v2 with the delta ..." >&2
s=$(date +%s.%N)
run --image "$work/delta.tar"
t_up=$(python3 -c "print(f'{$(date +%s.%N)-$s:.1f}')")
rx1b=$(rx 1) rx2b=$(rx 2) st1b=$(store_bytes 1) st2b=$(store_bytes 2)
grep -q "upgrade          done" "$work/run.log" || { tail -40 "$work/run.log" >&2; echo "upgrade-bench: no upgrade happened" >&2; exit 1; }

python3 - "$size_mb" "$changed_mb" "$changed" "$image_bytes" "$delta" "$((rx1b - rx1))" "$((rx2b - rx2))" "$((st1b - st1))" "$((st2b - st2))" "$t_save" "$t_up" <<'PY'
import sys
size_mb, changed_mb, changed, image, delta, rx1, rx2, st1, st2 = map(int, sys.argv[1:10])
t_save, t_up = sys.argv[10:12]
MB = 1 << 20
f = lambda n: f"{n} ({n / MB:.2f} MiB)"
print(f"upgrade-bench: {image / MB:.0f} MiB cluster image, one {changed_mb} MiB app blob changed; 2 netns hosts (master+registry, node)")
print()
print("| what | bytes | ratio |")
print("|---|---|---|")
print(f"| changed bytes (blobs v2 has that v1 lacks) | {f(changed)} | 1 |")
print(f"| delta archive (`sealer save --since`, {t_save} s) | {f(delta)} | **{delta / changed:.4f}x** ({(delta - changed) / changed * 100:+.2f}%; target within 1%) |")
print(f"| registry host: received on eth0 during the upgrade | {f(rx1)} | **{rx1 / changed:.4f}x** (overhead {f(rx1 - changed)}) |")
print(f"| registry host: content store grew by | {f(st1)} | {st1 / changed:.4f}x |")
print(f"| node: received on eth0 during the upgrade | {f(rx2)} | {rx2 / changed:.4f}x |")
print(f"| node: content store grew by | {f(st2)} | {st2 / changed:.4f}x |")
print(f"| the whole upgrade (`sealer run --image delta.tar`) | {t_up} s | |")
PY
