#!/usr/bin/env python3
"""Writes a Bitnami-like index.yaml body (the entries of CHARTS charts x VERSIONS versions, every usual field, as helm's
repo index writes them) to OUT. Used by chart-pull-bench.sh and index-parse-bench.sh.
Usage: gen-index.py OUT [CHARTS] [VERSIONS]   (default 120 x 165: ~20 MB, Bitnami's size)"""
import sys, hashlib, random
random.seed(7)
charts = int(sys.argv[2]) if len(sys.argv) > 2 else 120
versions = int(sys.argv[3]) if len(sys.argv) > 3 else 165
out = [ "apiVersion: v1", "entries:" ]
for c in range(charts):
    name = f"chart{c:03d}"
    out.append(f"  {name}:")
    for v in range(versions):
        ver = f"{v // 40}.{v % 40}.{c % 7}"
        dig = hashlib.sha256(f"{name}{ver}".encode()).hexdigest()
        out += [ "  - annotations:", "      category: Database", "      images: |", f"        - name: {name}", f"          image: docker.io/bitnami/{name}:{ver}-debian-12-r{v}",
                 "      licenses: Apache-2.0", f"    apiVersion: v2", f"    appVersion: {ver}", f"    created: \"2024-0{1 + v % 9}-1{v % 9}T10:00:00.{v:06d}Z\"",
                 "    dependencies:", "    - name: common", "      repository: oci://registry-1.docker.io/bitnamicharts", "      tags:", "      - bitnami-common", "      version: 2.x.x",
                 f"    description: {name} is a generated chart used to measure index parsing; it carries the usual description length of a real chart entry.",
                 f"    digest: {dig}", "    home: https://bitnami.com", "    icon: https://bitnami.com/assets/stacks/x/img/x-stack-220x234.png",
                 "    keywords:", "    - database", "    - generated", "    maintainers:", "    - name: Broadcom, Inc. All Rights Reserved.", "      url: https://github.com/bitnami/charts",
                 f"    name: {name}", "    sources:", f"    - https://github.com/bitnami/charts/tree/main/bitnami/{name}", f"    urls:", f"    - https://charts.bitnami.com/bitnami/{name}-{ver}.tgz", f"    version: {ver}" ]
open(sys.argv[1], "w").write("\n".join(out) + "\n")
