#!/usr/bin/env bash
# Site bundles at size (issue 14): start-up of a big bundle must not depend on its size (target: a 10 GB bundle < 1 s).
#   bash build/bench/bundle-bench.sh [GIB]          (default 10; needs ~2×GIB free disk under $TMPDIR; SEALER=path)
# Makes an OCI archive of GIB (layers of 1 GiB; zero-filled: start-up never reads them, and hashing/copying zeros
# costs what random bytes cost), bundles it with the NativeAOT sealer, then times in the same run:
#   - `sealer --version` (plain binary) vs `BUNDLE --version` (trailer + manifest check): the bundle's start-up overhead;
#   - `BUNDLE inspect` (archive read in place: tar headers walked by seeking) vs the anchor `skopeo inspect
#     oci-archive:` of the same archive (which unpacks the archive to a temporary directory first);
#   - `sealer bundle` (write) vs the anchor `cp` of the same archive (the physical floor of writing it once);
#   - `BUNDLE verify` vs `sha256sum` of the archive;
#   - split for FAT32 media (`sealer bundle --split fat32`, parts of at most 4 GiB - 1) vs the anchors `cp` and
#     coreutils `split -b 4294967295` of the archive (cuts anywhere, hashes nothing), and the split bundle's
#     `--version` / `inspect` (the parts are stat'ed, the archive walked across them) vs the one-file bundle's.
#   - Ctrl+C: `sealer bundle` (one file, and --split fat32) sent SIGINT once half the archive is written: seconds to
#     exit (target: under 1 s) and the files left beside the output (target: none), against the anchor `rm` of a file of
#     as many bytes just written by `head -c` (the kernel's unlink of written data: on an ext4 mounted `discard` it
#     costs ~0.5 s per GiB that reached the disk);
#   - with SEALER_BEFORE=path (another sealer binary): its one-file and split writes and Ctrl+C too, alternating with
#     ours ROUNDS times (default 2), each write's seconds listed, to compare two builds in one run.
# Prints a markdown table for build/bench/RESULTS.md.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
gib="${1:-10}"
sealer="${SEALER:-$root/artifacts/cli/linux-x64/sealer}"
[ -x "$sealer" ] || { echo "bundle-bench: no $sealer (bash build/publish-cli.sh linux-x64)" >&2; exit 1; }
for t in hyperfine skopeo python3; do command -v "$t" >/dev/null || { echo "bundle-bench: $t missing (build/install-test-deps.sh)" >&2; exit 1; }; done
tmp="$(mktemp -d "${TMPDIR:-/tmp}/bundle-bench.XXXXXX")"; trap 'rm -rf "$tmp"' EXIT
layout="$tmp/layout"; mkdir -p "$layout/blobs/sha256"

# layers: sparse zero files of 1 GiB; their digest is computed once (all equal content -> one blob would dedupe, so
# each layer gets a distinct 16-byte head)
layers=""
for i in $(seq 1 "$gib"); do
  f="$tmp/layer$i"; printf 'layer-%010d' "$i" > "$f"; truncate -s 1G "$f"
  d=$(sha256sum "$f" | cut -c1-64); mv "$f" "$layout/blobs/sha256/$d"
  layers+="{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"sha256:$d\",\"size\":1073741824},"
done
layers="${layers%,}"
cfg='{"architecture":"amd64","os":"linux","config":{"Labels":{"sealer.io.kubernetes.version":"v1.30.1"}},"rootfs":{"type":"layers","diff_ids":[]}}'
printf '%s' "$cfg" > "$tmp/cfg"; cd_=$(sha256sum "$tmp/cfg" | cut -c1-64); mv "$tmp/cfg" "$layout/blobs/sha256/$cd_"
man="{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:$cd_\",\"size\":${#cfg}},\"layers\":[$layers]}"
printf '%s' "$man" > "$tmp/man"; md=$(sha256sum "$tmp/man" | cut -c1-64); ms=$(stat -c %s "$tmp/man"); mv "$tmp/man" "$layout/blobs/sha256/$md"
echo '{"imageLayoutVersion":"1.0.0"}' > "$layout/oci-layout"
echo "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:$md\",\"size\":$ms,\"annotations\":{\"org.opencontainers.image.ref.name\":\"bench/big:1.0\"}}]}" > "$layout/index.json"
tar -C "$layout" -cf "$tmp/big.tar" oci-layout index.json blobs
rm -rf "$layout"
sync

secs() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N); python3 -c "print(f'{($e-$s)/1e9:.2f}')"; }
mean_ms() { hyperfine -N --warmup 3 --runs "${RUNS:-30}" --export-json "$tmp/h.json" "$*" >/dev/null 2>&1
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print("%.1f" % (r["mean"]*1000))' "$tmp/h.json"; }
ratio() { python3 -c "import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); print(f'{a/b:.2f}' if b else 'n/a')" "$1" "$2"; }

cp_s=$(secs cp "$tmp/big.tar" "$tmp/copy.tar"); rm -f "$tmp/copy.tar"; sync
bundle_s=$(secs "$sealer" bundle "$tmp/big.tar" -o "$tmp/big.run")
size=$(stat -c %s "$tmp/big.run")
plain_v=$(mean_ms "$sealer" --version)
bundle_v=$(mean_ms "$tmp/big.run" --version)
bundle_i=$(mean_ms "$tmp/big.run" inspect)
verify_s=$(secs "$tmp/big.run" verify)
sha_s=$(secs sha256sum "$tmp/big.tar")
archive_i=$(mean_ms "$sealer" inspect "$tmp/big.tar")
skopeo_i=$(RUNS=3 mean_ms skopeo inspect "oci-archive:$tmp/big.tar")
rm -f "$tmp/big.run"; sync

# split for FAT32 media, in a folder of its own; then the anchor `split -b` (its pieces removed again)
mkdir -p "$tmp/split" "$tmp/pieces"
split_s=$(secs "$sealer" bundle "$tmp/big.tar" -o "$tmp/split/big.run" --split fat32)
nfiles=$(ls "$tmp/split" | wc -l)
largest=$(stat -c %s "$tmp/split"/* | sort -n | tail -1)
split_v=$(mean_ms "$tmp/split/big.run" --version)
split_i=$(mean_ms "$tmp/split/big.run" inspect)
rm -rf "$tmp/split"; sync
coreutils_s=$(secs split -b 4294967295 "$tmp/big.tar" "$tmp/pieces/big.tar.")
rm -rf "$tmp/pieces"

echo "bundle of ${gib} GiB ($size bytes), $(nproc) cores, $(date -u +%F)"
echo
echo "| what | us | anchor | ratio (us/anchor) |"
echo "|---|---|---|---|"
echo "| start-up: \`BUNDLE --version\` vs plain \`sealer --version\` (ms) | $bundle_v | $plain_v | $(ratio "$bundle_v" "$plain_v") |"
echo "| \`BUNDLE inspect\` (in place) vs \`skopeo inspect oci-archive:\` (ms) | $bundle_i | $skopeo_i | $(ratio "$bundle_i" "$skopeo_i") |"
echo "| \`sealer inspect big.tar\` (in place) vs \`skopeo inspect oci-archive:\` (ms) | $archive_i | $skopeo_i | $(ratio "$archive_i" "$skopeo_i") |"
echo "| write: \`sealer bundle\` vs \`cp\` of the archive (s) | $bundle_s | $cp_s | $(ratio "$bundle_s" "$cp_s") |"
echo "| \`BUNDLE verify\` (every section re-hashed) vs \`sha256sum\` of the archive (s) | $verify_s | $sha_s | $(ratio "$verify_s" "$sha_s") |"
echo "| write split: \`sealer bundle --split fat32\` ($nfiles files, largest $largest B) vs \`cp\` (s) | $split_s | $cp_s | $(ratio "$split_s" "$cp_s") |"
echo "| write split: \`sealer bundle --split fat32\` vs coreutils \`split -b 4294967295\` (s) | $split_s | $coreutils_s | $(ratio "$split_s" "$coreutils_s") |"
echo "| write split vs one file: \`--split fat32\` vs \`sealer bundle\` (s) | $split_s | $bundle_s | $(ratio "$split_s" "$bundle_s") |"
echo "| start-up: split \`BUNDLE --version\` vs one-file \`BUNDLE --version\` (ms) | $split_v | $bundle_v | $(ratio "$split_v" "$bundle_v") |"
echo "| split \`BUNDLE inspect\` vs one-file \`BUNDLE inspect\` (ms) | $split_i | $bundle_i | $(ratio "$split_i" "$bundle_i") |"

# Ctrl+C once half the archive is written (SIGINT to the process group, as a terminal sends it): seconds to exit, files left
ctrl_c() { # BINARY [--split fat32] -> "SECONDS FILES-LEFT BYTES-WRITTEN-AT-THE-SIGNAL"
  local bin="$1"; shift; rm -rf "$tmp/cc"; mkdir -p "$tmp/cc"; sync
  PYTHONPATH="$here" python3 - "$bin" "$tmp/big.tar" "$tmp/cc" "$@" <<'PY'
import os, sys
import sigint
bin_, archive, out, extra = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
half = os.path.getsize(archive) // 2
def written():
    n = 0
    for f in os.listdir(out):
        try:
            n += os.path.getsize(os.path.join(out, f))
        except FileNotFoundError:  # renamed into place meanwhile
            pass
    return n
at = 0
def ready():
    global at
    at = written()
    return at >= half
secs, _, _ = sigint.interrupt([bin_, "bundle", archive, "-o", os.path.join(out, "big.run"), *extra], ready)
print(f"{secs or 0:.2f} {len(os.listdir(out))} {at}")
PY
  rm -rf "$tmp/cc"; sync
}
rm_floor() { # BYTES -> seconds of `rm` of a file of BYTES just written (page cache, then the disk, as a bundle writes)
  head -c "$1" /dev/zero > "$tmp/floor"; secs rm -f "$tmp/floor"; sync
}
# (into a file, not `< <(...)`: the function's clean-up must end before the next measurement starts)
ctrl_c "$sealer" > "$tmp/cc.out"; read -r cc_one cc_one_left cc_one_at < "$tmp/cc.out"; rm_one=$(rm_floor "$cc_one_at")
ctrl_c "$sealer" --split fat32 > "$tmp/cc.out"; read -r cc_split cc_split_left cc_split_at < "$tmp/cc.out"; rm_split=$(rm_floor "$cc_split_at")
echo "| Ctrl+C at half: \`sealer bundle\` (s to exit, $cc_one_left files left) vs \`rm\` of its $cc_one_at bytes (s) | $cc_one | $rm_one | $(ratio "$cc_one" "$rm_one") |"
echo "| Ctrl+C at half: \`sealer bundle --split fat32\` (s to exit, $cc_split_left files left) vs \`rm\` of its $cc_split_at bytes (s) | $cc_split | $rm_split | $(ratio "$cc_split" "$rm_split") |"

if [ -n "${SEALER_BEFORE:-}" ]; then
  # two builds in one run, alternating: ours first in odd rounds, the other first in even ones
  declare -A w
  for r in $(seq 1 "${ROUNDS:-2}"); do
    order=(ours before); [ $((r % 2)) -eq 0 ] && order=(before ours)
    for who in "${order[@]}"; do
      bin="$sealer"; [ "$who" = before ] && bin="$SEALER_BEFORE"
      w[$who.one]+="$(secs "$bin" bundle "$tmp/big.tar" -o "$tmp/ab.run") "; rm -f "$tmp/ab.run"; sync
      mkdir -p "$tmp/ab"; w[$who.split]+="$(secs "$bin" bundle "$tmp/big.tar" -o "$tmp/ab/big.run" --split fat32) "; rm -rf "$tmp/ab"; sync
      ctrl_c "$bin" > "$tmp/cc.out"; read -r c l _ < "$tmp/cc.out"; w[$who.cc]+="$c/$l "
    done
  done
  echo
  echo "A/B against SEALER_BEFORE=$SEALER_BEFORE, ${ROUNDS:-2} rounds alternating (seconds each; Ctrl+C: seconds to exit/files left):"
  echo
  echo "| what | us | before |"
  echo "|---|---|---|"
  echo "| write: \`sealer bundle\` (s) | ${w[ours.one]} | ${w[before.one]} |"
  echo "| write: \`sealer bundle --split fat32\` (s) | ${w[ours.split]} | ${w[before.split]} |"
  echo "| Ctrl+C at half: \`sealer bundle\` | ${w[ours.cc]} | ${w[before.cc]} |"
fi
