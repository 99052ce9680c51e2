#!/usr/bin/env bash
# SSH throughput benchmark (issue 17, the distribute step; not a test): one file of SIZE_MB random bytes streamed to
# netns test host 1 (build/test-hosts.sh) into `cat > /dev/null` (the transport alone; no disk, no hash) by
#   - SSH.NET (build/bench/SshBench) with its default cipher preference, then with each AEAD cipher first;
#   - OpenSSH `ssh HOST 'cat > /dev/null' < FILE` with aes128-gcm (what sealer's system-ssh path asks for) and default;
#   - `scp FILE HOST:/dev/null` (the scale-bench floor's tool, OpenSSH defaults);
# each with wall, this machine's client CPU and the host sshd's CPU (its listener's reaped children: the session sshd and cat).
#   flock /work/wt/bench.lock flock /work/wt/hosts.lock build/bench/ssh-throughput-bench.sh [SIZE_MB (1024)]
# Needs root. SSHBENCH_DIR: scratch (default artifacts/bench/ssh); the hosts go down at the end.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
size_mb="${1:-1024}"
work="${SSHBENCH_DIR:-$root/artifacts/bench/ssh}"
mkdir -p "$work"
export SEALER_TEST_HOSTS_DIR="$work/test-hosts"
cleanup() { bash "$root/build/test-hosts.sh" down >/dev/null 2>&1 || true; rm -f "$work/data.bin"; }
trap cleanup EXIT
dotnet build "$here/SshBench/SshBench.csproj" -c Release -nologo -v:q -o "$work/bin" >/dev/null
head -c $((size_mb * 1048576)) /dev/urandom > "$work/data.bin"
cat "$work/data.bin" > /dev/null
bash "$root/build/test-hosts.sh" down >/dev/null 2>&1 || true
bash "$root/build/test-hosts.sh" up 1 >&2
hj="$SEALER_TEST_HOSTS_DIR/hosts.json"
key=$(python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['privateKey'])" "$hj")
kh=$(python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['knownHosts'])" "$hj")
sshd_pid=$(cat "$SEALER_TEST_HOSTS_DIR/h1/sshd.pid")
tck=$(getconf CLK_TCK)
# the listener's own + reaped children's CPU (utime stime cutime cstime), seconds
sshd_cpu() { awk -v t="$tck" '{ sub(/^.*\) /, ""); print ($12 + $13 + $14 + $15) / t }' "/proc/$sshd_pid/stat"; }
o=(-i "$key" -o UserKnownHostsFile="$kh" -o StrictHostKeyChecking=yes -o BatchMode=yes)
# run NAME CMD...: CMD's wall and CPU (its reaped tree: /usr/bin/time), the sshd's CPU in between
run() {
  local name="$1"; shift
  local s0 s1 out
  s0=$(sshd_cpu)
  out=$( { /usr/bin/time -f 'TIME %e %U %S' "$@" 2>&1 >&3; } 3>&1 )
  sleep 0.3; s1=$(sshd_cpu)
  python3 - "$name" "$size_mb" "$s0" "$s1" "$out" <<'PY'
import re, sys
name, mb, s0, s1, out = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
t = re.search(r"TIME ([0-9.]+) ([0-9.]+) ([0-9.]+)", out)
wall, cpu = float(t.group(1)), float(t.group(2)) + float(t.group(3))
algo = " ".join(w for w in out.split() if w.startswith(("kex=", "cipher=", "mac=")))
if not algo:
    k = re.search(r"kex: algorithm: (\S+)", out)
    c = re.search(r"kex: client->server cipher: (\S+) MAC: (\S+)", out)
    algo = f"kex={k.group(1) if k else '?'} cipher={c.group(1) if c else '?'} mac={c.group(2) if c else '?'}"
print(f"| {name} | {wall:.2f} | {mb * 1.048576 / wall:.0f} | {cpu:.2f} | {s1 - s0:.2f} | {cpu + s1 - s0:.2f} | {(cpu + s1 - s0) / (mb / 1024):.2f} | {algo} |")
PY
}
bench=(dotnet "$work/bin/sealer-ssh-bench.dll" --host 10.200.0.11 --key "$key" --file "$work/data.bin")
echo
echo "$(date -u '+%F %T') UTC, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), ${size_mb} MiB into 'cat > /dev/null' on 10.200.0.11"
echo
echo "| client | wall s | MB/s | client CPU s | sshd CPU s | CPU s (both) | CPU s per GiB | negotiated |"
echo "|---|---|---|---|---|---|---|---|"
for rep in 1 2; do
  run "SSH.NET default order" "${bench[@]}"
  run "SSH.NET aes128-gcm first" "${bench[@]}" --cipher aes128-gcm@openssh.com
  run "SSH.NET aes256-gcm first" "${bench[@]}" --cipher aes256-gcm@openssh.com
  run "SSH.NET chacha20-poly1305 first" "${bench[@]}" --cipher chacha20-poly1305@openssh.com
  run "ssh -c aes128-gcm" bash -c "ssh -v ${o[*]} -c aes128-gcm@openssh.com root@10.200.0.11 'cat > /dev/null' < '$work/data.bin'"
  run "ssh (defaults)" bash -c "ssh -v ${o[*]} root@10.200.0.11 'cat > /dev/null' < '$work/data.bin'"
  run "scp (defaults)" bash -c "scp -v ${o[*]} '$work/data.bin' root@10.200.0.11:/dev/null"
  # as sealer's system-ssh path: a session multiplexed over a master connection (its CPU added to the client's)
  ssh "${o[@]}" -c aes128-gcm@openssh.com -M -S "$work/cm" -fN root@10.200.0.11
  mpid=$(ssh -S "$work/cm" -O check root@10.200.0.11 2>&1 | sed -n 's/.*pid=\([0-9]*\).*/\1/p')
  m0=$(awk -v t="$tck" '{ sub(/^.*\) /, ""); print ($12 + $13) / t }' "/proc/$mpid/stat")
  run "ssh -c aes128-gcm via a ControlMaster (client CPU without the master's)" bash -c "ssh -v -S '$work/cm' root@10.200.0.11 'cat > /dev/null' < '$work/data.bin'"
  echo "  (the master ssh's CPU during it: $(awk -v t="$tck" -v m0="$m0" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / t - m0 }' "/proc/$mpid/stat") s)"
  ssh -S "$work/cm" -O exit root@10.200.0.11 2>/dev/null || true
done
