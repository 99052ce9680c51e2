#!/usr/bin/env bash
# Resolving and pulling 50 charts (25 from a loopback HTTP repository served by nginx, 25 from the loopback registry,
# pushed with helm push) in ONE sealer process (find-images: resolve, download, verify, render) vs `helm pull` of the
# same 50 charts (one process each, as a script would). Then a generated Bitnami-sized index.yaml (~20 MB) resolved by
# sealer: wall time and peak RSS. Not a test. Needs nginx and the test env registries (build/test-env.sh up).
# Usage: build/bench/chart-pull-bench.sh [ROUNDS]   (default 3; best round counts)
#   SEALER="dotnet artifacts/.../sealer.dll" to use a JIT build instead of the NativeAOT binary.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
rounds="${1:-3}"
helm="$root/artifacts/tools/helm3"
[ -x "$helm" ] || bash "$root/build/install-test-deps.sh"
if [ -z "${SEALER:-}" ]; then
  SEALER="$root/artifacts/bench/sealer-aot/sealer"
  if [ ! -x "$SEALER" ] || [ -n "$(find "$root/src" -name '*.cs' -newer "$SEALER" -print -quit)" ]; then
    echo "publishing the NativeAOT sealer..." >&2
    dotnet publish "$root/src/Sealer.Cli" -c Release -r linux-x64 -o "$root/artifacts/bench/sealer-aot" >/dev/null
  fi
fi
env_sh="${SEALER_TEST_ENV_DIR:-$root/artifacts/test-env}/env.sh"
[ -f "$env_sh" ] || { echo "run build/test-env.sh up first ($env_sh missing)" >&2; exit 1; }
# shellcheck disable=SC1090
source "$env_sh"
registry="$SEALER_TEST_QUAY"
port="${CHART_BENCH_PORT:-5879}"

work="$(mktemp -d /tmp/chart-pull-bench.XXXXXX)"
nginx_pid=""
cleanup() { [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
export HELM_CACHE_HOME="$work/helm/cache" HELM_CONFIG_HOME="$work/helm/config" HELM_DATA_HOME="$work/helm/data"
mkdir -p "$work/www/repo" "$work/www/big" "$work/src" "$work/tmp"

# 50 small charts: c01..c25 in the HTTP repository, c26..c50 in the registry (namespace of this run).
ns="chart-bench-$$-$(date +%s)"
for i in $(seq -w 1 50); do
  d="$work/src/c$i"; mkdir -p "$d/templates"
  printf 'apiVersion: v2\nname: c%s\nversion: 1.0.0\nappVersion: "1.%s"\n' "$i" "$i" > "$d/Chart.yaml"
  printf 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: c%s\nspec:\n  containers:\n    - name: c\n      image: "docker.io/library/nginx:{{ .Chart.AppVersion }}"\n' "$i" > "$d/templates/pod.yaml"
  "$helm" package "$d" -d "$work/pkg" >/dev/null
  if [ "$i" -le 25 ]; then cp "$work/pkg/c$i-1.0.0.tgz" "$work/www/repo/"; else "$helm" push "$work/pkg/c$i-1.0.0.tgz" "oci://$registry/$ns" --plain-http >/dev/null 2>&1; fi
done
"$helm" repo index "$work/www/repo"

# A Bitnami-sized index (~20 MB: 120 charts x 165 versions with the usual fields), plus our chart c01 in it.
python3 "$root/build/bench/gen-index.py" "$work/www/big/index.tail"
"$helm" repo index "$work/www/repo" --url "http://127.0.0.1:$port/repo"
# big index = the generated entries + c01 (absolute URL into /repo)
{ head -n 1 "$work/www/repo/index.yaml"; echo "entries:"; sed -n '/^  c01:/,/^  c02:/p' "$work/www/repo/index.yaml" | sed '$d'; tail -n +3 "$work/www/big/index.tail"; } > "$work/www/big/index.yaml"
"$helm" repo index "$work/www/repo"   # back to relative URLs for the repo itself
big_mb=$(( $(stat -c %s "$work/www/big/index.yaml") / 1048576 ))

cat > "$work/nginx.conf" <<CONF
user root; worker_processes 1; pid $work/nginx.pid; error_log $work/error.log;
events { worker_connections 256; }
http { access_log $work/access.log; client_body_temp_path $work/tmp/b; proxy_temp_path $work/tmp/p; fastcgi_temp_path $work/tmp/f; uwsgi_temp_path $work/tmp/u; scgi_temp_path $work/tmp/s;
  types { text/yaml yaml; application/gzip tgz; }
  server { listen 127.0.0.1:$port; root $work/www; } }
CONF
nginx -e "$work/error.log" -p "$work" -c "$work/nginx.conf" -g "daemon off;" & nginx_pid=$!
sleep 0.5

now() { date +%s%N; }
names=(); for i in $(seq -w 1 25); do names+=("c$i"); done
ocis=(); for i in $(seq -w 26 50); do ocis+=("oci://$registry/$ns/c$i"); done
best_helm=0; best_sealer=0
for r in $(seq "$rounds"); do
  rm -rf "$work/pull" "$work/cache"; mkdir -p "$work/pull"
  t0=$(now)
  for n in "${names[@]}"; do "$helm" pull "$n" --repo "http://127.0.0.1:$port/repo" --version 1.0.0 -d "$work/pull" >/dev/null; done
  for o in "${ocis[@]}"; do "$helm" pull "$o" --version 1.0.0 --plain-http -d "$work/pull" >/dev/null 2>&1; done
  t1=$(now)
  SEALER_CACHE_DIR="$work/cache" $SEALER find-images --repo "http://127.0.0.1:$port/repo" --version 1.0.0 "${names[@]}" "${ocis[@]}" > "$work/images.txt"
  t2=$(now)
  h=$(( (t1 - t0) / 1000000 )); s=$(( (t2 - t1) / 1000000 ))
  [ "$(ls "$work/pull" | wc -l)" = 50 ] || { echo "helm pulled $(ls "$work/pull" | wc -l) charts, not 50" >&2; exit 1; }
  [ "$(ls "$work/cache/charts/blobs/sha256" | wc -l)" = 50 ] || { echo "sealer cached $(ls "$work/cache/charts/blobs/sha256" | wc -l) charts, not 50" >&2; exit 1; }
  echo "round $r: helm pull x50 ${h} ms, sealer (one process) ${s} ms"
  { [ "$best_helm" = 0 ] || [ "$h" -lt "$best_helm" ]; } && best_helm=$h
  { [ "$best_sealer" = 0 ] || [ "$s" -lt "$best_sealer" ]; } && best_sealer=$s
done
echo "50 charts: helm pull $best_helm ms, sealer $best_sealer ms, ratio $(python3 -c "print(f'{$best_helm/$best_sealer:.1f}x')")"

# The ~20 MB index: resolve c01 from it (fetch + streaming parse + download + render), wall time and peak RSS.
for r in $(seq "$rounds"); do
  rm -rf "$work/cache"
  /usr/bin/time -f "%e %M" -o "$work/time.txt" env SEALER_CACHE_DIR="$work/cache" $SEALER find-images --repo "http://127.0.0.1:$port/big" --version 1.0.0 c01 >/dev/null
  read -r secs kb < "$work/time.txt"
  echo "index ${big_mb} MB round $r: ${secs} s, peak RSS $(( kb / 1024 )) MB (whole process)"
done
