#!/usr/bin/env bash
# Pull benchmark: Sealer's ImagePuller vs skopeo, same images, same loopback registry, same run.
#   - >= 20 images, >= 500 MB, sharing base layers, served by a loopback docker-registry (port SEALER_TEST_PORT_BASE+20)
#   - cold pull with our client (build/bench/PullBench) into an empty cache
#   - skopeo copy of the same images into an OCI layout, sequentially, and as 4 parallel skopeo processes (one layout each)
#   - peak memory (/usr/bin/time -v) of our client caching one image with a 1 GB layer
#   - one image with a single 1 GB layer: parallel ranged pull (default), one stream (--ranges 1), ranged hashed after the
#     last range (--hash-at-end), and skopeo copy, interleaved, in MB/s of the image's bytes
# Usage: build/bench/pull-bench.sh [BIG_LAYER_MB (default 1000)]   (PULL_BENCH_RUNS=3 interleaved rounds, medians;
#        PULL_BENCH_ONLY=big runs only the single-big-layer rows, PULL_BENCH_ONLY=many only the 22 images)
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
  echo "publishing the benchmark client (NativeAOT; PULL_BENCH_JIT=1 builds a JIT client instead, much quicker on a busy box)..." >&2
  if [ "${PULL_BENCH_JIT:-0}" != 1 ] && dotnet publish "$here/PullBench/PullBench.csproj" -c Release -r linux-x64 -p:PublishAot=true -nologo -v:q -o "$work/pullbench" > "$work/pullbench-build.log" 2>&1; then
    :
  else
    [ "${PULL_BENCH_JIT:-0}" = 1 ] || echo "NativeAOT publish failed (see $work/pullbench-build.log); using a JIT build" >&2
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

only="${PULL_BENCH_ONLY:-}"
if [ "$only" != big ]; then
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

fi

# 4. one image with a single big layer: ranged vs one stream vs skopeo, interleaved (the cache is emptied before each run;
#    the registry's files stay in the page cache, as they would on a registry host with enough memory)
#    PULL_BENCH_OUT=DIR puts these caches elsewhere (e.g. /dev/shm: takes this disk's write speed out of the comparison).
#    The floor: writing the same bytes with dd and fsync (what every variant must do at least) into the same directory.
read -r big_blob big_total < <(python3 "$info" bigsize "$work/served.json")
out="${PULL_BENCH_OUT:-$work}"
mkdir -p "$out"
run_big() { # args for the bench client -> seconds
  rm -rf "$out/cache-big"
  local t0 t1; t0=$(now); "${bench[@]}" --cache "$out/cache-big" "$@" "$big_ref" >&2; t1=$(now)
  rm -rf "$out/cache-big"
  secs "$t0" "$t1"
}
run_big_skopeo() {
  rm -rf "$out/oci-big"
  local t0 t1; t0=$(now); skopeo copy --quiet --src-tls-verify=false "docker://$big_ref" "oci:$out/oci-big:big"; t1=$(now)
  rm -rf "$out/oci-big"
  secs "$t0" "$t1"
}
run_big_dd() {
  local t0 t1; t0=$(now); dd if=/dev/zero of="$out/dd.tmp" bs=1M count=$((big_total / 1048576)) conv=fsync status=none; t1=$(now)
  rm -f "$out/dd.tmp"
  secs "$t0" "$t1"
}
if [ "$only" != many ]; then
  r_all=(); o_all=(); e_all=(); k_all=(); d_all=()
  for round in $(seq "$runs"); do
    r_all+=("$(run_big)"); o_all+=("$(run_big --ranges 1)"); e_all+=("$(run_big --hash-at-end)"); k_all+=("$(run_big_skopeo)"); d_all+=("$(run_big_dd)")
    echo "big layer round $round: ranged ${r_all[-1]} s, one stream ${o_all[-1]} s, ranged+hash at end ${e_all[-1]} s, skopeo ${k_all[-1]} s, dd+fsync ${d_all[-1]} s (load $(cut -d' ' -f1 /proc/loadavg))" >&2
  done
  python3 - "$big_total" "$big_blob" "$out" "$(median "${r_all[@]}")" "$(median "${o_all[@]}")" "$(median "${e_all[@]}")" "$(median "${k_all[@]}")" "$(median "${d_all[@]}")" <<'PY'
import sys
total, blob, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
r, o, e, k, d = map(float, sys.argv[4:9])
print(f"single big layer ({blob/1e6:.0f} MB layer, {total/1e6:.0f} MB image) into {out}, median of rounds:")
print("| variant | time | MB/s | vs skopeo |")
print("|---|---|---|---|")
for name, t in (("sealer, 4 parallel ranges (default)", r), ("sealer, one stream (--ranges 1)", o), ("sealer, 4 ranges, hashed after the last range", e), ("skopeo copy", k), ("floor: dd of the same bytes + fsync", d)):
    print(f"| {name} | {t:.2f} s | {total/1e6/t:.0f} | {k/t:.2f}x |")
print(f"ranged vs one stream: {o/r:.2f}x (target: >= 400 MB/s ranged)")
PY
fi

# 5. memory while caching a 1 GB layer
rm -rf "$work/cache-big"
/usr/bin/time -v "${bench[@]}" --cache "$work/cache-big" "$big_ref" 2> "$work/time-big.txt"
rss_kb=$(grep 'Maximum resident set size' "$work/time-big.txt" | awk '{print $NF}')
echo "peak RSS caching a ${big_mb} MB layer: $((rss_kb / 1024)) MB (target < 300 MB)"
rm -rf "$work/cache-big" "$work/cache-sealer" "$work"/oci-*
