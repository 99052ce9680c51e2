#!/usr/bin/env bash
# Delivery benchmark (not a test): distributes cluster images to 1, 3 and 6 SSH hosts (network namespaces from
# build/test-hosts.sh, 10.200.0.0/24 only) with `sealer run` (BlobDistributor: per-host layer selection, bounded
# parallelism, host-to-host relay, system ssh for big blobs) and with `scp` of the same blobs to each host in turn, in
# the same run, and prints times and N-host/1-host ratios. The hosts are global on this machine: run it under the lock.
#
#   flock /run/sealer-netns.lock build/bench/deliver-bench.sh [SIZE_MB (default 1024)] [HOST_COUNTS (default "1 3 6")]
#   SEALER_BIN=artifacts/cli/linux-x64/sealer ...   a NativeAOT build (bash build/publish-cli.sh linux-x64), no JIT noise;
#                                                   default: the Release/Debug sealer.dll through dotnet
#   SEALER_BENCH_IMAGES="app rootfs"                which images (default app and rootfs; also scale: build/bench/deliver-bench-image.py):
#       app    realistic: ~15% rootfs, ~85% app image content (image-blob layers + registry layer). Host 1 is the master
#              and runs the registry (needs everything); the others are nodes (need the rootfs only).
#       rootfs worst case: everything is rootfs, every host needs all of it.
#   SEALER_BENCH_TRANSPORTS="openssh ssh.net"       sealer variants: the default (system ssh for big blobs) and
#                                                   SEALER_SYSTEM_SSH=0 (SSH.NET only); baseline: the default with
#                                                   SEALER_BASELINE_BIN (another sealer, e.g. main's) for a before/after;
#                                                   alt: the same with SEALER_ALT_BIN (a variant)
#
# 'distribute' is the distribute step as sealer reports it; 'run' the whole `sealer run` (unpack included). scp copies
# to each host in turn the blobs that host needs (all for the master, the rootfs layers for the nodes): the same bytes
# sealer sends, but with no digest check on arrival. Everything it creates is removed at the end (SEALER_BENCH_KEEP=1 keeps
# the images and the time-stamped `sealer run` logs in the work directory). Needs root.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
size_mb="${1:-1024}"
counts="${2:-1 3 6}"
images="${SEALER_BENCH_IMAGES:-app rootfs}"
transports="${SEALER_BENCH_TRANSPORTS:-openssh ssh.net}"
work="${SEALER_BENCH_DIR:-$root/artifacts/bench/deliver}"
[ "$(id -u)" = 0 ] || { echo "deliver-bench: must run as root (network namespaces)" >&2; exit 1; }
for t in python3 scp ssh; do command -v "$t" >/dev/null || { echo "deliver-bench: $t is missing (build/install-test-deps.sh)" >&2; exit 1; }; done
max=0; for n in $counts; do [ "$n" -gt "$max" ] && max=$n; done

cleanup() { bash "$root/build/test-hosts.sh" down >/dev/null 2>&1 || true; [ -n "${SEALER_BENCH_KEEP:-}" ] || rm -rf "$work"; }
trap cleanup EXIT
rm -rf "$work"; mkdir -p "$work"

source "$here/bench-sealer.sh"
sealer="$(bench_sealer deliver-bench "$work")"

for img in $images; do
  echo "deliver-bench: generating the ${size_mb} MB '$img' image ..." >&2
  python3 "$here/deliver-bench-image.py" "$work/image-$img" "$size_mb" "$img"
done

bash "$root/build/test-hosts.sh" down >/dev/null 2>&1 || true
bash "$root/build/test-hosts.sh" up "$max" >&2
hj="$root/artifacts/test-hosts/hosts.json"
key=$(python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['privateKey'])" "$hj")
kh=$(python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['knownHosts'])" "$hj")
mapfile -t roots < <(python3 -c "import json,sys;[print(h['root']) for h in json.load(open(sys.argv[1]))['hosts']]" "$hj")
# CPU s so far of every host's sshd with its reaped children (the sessions' shells, cat, openssl, tar: the hosts' side)
hosts_cpu() { local t f; t=$(getconf CLK_TCK); for f in "$root"/artifacts/test-hosts/h*/sshd.pid; do awk -v t="$t" '{ sub(/^.*\) /, ""); print ($12 + $13 + $14 + $15) / t }' "/proc/$(cat "$f")/stat"; done | awk '{ s += $1 } END { printf "%.2f", s }'; }
wipe() { for r in "${roots[@]}"; do rm -rf "$r/var/lib/sealer/"* "$r/etc/containerd/"* "$r/tmp/"* 2>/dev/null || true; done; sync; }
now() { date +%s.%N; }
ratio() { python3 -c "import sys; a, b = (float(x) if x not in ('?', '') else 0 for x in sys.argv[1:]); print(f'{a / b:.2f}' if b else '?')" "$1" "$2"; }

declare -A t_run t_dist t_scp c_run c_scp
for img in $images; do
  for n in $counts; do
    { printf 'apiVersion: sealer.io/v2\nkind: Cluster\nmetadata:\n  name: bench\nspec:\n  image: bench/deliver:v1\n  ssh:\n    pk: %s\n  hosts:\n    - ips: [10.200.0.11]\n      roles: [master]\n' "$key"
      [ "$n" -gt 1 ] && printf '    - ips: [10.200.0.12-10.200.0.%d]\n      roles: [node]\n' $((10 + n)); } > "$work/Clusterfile"
    for tr in $transports; do
      wipe
      k="$img/$n/$tr"; log="$work/run-$img-$n-$tr.log"
      use_ssh=1; [ "$tr" = ssh.net ] && use_ssh=0
      run_sealer="$sealer"; [ "$tr" = baseline ] && run_sealer="${SEALER_BASELINE_BIN:?baseline needs SEALER_BASELINE_BIN}"
      [ "$tr" = alt ] && run_sealer="${SEALER_ALT_BIN:?alt needs SEALER_ALT_BIN}"
      s=$(now); h0=$(hosts_cpu)
      # every output line time-stamped: the distribute step is from its start line to the unpack step's start line
      SEALER_SYSTEM_SSH=$([ $use_ssh = 1 ] && echo "" || echo 0) /usr/bin/time -o "$work/cpu" -f '%U %S' "$run_sealer" run -f "$work/Clusterfile" --image "$work/image-$img" --known-hosts "$kh" \
          --sealer-binary "$run_sealer" --state-dir "$work/state" 2>&1 \
        | python3 -u -c 'import sys,time
for l in sys.stdin: print(f"{time.time():.3f} {l}", end="")' > "$log" \
        || { cat "$log" >&2; echo "deliver-bench: sealer run failed" >&2; exit 1; }
      t_run[$k]=$(python3 -c "print(f'{$(now)-$s:.1f}')")
      sleep 0.5; c_run[$k]="$(awk '{ printf "%.1f", $1 + $2 }' "$work/cpu") + $(python3 -c "print(f'{$(hosts_cpu)-$h0:.1f}')")"
      # stop what the run started on the hosts (the registry) before the next round
      "$run_sealer" delete -f "$work/Clusterfile" --all --yes --known-hosts "$kh" --state-dir "$work/state" >> "$work/delete.log" 2>&1 \
        || { cat "$work/delete.log" >&2; echo "deliver-bench: sealer delete failed" >&2; exit 1; }
      t_dist[$k]=$(python3 -c '
import re, sys
ts = {}
for l in open(sys.argv[1], errors="replace"):
    m = re.match(r"([0-9.]+) (distribute|unpack) ", l)
    if m and m.group(2) not in ts: ts[m.group(2)] = float(m.group(1))
print("%.1f" % (ts["unpack"] - ts["distribute"]) if len(ts) == 2 else "?")' "$log")
      echo "deliver-bench: $img, $n host(s), sealer ($tr): distribute ${t_dist[$k]} s, run ${t_run[$k]} s (CPU s this machine + hosts ${c_run[$k]})" >&2
    done
    wipe
    s=$(now); h0=$(hosts_cpu); c0=$(awk '{ print $14 + $15 + $16 + $17 }' /proc/$$/stat)
    for i in $(seq 1 "$n"); do
      ip="10.200.0.$((10 + i))"
      list="$work/image-$img/node.list"; [ "$i" = 1 ] && list="$work/image-$img/master.list"
      ssh -q -i "$key" -o UserKnownHostsFile="$kh" -o StrictHostKeyChecking=yes -o BatchMode=yes "root@$ip" 'mkdir -p /var/lib/sealer/scp'
      scp -q -i "$key" -o UserKnownHostsFile="$kh" -o StrictHostKeyChecking=yes -o BatchMode=yes $(sed "s|^|$work/image-$img/blobs/sha256/|" "$list") "root@$ip:/var/lib/sealer/scp/"
    done
    t_scp[$img/$n]=$(python3 -c "print(f'{$(now)-$s:.1f}')")
    sleep 0.5; c_scp[$img/$n]="$(awk -v c0="$c0" -v t="$(getconf CLK_TCK)" '{ printf "%.1f", ($14 + $15 + $16 + $17 - c0) / t }' /proc/$$/stat) + $(python3 -c "print(f'{$(hosts_cpu)-$h0:.1f}')")"
    echo "deliver-bench: $img, $n host(s), scp in turn: ${t_scp[$img/$n]} s, CPU s (this machine + hosts) ${c_scp[$img/$n]}" >&2
  done
done
wipe

echo
echo "hosts: netns sshd on this one machine ($(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GB), all sharing its CPU and disk; sealer: $sealer"
for img in $images; do
  read -r all rootfs < "$work/image-$img/sizes"
  echo
  echo "image '$img': $((all / 1048576)) MiB, $((rootfs / 1048576)) MiB of it rootfs (a node gets the rootfs, the master everything)"
  printf '| hosts |'; for tr in $transports; do printf ' distribute (%s) | run (%s) |' "$tr" "$tr"; done; printf ' scp in turn |\n'
  printf '|---|'; for tr in $transports; do printf -- '---|---|'; done; printf -- '---|\n'
  for n in $counts; do
    printf '| %s |' "$n"; for tr in $transports; do printf ' %s s | %s s |' "${t_dist[$img/$n/$tr]}" "${t_run[$img/$n/$tr]}"; done; printf ' %s s |\n' "${t_scp[$img/$n]}"
  done
  first=""; for n in $counts; do [ -z "$first" ] && first=$n; done
  for n in $counts; do
    [ "$n" = "$first" ] && continue
    printf '%s hosts / %s host:' "$n" "$first"
    for tr in $transports; do printf '  sealer distribute (%s) %sx' "$tr" "$(ratio "${t_dist[$img/$n/$tr]}" "${t_dist[$img/$first/$tr]}")"; done
    printf '  scp in turn %sx\n' "$(ratio "${t_scp[$img/$n]}" "${t_scp[$img/$first]}")"
  done
done
