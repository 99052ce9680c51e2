#!/usr/bin/env bash
# find-images on the kustomize corpus (tests/Sealer.Charts.Tests/kustomize-corpus, every buildable tree) in one process,
# vs the real `kubectl kustomize` once per tree (kustomize v5.7) followed by one find-images over kubectl's output, same run,
# process starts included. Not a test. Usage: build/bench/kustomize-bench.sh [ROUNDS]   (default 3; best round counts)
# SEALER=path overrides the sealer command (default: the NativeAOT binary, published when missing or stale).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
corpus="$root/tests/Sealer.Charts.Tests/kustomize-corpus"
rounds="${1:-3}"
kubectl="$root/artifacts/tools/kubectl"
[ -x "$kubectl" ] || bash "$root/build/install-test-deps.sh"
if [ -z "${SEALER:-}" ]; then
  SEALER="$root/artifacts/bench/sealer-aot/sealer"
  if [ ! -x "$SEALER" ] || [ -n "$(find "$root/src" -name '*.cs' -newer "$SEALER" -print -quit)" ]; then
    echo "publishing the NativeAOT sealer..." >&2
    dotnet publish "$root/src/Sealer.Cli" -c Release -r linux-x64 -o "$root/artifacts/bench/sealer-aot" >/dev/null
  fi
fi
read -r -a sealer <<<"$SEALER"

trees=()
while read -r name repo path rest; do
  case "$name" in ''|'#'*) continue;; esac
  case "$rest" in *expect=*) continue;; esac
  trees+=("$corpus/${repo#*/}/$path")
done < "$corpus/trees.txt"
echo "trees: ${#trees[@]}"
out="$(mktemp -d)"; trap 'rm -rf "$out"' EXIT

now() { date +%s%N; }
best_k=0; best_s=0
for r in $(seq "$rounds"); do
  t0=$(now)
  i=0
  for d in "${trees[@]}"; do i=$((i + 1)); "$kubectl" kustomize "$d" > "$out/$i.yaml"; done
  "${sealer[@]}" find-images "$out"/*.yaml > "$out/kubectl-images.txt"
  t1=$(now)
  "${sealer[@]}" find-images "${trees[@]}" > "$out/sealer-images.txt"
  t2=$(now)
  k=$(( (t1 - t0) / 1000000 )); s=$(( (t2 - t1) / 1000000 ))
  echo "round $r: kubectl kustomize (1 process per tree) + find-images on its output ${k} ms | sealer find-images (1 process, all trees) ${s} ms"
  if [ "$best_k" = 0 ] || [ "$k" -lt "$best_k" ]; then best_k=$k; fi
  if [ "$best_s" = 0 ] || [ "$s" -lt "$best_s" ]; then best_s=$s; fi
done
if cmp -s "$out/kubectl-images.txt" "$out/sealer-images.txt"; then same="same $(wc -l < "$out/sealer-images.txt") images"; else same="IMAGES DIFFER"; fi
echo "best: kubectl ${best_k} ms, sealer ${best_s} ms, ratio $(python3 -c "print(f'{$best_k/max($best_s,1):.2f}x')") ($same)"
