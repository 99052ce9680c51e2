#!/usr/bin/env bash
# A cold pull of a project whose registries all refuse service: how long until it fails, how many requests, how many errors.
#
#   build/bench/refusal-bench.sh PROJECT.kubeproj [429|503] [TASKS_DLL]
#
# PROJECT's SealerRegistryMirrors must send every domain to a loopback port (as the scale benchmark's projects do); each
# such port gets build/bench/refusal-server.py (429: Docker Hub's used-up pull limit; 503: Service Unavailable). The pull
# runs with an empty cache (SEALER_CACHE_DIR in a temporary directory) and the tasks of TASKS_DLL (default: the SDK's),
# so two builds of the tasks compare. Prints wall time, the requests the servers answered, and MSBuild's error count.
set -euo pipefail
proj="$1"; mode="${2:-429}"; dll="${3:-}"
here="$(cd "$(dirname "$0")" && pwd)"; work="$(mktemp -d)"; pids=()
trap 'kill ${pids[*]} 2>/dev/null || true; rm -rf "$work"' EXIT
ports=$(grep -oE 'http://127\.0\.0\.1:[0-9]+' "$proj" | sed 's/.*://' | sort -u)
[ -n "$ports" ] || { echo "no loopback mirrors in $proj" >&2; exit 2; }
for port in $ports; do python3 "$here/refusal-server.py" "$port" "$work/counts-$port.json" "$mode" & pids+=($!); done
for port in $ports; do for _ in $(seq 100); do curl -fsS -o /dev/null "http://127.0.0.1:$port/v2/" 2>/dev/null && break; sleep 0.05; done; done
export SEALER_CACHE_DIR="$work/cache" SEALER_IMAGES_DIR="$work/store" MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_TELEMETRY_OPTOUT=1
rm -f "$(dirname "$proj")"/obj/*/*pull* "$(dirname "$proj")"/obj/*/sealer/*pull* 2>/dev/null || true
start=$(date +%s.%N)
dotnet build "$proj" -c Release -nologo -nodeReuse:false --no-restore -t:PullClusterImages ${dll:+-p:SealerTasksAssembly=$dll} -v:m > "$work/build.log" 2>&1 || true
wall=$(echo "$(date +%s.%N) - $start" | bc)
sleep 1.5 # the servers write their counts every second
requests=$(cat "$work"/counts-*.json | python3 -c 'import sys, json; print(sum(json.loads(l)["refused"] for l in sys.stdin.read().replace("}{", "}\n{").splitlines()))')
errors=$(grep -oE '[0-9]+ Error\(s\)' "$work/build.log" | tail -1)
printf 'mode %s: wall %.1f s, %s requests refused, %s\n' "$mode" "$wall" "$requests" "$errors"
grep -E 'error SEA' "$work/build.log" | sed 's/ \[.*//' | sort -u | head -3 | cut -c1-400
