#!/usr/bin/env bash
# Packs the Sealer.Sdk MSBuild SDK (Sdk/ files + tasks and their dependencies under tools/net10.0/) into
# artifacts/packages/Sealer.Sdk.<version>.nupkg, and its dotnet new templates (dotnet new kubeproj, dotnet new clusterfile)
# into artifacts/packages/Sealer.Sdk.Templates.<version>.nupkg. Usage: build/pack.sh [version]   (default: SealerVersion,
# 0.1.0). Prints the templates package, then the SDK package (last line). The SDK carries the NativeAOT sealer of
# every artifacts/cli/<rid>/ build/publish-cli.sh wrote (for -t:BundleCluster).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
ver="${1:-${SEALER_VERSION:-0.1.0}}"
out="$root/artifacts/packages"
mkdir -p "$out"
# Test projects run in parallel and several pack the SDK: one pack at a time (the same nupkg and obj/ are written).
exec 9>"$out/.pack.lock"
flock 9
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
# The tasks ReadyToRun for linux-x64 (Sdk.targets picks them on a linux-x64 SDK, the IL ones elsewhere): one-chart
# rebuild's tasks 672 -> 488 ms in a fresh MSBuild node (build/bench/RESULTS.md). Built apart (--artifacts-path) so the
# RID-specific restore does not touch the projects' own obj/. SEALER_R2R=0 leaves it out.
r2r="$root/src/Sealer.Sdk/obj/tasks-r2r/linux-x64"
rm -rf "$r2r"
r2r_prop=()
if [ "${SEALER_R2R:-1}" != 0 ]; then
  dotnet publish "$root/src/Sealer.Tasks/Sealer.Tasks.csproj" -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true \
    --artifacts-path "$root/artifacts/r2r-build" -o "$r2r" -nologo -v:q -p:SealerVersion="$ver" >&2
  r2r_prop=(-p:SealerTasksReadyToRunDir="$r2r") # the package takes only the folder it is told of
fi
pkg="$out/Sealer.Sdk.$ver.nupkg"
# Packed anew every time: NuGet's pack skips writing a package whose inputs it sees unchanged, and the ReadyToRun folder
# (or its absence, SEALER_R2R=0) is not among them, so the last package would stay.
rm -f "$pkg"
dotnet pack "$root/src/Sealer.Sdk/Sealer.Sdk.csproj" -c Release -o "$out" -nologo -v:q -p:SealerVersion="$ver" "${r2r_prop[@]}" >&2
[ -f "$pkg" ] || { echo "pack: $pkg was not produced" >&2; exit 1; }
# A packed SDK must carry its tasks, their dependencies, and no MSBuild assemblies (the host provides those).
listing="$(python3 -c 'import sys,zipfile; print("\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))' "$pkg")"
required=(Sdk/Sdk.props Sdk/Sdk.targets Sdk/Sealer.Tools.targets Sdk/clusterfile.schema.json Sdk/Sealer.Sdk.xsd Sdk/Sdk.targets.buildschema.json)
tasks=(tools/net10.0)
[ "${SEALER_R2R:-1}" = 0 ] || tasks+=(tools/net10.0/linux-x64)
for d in "${tasks[@]}"; do required+=("$d/Sealer.Tasks.dll" "$d/Sealer.Core.dll" "$d/YamlDotNet.dll"); done
for f in "${required[@]}"; do
  grep -qx "$f" <<<"$listing" || { echo "pack: $pkg lacks $f" >&2; exit 1; }
done
if grep -q '^tools/net10.0/\(linux-x64/\)\?Microsoft.Build' <<<"$listing"; then echo "pack: $pkg must not ship Microsoft.Build assemblies" >&2; exit 1; fi
# -t:BundleCluster embeds the sealer the package carries (tools/sealer/<rid>/sealer): every artifacts/cli/<rid>/sealer that
# build/publish-cli.sh wrote goes in (run it first for a release: build/publish-cli.sh linux-x64 && build/pack.sh).
clis=0
for cli in "$root"/artifacts/cli/*/sealer; do
  [ -f "$cli" ] || continue
  rid="$(basename "$(dirname "$cli")")"; clis=$((clis + 1))
  grep -qx "tools/sealer/$rid/sealer" <<<"$listing" || { echo "pack: $pkg lacks tools/sealer/$rid/sealer ($cli exists)" >&2; exit 1; }
done
[ "$clis" -gt 0 ] || echo "pack: no artifacts/cli/<rid>/sealer (build/publish-cli.sh): this package's BundleCluster needs SealerCliPath" >&2
tpl="$out/Sealer.Sdk.Templates.$ver.nupkg"
dotnet pack "$root/src/Sealer.Sdk.Templates/Sealer.Sdk.Templates.csproj" -c Release -o "$out" -nologo -v:q -p:SealerVersion="$ver" >&2
tlisting="$(python3 -c 'import sys,zipfile; print("\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))' "$tpl")"
for f in content/kubeproj/.template.config/template.json content/clusterfile/.template.config/template.json content/kubeproj/KubeApp.helm.kubeproj \
         content/clusterfile/clusterfile.schema.json content/kubeproj/clusterfile.schema.json; do
  grep -qx "$f" <<<"$tlisting" || { echo "pack: $tpl lacks $f" >&2; exit 1; }
done
if python3 -c 'import sys,zipfile; z=zipfile.ZipFile(sys.argv[1]); sys.exit(any(b"0.0.0-sealer-sdk-version" in z.read(n) for n in z.namelist()))' "$tpl"; then :; else
  echo "pack: $tpl still names the version token instead of $ver" >&2; exit 1; fi
echo "$tpl"
echo "$pkg"
