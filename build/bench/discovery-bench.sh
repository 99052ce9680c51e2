#!/usr/bin/env bash
# Image discovery over the whole chart corpus: Sealer's find-images (NativeAOT binary) vs `helm template`, same run,
# process start included. Not a test. Usage: build/bench/discovery-bench.sh [ROUNDS]   (default 3; best round counts)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
corpus="$root/tests/Sealer.Charts.Tests/corpus"
rounds="${1:-3}"
helm="$root/artifacts/tools/helm3"
[ -x "$helm" ] || bash "$root/build/install-test-deps.sh"
sealer="$root/artifacts/bench/sealer-aot/sealer"
if [ ! -x "$sealer" ] || [ -n "$(find "$root/src" -name '*.cs' -newer "$sealer" -print -quit)" ]; then
  echo "publishing the NativeAOT sealer..." >&2
  dotnet publish "$root/src/Sealer.Cli" -c Release -r linux-x64 -o "$root/artifacts/bench/sealer-aot" >/dev/null
fi

# The charts both tools render with default values (charts that need values, or that Sealer cannot render yet, are skipped).
charts=()
for d in "$corpus"/*/; do
  c="$(basename "$d")"
  [ -f "$d/Chart.yaml" ] || continue
  grep -qE "^crash $c( |$)" "$corpus/known-differences.txt" 2>/dev/null && continue
  "$helm" template release-name "$d" --skip-schema-validation >/dev/null 2>&1 || continue
  "$sealer" find-images "$d" >/dev/null 2>&1 || continue
  charts+=("$d")
done
echo "charts: ${#charts[@]} of $(ls -d "$corpus"/*/Chart.yaml | wc -l) in the corpus (rendered by both)"

now() { date +%s%N; }
best_helm=0; best_one=0; best_each=0
for r in $(seq "$rounds"); do
  t0=$(now)
  for d in "${charts[@]}"; do "$helm" template release-name "$d" --skip-schema-validation >/dev/null 2>&1; done
  t1=$(now)
  "$sealer" find-images "${charts[@]}" >/dev/null
  t2=$(now)
  for d in "${charts[@]}"; do "$sealer" find-images "$d" >/dev/null; done
  t3=$(now)
  h=$(( (t1 - t0) / 1000000 )); o=$(( (t2 - t1) / 1000000 )); e=$(( (t3 - t2) / 1000000 ))
  echo "round $r: helm template (1 process per chart) ${h} ms | sealer find-images (1 process, all charts) ${o} ms | sealer find-images (1 process per chart) ${e} ms"
  if [ "$best_helm" = 0 ] || [ "$h" -lt "$best_helm" ]; then best_helm=$h; fi
  if [ "$best_one" = 0 ] || [ "$o" -lt "$best_one" ]; then best_one=$o; fi
  if [ "$best_each" = 0 ] || [ "$e" -lt "$best_each" ]; then best_each=$e; fi
done
images=$("$sealer" find-images "${charts[@]}" | wc -l)
echo "best: helm ${best_helm} ms, sealer all-in-one ${best_one} ms, sealer per chart ${best_each} ms; ${images} distinct images"
awk -v h="$best_helm" -v o="$best_one" -v e="$best_each" 'BEGIN { printf "ratio helm/sealer: %.2fx (all-in-one), %.2fx (per chart); >1 means sealer is faster\n", h/o, h/e }'
