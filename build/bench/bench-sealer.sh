# Sourced by the benches that run `sealer` against the netns hosts (deliver-bench.sh, upgrade-bench.sh).
# bench_sealer NAME WORK: prints the sealer to run — $SEALER_BIN (e.g. a NativeAOT build) when set, else a wrapper in WORK
# running the Release (else Debug) sealer.dll through dotnet; fails naming NAME when neither exists.
bench_sealer() {
  local name="$1" work="$2" root dll="" c
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  if [ -n "${SEALER_BIN:-}" ]; then readlink -f "$SEALER_BIN"; return; fi
  for c in Release Debug; do [ -f "$root/src/Sealer.Cli/bin/$c/net10.0/sealer.dll" ] && { dll="$root/src/Sealer.Cli/bin/$c/net10.0/sealer.dll"; break; }; done
  [ -n "$dll" ] || { echo "$name: build the solution first (no sealer.dll)" >&2; return 1; }
  printf '#!/bin/sh\nexport DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1\nexec dotnet %q "$@"\n' "$dll" > "$work/sealer"; chmod +x "$work/sealer"
  echo "$work/sealer"
}
