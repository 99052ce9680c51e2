#!/usr/bin/env bash
# SSH test hosts in network namespaces, for the delivery integration tests.
#
#   build/test-hosts.sh up N      create hosts sealer-h1..N (idempotent; keeps hosts that are already up)
#   build/test-hosts.sh down      remove every host, the bridge and the state directory (idempotent)
#   build/test-hosts.sh status    list the hosts and whether their sshd answers
#
# Each host is a network namespace with a veth pair on the bridge sealer-br0 (10.200.0.1 on the machine's side,
# 10.200.0.11, .12, ... for the hosts) and its own sshd (ports 22 and 2222) with its own host key, root login by key
# or password. Each sshd runs in its own mount and UTS namespace (`unshare --mount --uts`): hostname sealer-hN, and
# private bind mounts over /var/lib/sealer, /etc/containerd, /etc/docker, /etc/sealer, /etc/kubernetes, /opt, /tmp, /root, /home, /usr/local/bin,
# /etc/systemd/system, /etc/sudoers.d, /etc/hosts, /etc/passwd, /etc/group and /etc/shadow, so hosts never see each
# other's files nor change the machine's. Users: root (key or password), 'sealer' (key or password, passwordless sudo)
# and 'sealerpw' (password; sudo asks for it).
# Only 10.200.0.0/24 and loopback are used: the hosts have no default route.
#
# State (keys, known_hosts, hosts.json) goes to $SEALER_TEST_HOSTS_DIR (default artifacts/test-hosts).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
state="${SEALER_TEST_HOSTS_DIR:-$root/artifacts/test-hosts}"
bridge=sealer-br0
prefix=10.200.0
password='Sealer-Test-Pw1'
passphrase='sealer-pk-pass'
private_dirs=(/var/lib/sealer /etc/containerd /etc/docker /etc/sealer /etc/kubernetes /opt /tmp /root /usr/local/bin /home /etc/sudoers.d /etc/systemd/system)

[ "$(id -u)" = 0 ] || { echo "test-hosts: must run as root (network namespaces)" >&2; exit 1; }

host_ip() { echo "$prefix.$((10 + $1))"; }

# The state directory may itself sit under a directory the hosts get a private copy of (a clone in /tmp or /root):
# inside a host's mount namespace it would vanish behind those bind mounts. So the hosts see it through a bind mount
# of its own at $alias, a path no host hides.
alias=/run/sealer-test-hosts
alias_up() {
  mkdir -p "$alias"
  if mountpoint -q "$alias"; then
    [ "$(stat -c %d:%i "$alias")" = "$(stat -c %d:%i "$state")" ] && return 0
    umount -l "$alias"
  fi
  mount --bind "$state" "$alias"
}
alias_down() { if mountpoint -q "$alias" 2>/dev/null; then umount -l "$alias" || true; fi; }

wait_port() { # ip port seconds
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    if timeout 1 bash -c "</dev/tcp/$1/$2" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  return 1
}

host_running() { # n
  local pidf="$state/h$1/sshd.pid"
  [ -f "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null && ip netns list 2>/dev/null | grep -qw "sealer-h$1"
}

client_keys() {
  mkdir -p "$state"
  [ -f "$state/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C sealer-test -f "$state/id_ed25519"
  [ -f "$state/id_pass" ] || ssh-keygen -q -t ed25519 -N "$passphrase" -C sealer-test-pass -f "$state/id_pass"
  [ -f "$state/id_rsa" ] || ssh-keygen -q -t rsa -b 3072 -m PEM -N '' -C sealer-test-rsa -f "$state/id_rsa"
  cat "$state/id_ed25519.pub" "$state/id_pass.pub" "$state/id_rsa.pub" > "$state/authorized_keys"
  chmod 644 "$state/authorized_keys"   # sshd reads it as the logging-in user (non-root users too)
}

bridge_up() {
  if ! ip link show "$bridge" >/dev/null 2>&1; then
    ip link add "$bridge" type bridge
  fi
  ip addr replace "$prefix.1/24" dev "$bridge"
  ip link set "$bridge" up
}

host_up() { # n
  local n=$1 ns="sealer-h$1" ip; ip="$(host_ip "$1")"
  local h="$state/h$n" ha="$alias/h$n"
  if host_running "$n"; then return 0; fi
  host_down "$n"
  mkdir -p "$h"
  ip netns add "$ns"
  ip link add "sealer-v$n" type veth peer name eth0 netns "$ns"
  ip link set "sealer-v$n" master "$bridge" up
  ip -n "$ns" addr add "$ip/24" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" link set lo up

  for d in "${private_dirs[@]}"; do mkdir -p "$d" "$h/fs$d"; done
  chmod 1777 "$h/fs/tmp"; chmod 700 "$h/fs/root"
  mkdir -p "$h/fs/etc"; { echo "127.0.0.1 localhost"; echo "$ip sealer-h$n"; } > "$h/fs/etc/hosts"
  # root's password for password-auth tests, only inside this host's mount namespace
  local hash; hash="$(openssl passwd -6 -salt "sealerh$n" "$password")"
  sed -E "s|^root:[^:]*:|root:$hash:|" /etc/shadow > "$h/shadow"
  # two non-root users, only inside this host: 'sealer' (passwordless sudo) and 'sealerpw' (sudo asks for the password)
  grep -vE '^(sealer|sealerpw):' /etc/passwd > "$h/passwd"; grep -vE '^(sealer|sealerpw):' /etc/group > "$h/group"
  grep -vE '^(sealer|sealerpw):' "$h/shadow" > "$h/shadow.tmp" && mv "$h/shadow.tmp" "$h/shadow"
  for u in sealer:1500 sealerpw:1501; do
    echo "${u%%:*}:x:${u#*:}:${u#*:}::/home/${u%%:*}:/bin/bash" >> "$h/passwd"
    echo "${u%%:*}:x:${u#*:}:" >> "$h/group"
    echo "${u%%:*}:$hash:19000:0:99999:7:::" >> "$h/shadow"
    mkdir -p "$h/fs/home/${u%%:*}"; chown "${u#*:}:${u#*:}" "$h/fs/home/${u%%:*}"
  done
  echo "sealer ALL=(ALL) NOPASSWD:ALL" > "$h/fs/etc/sudoers.d/sealer"
  echo "sealerpw ALL=(ALL) ALL" > "$h/fs/etc/sudoers.d/sealerpw"
  chmod 440 "$h/fs/etc/sudoers.d/"*
  chmod 640 "$h/shadow"
  [ -f "$h/ssh_host_ed25519_key" ] || ssh-keygen -q -t ed25519 -N '' -C "sealer-h$n" -f "$h/ssh_host_ed25519_key"
  # an RSA host key on the first host only (RSA keys are slow to make); the others have ed25519
  if [ "$n" = 1 ]; then [ -f "$h/ssh_host_rsa_key" ] || ssh-keygen -q -t rsa -b 3072 -N '' -C "sealer-h$n" -f "$h/ssh_host_rsa_key"; fi
  cat > "$h/sshd_config" <<EOF
ListenAddress $ip:22
ListenAddress $ip:2222
HostKey $ha/ssh_host_ed25519_key
$([ "$n" = 1 ] && echo "HostKey $ha/ssh_host_rsa_key")
PidFile $ha/sshd.pid
PermitRootLogin yes
PubkeyAuthentication yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
AuthorizedKeysFile $alias/authorized_keys .ssh/authorized_keys
MaxSessions 64
MaxStartups 64:30:128
AllowTcpForwarding yes
PermitUserEnvironment no
AcceptEnv LANG LC_*
Subsystem sftp internal-sftp
LogLevel ERROR
EOF
  mkdir -p /run/sshd
  local mounts="" d
  for d in "${private_dirs[@]}"; do mounts+="mount --bind '$ha/fs$d' '$d'; "; done
  mounts+="mount --bind '$ha/fs/etc/hosts' /etc/hosts; mount --bind '$ha/shadow' /etc/shadow; "
  mounts+="mount --bind '$ha/passwd' /etc/passwd; mount --bind '$ha/group' /etc/group; "
  # `ip netns exec` gives the host a sysfs of its own, without the machine's cgroup hierarchies: mount them again as the
  # machine has them (v1 controllers under a tmpfs, or cgroup2), as a real host has them (Docker Engine needs them).
  local src dir type opts rest
  while read -r src dir type opts rest; do
    case "$type" in
      tmpfs) [ "$dir" = /sys/fs/cgroup ] && mounts+="mount -t tmpfs -o mode=755 cgroup /sys/fs/cgroup; " ;;
      cgroup|cgroup2) [[ "$dir" == /sys/fs/cgroup* ]] && mounts+="mkdir -p '$dir' && mount -t $type -o '$opts' $type '$dir' || true; " ;;
    esac
  done < /proc/self/mounts
  # ip netns exec -> unshare (no fork) -> sh -> exec sshd: the recorded pid is sshd's.
  setsid ip netns exec "$ns" unshare --mount --uts --propagation private \
    sh -c "hostname 'sealer-h$n'; $mounts exec /usr/sbin/sshd -D -e -f '$ha/sshd_config'" \
    </dev/null >>"$h/sshd.log" 2>&1 &
  echo $! > "$h/sshd.pid"
  if ! wait_port "$ip" 22 10; then
    echo "test-hosts: sshd on $ns ($ip) did not start; log:" >&2
    cat "$h/sshd.log" >&2
    return 1
  fi
}

host_down() { # n
  local n=$1 h="$state/h$1"
  if [ -f "$h/sshd.pid" ]; then
    local pid; pid="$(cat "$h/sshd.pid")"
    kill "$pid" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$h/sshd.pid"
  fi
  # any process left in the namespace (scripts the tests started there) goes with it
  if ip netns list 2>/dev/null | grep -qw "sealer-h$n"; then
    local p
    for p in $(ip netns pids "sealer-h$n" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
    ip netns del "sealer-h$n" 2>/dev/null || true
  fi
  ip link del "sealer-v$n" 2>/dev/null || true
}

write_state() { # N
  local n=$1 i ip
  : > "$state/known_hosts"
  {
    echo "{"
    echo "  \"bridgeIp\": \"$prefix.1\","
    echo "  \"privateKey\": \"$state/id_ed25519\","
    echo "  \"rsaKey\": \"$state/id_rsa\","
    echo "  \"passphraseKey\": \"$state/id_pass\","
    echo "  \"passphrase\": \"$passphrase\","
    echo "  \"password\": \"$password\","
    echo "  \"knownHosts\": \"$state/known_hosts\","
    echo "  \"hashedKnownHosts\": \"$state/known_hosts_hashed\","
    echo "  \"hosts\": ["
    for ((i = 1; i <= n; i++)); do
      ip="$(host_ip "$i")"
      for kt in ed25519 rsa; do
        [ -f "$state/h$i/ssh_host_${kt}_key.pub" ] || continue
        echo "$ip $(cut -d' ' -f1,2 "$state/h$i/ssh_host_${kt}_key.pub")" >> "$state/known_hosts"
        echo "[$ip]:2222 $(cut -d' ' -f1,2 "$state/h$i/ssh_host_${kt}_key.pub")" >> "$state/known_hosts"
      done
      printf '    {"name": "sealer-h%d", "ip": "%s", "root": "%s"}%s\n' "$i" "$ip" "$state/h$i/fs" "$([ "$i" -lt "$n" ] && echo ,)"
    done
    echo "  ]"
    echo "}"
  } > "$state/hosts.json.tmp"
  mv "$state/hosts.json.tmp" "$state/hosts.json"
  cp "$state/known_hosts" "$state/known_hosts_hashed"
  ssh-keygen -q -H -f "$state/known_hosts_hashed" >/dev/null 2>&1
  rm -f "$state/known_hosts_hashed.old"
}

cmd="${1:-}"
case "$cmd" in
  up)
    n="${2:-3}"
    [[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le 50 ] || { echo "usage: $0 up N (1..50)" >&2; exit 2; }
    command -v sshd >/dev/null || { echo "test-hosts: sshd missing; run build/install-test-deps.sh" >&2; exit 1; }
    client_keys
    alias_up
    bridge_up
    pids=()
    for ((i = 1; i <= n; i++)); do host_up "$i" & pids+=($!); done
    rc=0; for p in "${pids[@]}"; do wait "$p" || rc=1; done
    [ "$rc" = 0 ] || { echo "test-hosts: some hosts did not come up" >&2; exit 1; }
    write_state "$n"
    echo "test-hosts: $n hosts up ($(host_ip 1)..$(host_ip "$n")), state in $state"
    ;;
  down)
    pids=()
    for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^sealer-h[0-9]+$' || true); do host_down "${ns#sealer-h}" & pids+=($!); done
    if [ -d "$state" ]; then
      for h in "$state"/h*; do [ -d "$h" ] && { host_down "${h##*/h}" & pids+=($!); }; done
    fi
    for p in "${pids[@]}"; do wait "$p" || true; done
    ip link del "$bridge" 2>/dev/null || true
    alias_down
    rm -rf "$state"
    echo "test-hosts: down"
    ;;
  status)
    for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^sealer-h[0-9]+$' || true); do
      i="${ns#sealer-h}"
      if host_running "$i" && wait_port "$(host_ip "$i")" 22 1; then echo "$ns $(host_ip "$i") up"; else echo "$ns $(host_ip "$i") DOWN"; fi
    done
    ;;
  *)
    echo "usage: $0 up N | down | status" >&2
    exit 2
    ;;
esac
