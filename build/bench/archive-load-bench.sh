#!/usr/bin/env bash
# The archive and load phases of scale-bench.sh alone (issue 17), without MSBuild or registries, so a change to
# ClusterImageArchive.WriteAsync or OciArchive load can be measured against its floors in a few minutes, next to the same
# phases of another build of Sealer.Core (BEFORE) in the same run.
#
#   build/bench/archive-load-bench.sh DIR [BLOBS MIB] [ROUNDS]     default 600 8192 2
#   AFTER=DIR  the sealer-archive-bench build to measure (default: built from this checkout into DIR/bin-after)
#   BEFORE=DIR another build of build/bench/ArchiveBench (e.g. from `git archive main`), measured in the same rounds
# DIR/layout is generated once (archive-load-gen.py: BLOBS layers, MIB MiB, as scale-project.py sizes them) and kept.
# Each round, with `sync` before every phase and the layout and archive out of the page cache (COLD=0: left in): archive (a first write of the layout's build archive) for each build, the
# floors `cp` of the archive and `cp` + `sync` (floor_sync: the archive is flushed before its rename, cp's copy is not),
# then load into an empty store for each build, `sealer save` of that store for each build and its floors cp and cp + sync
# of the saved archive, and load's floor cp + openssl sha256. Measured by scale-measure.py into
# DIR/results.jsonl; prints a table (median over rounds).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
dir="$1"; blobs="${2:-600}"; mib="${3:-8192}"; rounds="${4:-2}"
mkdir -p "$dir"
after="${AFTER:-$dir/bin-after}"
if [ -z "${AFTER:-}" ]; then dotnet build "$here/ArchiveBench/ArchiveBench.csproj" -c Release -nologo -v:q -o "$after" >&2; fi
[ -f "$dir/layout/index.json" ] || python3 "$here/archive-load-gen.py" "$dir/layout" "$blobs" "$mib"
builds=(after); [ -n "${BEFORE:-}" ] && builds=(before after)
bin() { if [ "$1" = before ]; then echo "$BEFORE/sealer-archive-bench"; else echo "$after/sealer-archive-bench"; fi; }
res="$dir/results.jsonl"; : > "$res"
tar="$dir/a.tar"
# each step from the disk, as scale-bench.sh's (COLD=0: with whatever the page cache holds)
m() { sync; [ "${COLD:-1}" = 0 ] || python3 "$here/scale-evict.py" "$dir/layout" "$tar" "$dir/store" "$dir/s.tar" 2>/dev/null; python3 "$here/scale-measure.py" "$res" "$@"; }
for r in $(seq "$rounds"); do
  for b in "${builds[@]}"; do
    rm -f "$tar" "$dir/.a.tar.updating"
    m "r$r" "archive-$b" --log "$dir/archive-$b.log" -- "$(bin "$b")" archive "$dir/layout" "$tar"
  done
  m "r$r" archive-floor -- cp "$tar" "$dir/copy.tar"; rm -f "$dir/copy.tar"
  m "r$r" archive-floor-sync -- bash -c "cp '$tar' '$dir/copy.tar' && sync '$dir/copy.tar'"; rm -f "$dir/copy.tar"
  for b in "${builds[@]}"; do
    rm -rf "$dir/store"
    m "r$r" "load-$b" --log "$dir/load-$b.log" -- "$(bin "$b")" load "$tar" "$dir/store"
  done
  # save (sealer save of the loaded store) for each build, then its floor: cp + sync of the saved archive (save flushes it
  # before its rename). The store is the last build's load.
  for b in "${builds[@]}"; do
    rm -f "$dir/s.tar"
    m "r$r" "save-$b" --log "$dir/save-$b.log" -- "$(bin "$b")" save "$dir/store" "$dir/s.tar"
  done
  m "r$r" save-floor -- cp "$dir/s.tar" "$dir/copy.tar"; rm -f "$dir/copy.tar"
  m "r$r" save-floor-sync -- bash -c "cp '$dir/s.tar' '$dir/copy.tar' && sync '$dir/copy.tar'"; rm -f "$dir/copy.tar" "$dir/s.tar"
  rm -rf "$dir/store"
  m "r$r" load-floor -- bash -c "cp '$tar' '$dir/copy.tar' && openssl dgst -sha256 '$dir/copy.tar' >/dev/null"; rm -f "$dir/copy.tar"
  m "r$r" load-floor-sync -- bash -c "cp '$tar' '$dir/copy.tar' && sync '$dir/copy.tar' && openssl dgst -sha256 '$dir/copy.tar' >/dev/null"; rm -f "$dir/copy.tar"
done
rm -f "$tar"
python3 - "$res" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
by = {}
for r in rows: by.setdefault(r["phase"], []).append(r)
med = lambda k, p: statistics.median(x[k] for x in by[p])
print("| phase | rounds | wall s (median) | CPU s | written MiB | wall s per round |")
print("|---|---|---|---|---|---|")
for p, rs in by.items():
    print(f"| {p} | {len(rs)} | {med('wall', p):.2f} | {med('cpu', p):.2f} | {med('wchar', p) / 2**20:.0f} | {' / '.join('%.2f' % x['wall'] for x in rs)} |")
for ph, floors in (("archive", ("archive-floor", "archive-floor-sync")), ("load", ("load-floor", "load-floor-sync")), ("save", ("save-floor", "save-floor-sync"))):
    for b in ("before", "after"):
        if f"{ph}-{b}" not in by: continue
        print(f"{ph}-{b}: " + ", ".join(f"{med('wall', f'{ph}-{b}') / med('wall', f):.2f}x {f} (wall), {med('cpu', f'{ph}-{b}') / med('cpu', f):.2f}x (CPU)" for f in floors))
PY
