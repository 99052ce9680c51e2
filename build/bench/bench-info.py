#!/usr/bin/env python3
"""Reads artifacts/bench/served.json for pull-bench.sh: refs | big | bigsize | sizes | count INDEX_JSON."""
import json
import sys

what, path = sys.argv[1], sys.argv[2]
if what == "count":
    print(len(json.load(open(path))["manifests"]))
    sys.exit(0)
images = json.load(open(path))["images"]
ref = lambda i: "{}/{}:{}".format(i["address"], i["repository"], i["tag"])
if what == "refs":
    for i in images:
        if i["registry"] == "bench":
            print(ref(i))
elif what == "big":
    print(next(ref(i) for i in images if i["registry"] == "bench-big"))
elif what == "bigsize":
    big = next(i for i in images if i["registry"] == "bench-big")
    print("{} {}".format(max(b["size"] for b in big["blobs"]), sum(b["size"] for b in big["blobs"])))
elif what == "sizes":
    bench = [i for i in images if i["registry"] == "bench"]
    distinct = {b["digest"]: b["size"] for i in bench for b in i["blobs"]}
    print("{:.0f} {:.0f}".format(sum(distinct.values()) / 1e6, sum(i["totalSize"] for i in bench) / 1e6))
