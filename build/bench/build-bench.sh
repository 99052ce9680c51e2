#!/usr/bin/env bash
# Warm no-op `dotnet build` of a .kubeproj: how long it takes (target < 2 s) and how many registry requests it makes
# (target 0, counted in the loopback registries' access logs). Also reports the cold first build.
# Usage: build/bench/build-bench.sh [runs]   (default 5 warm runs). Not a test: prints numbers, exits 1 if a no-op build
# touched a registry.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
runs="${1:-5}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

bash build/install-test-deps.sh
started=0
bash build/test-env.sh status 2>/dev/null | head -n1 | grep -qx up || started=1
bash build/test-env.sh up >&2
[ "$started" = 1 ] && trap 'bash build/test-env.sh down >/dev/null 2>&1 || true' EXIT
envjson="$root/artifacts/test-env/env.json"

work="$root/artifacts/bench/build"
rm -rf "$work"; mkdir -p "$work/feed" "$work/packages" "$work/proj/manifests"
cp "$(bash build/pack.sh | tail -n 1)" "$work/feed/"
cat > "$work/NuGet.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration><packageSources><clear /><add key="bench" value="$work/feed" /></packageSources></configuration>
XML
# The project: every public-registry fixture image (except the deliberately corrupt one), half from an image list,
# half from a manifest, plus a COPY'd file.
python3 - "$envjson" "$work/proj" <<'PY'
import json, os, sys
env = json.load(open(sys.argv[1])); proj = sys.argv[2]
imgs = [i["reference"] for i in env["images"] if i["registry"] in ("docker.io", "quay.io", "registry.k8s.io") and "corrupt" not in i["id"]]
half = len(imgs) // 2
open(os.path.join(proj, "images.txt"), "w").write("\n".join(imgs[:half]) + "\n")
docs = [f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p{n}\nspec:\n  containers:\n    - name: c\n      image: {r}\n" for n, r in enumerate(imgs[half:])]
open(os.path.join(proj, "manifests", "pods.yaml"), "w").write("---\n".join(docs))
open(os.path.join(proj, "notes.txt"), "w").write("bench\n")
mirrors = ";".join(f"{d}={env['registries'][d]['url']}" for d in ("docker.io", "quay.io", "registry.k8s.io"))
open(os.path.join(proj, "bench.kubeproj"), "w").write(f"""<Project Sdk="Sealer.Sdk/0.1.0">
  <PropertyGroup>
    <SealerRegistryMirrors>{mirrors}</SealerRegistryMirrors>
    <SealerRegistryFallbackToSource>false</SealerRegistryFallbackToSource>
  </PropertyGroup>
  <ItemGroup>
    <ImageList Include="images.txt" />
    <KubeManifest Include="manifests/*.yaml" />
    <SealerFile Include="notes.txt" Destination="etc/" />
  </ItemGroup>
</Project>
""")
print(f"bench project: {len(imgs)} images", file=sys.stderr)
PY
export NUGET_PACKAGES="$work/packages" SEALER_CACHE_DIR="$work/cache"
logs=$(python3 -c 'import json,sys; print(" ".join(r["log"] for r in json.load(open(sys.argv[1]))["registries"].values()))' "$envjson")
# Count only this bench's requests (its own User-Agent), as other processes may share the registries.
export SealerUserAgent="sealer-sdk-bench/$$-$RANDOM"
requests() { local n=0; for l in $logs; do [ -f "$l" ] && n=$((n + $(grep '"GET /v2/\|"HEAD /v2/' "$l" | grep -c "$SealerUserAgent" || true))); done; echo "$n"; }
now() { python3 -c 'import time; print(time.time())'; }

r0=$(requests); t0=$(now)
dotnet build "$work/proj/bench.kubeproj" -c Release -nologo -v:q >"$work/cold.log" 2>&1 || { cat "$work/cold.log"; exit 1; }
t1=$(now); r1=$(requests)
times=()
for i in $(seq "$runs"); do
  a=$(now)
  dotnet build "$work/proj/bench.kubeproj" -c Release -nologo -v:q >"$work/warm.log" 2>&1 || { cat "$work/warm.log"; exit 1; }
  b=$(now)
  times+=("$(python3 -c "print(f'{$b - $a:.2f}')")")
done
norestore=()
for i in $(seq "$runs"); do
  a=$(now)
  dotnet build "$work/proj/bench.kubeproj" -c Release -nologo -v:q --no-restore >"$work/warm.log" 2>&1 || { cat "$work/warm.log"; exit 1; }
  b=$(now)
  norestore+=("$(python3 -c "print(f'{$b - $a:.2f}')")")
done
r2=$(requests)
# One more with detailed logging, to show the targets were skipped.
dotnet build "$work/proj/bench.kubeproj" -c Release -nologo -v:d > "$work/detail.log" 2>&1
skipped=$(grep -cE 'Skipping target "(ResolveClusterImages|PullClusterImages|AssembleClusterImage)" because all output files are up-to-date' "$work/detail.log" || true)
r3=$(requests)
python3 - "$t0" "$t1" "$((r1 - r0))" "$((r2 - r1))" "$((r3 - r2))" "$skipped" "$(uptime | sed 's/.*load average: //')" "${norestore[*]}" "${times[@]}" <<'PY'
import statistics, sys
t0, t1 = float(sys.argv[1]), float(sys.argv[2])
cold_req, warm_req, detail_req, skipped = map(int, sys.argv[3:7])
load = sys.argv[7]
norestore = [float(x) for x in sys.argv[8].split()]
warm = [float(x) for x in sys.argv[9:]]
print(f"cold build:        {t1 - t0:.2f} s, {cold_req} registry requests")
print(f"warm no-op build:  median {statistics.median(warm):.2f} s (runs: {', '.join(f'{w:.2f}' for w in warm)}), target < 2 s")
print(f"  --no-restore:    median {statistics.median(norestore):.2f} s (restore's own no-op check is the difference)")
print(f"no-op requests:    {warm_req + detail_req} (target 0)")
print(f"machine load:      {load} (load average; the no-op time is mostly dotnet/MSBuild start-up, so it grows with load)")
print(f"targets skipped:   {skipped}/3 (ResolveClusterImages, PullClusterImages, AssembleClusterImage)")
sys.exit(1 if warm_req + detail_req else 0)
PY
