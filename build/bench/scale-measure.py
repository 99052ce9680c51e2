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
Where the time goes: "threads" tallies, over the samples, every thread of the tree that was running or runnable (R:
waiting for a core counts too) or waiting for the disk (D) with the system call it was in (/proc/PID/task/TID/syscall;
"user" when outside one), in seconds (its share of the samples times the wall time, the largest first); "disk" is what
the root file system's block device did during the phase (/sys/block/DEV/stat deltas: requests, sectors and ms of reads,
writes and discards, and the cache flushes an fsync sends).
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


# x86-64 system call numbers of what a phase's threads may wait in (the rest are shown by number)
SYSCALLS = {0: "read", 1: "write", 3: "close", 7: "poll", 17: "pread64", 18: "pwrite64", 19: "readv", 20: "writev", 40: "sendfile",
            74: "fsync", 75: "fdatasync", 76: "truncate", 77: "ftruncate", 82: "rename", 84: "rmdir", 87: "unlink", 202: "futex",
            217: "getdents64", 230: "clock_nanosleep", 232: "epoll_wait", 257: "openat", 262: "newfstatat", 263: "unlinkat",
            264: "renameat", 277: "sync_file_range", 285: "fallocate", 316: "renameat2", 326: "copy_file_range", 332: "statx"}


def thread_states(pid, tally):
    """Adds one sample of PID's threads that run or may run (R) or wait for the disk (D), by system call, to TALLY."""
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/stat", "rb") as f:
                s = f.read()
            state = s[s.rindex(b")") + 2:s.rindex(b")") + 3].decode()
            if state not in ("R", "D"):
                continue
            with open(f"/proc/{pid}/task/{tid}/syscall") as f:
                call = f.read().split()[0]
        except (OSError, ValueError, IndexError):
            continue
        name = "user" if call == "running" else SYSCALLS.get(int(call), call) if call.lstrip("-").isdigit() else call
        key = f"{state}:{name}"
        tally[key] = tally.get(key, 0) + 1


def state_seconds(tally, wall, samples, least):
    """TALLY (samples per state, from thread_states) as seconds: each state's share of SAMPLES times WALL, the largest
    first, those under LEAST seconds left out (a sample takes a little over the time it sleeps)."""
    per = wall / samples if samples else 0
    return {k: round(n * per, 2) for k, n in sorted(tally.items(), key=lambda kv: -kv[1]) if n * per >= least}


def root_disk():
    """The block device the root file system is on (its whole disk), or None."""
    try:
        dev = os.stat("/").st_dev
        real = os.path.realpath(f"/sys/dev/block/{os.major(dev)}:{os.minor(dev)}")
        return real if os.path.exists(os.path.join(real, "stat")) else None
    except OSError:
        return None


DISK = root_disk()
DISK_FIELDS = ("reads", None, "readSectors", "readMs", "writes", None, "writeSectors", "writeMs", None, None, None,
               "discards", None, "discardSectors", "discardMs", "flushes", "flushMs")


def disk_stat():
    if not DISK:
        return None
    try:
        with open(os.path.join(DISK, "stat")) as f:
            v = [int(x) for x in f.read().split()]
    except (OSError, ValueError):
        return None
    return {k: v[i] for i, k in enumerate(DISK_FIELDS) if k and i < len(v)}


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
    d0 = disk_stat()
    states = {}
    samples = 0
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
                    thread_states(pid, states)
            samples += 1
            peak = max(peak, total)
            time.sleep(0.05)
    wall = time.monotonic() - t0
    if step:
        reader.join()
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    d1 = disk_stat()
    disk = {k: d1[k] - d0[k] for k in d0} if d0 and d1 else None
    threads = state_seconds(states, wall, samples, 0.05)
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
           "requests": r1 - r0, "msbuild": elapsed, "task": task, "serverCpu": server_cpu, **io, "load": os.getloadavg()[0], "memAtStart": mem0,
           "threads": threads, "disk": disk}
    with open(out, "a") as f:
        f.write(json.dumps(rec) + "\n")
    print(f"scale-bench: {size} {phase}: {wall:.1f} s wall, {rec['cpu']:.1f} s CPU, {rec['peakRss'] / 1048576:.0f} MiB peak RSS, "
          f"{io['rchar'] / 1048576:.0f}/{io['wchar'] / 1048576:.0f} MiB read/written, {rec['requests']} requests"
          + (f", MSBuild {elapsed:.2f} s" if elapsed is not None else "") + (f", Sealer tasks {task:.2f} s" if task is not None else "") + (f", servers {server_cpu:.1f} s CPU" if server_cpu is not None else "") + (f" (exit {p.returncode})" if p.returncode else ""), file=sys.stderr)
    sys.exit(p.returncode)


if __name__ == "__main__":
    main()
