#!/usr/bin/env bash
# FROM child rebuild vs full build of the same content, after one chart changed.
#   base  = every public fixture image (an image list)                         -> pushed once
#   child = FROM oci:<base layout> + 3 Helm charts                               -> built, pushed
#   full  = the same image list + the same 3 charts, no FROM                     -> built, pushed
# Then one chart's template changes in both; each is rebuilt and pushed again. Prints wall times, bytes written under
# bin/ and obj/ (files created or rewritten), bytes pushed (PushClusterImage's report) and the child/full ratios.
# Usage: SEALER_TEST_PORT_BASE=... build/bench/child-rebuild-bench.sh   Not a test.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1 MSBUILDDISABLENODEREUSE=1

# Stop the registries afterwards only if this script started them ("already up" means someone else did).
started=0
up="$(bash build/test-env.sh up 2>&1)"; echo "$up" >&2
grep -q "already up" <<<"$up" || started=1
[ "$started" = 1 ] && trap 'bash build/test-env.sh down >/dev/null 2>&1 || true' EXIT
envjson="$root/artifacts/test-env/env.json"

work="$root/artifacts/bench/child-rebuild"
rm -rf "$work"; mkdir -p "$work/feed" "$work/packages"
cp "$(bash build/pack.sh)" "$work/feed/"
cat > "$work/NuGet.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration><packageSources><clear /><add key="bench" value="$work/feed" /></packageSources></configuration>
XML
registry=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["registries"]["docker.io"]["address"])' "$envjson")
run="bench-$$-$RANDOM"
python3 - "$envjson" "$work" <<'PY'
import json, os, sys
env = json.load(open(sys.argv[1])); work = sys.argv[2]
imgs = [i["reference"] for i in env["images"] if i["registry"] in ("docker.io", "quay.io", "registry.k8s.io") and "corrupt" not in i["id"]]
mirrors = ";".join(f"{d}={env['registries'][d]['url']}" for d in ("docker.io", "quay.io", "registry.k8s.io"))
common = f"""    <SealerRegistryMirrors>{mirrors}</SealerRegistryMirrors>
    <SealerRegistryFallbackToSource>false</SealerRegistryFallbackToSource>
    <ClusterImageTag>1.0</ClusterImageTag>"""
charts = imgs[:3]
def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True); open(path, "w").write(text)
def project(name, base, with_list, with_charts):
    d = os.path.join(work, name)
    items = []
    if with_list:
        write(os.path.join(d, "images.txt"), "\n".join(imgs) + "\n"); items.append('<ImageList Include="images.txt" />')
    if with_charts:
        for n, img in enumerate(charts):
            c = os.path.join(d, "charts", f"c{n}")
            write(os.path.join(c, "Chart.yaml"), f"apiVersion: v2\nname: c{n}\nversion: 0.1.0\n")
            write(os.path.join(c, "values.yaml"), f"image: {img}\nreplicas: 1\n")
            write(os.path.join(c, "templates", "deploy.yaml"),
                  "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  replicas: {{ .Values.replicas }}\n"
                  "  template:\n    spec:\n      containers:\n        - name: app\n          image: {{ .Values.image }}\n")
            items.append(f'<HelmChart Include="charts/c{n}" />')
    from_ = f"<SealerBaseImage>{base}</SealerBaseImage>" if base else ""
    write(os.path.join(d, name + ".kubeproj"), f"""<Project Sdk="Sealer.Sdk/0.1.0">
  <PropertyGroup>
{common}
    {from_}
  </PropertyGroup>
  <ItemGroup>
    {chr(10).join('    ' + i for i in items)}
  </ItemGroup>
</Project>
""")
project("base", None, True, False)
project("child", f"oci:{work}/base/bin/Release/base:base:1.0", False, True)
project("full", None, True, True)
print(f"bench: {len(imgs)} images in base/full, 3 charts in child/full", file=sys.stderr)
PY
export NUGET_PACKAGES="$work/packages" SEALER_CACHE_DIR="$work/cache" SEALER_IMAGES_DIR="$work/store"
now() { python3 -c 'import time; print(time.time())'; }
written() { find "$work/$1/bin" "$work/$1/obj" -type f -newer "$work/$1.mark" -printf '%s\n' 2>/dev/null | awk '{s+=$1} END {print s+0}'; }
pushed() { grep -o 'blobs: [0-9]* uploaded / [0-9]* bytes' "$1" | tail -1 | awk '{print $5}'; }
# name, phase: build + push; prints "seconds bytes_written bytes_pushed"
step() {
  local name=$1 phase=$2 a b
  touch "$work/$name.mark"; sleep 1
  a=$(now)
  dotnet build "$work/$name/$name.kubeproj" -c Release -nologo -v:m >"$work/$name.$phase.build.log" 2>&1 || { cat "$work/$name.$phase.build.log"; exit 1; }
  b=$(now)
  dotnet build "$work/$name/$name.kubeproj" -c Release -nologo -v:m -t:PushClusterImage -p:ClusterImageRegistry="$registry/$run" -p:SealerPushMountFrom="$run/base" >"$work/$name.$phase.push.log" 2>&1 || { cat "$work/$name.$phase.push.log"; exit 1; }
  echo "$(python3 -c "print(f'{$b - $a:.2f}')") $(written "$name") $(pushed "$work/$name.$phase.push.log")"
}
step base first >/dev/null
read -r ct1 cw1 cp1 < <(step child first)
read -r ft1 fw1 fp1 < <(step full first)
# One chart changes (template text and replicas) in both projects.
for p in child full; do
  sed -i 's/^replicas: 1$/replicas: 2/' "$work/$p/charts/c1/values.yaml"
  printf '  # changed\n' >> "$work/$p/charts/c1/templates/deploy.yaml"
done
read -r ct2 cw2 cp2 < <(step child changed)
read -r ft2 fw2 fp2 < <(step full changed)
python3 - "$ct1" "$cw1" "$cp1" "$ft1" "$fw1" "$fp1" "$ct2" "$cw2" "$cp2" "$ft2" "$fw2" "$fp2" "$(uptime | sed 's/.*load average: //')" <<'PY'
import sys
v = sys.argv[1:13]; load = sys.argv[13]
ct1, cw1, cp1, ft1, fw1, fp1, ct2, cw2, cp2, ft2, fw2, fp2 = [float(x) for x in v]
mb = lambda b: f"{b / 1048576:.2f} MiB" if b >= 1048576 else f"{int(b)} B"
r = lambda a, b: f"{a / b:.3f}" if b else "n/a"
print(f"{'':28}{'child (FROM)':>16}{'full':>16}{'child/full':>12}")
print(f"{'first build time':28}{ct1:>15.2f}s{ft1:>15.2f}s{r(ct1, ft1):>12}")
print(f"{'first build bytes written':28}{mb(cw1):>16}{mb(fw1):>16}{r(cw1, fw1):>12}")
print(f"{'first push bytes':28}{mb(cp1):>16}{mb(fp1):>16}{r(cp1, fp1):>12}   (each to its own repository; blobs the base repository has are mounted, not sent)")
print(f"{'one-chart rebuild time':28}{ct2:>15.2f}s{ft2:>15.2f}s{r(ct2, ft2):>12}")
print(f"{'rebuild bytes written':28}{mb(cw2):>16}{mb(fw2):>16}{r(cw2, fw2):>12}")
print(f"{'re-push bytes':28}{mb(cp2):>16}{mb(fp2):>16}{r(cp2, fp2):>12}")
print(f"machine load: {load}")
PY
