#!/usr/bin/env bash
# Pull benchmark: Sealer's ImagePuller vs skopeo, same images, same loopback registry, same run.
#   - >= 20 images, >= 500 MB, sharing base layers, served by a loopback docker-registry (port SEALER_TEST_PORT_BASE+20)
#   - cold pull with our client (build/bench/PullBench) into an empty cache
#   - skopeo copy of the same images into an OCI layout, sequentially, and as 4 parallel skopeo processes (one layout each)
#   - peak memory (/usr/bin/time -v) of our client caching one image with a 1 GB layer
# Usage: build/bench/pull-bench.sh [BIG_LAYER_MB (default 1000)]   (PULL_BENCH_RUNS=3 interleaved rounds, medians)
# Not a test: prints the numbers. Everything lives in artifacts/bench/ and the registry is stopped at the end.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
base="${SEALER_TEST_PORT_BASE:-5100}"
port=$((base + 20))
big_mb="${1:-1000}"
work="$root/artifacts/bench"
addr="127.0.0.1:$port"
mkdir -p "$work"

regpid=""
cleanup() { if [ -n "$regpid" ]; then kill "$regpid" 2>/dev/null || true; wait "$regpid" 2>/dev/null || true; fi; }
trap cleanup EXIT

# 1. fixtures (cached between runs: deterministic)
fx="$work/fixtures"
sum="$(cat "$root/build/fixtures/gen-fixtures.py" | sha256sum | cut -c1-16)-$big_mb"
if [ "$(cat "$fx/gen.sum" 2>/dev/null)" != "$sum" ]; then
  rm -rf "$fx"
  echo "generating benchmark fixtures..." >&2
  python3 "$root/build/fixtures/gen-fixtures.py" bench "$fx" "$big_mb" >&2
  echo "$sum" > "$fx/gen.sum"
fi

# 2. registry
rm -rf "$work/registry"; mkdir -p "$work/registry/storage"
cat > "$work/registry/config.yml" <<YML
version: 0.1
log: {level: error, formatter: text, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $work/registry/storage}, delete: {enabled: true}}
http: {addr: $addr, secret: bench}
YML
docker-registry serve "$work/registry/config.yml" > "$work/registry/registry.log" 2>&1 &
regpid=$!
for _ in $(seq 100); do curl -fsS -o /dev/null "http://$addr/v2/" 2>/dev/null && break; sleep 0.05; done
cat > "$work/registries.json" <<JSON
{"bench": {"address": "$addr", "storage": "$work/registry/storage"}, "bench-big": {"address": "$addr", "storage": "$work/registry/storage"}}
JSON
echo "pushing benchmark images to $addr..." >&2
python3 "$root/build/fixtures/push-fixtures.py" "$fx" "$work/registries.json" "$work/served.json" --jobs 4

info="$here/bench-info.py"
mapfile -t refs < <(python3 "$info" refs "$work/served.json")
big_ref="$(python3 "$info" big "$work/served.json")"
read -r distinct_mb summed_mb < <(python3 "$info" sizes "$work/served.json")

# 3. our client, NativeAOT as the `sealer` CLI ships (falls back to a JIT build); rebuilt only when Sealer.Core changes
srcsum="$(cat "$here"/PullBench/*.cs "$here"/PullBench/*.csproj $(find "$root/src/Sealer.Core" -name '*.cs' | sort) | sha256sum | cut -c1-16)"
if [ "$(cat "$work/pullbench/src.sum" 2>/dev/null)" != "$srcsum" ]; then
  rm -rf "$work/pullbench"
  echo "publishing the benchmark client (NativeAOT)..." >&2
  if dotnet publish "$here/PullBench/PullBench.csproj" -c Release -r linux-x64 -p:PublishAot=true -nologo -v:q -o "$work/pullbench" > "$work/pullbench-build.log" 2>&1; then
    :
  else
    echo "NativeAOT publish failed (see $work/pullbench-build.log); using a JIT build" >&2
    dotnet build "$here/PullBench/PullBench.csproj" -c Release -nologo -v:q -o "$work/pullbench" > "$work/pullbench-build.log" 2>&1 || { cat "$work/pullbench-build.log"; exit 1; }
  fi
  echo "$srcsum" > "$work/pullbench/src.sum"
fi
if [ -x "$work/pullbench/sealer-pull-bench" ]; then bench=("$work/pullbench/sealer-pull-bench"); else bench=(dotnet "$work/pullbench/sealer-pull-bench.dll"); fi

now() { date +%s.%N; }
secs() { python3 -c "import sys; print(f'{float(sys.argv[2])-float(sys.argv[1]):.2f}')" "$1" "$2"; }

echo "images: ${#refs[@]}, distinct blob bytes: ${distinct_mb} MB (sum over images: ${summed_mb} MB)"

runs="${PULL_BENCH_RUNS:-3}"
run_sealer() {
  rm -rf "$work/cache-sealer"
  local t0 t1; t0=$(now); "${bench[@]}" --cache "$work/cache-sealer" "${refs[@]}" >&2; t1=$(now)
  secs "$t0" "$t1"
}
run_seq() {
  rm -rf "$work/oci-seq"
  local t0 t1 r; t0=$(now)
  for r in "${refs[@]}"; do skopeo copy --quiet --src-tls-verify=false "docker://$r" "oci:$work/oci-seq:${r#*/}"; done
  t1=$(now); secs "$t0" "$t1"
}
run_par() {
  rm -rf "$work"/oci-par-*
  local t0 t1 w workers=(); t0=$(now)
  for w in 0 1 2 3; do
    (
      i=0
      for r in "${refs[@]}"; do
        if [ $((i % 4)) -eq "$w" ]; then skopeo copy --quiet --src-tls-verify=false "docker://$r" "oci:$work/oci-par-$w:${r#*/}"; fi
        i=$((i + 1))
      done
    ) &
    workers+=($!)
  done
  wait "${workers[@]}"
  t1=$(now); secs "$t0" "$t1"
}
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# Interleaved rounds (sealer, sequential, parallel) so background load hits all three alike; medians reported.
s_all=(); q_all=(); p_all=()
for round in $(seq "$runs"); do
  s_all+=("$(run_sealer)"); q_all+=("$(run_seq)"); p_all+=("$(run_par)")
  echo "round $round: sealer ${s_all[-1]} s, skopeo sequential ${q_all[-1]} s, skopeo 4 parallel ${p_all[-1]} s" >&2
done
sealer_s=$(median "${s_all[@]}"); seq_s=$(median "${q_all[@]}"); par_s=$(median "${p_all[@]}")

# sanity: every image is in each result
n_sealer=$(python3 "$info" count "$work/cache-sealer/index.json")
n_seq=$(python3 "$info" count "$work/oci-seq/index.json")

echo "median of $runs rounds (load average now: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores):"
echo "sealer ImagePuller (8 blobs at once):  ${sealer_s} s  (${n_sealer} images)"
echo "skopeo copy, sequential:               ${seq_s} s  (${n_seq} images)"
echo "skopeo copy, 4 parallel processes:     ${par_s} s"
python3 -c "
import sys
s, q, p = map(float, sys.argv[1:4])
best = min(q, p)
print(f'speed-up vs sequential skopeo: {q/s:.2f}x; vs 4 parallel skopeo: {p/s:.2f}x; vs the faster skopeo variant: {best/s:.2f}x (target >= 2x)')
" "$sealer_s" "$seq_s" "$par_s"

# 4. memory while caching a 1 GB layer
rm -rf "$work/cache-big"
/usr/bin/time -v "${bench[@]}" --cache "$work/cache-big" "$big_ref" 2> "$work/time-big.txt"
rss_kb=$(grep 'Maximum resident set size' "$work/time-big.txt" | awk '{print $NF}')
echo "peak RSS caching a ${big_mb} MB layer: $((rss_kb / 1024)) MB (target < 300 MB)"
rm -rf "$work/cache-big" "$work/cache-sealer" "$work"/oci-*
