#!/usr/bin/env bash
# Publishes the `sealer` NativeAOT binary: one self-contained executable, no .NET runtime needed on the host.
#   build/publish-cli.sh [linux-x64|linux-arm64 ...]     (default: linux-x64)
# Output: artifacts/cli/<rid>/sealer. AOT and trim warnings are errors (the build fails on any).
# linux-arm64 is cross-compiled on x64: it needs clang, lld and Debian's arm64 cross libc
#   apt-get install clang lld gcc-aarch64-linux-gnu libc6-dev-arm64-cross binutils-aarch64-linux-gnu
# Both binaries need glibc >= 2.34 and libssl3 at run time (hashing and TLS use OpenSSL),
# like the x64 one. Try it without arm64 hardware: apt-get install qemu-user libssl3:arm64 (after dpkg --add-architecture arm64),
# then QEMU_LD_PREFIX=/ qemu-aarch64 artifacts/cli/linux-arm64/sealer --version.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
rids=("$@")
[ ${#rids[@]} -eq 0 ] && rids=(linux-x64)
host_arch="$(uname -m)"
for rid in "${rids[@]}"; do
  out="$root/artifacts/cli/$rid"
  extra=()
  case "$rid" in
    linux-arm64)
      if [ "$host_arch" != aarch64 ]; then
        # Cross-compile: ILCompiler emits arm64 objects, clang links them with lld against the Debian arm64 sysroot.
        # The sysroot is / : Debian's cross libc (libc6-dev-arm64-cross) lives in /usr/aarch64-linux-gnu and its libc.so linker
        # script names absolute paths there, which lld resolves inside the sysroot; clang finds crt files via /usr/lib/gcc-cross.
        sysroot=/
        for tool in clang ld.lld; do command -v "$tool" >/dev/null || { echo "publish-cli: $tool missing (apt-get install clang lld)" >&2; exit 1; }; done
        [ -d /usr/aarch64-linux-gnu/lib ] || { echo "publish-cli: no arm64 libc at /usr/aarch64-linux-gnu (apt-get install libc6-dev-arm64-cross gcc-aarch64-linux-gnu)" >&2; exit 1; }
        extra+=(-p:CppCompilerAndLinker=clang -p:SysRoot="$sysroot" -p:LinkerFlavor=lld -p:ObjCopyName=aarch64-linux-gnu-objcopy)
      fi
      ;;
    linux-x64) ;;
    *) echo "publish-cli: unsupported RID $rid (linux-x64, linux-arm64)" >&2; exit 2 ;;
  esac
  echo "publish-cli: $rid -> $out"
  dotnet publish src/Sealer.Cli/Sealer.Cli.csproj -c Release -r "$rid" -o "$out" -nologo -v:q \
    -p:TreatWarningsAsErrors=true -p:StripSymbols=true "${extra[@]}"
  rm -f "$out"/*.dbg "$out"/*.pdb
  size=$(stat -c %s "$out/sealer")
  echo "publish-cli: $out/sealer $(( size / 1024 / 1024 )) MiB ($size bytes)"
  file "$out/sealer" 2>/dev/null || true
done
