#!/usr/bin/env bash
# FROM child rebuild vs full build of the same content, after one chart changed, in one run.
#   base  = every public fixture image (an image list) + BENCH_BASE_MB (default 512) MiB of incompressible files -> built, pushed
#   child = FROM oci:<base layout> + 3 Helm charts whose images the base carries                                -> built, pushed
#   full  = the same image list, the same files and the same 3 charts, no FROM                                   -> built, pushed
# Then one chart's template changes in both; each is rebuilt and pushed again. Last, the child is rebuilt once more with
# its archive deleted first: the whole archive written again, which is what every rebuild did before archives were
# updated in place. Prints wall time, bytes written by the build process tree (write_bytes and wchar from /proc/self/io
# of a wrapper that waits for it, so every reaped child counts), the archive's own "bytes written / kept" (build log),
# bytes pushed (PushClusterImage's report) and the machine load.
# Usage: SEALER_TEST_PORT_BASE=... [BENCH_BASE_MB=512] [BENCH_PUSH=1] build/bench/child-rebuild-bench.sh   Not a test.
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
cp "$(bash build/pack.sh | tail -n 1)" "$work/feed/"
cat > "$work/NuGet.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration><packageSources><clear /><add key="bench" value="$work/feed" /></packageSources></configuration>
XML
base_mb="${BENCH_BASE_MB:-512}"
push="${BENCH_PUSH:-1}"
registry=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["registries"]["docker.io"]["address"])' "$envjson")
run="bench-$$-$RANDOM"
python3 - "$envjson" "$work" "$base_mb" <<'PY'
import json, os, sys
env = json.load(open(sys.argv[1])); work = sys.argv[2]; base_mb = int(sys.argv[3])
imgs = [i["reference"] for i in env["images"] if i["registry"] in ("docker.io", "quay.io", "registry.k8s.io") and "corrupt" not in i["id"]]
mirrors = ";".join(f"{d}={env['registries'][d]['url']}" for d in ("docker.io", "quay.io", "registry.k8s.io"))
common = f"""    <SealerRegistryMirrors>{mirrors}</SealerRegistryMirrors>
    <SealerRegistryFallbackToSource>false</SealerRegistryFallbackToSource>
    <ClusterImageTag>1.0</ClusterImageTag>"""
charts = imgs[:3]
def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True); open(path, "w").write(text)
# The bulk of the base: incompressible files (64 MiB each), shared by base and full through one directory.
bulk = os.path.join(work, "bulk")
os.makedirs(bulk, exist_ok=True)
left, n = base_mb, 0
while left > 0:
    mb = min(64, left)
    with open(os.path.join(bulk, f"blob{n:02d}.bin"), "wb") as f:
        for _ in range(mb):
            f.write(os.urandom(1 << 20))
    left -= mb; n += 1
def project(name, base, with_list, with_charts):
    d = os.path.join(work, name)
    items = []
    if with_list:
        write(os.path.join(d, "images.txt"), "\n".join(imgs) + "\n"); items.append('<ImageList Include="images.txt" />')
        items.append(f'<SealerFile Include="{bulk}" Destination="opt/bulk/" />')
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
print(f"bench: {len(imgs)} images + {base_mb} MiB of files in base/full, 3 charts in child/full", file=sys.stderr)
PY
export NUGET_PACKAGES="$work/packages" SEALER_CACHE_DIR="$work/cache" SEALER_IMAGES_DIR="$work/store"
# Runs a command with its output in a log; prints "seconds write_bytes wchar" of the whole process tree.
measure() {
  python3 - "$@" <<'PY'
import subprocess, sys, time
def io():
    return {k: int(v) for k, v in (l.split(": ") for l in open("/proc/self/io").read().splitlines())}
log = sys.argv[1]
a = io(); t = time.time()
with open(log, "w") as out:
    code = subprocess.run(sys.argv[2:], stdout=out, stderr=subprocess.STDOUT).returncode
t = time.time() - t; b = io()
if code != 0:
    sys.stderr.write(open(log).read()); sys.exit(code)
print(f"{t:.2f} {b['write_bytes'] - a['write_bytes']} {b['wchar'] - a['wchar']}")
PY
}
archive_written() { grep -o 'bytes: [0-9]* bytes written\|bytes: up to date' "$1" | tail -1 | awk '{print ($2 == "up" ? 0 : $2)}'; }
pushed() { grep -o 'blobs: [0-9]* uploaded / [0-9]* bytes' "$1" | tail -1 | awk '{print $5}'; }
# name, phase: build (+ push); prints "seconds write_bytes wchar archive_bytes_written bytes_pushed"
step() {
  local name=$1 phase=$2 m p=0
  m=$(measure "$work/$name.$phase.build.log" dotnet build "$work/$name/$name.kubeproj" -c Release -nologo -v:m)
  if [ "$push" = 1 ]; then
    dotnet build "$work/$name/$name.kubeproj" -c Release -nologo -v:m -t:PushClusterImage -p:ClusterImageRegistry="$registry/$run" -p:SealerPushMountFrom="$run/base" >"$work/$name.$phase.push.log" 2>&1 || { cat "$work/$name.$phase.push.log"; exit 1; }
    p=$(pushed "$work/$name.$phase.push.log")
  fi
  echo "$m $(archive_written "$work/$name.$phase.build.log") ${p:-0}"
}
change() { # one chart (template text and replicas) changes in the given projects
  for p in "$@"; do
    sed -i "s/^replicas: .*$/replicas: $RANDOM/" "$work/$p/charts/c1/values.yaml"
    printf '  # changed\n' >> "$work/$p/charts/c1/templates/deploy.yaml"
  done
}
load1() { cut -d' ' -f1 /proc/loadavg; }
l0=$(load1)
read -r bt bw bc ba bp < <(step base first)
read -r ct1 cw1 cc1 ca1 cp1 < <(step child first)
read -r ft1 fw1 fc1 fa1 fp1 < <(step full first)
change child full
read -r ct2 cw2 cc2 ca2 cp2 < <(step child changed)
read -r ft2 fw2 fc2 fa2 fp2 < <(step full changed)
# The same one-chart change, archive written whole (as every rebuild did before in-place archive updates).
change child
rm -f "$work/child/bin/Release/child.tar"
read -r ct3 cw3 cc3 ca3 cp3 < <(push=0 step child whole)
l1=$(load1)
tarsize=$(stat -c %s "$work/child/bin/Release/child.tar")
python3 - "$tarsize" "$l0 -> $l1" "$(nproc)" \
  "$bt $bw $bc $ba $bp" "$ct1 $cw1 $cc1 $ca1 $cp1" "$ft1 $fw1 $fc1 $fa1 $fp1" "$ct2 $cw2 $cc2 $ca2 $cp2" "$ft2 $fw2 $fc2 $fa2 $fp2" "$ct3 $cw3 $cc3 $ca3 $cp3" <<'PY'
import sys
tarsize, load, cores = int(sys.argv[1]), sys.argv[2], sys.argv[3]
rows = ["base, first build", "child (FROM), first build", "full, first build", "child, one chart changed", "full, one chart changed",
        "child, one chart changed, archive written whole"]
mb = lambda b: f"{b / 1048576:.1f} MiB" if b >= 1048576 else f"{int(b)} B"
print(f"child archive: {mb(tarsize)}; machine: {cores} cores, 1-min load {load}")
print(f"| build | time | bytes written (write_bytes) | bytes written (wchar) | archive bytes written | bytes pushed |")
print(f"|---|---|---|---|---|---|")
for name, v in zip(rows, sys.argv[4:]):
    t, w, c, a, p = v.split()
    print(f"| {name} | {float(t):.2f} s | {mb(float(w))} | {mb(float(c))} | {mb(float(a))} | {mb(float(p)) if name.endswith('whole') is False else 'n/a'} |")
PY
