#!/usr/bin/env python3
"""Ctrl+C at scale (build/bench/scale-bench.sh with SCALE_CANCEL=1): SIGINT to `dotnet build` mid-pull and mid-archive,
as a terminal's Ctrl+C sends it (to the whole process group), then the rebuild that completes the work.

Usage: scale-cancel.py RESULTS.jsonl SIZE PROJECT_DIR WORK_DIR LOGS

  cancel-pull      a cold pull into an empty cache, SIGINT once a third of the bytes are in; time to exit; then every
                   blob in the cache must hash to its name (no half blob), and the rebuild must download only the bytes
                   the cache lacks (from its own message) - no blob twice
  cancel-archive   the archive written again from the layout, SIGINT once a third is written; time to exit; the rebuild
                   keeps what was written and completes it
  cancel-load      `sealer load -i` of the archive into an empty store (its four writers at once), SIGINT once a third
                   of the bytes are in; time to exit; the store names no image, holds no temp file and every blob in it
                   hashes to its name; the load run again completes it (the sealer: SCALE_SEALER or SEALER_BIN)
Appends one JSON line per step (phase cancel-pull, cancel-pull-rebuild, cancel-archive, cancel-archive-rebuild,
cancel-load, cancel-load-rerun).
"""
import glob
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time

import sigint  # beside this file

results, size, proj, work, logs = sys.argv[1:6]
_spec = importlib.util.spec_from_file_location("scale_measure", os.path.join(os.path.dirname(os.path.abspath(__file__)), "scale-measure.py"))
measure_mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(measure_mod)
kubeproj = os.path.join(proj, "scale.kubeproj")
build = ["dotnet", "build", kubeproj, "-c", "Release", "-nologo", "-nodeReuse:false", "-v:m", "--no-restore"]
total = json.load(open(os.path.join(work, "gen", "project.json")))["bytes"]


def record(**kw):
    with open(results, "a") as f:
        f.write(json.dumps({"size": size, **kw}) + "\n")
    print("scale-bench: " + ", ".join(f"{k} {v}" for k, v in kw.items()), file=sys.stderr)


def blob_bytes(d):
    return sum(os.path.getsize(p) for p in glob.glob(os.path.join(d, "blobs", "sha256", "*")))


def bad_blobs(d):
    """The blobs under D/blobs/sha256 whose bytes do not hash to their name (a half-written blob)."""
    bad = []
    for p in glob.glob(os.path.join(d, "blobs", "sha256", "*")):
        h = hashlib.sha256()
        with open(p, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        if h.hexdigest() != os.path.basename(p):
            bad.append(os.path.basename(p))
    return bad


def interrupt(cmd, env, progress, log):
    """Runs CMD in its own process group; once PROGRESS() >= a third of the total sends SIGINT to the group (a terminal's
    Ctrl+C, sigint.py); returns (seconds from SIGINT to exit, exit code, whether it was still running at the signal, where
    the tree's threads were from SIGINT to exit: seconds running or runnable (R) or waiting for the disk (D) per system
    call, sampled every 20 ms)."""
    states = {}

    def sample(pid):
        for p in measure_mod.tree(pid):
            measure_mod.thread_states(p, states)

    with open(log, "wb") as lf:
        secs, code, n = sigint.interrupt(cmd, lambda: progress() >= total / 3, env=env, stdout=lf, poll=0.05,
                                         sample=sample, every=0.02)
    if secs is None:
        return None, code, False, {}
    return secs, code, True, measure_mod.state_seconds(states, secs, n, 0.02)


def measure(phase, cmd, env, log):
    subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "scale-measure.py"), results, size, phase,
                    "--log", log, "--logs", logs, "--", *cmd], env=env, check=False)
    return open(log, errors="replace").read()


# 1. mid-pull
cache = os.path.join(work, "cache-cancel")
shutil.rmtree(cache, ignore_errors=True)
env = dict(os.environ, SEALER_CACHE_DIR=cache)
for stamp in glob.glob(os.path.join(proj, "obj", "**", "pull.stamp"), recursive=True):
    os.remove(stamp)
secs, code, running, waits = interrupt(build + ["-t:PullClusterImages"], env, lambda: blob_bytes(cache), os.path.join(work, "cancel-pull.log"))
bad, have = bad_blobs(cache), blob_bytes(cache)
record(phase="cancel-pull", exitSeconds=None if secs is None else round(secs, 2), exit=code, interrupted=running,
       cachedBytes=have, badBlobs=len(bad), threadsToExit=waits)
out = measure("cancel-pull-rebuild", build + ["-t:PullClusterImages"], env, os.path.join(work, "cancel-pull-rebuild.log"))
m = re.search(r"(\d+) blobs / (\d+) bytes downloaded, (\d+) blobs cached", out)
record(phase="cancel-pull-check", downloadedBytes=int(m.group(2)) if m else None, cachedBefore=have,
       neededBytes=blob_bytes(cache) - have, total=total)

# 2. mid-archive
archive = next(iter(glob.glob(os.path.join(proj, "bin", "**", "*.tar"), recursive=True)), None)
if archive:
    os.remove(archive)
    updating = os.path.join(os.path.dirname(archive), "." + os.path.basename(archive) + ".updating")
    size_of = lambda: max((os.path.getsize(f) for f in (archive, updating) if os.path.exists(f)), default=0)
    secs, code, running, waits = interrupt(build + ["-t:AssembleClusterImage"], env, size_of, os.path.join(work, "cancel-archive.log"))
    record(phase="cancel-archive", exitSeconds=None if secs is None else round(secs, 2), exit=code, interrupted=running,
           archiveExists=os.path.exists(archive), updatingBytes=os.path.getsize(updating) if os.path.exists(updating) else 0,
           threadsToExit=waits)
    out = measure("cancel-archive-rebuild", build + ["-t:AssembleClusterImage"], env, os.path.join(work, "cancel-archive-rebuild.log"))
    m = re.search(r"\((\d+) bytes: (\d+) bytes written, (\d+) kept(, an interrupted update completed)?\)", out)
    record(phase="cancel-archive-check", archiveBytes=int(m.group(1)) if m else None, written=int(m.group(2)) if m else None,
           kept=int(m.group(3)) if m else None, completed=bool(m and m.group(4)))

# 3. mid-load (sealer load of the archive: several writers at once)
root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sealer = os.environ.get("SCALE_SEALER") or os.environ.get("SEALER_BIN")
if sealer and not os.path.isabs(sealer) and not os.path.exists(sealer):
    sealer = os.path.join(root, sealer)
archive = archive and os.path.exists(archive) and archive
if sealer and os.path.exists(sealer) and archive:
    store = os.path.join(work, "store-cancel")
    shutil.rmtree(store, ignore_errors=True)
    lenv = dict(os.environ, SEALER_IMAGES_DIR=store)
    in_store = lambda: blob_bytes(store) + sum(os.path.getsize(p) for p in glob.glob(os.path.join(store, "ingest", "*")) if os.path.isfile(p))
    secs, code, running, waits = interrupt([sealer, "load", "-i", archive], lenv, in_store, os.path.join(work, "cancel-load.log"))
    bad = bad_blobs(store)
    index = os.path.join(store, "index.json")
    named = len(json.load(open(index)).get("manifests") or []) if os.path.exists(index) else 0
    temps = [p for p in glob.glob(os.path.join(store, "ingest", "*")) if os.path.isfile(p)]
    kept = blob_bytes(store)
    record(phase="cancel-load", exitSeconds=None if secs is None else round(secs, 2), exit=code, interrupted=running,
           storedBytes=kept, badBlobs=len(bad), named=named, tempFiles=len(temps), threadsToExit=waits)
    out = measure("cancel-load-rerun", [sealer, "load", "-i", archive], lenv, os.path.join(work, "cancel-load-rerun.log"))
    index_after = json.load(open(index)) if os.path.exists(index) else {}
    record(phase="cancel-load-check", storedBefore=kept, storedAfter=blob_bytes(store),
           named=len(index_after.get("manifests") or []), archiveBytes=os.path.getsize(archive))
    shutil.rmtree(store, ignore_errors=True)
shutil.rmtree(cache, ignore_errors=True)
