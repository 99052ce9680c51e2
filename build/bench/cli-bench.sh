#!/usr/bin/env bash
# Size and start-up of the NativeAOT `sealer` binary (issue 11: the CLI parser must keep both in check).
#   bash build/bench/cli-bench.sh [SEALER ...]        (default: artifacts/cli/linux-x64/sealer; build it with build/publish-cli.sh)
# Several binaries (e.g. a copy of an older build and the current one) are measured in one hyperfine run each command,
# interleaved, so a busy machine slows them alike. Prints a markdown table for build/bench/RESULTS.md.
# Start-up: `sealer --version`, `sealer images --help` and `sealer find-images --help`, hyperfine -N (no shell) with warm-up:
# wall mean ± stddev, and CPU (user+sys) a start, which a busy machine disturbs less; without hyperfine
# (apt-get install hyperfine) a loop of 100 runs under `time` gives the mean.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bins=("$@")
[ ${#bins[@]} -eq 0 ] && bins=("$root/artifacts/cli/linux-x64/sealer")
runs="${CLI_BENCH_RUNS:-100}"
for b in "${bins[@]}"; do [ -x "$b" ] || { echo "cli-bench: $b is not an executable (bash build/publish-cli.sh linux-x64)" >&2; exit 1; }; done
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT

mean_ms() { # $1 binary, rest: arguments -> mean milliseconds
  local bin="$1"; shift
  if command -v hyperfine >/dev/null; then
    hyperfine -N --warmup 10 --runs "$runs" --export-json "$tmp/h.json" "$bin $*" >/dev/null 2>&1
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print("%.1f ± %.1f (cpu %.1f)" % (r["mean"]*1000, r["stddev"]*1000, (r["user"]+r["system"])*1000))' "$tmp/h.json"
  else
    local start end
    start=$(date +%s%N)
    for _ in $(seq "$runs"); do "$bin" "$@" >/dev/null; done
    end=$(date +%s%N)
    python3 -c "print(f'{($end-$start)/1e6/$runs:.1f}')"
  fi
}

echo "| round | binary | size (bytes) | \`sealer --version\` (ms) | \`sealer images --help\` (ms) | \`sealer find-images --help\` (ms) |"
echo "|---|---|---|---|---|---|"
# Interleaved: each round measures every binary once per command.
for round in 1 2 3; do
  for b in "${bins[@]}"; do
    v=$(mean_ms "$b" --version); h=$(mean_ms "$b" images --help); f=$(mean_ms "$b" find-images --help)
    echo "| $round | $b | $(stat -c %s "$b") | $v | $h | $f |"
  done
done
echo
echo "($(command -v hyperfine >/dev/null && hyperfine --version || echo "time loop"), $runs runs each, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
