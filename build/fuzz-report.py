#!/usr/bin/env python3
"""Prints the hostile-input counts of the last test run (artifacts/test-results/fuzz/*.json, written by the tests'
Fuzz.Run) as the markdown table of docs/hostile-input.md. Usage: python3 build/fuzz-report.py"""
import glob, json, os, sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
rows = [json.load(open(p)) for p in sorted(glob.glob(os.path.join(root, "artifacts", "test-results", "fuzz", "*.json")))]
if not rows:
    sys.exit("no fuzz results: run the tests first (artifacts/test-results/fuzz/ is empty)")
print("| target | inputs | accepted | refused (by code) | crashes | hangs | seconds |")
print("|---|---:|---:|---|---:|---:|---:|")
for r in rows:
    codes = ", ".join(f"{k} ×{v}" for k, v in sorted(r["errorsByCode"].items(), key=lambda kv: -kv[1]))
    refused = sum(r["errorsByCode"].values())
    print(f"| {r['target']} | {r['inputs']} | {r['accepted']} | {refused}: {codes} | {r['crashes']} | {r['hangs']} | {r['seconds']} |")
t = {k: sum(r[k] for r in rows) for k in ("inputs", "accepted", "crashes", "hangs")}
print(f"| **all** | {t['inputs']} | {t['accepted']} | {t['inputs'] - t['accepted'] - t['crashes'] - t['hangs']} | {t['crashes']} | {t['hangs']} | {round(sum(r['seconds'] for r in rows), 1)} |")
print(f"\nseed {rows[0]['seed']}")
