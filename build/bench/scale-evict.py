#!/usr/bin/env python3
"""Drops the page-cache pages of every regular file under the given directories (posix_fadvise DONTNEED).

Usage: scale-evict.py DIR|FILE...   (run `sync` first: dirty pages are not dropped)

scale-bench.sh calls it before every byte-moving step and its floors, so a phase and its floor both read their inputs
from the disk. Without it they do not: at 8 GiB the bench's data (registries, cache, layout, archive: ~4x the size) is more
than this machine's memory, so a phase reads what the page cache lost (the archive phase read 8.3 GB from the disk on
2026-12-03) while its floor, `cp` of the archive written a moment before, read it from memory. Only the data goes: the
toolchain (dotnet, the SDK packages) stays warm, as on a developer's machine. Needs no root.
"""
import os
import sys



def paths(top):
    if os.path.isfile(top):
        yield top
    for dirpath, _, names in os.walk(top):
        for name in names:
            yield os.path.join(dirpath, name)


files = size = 0
for top in sys.argv[1:]:
    for p in paths(top):
        try:
            if os.path.islink(p) or not os.path.isfile(p):
                continue
            fd = os.open(p, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            size += os.fstat(fd).st_size
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            files += 1
        finally:
            os.close(fd)
print(f"scale-evict: {files} files, {size / 2**20:.0f} MiB dropped from the page cache", file=sys.stderr)
