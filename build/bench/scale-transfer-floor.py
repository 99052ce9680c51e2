#!/usr/bin/env python3
"""The pull's transfer floor for build/bench/scale-bench.sh: the least any client can do to pull the same blobs.

Usage: scale-transfer-floor.py CACHE OUT_DIR PARALLEL DOMAIN=URL...

Reads the pulled cache (an OCI layout: index.json names every image as <domain>/<repo>:<tag>, its manifests and
indexes are blobs there) and writes OUT_DIR/curl.cfg and OUT_DIR/run.sh. run.sh is the floor: one curl process
receiving every blob the pull downloaded (configs and layers; the manifests are left out, they are a few KiB) from the
same loopback registries (each domain's mirror URL) over keep-alive connections, PARALLEL transfers at once (the pull's
blob concurrency), each into its own file under OUT_DIR/blobs; then `openssl dgst -sha256` of every file (two
processes, one per core) and a check that each digest is the file's name. That is: receive over loopback TCP, write,
hash, verify - without parallel ranges (curl has none), without fsync, with hashing after the download (from the page
cache) rather than during it.
"""
import json
import os
import sys


def blob(cache, digest):
    algo, hexd = digest.split(":", 1)
    with open(os.path.join(cache, "blobs", algo, hexd), "rb") as f:
        return json.load(f)


def main():
    cache, out, parallel = sys.argv[1], sys.argv[2], int(sys.argv[3])
    mirrors = dict(a.split("=", 1) for a in sys.argv[4:])
    with open(os.path.join(cache, "index.json")) as f:
        index = json.load(f)
    seen, lines = set(), []
    for entry in index.get("manifests", []):
        name = (entry.get("annotations") or {}).get("org.opencontainers.image.ref.name", "")
        if "/" not in name:
            continue
        domain, rest = name.split("/", 1)
        repo = rest.split("@", 1)[0].rsplit(":", 1)[0]
        if domain not in mirrors:
            sys.exit(f"scale-transfer-floor: no mirror given for {domain} ({name})")
        todo = [entry["digest"]]
        while todo:
            d = todo.pop()
            if not os.path.exists(os.path.join(cache, "blobs", *d.split(":", 1))):
                continue  # an index's other platforms (the pull takes the wanted ones)
            m = blob(cache, d)
            todo.extend(c["digest"] for c in m.get("manifests", []))
            for b in ([m["config"]] if "config" in m else []) + m.get("layers", []):
                d = b["digest"]
                if d in seen or not os.path.exists(os.path.join(cache, "blobs", *d.split(":", 1))):
                    continue
                seen.add(d)
                lines.append(f'url = "{mirrors[domain]}/v2/{repo}/blobs/{d}"\noutput = "{out}/blobs/{d.split(":", 1)[1]}"\n')
    if not lines:
        sys.exit("scale-transfer-floor: the cache names no image with blobs")
    os.makedirs(os.path.join(out, "blobs"), exist_ok=True)
    with open(os.path.join(out, "curl.cfg"), "w") as f:
        f.write("".join(lines))
    with open(os.path.join(out, "run.sh"), "w") as f:
        f.write(f"""set -eu
rm -rf '{out}/blobs' '{out}/part.'*; mkdir -p '{out}/blobs'
curl --silent --show-error --no-progress-meter --fail --parallel --parallel-max {parallel} --config '{out}/curl.cfg'
cd '{out}/blobs'
ls > ../list
split -n l/2 ../list ../part.
for p in ../part.??; do xargs openssl dgst -sha256 -r < "$p" > "$p.sum" & done
wait
cat ../part.??.sum | awk '{{ if ("*" $1 != $2) {{ print "scale-transfer-floor: " $2 " does not match its digest" > "/dev/stderr"; bad = 1 }} n++ }}
  END {{ if (n != {len(lines)}) {{ print "scale-transfer-floor: " n " of {len(lines)} blobs hashed" > "/dev/stderr"; bad = 1 }} exit bad }}'
""")
    print(f"scale-transfer-floor: {len(lines)} blobs", file=sys.stderr)


if __name__ == "__main__":
    main()
