#!/usr/bin/env python3
"""Vendors real kustomize trees for the differential tests (run by hand; needs the repositories mirrored by the session's
fetch tool under /work/.mirror, or MIRROR=dir). For each tree in trees.txt (name repo path), copies only the files the
tree needs (every file of each kustomization directory it visits, plus the files it names elsewhere), keeping their
paths relative to the repository root under <name>/, and checks `kubectl kustomize` renders the copy as the original.
Usage: python3 vendor.py [NAME...]"""
import os, shutil, subprocess, sys, tarfile, io, yaml

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.abspath(os.path.join(here, "..", "..", ".."))
mirror = os.environ.get("MIRROR", "/work/.mirror")
kubectl = os.path.join(root, "artifacts", "tools", "kubectl")
work = os.environ.get("VENDOR_TMP", "/tmp/kustomize-vendor")

def is_remote(ref):
    return "://" in ref or ref.startswith(("github.com/", "git::", "git@", "gitlab.com/", "bitbucket.org/"))

def kfile(d):
    for n in ("kustomization.yaml", "kustomization.yml", "Kustomization"):
        if os.path.isfile(os.path.join(d, n)): return os.path.join(d, n)
    return None

def refs(k):
    out = []
    for key in ("resources", "bases", "components", "crds", "configurations", "transformers", "generators", "validators"):
        for r in k.get(key) or []:
            if isinstance(r, str) and "\n" not in r: out.append(r)
    for p in k.get("patchesStrategicMerge") or []:
        if isinstance(p, str) and "\n" not in p: out.append(p)
    for key in ("patches", "patchesJson6902", "replacements"):
        for p in k.get(key) or []:
            if isinstance(p, dict) and p.get("path"): out.append(p["path"])
    for key in ("configMapGenerator", "secretGenerator"):
        for g in k.get(key) or []:
            for f in (g.get("files") or []) + (g.get("envs") or []) + ([g["env"]] if g.get("env") else []):
                out.append(f.split("=", 1)[1] if "=" in f else f)
    if isinstance(k.get("openapi"), dict) and k["openapi"].get("path"): out.append(k["openapi"]["path"])
    home = (k.get("helmGlobals") or {}).get("chartHome")
    if k.get("helmCharts"):
        out.append(home or "charts")
        for h in k["helmCharts"]:
            if h.get("valuesFile"): out.append(h["valuesFile"])
    return out

def collect(src_root, d, files, seen):
    d = os.path.normpath(d)
    if d in seen: return
    seen.add(d)
    kf = kfile(d)
    for n in os.listdir(d):
        if os.path.isfile(os.path.join(d, n)): files.add(os.path.join(d, n))
    k = yaml.safe_load(open(kf)) or {}
    for r in refs(k):
        if is_remote(r): continue
        p = os.path.normpath(os.path.join(d, r))
        if os.path.isdir(p):
            if kfile(p): collect(src_root, p, files, seen)
            else:
                for dp, _, fs in os.walk(p):
                    for f in fs: files.add(os.path.join(dp, f))
        elif os.path.isfile(p): files.add(p)

def render(path):
    r = subprocess.run([kubectl, "kustomize", path, "--enable-helm"] , capture_output=True, text=True)
    return r.returncode, r.stdout, r.stderr

def extract(gitdir, src):
    """Checks out HEAD's files (blobs the mirror lacks, its largest files, are left out)."""
    tmp = src + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    entries = [l.split("\t", 1) for l in subprocess.check_output(["git", "-C", gitdir, "ls-tree", "-r", "HEAD"], text=True).splitlines()]
    entries = [(meta.split()[2], path) for meta, path in entries if meta.split()[1] == "blob" and not meta.startswith("120000")]
    cat = subprocess.Popen(["git", "-C", gitdir, "cat-file", "--batch"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    for sha, path in entries:
        cat.stdin.write((sha + "\n").encode()); cat.stdin.flush()
        header = cat.stdout.readline().decode().split()
        if len(header) < 3 or header[1] == "missing": continue
        data = cat.stdout.read(int(header[2])); cat.stdout.read(1)
        out = os.path.join(tmp, path)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        open(out, "wb").write(data)
    cat.stdin.close(); cat.wait()
    os.rename(tmp, src)

def main():
    trees = []
    for line in open(os.path.join(here, "trees.txt")):
        line = line.split("#", 1)[0].strip()
        if line: trees.append(line.split()[:3])
    by_repo = {}
    for name, repo, path in trees: by_repo.setdefault(repo, []).append((name, path))
    for repo, entries in by_repo.items():
        gitdir = os.path.join(mirror, repo.replace("/", "+"), "repo")
        commit = subprocess.check_output(["git", "-C", gitdir, "rev-parse", "HEAD"], text=True).strip()
        src = os.path.join(work, repo.replace("/", "+"))
        if not os.path.isdir(src): extract(gitdir, src)
        files, seen = set(), set()
        for name, path in entries: collect(src, os.path.join(src, path), files, seen)
        dest = os.path.join(here, repo.split("/")[1])
        shutil.rmtree(dest, ignore_errors=True)
        for f in sorted(files):
            rel = os.path.relpath(f, src)
            os.makedirs(os.path.dirname(os.path.join(dest, rel)), exist_ok=True)
            shutil.copy2(f, os.path.join(dest, rel))
        size = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(dest) for f in fs)
        print(f"{repo}@{commit} -> {os.path.basename(dest)}/: {len(files)} files, {size//1024} KiB")
        for name, path in entries:
            a = render(os.path.join(src, path)); b = render(os.path.join(dest, path))
            status = "ok" if a == b else "DIFFERS"
            if a[0] != 0: status += " (kubectl fails: " + a[2].strip().splitlines()[-1][:160] + ")"
            print(f"  {name} {path}: {status}")

main()
