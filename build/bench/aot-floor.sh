#!/usr/bin/env bash
# The floor under `sealer`'s NativeAOT size and start-up (issue 17: "under 15 MB, start-up under 20 ms, without dropping
# features"). build/bench/AotFloor is a program with none of Sealer's code that calls, once each, the framework APIs sealer
# uses, at four levels: 0 hello world; 1 + the client side (HttpClient over TLS, crypto and X509, JSON, regex, tar/gzip,
# processes, sockets, channels); 2 + Kestrel as the built-in registry runs it (HTTP/1.1 + HTTP/2 on TLS, no generic host);
# 3 + the third-party libraries (SSH.NET, YamlDotNet, ZstdSharp, System.CommandLine, Spectre.Console, BCrypt).
# Each level is published as sealer is (same switches, stripped); then size, the sections that grow with the code, and the
# start-up of `--version` next to sealer's, PIE (the shipped default) and, for comparison, non-PIE without dehydration.
#   bash build/bench/aot-floor.sh [SEALER]        (default artifacts/cli/linux-x64/sealer; build/publish-cli.sh)
#   AOT_FLOOR_LEVELS="0 1 2 3"  AOT_FLOOR_NOPIE=1 (also publish level 3 and sealer's source non-PIE, not dehydrated)
#   AOT_FLOOR_RUNS=200 (hyperfine runs per binary)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
sealer="${1:-$root/artifacts/cli/linux-x64/sealer}"
[ -x "$sealer" ] || { echo "aot-floor: $sealer is not an executable (bash build/publish-cli.sh)" >&2; exit 1; }
levels="${AOT_FLOOR_LEVELS:-0 1 2 3}"
runs="${AOT_FLOOR_RUNS:-200}"
out="${AOT_FLOOR_OUT:-$root/artifacts/bench/aot-floor}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
mkdir -p "$out"
publish() { # $1 name, $2 project, rest: properties
  local name="$1" proj="$2"; shift 2
  dotnet publish "$proj" -c Release -r linux-x64 -o "$out/$name" -nologo -v:q -p:TreatWarningsAsErrors=true -p:StripSymbols=true \
    -p:NativeIntermediateOutputPath="$out/obj/$name/native/" \
    -p:NativeOutputPath="$out/obj/$name/native-out/" "$@" >"$out/$name.log" 2>&1 \
    || { tail -30 "$out/$name.log" >&2; echo "aot-floor: publish of $name failed ($out/$name.log)" >&2; exit 1; }
  rm -f "$out/$name"/*.dbg "$out/$name"/*.pdb
}
# The floor's levels compile different code (FLOOR_* constants): each its own obj (it has no project references). sealer's
# non-PIE build shares the IL of the usual build (same code) and only puts its native objects and link output apart.
floor_obj=(-p:IntermediateOutputPath="$out/obj/NAME/" -p:BaseIntermediateOutputPath="$out/obj/NAME/base/" -p:OutputPath="$out/obj/NAME/bin/")
bins=()
for level in $levels; do
  echo "aot-floor: publishing level $level" >&2
  publish "level$level" "$here/AotFloor/AotFloor.csproj" -p:FloorLevel="$level" "${floor_obj[@]/NAME/level$level}"
  bins+=("level$level=$out/level$level/aot-floor")
done
if [ "${AOT_FLOOR_NOPIE:-0}" = 1 ]; then
  echo "aot-floor: publishing level 3 and sealer non-PIE, not dehydrated" >&2
  publish level3-nopie "$here/AotFloor/AotFloor.csproj" -p:FloorLevel=3 "${floor_obj[@]/NAME/level3-nopie}" -p:IlcDehydrate=false -p:PositionIndependentExecutable=false
  publish sealer-nopie "$root/src/Sealer.Cli/Sealer.Cli.csproj" -p:IlcDehydrate=false -p:PositionIndependentExecutable=false
  bins+=("level3-nopie=$out/level3-nopie/aot-floor" "sealer-nopie=$out/sealer-nopie/sealer")
fi
bins+=("sealer=$sealer")

sections() { # code, read-only data, unwind + EH/GC info (bytes) from size -A
  size -A "$1" | awk '$1==".text"||$1=="__managedcode"{c+=$2} $1==".rodata"||$1=="__unbox"||$1==".data.rel.ro"{r+=$2} $1==".eh_frame"||$1==".eh_frame_hdr"||$1==".dotnet_eh_table"{u+=$2} END{printf "%d|%d|%d", c, r, u}'
}
echo "| binary | file (bytes) | file (MB) | code | read-only data | unwind+EH | \`--version\` wall ms (hyperfine, $runs runs) | user+sys ms | minor faults | max RSS KiB |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
for entry in "${bins[@]}"; do
  name="${entry%%=*}" bin="${entry#*=}"
  IFS='|' read -r code ro unwind <<<"$(sections "$bin")"
  hyperfine -N --warmup 20 --runs "$runs" --export-json "$tmp/h.json" "$bin --version" >/dev/null 2>&1
  read -r wall cpu <<<"$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print("%.1f±%.1f %.1f" % (r["mean"]*1000, r["stddev"]*1000, (r["user"]+r["system"])*1000))' "$tmp/h.json")"
  /usr/bin/time -f "%R %M" -o "$tmp/t" "$bin" --version >/dev/null
  read -r faults rss <"$tmp/t"
  size=$(stat -c %s "$bin")
  echo "| $name | $size | $(python3 -c "print(f'{$size/1e6:.2f}')") | $code | $ro | $unwind | $wall | $cpu | $faults | $rss |"
done
echo
echo "($(hyperfine --version), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%Y-%m-%d %H:%M UTC'))"
