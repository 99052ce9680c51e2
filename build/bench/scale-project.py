#!/usr/bin/env python3
"""Generates the scale benchmark's project (build/bench/scale-bench.sh): a .kubeproj with N charts and M images across
several registry domains, and the images themselves written straight into the storage directories of loopback
docker-registry instances (one per domain), so nothing is pushed twice and the disk holds each blob once.

Usage: scale-project.py OUT STORAGE_ROOT N_CHARTS M_IMAGES TOTAL_MB [SEED]

  OUT/proj/scale.kubeproj        HelmChart items (charts/*), KubeManifest (manifests/*.yaml), ImageList (images.txt);
                                 SealerBaseImage __BASE_IMAGE__ and the mirrors __MIRROR_<DOMAIN>__ for the bench to fill in
  OUT/proj/charts/<name>/        chart shapes, round-robin:
                                   bitnami   the shared `common` library chart vendored under charts/common (same content
                                             in every chart), image helpers as Bitnami's common.images.image, a values
                                             tree with global.imageRegistry; every third one with a subchart that has
                                             its own copy of common
                                   plain     a Deployment whose image is "{{ .Values.image.repository }}:{{ tag }}"
                                   crds      plain + a crds/ directory with a CustomResourceDefinition
                                 each with a README of a real chart's size and text (300-600 KB Bitnami-style, 10-60 KB
                                 others; runs of the vendored Bitnami corpus's READMEs and values files)
  STORAGE_ROOT/<domain>/         docker-registry filesystem storage (docker/registry/v2/...) per domain
  OUT/project.json               the images (reference, blobs, bytes) and the chart list, for the bench's floors

Images: one base layer set per domain (shared by every image of that domain, 3 layers), then 2-5 own small layers
(log-normal, median 256 KiB, at most 24 MiB) per image, then big layers (100-500 MiB) on random images until TOTAL_MB
is reached. Every layer is a valid tar of one file of random (incompressible) bytes; sizes are the tar sizes. A tenth of
the images are served as an OCI index (amd64 + arm64; the arm64 manifest reuses the amd64 layers, so it adds no bytes).
"""
import hashlib
import json
import math
import os
import random
import sys

MB = 1 << 20
DOMAINS = ["docker.io", "quay.io", "registry.k8s.io", "ghcr.io"]
# Repository name prefixes per domain (shape only).
PREFIX = {"docker.io": "bitnami", "quay.io": "jetstack", "registry.k8s.io": "sig-storage", "ghcr.io": "acme"}


class HashingFile:
    """A write-only file that hashes what goes through it."""

    def __init__(self, path):
        self.f = open(path, "wb")
        self.h = hashlib.sha256()
        self.n = 0

    def write(self, b):
        self.h.update(b)
        self.f.write(b)
        self.n += len(b)

    def close(self):
        self.f.close()


def tar_header(name, size):
    """A ustar header for one regular file (what tarfile writes, without its Python overhead)."""
    h = bytearray(512)

    def put(off, length, value):
        h[off:off + len(value)] = value[:length]

    put(0, 100, name.encode())
    put(100, 8, b"0000644\0")
    put(108, 8, b"0000000\0")
    put(116, 8, b"0000000\0")
    put(124, 12, f"{size:011o}\0".encode())
    put(136, 12, b"00000000000\0")
    put(156, 1, b"0")
    put(257, 6, b"ustar\0")
    put(263, 2, b"00")
    h[148:156] = b" " * 8
    put(148, 8, f"{sum(h):06o}\0 ".encode())
    return bytes(h)


class Registry:
    """Writes blobs, manifests and tags into one docker-registry's filesystem storage."""

    def __init__(self, root):
        self.v2 = os.path.join(root, "docker", "registry", "v2")
        os.makedirs(os.path.join(self.v2, "blobs", "sha256"), exist_ok=True)
        self.tmp = os.path.join(root, "tmp")
        os.makedirs(self.tmp, exist_ok=True)

    def _place(self, tmp, hexd):
        d = os.path.join(self.v2, "blobs", "sha256", hexd[:2], hexd)
        os.makedirs(d, exist_ok=True)
        if os.path.exists(os.path.join(d, "data")):
            os.remove(tmp)
        else:
            os.replace(tmp, os.path.join(d, "data"))

    def layer(self, size, name):
        """A tar of SIZE bytes in all holding one file of random bytes; returns (digest, size)."""
        payload = max(0, size - 512 - 1024)
        payload -= payload % 512
        tmp = os.path.join(self.tmp, f"l{os.getpid()}")
        f = HashingFile(tmp)
        f.write(tar_header(name, payload))
        left = payload
        while left > 0:
            k = min(left, 4 * MB)
            f.write(os.urandom(k))
            left -= k
        f.write(b"\0" * 1024)
        f.close()
        hexd = f.h.hexdigest()
        self._place(tmp, hexd)
        return "sha256:" + hexd, f.n

    def blob(self, data):
        hexd = hashlib.sha256(data).hexdigest()
        tmp = os.path.join(self.tmp, f"b{os.getpid()}")
        with open(tmp, "wb") as f:
            f.write(data)
        self._place(tmp, hexd)
        return "sha256:" + hexd, len(data)

    def _link(self, repo, *parts, target):
        d = os.path.join(self.v2, "repositories", repo, *parts)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "link"), "w") as f:
            f.write(target)

    def link_blob(self, repo, digest):
        self._link(repo, "_layers", "sha256", digest[7:], target=digest)

    def manifest(self, repo, data):
        digest, size = self.blob(data)
        self._link(repo, "_manifests", "revisions", "sha256", digest[7:], target=digest)
        return digest, size

    def tag(self, repo, tag, digest):
        self._link(repo, "_manifests", "tags", tag, "current", target=digest)
        self._link(repo, "_manifests", "tags", tag, "index", "sha256", digest[7:], target=digest)


def dumps(o):
    return json.dumps(o, separators=(",", ":"), sort_keys=True).encode()


def main():
    out, storage, n_charts, m_images, total_mb = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    rng = random.Random(int(sys.argv[6]) if len(sys.argv) > 6 else 17)
    total = total_mb * MB
    regs = {d: Registry(os.path.join(storage, d)) for d in DOMAINS}

    # 1. the image plan: per-domain base layers, own small layers, then big layers until the total is reached
    images = []
    for i in range(m_images):
        domain = DOMAINS[i % len(DOMAINS)] if i % 5 else "docker.io"  # docker.io holds the most, as in real projects
        repo = f"{PREFIX[domain]}/svc-{i:04d}"
        small = [min(24 * MB, max(4096, int(rng.lognormvariate(math.log(256 * 1024), 1.6)))) for _ in range(rng.randint(2, 5))]
        images.append({"domain": domain, "repo": repo, "tag": f"1.{i % 7}.{i % 13}", "own": small, "index": i % 10 == 3})
    base_sizes = {d: [int(2.5 * MB), 12 * MB, 28 * MB] for d in DOMAINS}
    used = sum(sum(im["own"]) for im in images) + sum(sum(b) for d, b in base_sizes.items() if any(im["domain"] == d for im in images))
    while total - used >= 100 * MB:
        size = min(total - used, rng.randint(100, 500) * MB)
        rng.choice(images)["own"].append(size)
        used += size

    # 2. the blobs, written into the registries' storage
    bases = {}
    for d, sizes in base_sizes.items():
        if any(im["domain"] == d for im in images):
            bases[d] = [regs[d].layer(s, f"base{k}.bin") for k, s in enumerate(sizes)]
    done = 0
    for i, im in enumerate(images):
        reg = regs[im["domain"]]
        layers = list(bases[im["domain"]][: 1 + i % 3])  # 1-3 of the shared base layers
        layers += [reg.layer(s, f"own{k}.bin") for k, s in enumerate(im["own"])]
        config = dumps({"architecture": "amd64", "os": "linux", "config": {"Entrypoint": [f"/svc-{i:04d}"]},
                        "rootfs": {"type": "layers", "diff_ids": [d for d, _ in layers]}})
        cfg = reg.blob(config)
        for d, _ in layers + [cfg]:
            reg.link_blob(im["repo"], d)
        manifest = dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                          "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cfg[0], "size": cfg[1]},
                          "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": d, "size": s} for d, s in layers]})
        md, ms = reg.manifest(im["repo"], manifest)
        top = md
        if im["index"]:
            arm_cfg = reg.blob(config.replace(b'"amd64"', b'"arm64"'))
            reg.link_blob(im["repo"], arm_cfg[0])
            arm = dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                         "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": arm_cfg[0], "size": arm_cfg[1]},
                         "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": d, "size": s} for d, s in layers]})
            ad, asz = reg.manifest(im["repo"], arm)
            index = dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
                {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": ms, "platform": {"os": "linux", "architecture": "amd64"}},
                {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": ad, "size": asz, "platform": {"os": "linux", "architecture": "arm64"}}]})
            top = reg.manifest(im["repo"], index)[0]
        reg.tag(im["repo"], im["tag"], top)
        im["reference"] = f"{im['domain']}/{im['repo']}:{im['tag']}"
        im["digest"] = top
        im["blobs"] = [d for d, _ in layers] + [cfg[0]]
        im["bytes"] = sum(s for _, s in layers) + cfg[1] + ms
        done += 1
        if done % 50 == 0:
            print(f"scale-project: {done}/{m_images} images", file=sys.stderr)

    # 3. the project: charts take most images, a manifest and an image list the rest
    proj = os.path.join(out, "proj")
    os.makedirs(os.path.join(proj, "charts"), exist_ok=True)
    os.makedirs(os.path.join(proj, "manifests"), exist_ok=True)
    per_chart = max(1, (m_images * 8 // 10) // max(1, n_charts))
    cursor = 0
    charts = []

    def take(k):
        nonlocal cursor
        got = images[cursor:cursor + k] if cursor < len(images) else [rng.choice(images) for _ in range(k)]
        cursor += k
        return got

    for c in range(n_charts):
        shape = ("bitnami", "plain", "crds")[c % 3]
        name = f"{shape}-{c:03d}"
        imgs = take(per_chart)
        write_chart(os.path.join(proj, "charts", name), name, shape, imgs, sub=(shape == "bitnami" and c % 9 == 0), rng=rng)
        charts.append({"name": name, "shape": shape, "images": [i["reference"] for i in imgs]})
    rest = images[cursor:]
    half = len(rest) // 2
    with open(os.path.join(proj, "images.txt"), "w") as f:
        f.write("# images no chart names (operators pull them at run time)\n")
        f.write("".join(i["reference"] + "\n" for i in rest[:half]))
    docs = [f"apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: ds-{n}\nspec:\n  selector:\n    matchLabels: {{app: ds-{n}}}\n"
            f"  template:\n    metadata:\n      labels: {{app: ds-{n}}}\n    spec:\n      containers:\n        - name: c\n          image: {i['reference']}\n"
            for n, i in enumerate(rest[half:])] or ["apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: empty\n"]
    with open(os.path.join(proj, "manifests", "agents.yaml"), "w") as f:
        f.write("---\n".join(docs))
    charts_xml = "".join(f'    <HelmChart Include="charts/{c["name"]}" />\n' for c in charts)
    mirrors = ";".join(f"{d}=__MIRROR_{d.replace('.', '_').upper()}__" for d in DOMAINS)
    with open(os.path.join(proj, "scale.kubeproj"), "w") as f:
        f.write(f"""<Project Sdk="Sealer.Sdk/0.1.0">
  <PropertyGroup>
    <ClusterImageName>scale/cluster</ClusterImageName>
    <ClusterImageTag>v1</ClusterImageTag>
    <SealerBaseImage>__BASE_IMAGE__</SealerBaseImage>
    <SealerRegistryMirrors>{mirrors}</SealerRegistryMirrors>
    <SealerRegistryFallbackToSource>false</SealerRegistryFallbackToSource>
  </PropertyGroup>
  <ItemGroup>
{charts_xml}    <KubeManifest Include="manifests/*.yaml" />
    <ImageList Include="images.txt" />
  </ItemGroup>
</Project>
""")
    distinct = {}
    for im in images:
        for b in im["blobs"]:
            distinct[(im["domain"], b)] = True
    with open(os.path.join(out, "project.json"), "w") as f:
        json.dump({"charts": charts, "images": [{k: im[k] for k in ("reference", "domain", "repo", "tag", "digest", "bytes")} for im in images],
                   "bytes": sum(os.path.getsize(os.path.join(regs[d].v2, "blobs", "sha256", b[7:9], b[7:], "data")) for d, b in distinct)}, f, indent=1)
    print(f"scale-project: {n_charts} charts, {m_images} images, {used / MB:.0f} MiB of layers", file=sys.stderr)


COMMON_CHART = """apiVersion: v2
name: common
description: A library chart (the shape of Bitnami's common)
type: library
version: 2.20.0
"""

COMMON_IMAGES = """{{/* Return the proper image name (Bitnami's common.images.image, reduced) */}}
{{- define "common.images.image" -}}
{{- $registryName := default .imageRoot.registry ((.global).imageRegistry) -}}
{{- $repositoryName := .imageRoot.repository -}}
{{- $separator := ":" -}}
{{- $termination := .imageRoot.tag | toString -}}
{{- if .imageRoot.digest }}
    {{- $separator = "@" -}}
    {{- $termination = .imageRoot.digest | toString -}}
{{- end -}}
{{- if $registryName }}
    {{- printf "%s/%s%s%s" $registryName $repositoryName $separator $termination -}}
{{- else -}}
    {{- printf "%s%s%s"  $repositoryName $separator $termination -}}
{{- end -}}
{{- end -}}

{{- define "common.images.pullPolicy" -}}
{{- .pullPolicy | default "IfNotPresent" -}}
{{- end -}}
"""

COMMON_NAMES = """{{- define "common.names.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "common.names.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "common.labels.standard" -}}
app.kubernetes.io/name: {{ include "common.names.name" . }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "common.labels.matchLabels" -}}
app.kubernetes.io/name: {{ include "common.names.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
"""

CRD = """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets{n}.example.com
spec:
  group: example.com
  names: {{kind: Widget{n}, plural: widgets{n}, singular: widget{n}}}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec: {{type: object, x-kubernetes-preserve-unknown-fields: true}}
"""


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def split_ref(ref):
    domain, rest = ref.split("/", 1)
    repo, tag = rest.rsplit(":", 1)
    return domain, repo, tag


def write_common(chart_dir):
    write(os.path.join(chart_dir, "charts", "common", "Chart.yaml"), COMMON_CHART)
    write(os.path.join(chart_dir, "charts", "common", "templates", "_images.tpl"), COMMON_IMAGES)
    write(os.path.join(chart_dir, "charts", "common", "templates", "_names.tpl"), COMMON_NAMES)
    write(os.path.join(chart_dir, "charts", "common", "values.yaml"), "exampleValue: common-chart\n")


CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "Sealer.Charts.Tests", "corpus")
_text_pool = None


def text_pool():
    """The vendored Bitnami corpus's READMEs and values files (real chart text: it compresses ~8x, at zlib's speed for text)."""
    global _text_pool
    if _text_pool is None:
        names = sorted(os.path.join(dp, f) for dp, _, fs in os.walk(CORPUS) for f in fs if f in ("README.md", "values.yaml"))
        _text_pool = [open(n, encoding="utf-8", errors="replace").read() for n in names]
        _text_pool = [t for t in _text_pool if len(t) >= 16_384] or ["# chart\n" * 4096]
    return _text_pool


def write_readme(d, name, shape):
    """A README as big as real charts carry (the vendored Bitnami corpus, tests/Sealer.Charts.Tests/corpus: 460 KB to 1.1 MB
    a chart with README, values and schema): 300-600 KB for a Bitnami-style chart, 10-60 KB for the others. Made of 4-16 KB
    runs of the corpus's READMEs and values files (so it compresses as chart text does, not as random bytes), picked by a
    generator seeded by the chart's name so the rest of the project is what it was before."""
    r = random.Random(name)
    size = r.randint(300_000, 600_000) if shape == "bitnami" else r.randint(10_000, 60_000)
    pool, parts, n = text_pool(), [f"# {name}\n\n"], 0
    while n < size:
        t = r.choice(pool)
        k = min(len(t), r.randint(4096, 16384), size - n)
        at = r.randint(0, len(t) - k)
        parts.append(t[at:at + k])
        n += k
    write(os.path.join(d, "README.md"), "".join(parts) + "\n")


def write_chart(d, name, shape, imgs, sub, rng):
    write_readme(d, name, shape)
    if shape == "bitnami":
        deps = "dependencies:\n  - name: common\n    version: 2.x.x\n    repository: oci://registry-1.docker.io/bitnamicharts\n    tags: [bitnami-common]\n"
        if sub:
            deps += f"  - name: {name}-db\n    version: 1.0.0\n    repository: oci://registry-1.docker.io/bitnamicharts\n    condition: db.enabled\n"
        write(os.path.join(d, "Chart.yaml"), f"apiVersion: v2\nname: {name}\nversion: 1.0.0\nappVersion: \"1.0\"\n{deps}")
        write_common(d)
        values = "global:\n  imageRegistry: \"\"\n"
        tpl = ""
        for k, im in enumerate(imgs):
            dom, repo, tag = split_ref(im["reference"])
            key = "image" if k == 0 else f"sidecar{k}"
            values += f"{key}:\n  registry: {dom}\n  repository: {repo}\n  tag: {tag}\n  digest: \"\"\n  pullPolicy: IfNotPresent\n"
            tpl += (f"        - name: c{k}\n          image: {{{{ include \"common.images.image\" (dict \"imageRoot\" .Values.{key} \"global\" .Values.global) }}}}\n"
                    f"          imagePullPolicy: {{{{ include \"common.images.pullPolicy\" .Values.{key} }}}}\n")
        values += "replicaCount: 1\nresources: {}\n"
        if sub:
            values += "db:\n  enabled: true\n"
        write(os.path.join(d, "values.yaml"), values)
        write(os.path.join(d, "templates", "deployment.yaml"),
              "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ include \"common.names.fullname\" . }}\n  labels:\n"
              "    {{- include \"common.labels.standard\" . | nindent 4 }}\nspec:\n  replicas: {{ .Values.replicaCount }}\n  selector:\n"
              "    matchLabels:\n      {{- include \"common.labels.matchLabels\" . | nindent 6 }}\n  template:\n    metadata:\n      labels:\n"
              "        {{- include \"common.labels.matchLabels\" . | nindent 8 }}\n    spec:\n      containers:\n" + tpl)
        write(os.path.join(d, "templates", "service.yaml"),
              "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ include \"common.names.fullname\" . }}\nspec:\n  ports:\n    - port: 80\n"
              "  selector:\n    {{- include \"common.labels.matchLabels\" . | nindent 4 }}\n")
        if sub:
            sd = os.path.join(d, "charts", f"{name}-db")
            write(os.path.join(sd, "Chart.yaml"), f"apiVersion: v2\nname: {name}-db\nversion: 1.0.0\ndependencies:\n  - name: common\n    version: 2.x.x\n    repository: oci://registry-1.docker.io/bitnamicharts\n")
            write_common(sd)
            dom, repo, tag = split_ref(imgs[0]["reference"])
            write(os.path.join(sd, "values.yaml"), f"global:\n  imageRegistry: \"\"\nimage:\n  registry: {dom}\n  repository: {repo}\n  tag: {tag}\n")
            write(os.path.join(sd, "templates", "statefulset.yaml"),
                  "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: {{ include \"common.names.fullname\" . }}-db\nspec:\n  serviceName: db\n"
                  "  selector:\n    matchLabels:\n      {{- include \"common.labels.matchLabels\" . | nindent 6 }}\n  template:\n    metadata:\n"
                  "      labels:\n        {{- include \"common.labels.matchLabels\" . | nindent 8 }}\n    spec:\n      containers:\n        - name: db\n"
                  "          image: {{ include \"common.images.image\" (dict \"imageRoot\" .Values.image \"global\" .Values.global) }}\n")
    else:
        write(os.path.join(d, "Chart.yaml"), f"apiVersion: v2\nname: {name}\nversion: 0.{rng.randint(1, 9)}.0\n")
        values = ""
        tpl = ""
        for k, im in enumerate(imgs):
            dom, repo, tag = split_ref(im["reference"])
            values += f"c{k}:\n  image:\n    repository: {dom}/{repo}\n    tag: \"{tag}\"\n"
            tpl += f"        - name: c{k}\n          image: \"{{{{ .Values.c{k}.image.repository }}}}:{{{{ .Values.c{k}.image.tag | default .Chart.AppVersion }}}}\"\n"
        write(os.path.join(d, "values.yaml"), values)
        write(os.path.join(d, "templates", "deployment.yaml"),
              "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}-{{ .Chart.Name }}\nspec:\n  selector:\n    matchLabels:\n"
              "      app: {{ .Chart.Name }}\n  template:\n    metadata:\n      labels:\n        app: {{ .Chart.Name }}\n    spec:\n      containers:\n" + tpl)
        if shape == "crds":
            n = name.replace("-", "")
            write(os.path.join(d, "crds", "widgets.yaml"), CRD.format(n=n))


if __name__ == "__main__":
    main()
