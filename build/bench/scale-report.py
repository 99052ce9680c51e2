#!/usr/bin/env python3
"""Prints the Markdown table of build/bench/scale-bench.sh's results.jsonl: per phase and size wall, CPU, peak RSS,
bytes read/written, requests, the floor and the ratio to it; then per phase the growth exponents between the smallest
and the largest size (time and memory, against the project's bytes) and the targets of issue 17; then what the
distribute phase left on the hosts and the disk's use at its peak. For distribute, "Sealer task s" is the distribute
step alone (`sealer run` prints each step's start), the wall time the whole run. Second floors (measured with
--floor-of PHASE:NAME, e.g. pull:transfer) and the source registries' CPU during a phase (serverCpu) get a table of
their own after the main one. A phase or floor measured in several rounds (SCALE_ROUNDS) counts by its median wall time,
every round's time shown next to it.

Usage: scale-report.py RESULTS.jsonl"""
import json
import math
import sys

MiB = 1048576
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
projects = {r["size"]: r for r in rows if r["phase"] == "_project"}
sizes = list(projects)
phases = []
for r in rows:
    if r["phase"] != "_project" and "wall" in r and not r.get("floorOf") and r["phase"] not in phases:
        phases.append(r["phase"])


def medians(items, key):
    """One row per key: the row of the median wall time when a phase ran in several rounds (SCALE_ROUNDS; the lower of
    the two middle ones for an even count), with "rounds" and every round's wall time ("walls") added."""
    groups = {}
    for r in items:
        groups.setdefault(key(r), []).append(r)
    out = {}
    for k, g in groups.items():
        timed = sorted((r for r in g if "wall" in r), key=lambda r: r["wall"])
        pick = dict(timed[(len(timed) - 1) // 2]) if timed else dict(g[-1])
        pick["rounds"], pick["walls"] = len(timed), [r["wall"] for r in g if "wall" in r]
        out[k] = pick
    return out


get = medians([r for r in rows if r["phase"] != "_project"], lambda r: (r["size"], r["phase"]))
floor = medians([r for r in rows if r.get("floorOf")], lambda r: (r["size"], r["floorOf"]))


def fmt_s(x):
    return "—" if x is None else (f"{x:.2f}" if x < 10 else f"{x:.1f}")


print("| size (charts/images/MiB) | phase | wall s | MSBuild s | Sealer task s | CPU s | peak RSS MiB | read/written MiB | requests | floor s (CPU s) | ×floor (wall) | ×floor (task) | ×floor (CPU) |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for s in sizes:
    p = projects[s]
    label = f"{p['charts']}/{p['images']}/{p['bytes'] / MiB:.0f}"
    for ph in phases:
        r = get.get((s, ph))
        if not r:
            continue
        f = floor.get((s, ph))
        ratio = f"{r['wall'] / f['wall']:.2f}" if f and f["wall"] > 0 else "—"
        tratio = f"{r['task'] / f['wall']:.2f}" if f and f["wall"] > 0 and r.get("task") is not None else "—"
        cratio = f"{r['cpu'] / f['cpu']:.2f}" if f and f["cpu"] > 0 else "—"
        bad = "" if r["exit"] == 0 else f" (exit {r['exit']})"
        if r["rounds"] > 1:
            bad += f" (median of {r['rounds']}: " + " / ".join(fmt_s(w) for w in r["walls"]) + (f"; floor {' / '.join(fmt_s(w) for w in f['walls'])}" if f else "") + ")"
        print(f"| {label} | {ph}{bad} | {fmt_s(r['wall'])} | {fmt_s(r.get('msbuild'))} | {fmt_s(r.get('task'))} | {fmt_s(r['cpu'])} | {r['peakRss'] / MiB:.0f} | "
              f"{r['rchar'] / MiB:.0f}/{r['wchar'] / MiB:.0f} | {r['requests']} | {(fmt_s(f['wall']) + ' (' + fmt_s(f['cpu']) + ')') if f else '—'} | {ratio} | {tratio} | {cratio} |")
        # an extra floor (floor_hash of assemble: the copy plus sha256 of it), as a row of its own
        fh = floor.get((s, ph + "#hash"))
        if fh and fh["wall"] > 0 and fh["cpu"] > 0:
            t = f"{r['task'] / fh['wall']:.2f}" if r.get("task") is not None else "—"
            print(f"| {label} | {ph} vs floor_hash | | | | | | | | {fmt_s(fh['wall'])} ({fmt_s(fh['cpu'])}) | {r['wall'] / fh['wall']:.2f} | {t} | {r['cpu'] / fh['cpu']:.2f} |")

second = [f for (_, name), f in floor.items() if ":" in name]
if second:
    print()
    print("Second floors (the phase next to another floor of the same run; server CPU = the source docker-registry processes' CPU during it, not in CPU s):")
    print()
    print("| size | phase | floor | phase wall s | phase CPU s | phase server CPU s | floor wall s | floor CPU s | floor server CPU s | ×floor (wall) | ×floor (CPU) | ×floor (CPU + server CPU) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for f in second:
        ph, name = f["floorOf"].split(":", 1)
        r = get.get((f["size"], ph))
        if not r:
            continue
        sc, fsc = r.get("serverCpu"), f.get("serverCpu")
        both = f"{(r['cpu'] + sc) / (f['cpu'] + fsc):.2f}" if sc is not None and fsc is not None and f["cpu"] + fsc > 0 else "—"
        print(f"| {f['size']} | {ph} | {name} | {fmt_s(r['wall'])} | {fmt_s(r['cpu'])} | {fmt_s(sc)} | {fmt_s(f['wall'])} | {fmt_s(f['cpu'])} | {fmt_s(fsc)} | "
              f"{r['wall'] / f['wall']:.2f} | {r['cpu'] / f['cpu']:.2f} | {both} |")

if len(sizes) >= 2:
    a, b = sizes[0], sizes[-1]
    k = math.log(projects[b]["bytes"] / projects[a]["bytes"])
    print()
    print(f"Growth exponents from {a} to {b} (against the project's bytes; 1.0 = linear; target <= 1.1), and the largest size's targets:")
    print()
    # The floor's own exponent: the same bytes through cp/cat/scp can grow faster than linearly on this machine (the disk
    # slows once the data outgrows the page cache); a phase is then judged against it, not against 1.0 alone.
    print("| phase | time exponent (wall) | (Sealer task) | memory exponent | CPU exponent | floor's time exponent | peak RSS at largest | ×floor at largest (wall / task) | notes |")
    print("|---|---|---|---|---|---|---|---|---|")
    for ph in phases:
        ra, rb = get.get((a, ph)), get.get((b, ph))
        if not ra or not rb:
            continue
        def e(key):
            if ra.get(key) is None or rb.get(key) is None:
                return "—"
            return f"{math.log(max(rb[key], 1e-3) / max(ra[key], 1e-3)) / k:.2f}"
        f = floor.get((b, ph))
        notes = []
        if ph == "noop":
            notes.append(f"MSBuild {fmt_s(rb.get('msbuild'))} s (target < 2), {rb['requests']} requests (target 0)")
        if ph == "onechart":
            notes.append("should stay flat (one chart changed)")
        if rb["peakRss"] >= 500 * MiB:
            notes.append("peak RSS over 500 MiB")
        if f and f["wall"] > 0 and rb["wall"] / f["wall"] > 1.5:
            notes.append("over 1.5× floor")
        fh = floor.get((b, ph + "#hash"))
        if fh and fh["wall"] > 0:
            notes.append(f"{rb['wall'] / fh['wall']:.2f}× floor_hash (cp + sha256)")
        fs = floor.get((b, ph + ":sync"))
        if fs and fs["wall"] > 0:
            notes.append(f"{rb['wall'] / fs['wall']:.2f}× floor_sync (cp + sync of the copy)")
        fl = "—"
        if f and f["wall"] > 0:
            fl = f"{rb['wall'] / f['wall']:.2f}" + (f" / {rb['task'] / f['wall']:.2f}" if rb.get("task") is not None else "")
        fa = floor.get((a, ph))
        fe = f"{math.log(f['wall'] / fa['wall']) / k:.2f}" if f and fa and f["wall"] > 0 and fa["wall"] > 0 else "—"
        print(f"| {ph} | {e('wall')} | {e('task')} | {e('peakRss')} | {e('cpu')} | {fe} | {rb['peakRss'] / MiB:.0f} MiB | {fl} | {'; '.join(notes)} |")

hosts = {r["size"]: r for r in rows if r["phase"] == "_hosts"}
disk = {r["size"]: r for r in rows if r["phase"] == "_disk"}
if hosts or disk:
    print()
    print("Distribution to 3 netns hosts (master 10.200.0.11 runs the registry, 2 nodes): what the hosts held after `sealer run`, and the disk:")
    print()
    for s in sizes:
        h, d = hosts.get(s), disk.get(s)
        parts = []
        if h:
            parts.append("hosts held " + " / ".join(f"{b / MiB:.0f}" for b in h["held"]) + " MiB (master / nodes)")
        if d:
            parts.append(f"disk used +{(d['peak'] - d['before']) / 2**30:.1f} GiB at the peak ({d['peak'] / 2**30:.1f} GiB in all), {d['availMin'] / 2**30:.1f} GiB free at the least")
        if parts:
            print(f"- {s}: " + "; ".join(parts))

cancel = [r for r in rows if r["phase"].startswith("cancel-") and "wall" not in r]
if cancel:
    print()
    print("Ctrl+C (SIGINT to the process group) at the largest size, and the rebuild after it:")
    print()
    for r in cancel:
        print("- " + r["phase"] + ": " + ", ".join(f"{k} {v}" for k, v in r.items() if k not in ("size", "phase")))

timed = [r for r in rows if r.get("size") == (sizes[-1] if sizes else None) and r.get("threads") is not None]
if timed:
    print()
    print("Where the time went at the largest size, every run of a phase or floor in the order run (threads: seconds of the"
          " tree's threads running or runnable (R) or waiting for the disk (D), by system call, the largest five; disk: the"
          " root device's reads and writes (MiB, requests, ms the device took for them), discards (MiB) and cache flushes"
          " (count, ms)):")
    print()
    print("| phase | wall s | threads (s) | read MiB / requests (ms) | written MiB / requests (ms) | discarded MiB | flushes (ms) |")
    print("|---|---|---|---|---|---|---|")
    for r in timed:
        name = r["phase"] + (f" (floor of {r['floorOf']})" if r.get("floorOf") else "")
        th = ", ".join(f"{k} {v:.2f}" for k, v in list(r["threads"].items())[:5]) or "—"
        d = r.get("disk") or {}
        rd = f"{d['readSectors'] * 512 / MiB:.0f} / {d['reads']} ({d['readMs']})" if d else "—"
        wr = f"{d['writeSectors'] * 512 / MiB:.0f} / {d['writes']} ({d['writeMs']})" if d else "—"
        dc = f"{d['discardSectors'] * 512 / MiB:.0f}" if d else "—"
        fl = f"{d['flushes']} ({d['flushMs']})" if d else "—"
        print(f"| {name} | {fmt_s(r['wall'])} | {th} | {rd} | {wr} | {dc} | {fl} |")
