#!/usr/bin/env bash
# Image discovery over the whole chart corpus: Sealer's find-images (NativeAOT binary) vs `helm template`, same run,
# process start included. Not a test. Usage: build/bench/discovery-bench.sh [ROUNDS] [CORPUS]   (default 3 rounds, best
# round counts; CORPUS: a directory of chart directories, default tests/Sealer.Charts.Tests/corpus; the Bitnami corpus is
# tests/Sealer.Charts.Tests/corpus-bitnami, see its README.md). PER_CHART=1 adds a table of each chart's best times
# (helm template vs one sealer find-images process for that chart).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
rounds="${1:-3}"
corpus="$(cd "${2:-$root/tests/Sealer.Charts.Tests/corpus}" && pwd)"
helm="$root/artifacts/tools/helm3"
[ -x "$helm" ] || bash "$root/build/install-test-deps.sh"
# SEALER=/path/to/sealer runs another build (e.g. an older one for a before/after table); default: the NativeAOT publish.
sealer="${SEALER:-$root/artifacts/bench/sealer-aot/sealer}"
if [ -z "${SEALER:-}" ] && { [ ! -x "$sealer" ] || [ -n "$(find "$root/src" -name '*.cs' -newer "$sealer" -print -quit)" ]; }; then
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
echo "charts: ${#charts[@]} of $(ls -d "$corpus"/*/Chart.yaml | wc -l) in $corpus (rendered by both); load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"

now() { date +%s%N; }
per_chart="$(mktemp)"; trap 'rm -f "$per_chart"' EXIT
best_helm=0; best_one=0; best_each=0
for r in $(seq "$rounds"); do
  t0=$(now)
  for d in "${charts[@]}"; do "$helm" template release-name "$d" --skip-schema-validation >/dev/null 2>&1; done
  t1=$(now)
  "$sealer" find-images "${charts[@]}" >/dev/null
  t2=$(now); each_ns=0
  for d in "${charts[@]}"; do
    if [ "${PER_CHART:-0}" = 1 ]; then
      a=$(now); "$helm" template release-name "$d" --skip-schema-validation >/dev/null 2>&1; b=$(now)
      "$sealer" find-images "$d" >/dev/null; c=$(now)
      echo "$(basename "$d") $(( (b - a) / 1000000 )) $(( (c - b) / 1000000 ))" >> "$per_chart"
      each_ns=$(( each_ns + c - b ))
    else
      "$sealer" find-images "$d" >/dev/null
    fi
  done
  t3=$(now)
  [ "${PER_CHART:-0}" = 1 ] && t3=$(( t2 + each_ns ))

  h=$(( (t1 - t0) / 1000000 )); o=$(( (t2 - t1) / 1000000 )); e=$(( (t3 - t2) / 1000000 ))
  echo "round $r: helm template (1 process per chart) ${h} ms | sealer find-images (1 process, all charts) ${o} ms | sealer find-images (1 process per chart) ${e} ms"
  if [ "$best_helm" = 0 ] || [ "$h" -lt "$best_helm" ]; then best_helm=$h; fi
  if [ "$best_one" = 0 ] || [ "$o" -lt "$best_one" ]; then best_one=$o; fi
  if [ "$best_each" = 0 ] || [ "$e" -lt "$best_each" ]; then best_each=$e; fi
done
images=$("$sealer" find-images "${charts[@]}" | wc -l)
echo "best: helm ${best_helm} ms, sealer all-in-one ${best_one} ms, sealer per chart ${best_each} ms; ${images} distinct images"
awk -v h="$best_helm" -v o="$best_one" -v e="$best_each" 'BEGIN { printf "ratio helm/sealer: %.2fx (all-in-one), %.2fx (per chart); >1 means sealer is faster\n", h/o, h/e }'
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "${PER_CHART:-0}" = 1 ]; then
  echo "per chart (best of $rounds rounds, each pair run back to back): chart | helm ms | sealer ms | ratio"
  awk '{ if (!($1 in h) || $2 < h[$1]) h[$1] = $2; if (!($1 in s) || $3 < s[$1]) s[$1] = $3 }
       END { for (c in h) printf "%s %d %d %.2fx\n", c, h[c], s[c], h[c] / s[c] }' "$per_chart" | sort
fi
