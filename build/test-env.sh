#!/usr/bin/env bash
# The test environment: loopback source registries seeded with generated fixture images.
#
#   build/test-env.sh up      start (idempotent; < 2 s when already up) and write artifacts/test-env/env.json + env.sh
#   build/test-env.sh down    stop everything `up` started
#   build/test-env.sh status  print what runs
#
# Ports come from SEALER_TEST_PORT_BASE (default 5100):
#   +0 docker.io stand-in   +1 quay.io stand-in   +2 registry.k8s.io stand-in   (plain HTTP, anonymous)
#   +3 private registry with htpasswd basic auth (bcrypt)
#   +4 registry with token auth (distribution `auth: token`)   +5 its token server (build/test-token-server)
#   +6 a mirror of the docker.io stand-in (holds only library/nginx:1.27)
#   +7 a registry over https with a self-signed certificate for 127.0.0.1 (holds library/busybox:1.36)
# Everything lives under artifacts/test-env/ (override with SEALER_TEST_ENV_DIR): per registry config.yml, storage,
# and registry.log (the access log: one line per request). Nothing here reaches beyond 127.0.0.1.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
base="${SEALER_TEST_PORT_BASE:-5100}"
dir="${SEALER_TEST_ENV_DIR:-$root/artifacts/test-env}"
pids="$dir/pids"
names=(dockerio quay k8s private token mirror tls)
declare -A offset=([dockerio]=0 [quay]=1 [k8s]=2 [private]=3 [token]=4 [tokenserver]=5 [mirror]=6 [tls]=7)

say() { echo "test-env: $*" >&2; }
alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

# What `up` depends on: if any of it changes, `up` restarts and reseeds.
stamp() {
  { echo "base=$base"; cat "$here/test-env.sh" "$here/fixtures/gen-fixtures.py" "$here/fixtures/push-fixtures.py" \
      "$here/test-token-server/Program.cs"; } | sha256sum | cut -c1-16
}

# The token server is .NET's managed HttpListener, which can crash (ArgumentNullException in
# HttpEndPointListener.ProcessAccept) when a connection arrives while it is still starting. So: never probe its port
# before it says it listens, check it answers, and start it again (up to 3 times) if it died.
start_tokenserver() {
  local attempt
  for attempt in 1 2 3; do
    start tokenserver dotnet "$tsbin" --port $((base + 5)) --cert "$dir/tokenserver/cert.pem" --key "$dir/tokenserver/key.pem" \
      --issuer sealer-test-token-server --user "$tuser" --password "$tpass"
    local pid; pid="$(awk '$1 == "tokenserver" {p = $2} END {print p}' "$pids")"
    for _ in $(seq 200); do
      grep -q "token server listening" "$dir/tokenserver/registry.log" 2>/dev/null && break
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
    if kill -0 "$pid" 2>/dev/null && curl -fsS -m 5 "http://127.0.0.1:$((base + 5))/stats" >/dev/null 2>&1 && kill -0 "$pid" 2>/dev/null; then
      return 0
    fi
    say "token server did not start (attempt $attempt); see $dir/tokenserver/registry.log"
    kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
    cp "$dir/tokenserver/registry.log" "$dir/tokenserver/registry.attempt$attempt.log" 2>/dev/null
  done
  return 1
}

is_up() {
  [ -f "$pids" ] && [ -f "$dir/env.json" ] && [ -f "$dir/stamp" ] || return 1
  [ "$(cat "$dir/stamp")" = "$(stamp)" ] || return 1
  local n=0 pid
  while read -r _ pid; do alive "$pid" || return 1; n=$((n + 1)); done < "$pids"
  [ "$n" -eq 8 ] || return 1
  curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$base/v2/" 2>/dev/null
}

down() {
  if [ -f "$pids" ]; then
    while read -r name pid; do
      if alive "$pid"; then kill "$pid" 2>/dev/null || true; fi
    done < "$pids"
    # wait for them to go (at most ~3 s), then insist
    for _ in $(seq 30); do
      local any=0
      while read -r name pid; do alive "$pid" && any=1; done < "$pids"
      [ "$any" = 0 ] && break
      sleep 0.1
    done
    while read -r name pid; do alive "$pid" && kill -9 "$pid" 2>/dev/null || true; done < "$pids"
    rm -f "$pids"
  fi
  rm -f "$dir/env.json" "$dir/env.sh" "$dir/stamp"
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() { # $1 port $2 name
  for _ in $(seq 100); do
    if ! port_free "$1"; then return 0; fi
    sleep 0.05
  done
  say "$2 did not start on 127.0.0.1:$1; see $dir/$2/registry.log"
  return 1
}

write_config() { # $1 name $2 port $3 auth-yaml $4 extra http yaml
  local d="$dir/$1"
  mkdir -p "$d/storage"
  cat > "$d/config.yml" <<EOF
version: 0.1
log:
  level: warn
  formatter: text
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $d/storage
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:$2
  secret: sealer-test-env-secret
  headers:
    X-Content-Type-Options: [nosniff]
${4:-}
health:
  storagedriver:
    enabled: false
$3
EOF
}

start() { # $1 name, rest: command
  local name="$1"; shift
  setsid nohup "$@" > "$dir/$name/registry.log" 2>&1 < /dev/null 9>&- &
  echo "$name $!" >> "$pids"
}

up() {
  if is_up; then say "already up (ports from $base)"; return 0; fi
  down
  for p in $(seq "$base" $((base + 7))); do
    port_free "$p" || { say "port 127.0.0.1:$p is in use by another process; set SEALER_TEST_PORT_BASE to a free range"; exit 1; }
  done
  for t in docker-registry skopeo htpasswd openssl python3 curl; do
    command -v "$t" >/dev/null || { say "$t is missing: run build/install-test-deps.sh"; exit 1; }
  done
  mkdir -p "$dir"
  for n in "${names[@]}"; do rm -rf "${dir:?}/$n"; mkdir -p "$dir/$n"; done
  mkdir -p "$dir/tokenserver"

  # credentials (fixed: these are throwaway test registries on loopback)
  local puser=sealer ppass=sealer-private-password tuser=sealer tpass=sealer-token-password
  htpasswd -Bbc "$dir/private/htpasswd" "$puser" "$ppass" 2>/dev/null

  # token signing certificate, trusted by the token registry
  if [ ! -f "$dir/tokenserver/cert.pem" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=sealer-test-token-server" \
      -keyout "$dir/tokenserver/key.pem" -out "$dir/tokenserver/cert.pem" 2>/dev/null
  fi

  # the token server binary (rebuilt only when its source changes)
  local tsbin="$dir/tokenserver/bin/sealer-test-token-server.dll"
  local tssum; tssum="$(cat "$here/test-token-server/Program.cs" "$here/test-token-server/TestTokenServer.csproj" | sha256sum | cut -c1-16)"
  if [ ! -f "$tsbin" ] || [ "$(cat "$dir/tokenserver/bin.sum" 2>/dev/null)" != "$tssum" ]; then
    say "building the token server"
    MSBUILDDISABLENODEREUSE=1 dotnet build "$here/test-token-server/TestTokenServer.csproj" -c Release -o "$dir/tokenserver/bin" -nologo -v:q -nodeReuse:false > "$dir/tokenserver/build.log" 2>&1 9>&- \
      || { cat "$dir/tokenserver/build.log" >&2; exit 1; }
    echo "$tssum" > "$dir/tokenserver/bin.sum"
  fi

  # fixtures (deterministic; regenerated only when the generator changes)
  local fx="$dir/fixtures" fxsum; fxsum="$(sha256sum < "$here/fixtures/gen-fixtures.py" | cut -c1-16)"
  if [ "$(cat "$fx/gen.sum" 2>/dev/null)" != "$fxsum" ]; then
    rm -rf "$fx"; python3 "$here/fixtures/gen-fixtures.py" test "$fx" >&2; echo "$fxsum" > "$fx/gen.sum"
  fi

  write_config dockerio "$base" ""
  write_config quay $((base + 1)) ""
  write_config k8s $((base + 2)) ""
  write_config private $((base + 3)) "auth:
  htpasswd:
    realm: sealer-private
    path: $dir/private/htpasswd"
  write_config token $((base + 4)) "auth:
  token:
    realm: http://127.0.0.1:$((base + 5))/token
    service: sealer-test-registry
    issuer: sealer-test-token-server
    rootcertbundle: $dir/tokenserver/cert.pem"
  write_config mirror $((base + 6)) ""
  if [ ! -f "$dir/tls-cert/cert.pem" ]; then
    mkdir -p "$dir/tls-cert"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
      -keyout "$dir/tls-cert/key.pem" -out "$dir/tls-cert/cert.pem" 2>/dev/null
  fi
  write_config tls $((base + 7)) "" "  tls:
    certificate: $dir/tls-cert/cert.pem
    key: $dir/tls-cert/key.pem"

  : > "$pids"
  for n in "${names[@]}"; do start "$n" docker-registry serve "$dir/$n/config.yml"; done
  start_tokenserver || exit 1
  for n in "${names[@]}"; do wait_port $((base + ${offset[$n]})) "$n"; done

  # seed
  cat > "$dir/registries.json" <<EOF
{
 "docker.io": {"address": "127.0.0.1:$base", "storage": "$dir/dockerio/storage"},
 "quay.io": {"address": "127.0.0.1:$((base + 1))", "storage": "$dir/quay/storage"},
 "registry.k8s.io": {"address": "127.0.0.1:$((base + 2))", "storage": "$dir/k8s/storage"},
 "private": {"address": "127.0.0.1:$((base + 3))", "username": "$puser", "password": "$ppass", "storage": "$dir/private/storage"},
 "token": {"address": "127.0.0.1:$((base + 4))", "username": "$tuser", "password": "$tpass", "storage": "$dir/token/storage"},
 "mirror": {"address": "127.0.0.1:$((base + 6))", "storage": "$dir/mirror/storage"},
 "tls": {"address": "127.0.0.1:$((base + 7))", "storage": "$dir/tls/storage"}
}
EOF
  python3 "$here/fixtures/push-fixtures.py" "$fx" "$dir/registries.json" "$dir/served.json" --jobs 6

  # env.json / env.sh
  python3 - "$dir" "$base" "$puser" "$ppass" "$tuser" "$tpass" <<'EOF'
import json, os, sys
d, base, puser, ppass, tuser, tpass = sys.argv[1], int(sys.argv[2]), *sys.argv[3:]
def reg(name, port, domain, auth="none", **kw):
    r = {"name": name, "address": f"127.0.0.1:{port}", "url": f"http://127.0.0.1:{port}", "domain": domain, "auth": auth,
         "log": os.path.join(d, name, "registry.log"), "storage": os.path.join(d, name, "storage")}
    r.update(kw)
    return r
regs = {
 "docker.io": reg("dockerio", base, "docker.io"),
 "quay.io": reg("quay", base + 1, "quay.io"),
 "registry.k8s.io": reg("k8s", base + 2, "registry.k8s.io"),
 "private": reg("private", base + 3, None, "basic", username=puser, password=ppass),
 "token": reg("token", base + 4, None, "token", username=tuser, password=tpass, tokenRealm=f"http://127.0.0.1:{base + 5}/token",
              tokenService="sealer-test-registry", tokenStats=f"http://127.0.0.1:{base + 5}/stats", anonymousPullPrefix="public/"),
 "mirror": reg("mirror", base + 6, None, mirrorOf="docker.io"),
 "tls": dict(reg("tls", base + 7, None), url=f"https://127.0.0.1:{base + 7}", caCertificate=os.path.join(d, "tls-cert", "cert.pem")),
}
served = json.load(open(os.path.join(d, "served.json")))["images"]
images = []
for s in sorted(served, key=lambda s: (s["registry"], s["repository"], s["tag"])):
    r = regs[s["registry"]]
    domain = r["domain"] or r["address"]
    images.append({
        "id": s["id"], "registry": s["registry"], "repository": s["repository"], "tag": s["tag"],
        "reference": f"{domain}/{s['repository']}:{s['tag']}",
        "localReference": f"{r['address']}/{s['repository']}:{s['tag']}",
        "digest": s["digest"], "mediaType": s["mediaType"], "size": s["size"], "platforms": s["platforms"],
        "blobs": s["blobs"], "totalSize": s["totalSize"], **({"note": s["note"]} if "note" in s else {}),
        **({"corruptBlob": s["corruptBlob"]} if "corruptBlob" in s else {}),
    })
env = {"version": 1, "portBase": base, "root": d, "registries": regs, "images": images,
       "mirrors": {"docker.io": [regs["docker.io"]["url"]], "quay.io": [regs["quay.io"]["url"]], "registry.k8s.io": [regs["registry.k8s.io"]["url"]]}}
with open(os.path.join(d, "env.json.tmp"), "w") as f:
    json.dump(env, f, indent=1)
os.replace(os.path.join(d, "env.json.tmp"), os.path.join(d, "env.json"))
lines = [f"export SEALER_TEST_ENV={os.path.join(d, 'env.json')}", f"export SEALER_TEST_PORT_BASE={base}"]
for key, var in [("docker.io", "DOCKERIO"), ("quay.io", "QUAY"), ("registry.k8s.io", "K8S"), ("private", "PRIVATE"), ("token", "TOKEN"), ("mirror", "MIRROR"), ("tls", "TLS")]:
    lines.append(f"export SEALER_TEST_{var}={regs[key]['address']}")
lines += [f"export SEALER_TEST_PRIVATE_USER={puser}", f"export SEALER_TEST_PRIVATE_PASSWORD={ppass}",
          f"export SEALER_TEST_TOKEN_USER={tuser}", f"export SEALER_TEST_TOKEN_PASSWORD={tpass}",
          f"export SEALER_TEST_TOKEN_REALM={regs['token']['tokenRealm']}"]
with open(os.path.join(d, "env.sh"), "w") as f:
    f.write("# generated by build/test-env.sh up\n" + "\n".join(lines) + "\n")
EOF
  stamp > "$dir/stamp"
  say "up: registries on 127.0.0.1:$base-$((base + 7)); $(python3 -c 'import json,sys;print(len(json.load(open(sys.argv[1]))["images"]))' "$dir/env.json") fixture images; $dir/env.json"
}

status() {
  if is_up; then echo "up"; cat "$pids"; else echo "down"; fi
}

# One `up`/`down` at a time (several test processes may start the environment at once).
mkdir -p "$(dirname "$dir")"
exec 9>"$dir.lock"
if command -v flock >/dev/null; then flock -w 300 9 || { say "another test-env.sh holds $dir.lock"; exit 1; }; fi

case "${1:-}" in
  up) up ;;
  down) down; say "down" ;;
  status) status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
