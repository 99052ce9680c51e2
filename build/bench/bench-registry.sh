# Sourced by the benches that start loopback Debian docker-registry instances of their own (mirror-bench.sh,
# sealer-base-bench.sh). They set `work` (their directory, with logs/ in it) and the array `pids` (killed at exit).
# bench_ports_free NAME BASE COUNT SETTING: fails naming NAME and SETTING when a port of BASE..BASE+COUNT-1 is taken.
bench_ports_free() {
  local i
  for i in $(seq 0 $(($3 - 1))); do
    if ss -ltn | awk '{print $4}' | grep -q ":$(($2 + i))\$"; then echo "$1: port $(($2 + i)) is taken ($4)" >&2; exit 1; fi
  done
}
# registry NAME PORT STORAGE: a docker-registry with its filesystem storage at STORAGE on 127.0.0.1:PORT, waited for;
# its pid is appended to pids.
registry() {
  mkdir -p "$3"
  printf 'version: 0.1\nlog: {level: error, accesslog: {disabled: true}}\nstorage: {filesystem: {rootdirectory: %s}}\nhttp: {addr: 127.0.0.1:%s}\n' "$3" "$2" > "$work/logs/$1.yml"
  docker-registry serve "$work/logs/$1.yml" >> "$work/logs/$1.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 200); do curl -fsS -o /dev/null "http://127.0.0.1:$2/v2/" 2>/dev/null && return 0; sleep 0.05; done
  echo "registry $1 did not start; see $work/logs/$1.log" >&2; exit 1
}
