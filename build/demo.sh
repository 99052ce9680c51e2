#!/usr/bin/env bash
# The offline demo: builds samples/shop into a cluster image against loopback registries standing in for docker.io,
# quay.io and registry.k8s.io, with the SDK packed into a local feed and a NuGet.config listing only that feed.
# Prints what it built. Stops the registries it started (keep them with DEMO_KEEP=1).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
say() { printf '\n== %s\n' "$*"; }

say "installing test components (apt/npm, once)"
bash build/install-test-deps.sh

say "starting the loopback registries"
started=0
bash build/test-env.sh status >/dev/null 2>&1 && bash build/test-env.sh status | head -n1 | grep -qx up || started=1
bash build/test-env.sh up
if [ "$started" = 1 ] && [ "${DEMO_KEEP:-0}" != 1 ]; then trap 'bash build/test-env.sh down >/dev/null 2>&1 || true' EXIT; fi
envjson="$root/artifacts/test-env/env.json"
url() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["registries"][sys.argv[2]]["url"])' "$envjson" "$1"; }
mirrors="docker.io=$(url docker.io);quay.io=$(url quay.io);registry.k8s.io=$(url registry.k8s.io)"

say "packing Sealer.Sdk into a local feed"
demo="$root/artifacts/demo"
rm -rf "$demo/feed" "$demo/packages" "$demo/work"
mkdir -p "$demo/feed" "$demo/packages" "$demo/work"
cp "$(bash build/pack.sh | tail -n 1)" "$demo/feed/"
cat > "$demo/work/NuGet.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="sealer-local" value="$demo/feed" />
  </packageSources>
</configuration>
XML
cp -r samples/shop "$demo/work/shop"
rm -rf "$demo/work/shop/bin" "$demo/work/shop/obj"

# Offline: the only package source is the local feed, the packages folder is private, and images come from the
# loopback mirrors only (no fallback to the real registries).
export NUGET_PACKAGES="$demo/packages" SEALER_CACHE_DIR="$demo/cache"
# (MSBuild reads environment variables as properties: SealerRegistryMirrors, SealerRegistryFallbackToSource.)
export SealerRegistryMirrors="$mirrors" SealerRegistryFallbackToSource=false
build() { dotnet build "$demo/work/shop/shop.kubeproj" -c Release -nologo -v:m "$@"; }

say "dotnet build samples/shop (mirrors: $mirrors)"
now() { python3 -c 'import time; print(time.time())'; }
t0=$(now)
build
t1=$(now)

say "no-op rebuild"
build -v:q
t2=$(now)

out="$demo/work/shop/bin/Release"
say "what was built"
python3 - "$demo/work/shop/images.lock.json" <<'PY'
import json, sys
lock = json.load(open(sys.argv[1]))
print(f"{len(lock['images'])} images (images.lock.json):")
for i in lock["images"]:
    plats = ", ".join(f"{p} {d[:19]}" for p, d in sorted(i["platforms"].items()))
    src = "; ".join(f"{s['file']}({s['line']})" if s.get("line") else s["file"] for s in i["sources"])
    print(f"  {i['reference']:45} {i['digest'][:19]}  [{plats}]  <- {src}")
PY
echo "layout:  $out/shop/"
echo "archive: $out/shop.tar ($(du -h "$out/shop.tar" | cut -f1))"
echo "index:   $(skopeo inspect --raw oci:"$out/shop":shop:1.4.0 | python3 -c 'import json,sys; m=json.load(sys.stdin); print(m["mediaType"]); [print("  ", d["platform"]["os"]+"/"+d["platform"]["architecture"], d["digest"], d["size"], "bytes") for d in m.get("manifests", [])]')"
for arch in amd64 arm64; do
  echo "skopeo inspect oci:$out/shop:shop:1.4.0 ($arch):"
  skopeo inspect --override-os linux --override-arch "$arch" oci:"$out/shop":shop:1.4.0 \
    | python3 -c 'import json,sys; m=json.load(sys.stdin); print("  labels", json.dumps(m["Labels"])); print("  env   ", m.get("Env")); print("  layers", len(m["Layers"]), "(rootfs, one per image blob, registry index)")'
done
python3 - "$out/shop" <<'PY'
import json, os, sys
lay = sys.argv[1]
blob = lambda d: json.load(open(os.path.join(lay, "blobs", *d.split(":"))))
top = json.load(open(os.path.join(lay, "index.json")))["manifests"][0]
m = blob(top["digest"])
if "manifests" in m: m = blob(m["manifests"][0]["digest"])
print("sealer.image.extension (amd64):", m["annotations"]["sealer.image.extension"])
PY
python3 -c 'import sys; a,b,c=map(float,sys.argv[1:]); print(f"first build {b-a:.1f} s, no-op rebuild {c-b:.1f} s")' "$t0" "$t1" "$t2"
