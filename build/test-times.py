#!/usr/bin/env python3
"""Where the suite's time goes, from the .trx files `dotnet test --logger trx` wrote (build/test.sh).

Usage: test-times.py TRX_DIR [TOP]

Prints, per test project, its wall time (first test start to last test end) and the sum of its tests' durations, then the
TOP slowest tests (default 12). The suite has a 25-minute budget on CI's 2 cores (README); the longest project is its
critical path, so this is what to read when the budget gets close.
"""
import glob
import os
import re
import sys
import xml.etree.ElementTree as ET
from datetime import datetime

NS = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}


def when(text):
    # 2026-12-06T06:01:02.1234567+00:00: Python's fromisoformat takes at most 6 fraction digits before 3.11
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    return datetime.fromisoformat(text)


def seconds(duration):
    h, m, s = duration.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 12
    files = sorted(glob.glob(os.path.join(sys.argv[1], "*.trx")))
    if not files:
        sys.exit(f"test-times: no .trx files under {sys.argv[1]}")
    projects, tests = [], []
    for f in files:
        root = ET.parse(f).getroot()
        results = root.findall(".//t:UnitTestResult", NS)
        if not results:
            continue
        method = root.find(".//t:UnitTest/t:TestMethod", NS)
        storage = method.get("codeBase") if method is not None else f  # the test dll, as spelt (UnitTest's storage is lower-cased)
        project = os.path.splitext(os.path.basename(storage))[0]
        starts = [when(r.get("startTime")) for r in results if r.get("startTime")]
        ends = [when(r.get("endTime")) for r in results if r.get("endTime")]
        durations = [(seconds(r.get("duration", "0:0:0")), r.get("testName"), project) for r in results]
        wall = (max(ends) - min(starts)).total_seconds() if starts and ends else 0.0
        projects.append((wall, sum(d for d, _, _ in durations), len(results), project))
        tests.extend(durations)
    print("test time per project (wall: first test start to last test end; sum: the tests' own durations)")
    for wall, total, n, project in sorted(projects, reverse=True):
        print(f"  {wall:7.1f} s wall  {total:7.1f} s sum  {n:4d} tests  {project}")
    print(f"the {top} slowest tests")
    for d, name, project in sorted(tests, reverse=True)[:top]:
        print(f"  {d:7.1f} s  {project}: {name}")


if __name__ == "__main__":
    main()
