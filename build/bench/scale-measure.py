#!/usr/bin/env python3
"""Runs one phase of build/bench/scale-bench.sh and appends what it cost to a JSON-lines file.

Usage: scale-measure.py OUT.jsonl SIZE PHASE [--logs A,B,...] [--floor-of PHASE] [--log FILE] [--step A:B] [--watch PID,...] -- COMMAND...

Measured over the whole process tree (MSBuild worker nodes and the dotnet host are children of the command; every
process is sampled every 50 ms from /proc, the last value seen per process counts): wall time, CPU time (user+system,
the larger of the sampled sum and the waited-for children's rusage), peak RSS (largest sum over the tree at one sample),
bytes read/written (/proc/PID/io rchar/wchar: what the processes asked for, page cache or not; read_bytes/write_bytes:
what reached the disk), and registry requests (lines added to the given docker-registry access logs). MSBuild's own
"Time Elapsed" and the Sealer tasks' own time (-clp:PerformanceSummary) are taken from the output when there. The command's output goes to --log (default /dev/null).
--step A:B (for `sealer run`): every output line is time-stamped in the log, and the phase's "task" time is from the first
line starting with step A's name to the first starting with step B's (sealer prints each step's name when it starts).
--watch PID,...: processes outside the tree that work for the phase (the source docker-registry servers): their CPU
time during the phase is recorded apart ("serverCpu"), not in "cpu" (they compete for the same cores).
"""
import threading
import json
import os
import re
import resource
import subprocess
import sys
import time

CLK = os.sysconf("SC_CLK_TCK")
REQ = re.compile(rb'"(GET|HEAD|PUT|POST|PATCH|DELETE) /v2/')


def children_map():
    kids = {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/stat", "rb") as f:
                s = f.read()
            ppid = int(s[s.rindex(b")") + 2:].split()[1])
            kids.setdefault(ppid, []).append(int(p))
        except (OSError, ValueError):
            pass
    return kids


def tree(root):
    kids = children_map()
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def sample(pid):
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            s = f.read()
        fields = s[s.rindex(b")") + 2:].split()
        cpu = (int(fields[11]) + int(fields[12])) / CLK
        rss = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        io = {}
        with open(f"/proc/{pid}/io") as f:
            for line in f:
                k, v = line.split(":")
                io[k] = int(v)
        return cpu, rss, io
    except (OSError, ValueError, IndexError):
        return None


def count_requests(logs):
    n = 0
    for l in logs:
        try:
            with open(l, "rb") as f:
                n += sum(1 for line in f if REQ.search(line))
        except OSError:
            pass
    return n


def meminfo():
    """MemFree, Cached and Dirty (MiB) now: what the page cache held when a phase started (a phase that must reclaim
    pages to read and write pays for it, its floor measured after it may not)."""
    m = {}
    with open("/proc/meminfo") as f:
        for line in f:
            k, v = line.split(":", 1)
            if k in ("MemFree", "Cached", "Dirty"):
                m[k] = int(v.split()[0]) // 1024
    return m


def main():
    args = sys.argv[1:]
    out, size, phase = args[0], args[1], args[2]
    rest = args[3:]
    logs, log, floor_of, step, watch = [], "/dev/null", None, None, []
    while rest and rest[0] != "--":
        if rest[0] == "--logs":
            logs = [x for x in rest[1].split(",") if x]
        elif rest[0] == "--log":
            log = rest[1]
        elif rest[0] == "--floor-of":
            floor_of = rest[1]
        elif rest[0] == "--watch":
            watch = [int(x) for x in rest[1].split(",") if x]
        elif rest[0] == "--step":
            step = rest[1].split(":")
        rest = rest[2:]
    cmd = rest[1:]
    r0 = count_requests(logs)
    mem0 = meminfo()
    w0 = [sample(w) for w in watch]
    last = {}
    peak = 0
    t0 = time.monotonic()
    starts = {}
    with open(log, "ab") as lf:
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE if step else lf, stderr=subprocess.STDOUT)
        if step:
            def stamp():
                for line in p.stdout:
                    now = time.monotonic()
                    for name in step:
                        if line.startswith(name.encode() + b" ") and name not in starts:
                            starts[name] = now
                    lf.write(f"{now - t0:9.3f} ".encode() + line)
                    lf.flush()
            reader = threading.Thread(target=stamp, daemon=True)
            reader.start()
        while True:
            done = p.poll() is not None
            if done:
                break
            total = 0
            for pid in tree(p.pid):
                s = sample(pid)
                if s:
                    last[pid] = s
                    total += s[1]
            peak = max(peak, total)
            time.sleep(0.05)
    wall = time.monotonic() - t0
    if step:
        reader.join()
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    w1 = [sample(w) for w in watch]
    server_cpu = round(sum(b[0] - a[0] for a, b in zip(w0, w1) if a and b), 3) if watch else None
    # Access logs are written after the response, by a registry that shares the loaded CPU: count until the count holds
    # still for a second (at most 10 s).
    r1, until = count_requests(logs), time.monotonic() + 10
    while logs and time.monotonic() < until:
        time.sleep(1)
        r = count_requests(logs)
        if r == r1:
            break
        r1 = r
    cpu_sampled = sum(s[0] for s in last.values())
    io = {k: sum(s[2].get(k, 0) for s in last.values()) for k in ("rchar", "wchar", "read_bytes", "write_bytes")}
    elapsed = None
    task = None
    if step and len(starts) == 2:
        task = starts[step[1]] - starts[step[0]]
    elif log != "/dev/null":
        with open(log, "rb") as f:
            text = f.read()
        m = re.findall(rb"Time Elapsed (\d+):(\d+):(\d+\.\d+)", text)
        # -clp:PerformanceSummary: the Sealer tasks' own time (the work, without MSBuild's start and evaluation)
        # (the Target Performance Summary names targets the same, so only the Task Performance Summary is read)
        section = text.split(b"Task Performance Summary:")[-1] if b"Task Performance Summary:" in text else b""
        tasks = re.findall(rb"^\s+(\d+) ms\s+(ResolveHelmCharts|ResolveClusterImages|PullClusterImages|AssembleClusterImage|PushClusterImage)\s+\d+ calls", section, re.M)
        if tasks:
            task = sum(int(ms) for ms, _ in tasks) / 1000
        if m:
            h, mi, s = m[-1]
            elapsed = int(h) * 3600 + int(mi) * 60 + float(s)
    rec = {"size": size, "phase": phase, "floorOf": floor_of, "exit": p.returncode, "wall": round(wall, 3),
           "cpu": round(max(cpu_sampled, ru.ru_utime + ru.ru_stime), 3), "peakRss": max(peak, ru.ru_maxrss * 1024),
           "requests": r1 - r0, "msbuild": elapsed, "task": task, "serverCpu": server_cpu, **io, "load": os.getloadavg()[0], "memAtStart": mem0}
    with open(out, "a") as f:
        f.write(json.dumps(rec) + "\n")
    print(f"scale-bench: {size} {phase}: {wall:.1f} s wall, {rec['cpu']:.1f} s CPU, {rec['peakRss'] / 1048576:.0f} MiB peak RSS, "
          f"{io['rchar'] / 1048576:.0f}/{io['wchar'] / 1048576:.0f} MiB read/written, {rec['requests']} requests"
          + (f", MSBuild {elapsed:.2f} s" if elapsed is not None else "") + (f", Sealer tasks {task:.2f} s" if task is not None else "") + (f", servers {server_cpu:.1f} s CPU" if server_cpu is not None else "") + (f" (exit {p.returncode})" if p.returncode else ""), file=sys.stderr)
    sys.exit(p.returncode)


if __name__ == "__main__":
    main()
