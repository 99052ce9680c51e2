#!/usr/bin/env python3
"""Re-creates the chart corpus from git snapshots of the upstream repositories (the `fetch` tool's /work/.mirror).
Each chart's declared dependencies are vendored under its charts/ directory (resolved to the upstream repository
that publishes them), so rendering needs no network. Run from this directory: python3 vendor.py [MIRROR_ROOT] [SOURCES_FILE DEST_DIR]
(the Bitnami corpus: python3 vendor.py /work/.mirror ../corpus-bitnami/sources.txt ../corpus-bitnami slim; "slim" leaves out
what no template reads: README.md, CHANGELOG.md and img/ of every chart and subchart)."""
import io, os, shutil, subprocess, sys, tarfile, yaml

mirror = sys.argv[1] if len(sys.argv) > 1 else "/work/.mirror"
sources = os.path.abspath(sys.argv[2]) if len(sys.argv) > 2 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "sources.txt")
here = os.path.abspath(sys.argv[3]) if len(sys.argv) > 3 else os.path.dirname(os.path.abspath(__file__))
slim = len(sys.argv) > 4 and sys.argv[4] == "slim"

# chart repository URL -> (mirror repo, directory holding charts)
REPOS = {
    "https://prometheus-community.github.io/helm-charts": ("prometheus-community/helm-charts", "charts"),
    "https://grafana.github.io/helm-charts": ("grafana/helm-charts", "charts"),
    "https://grafana-community.github.io/helm-charts": ("grafana-community/helm-charts", "charts"),
    "https://open-telemetry.github.io/opentelemetry-helm-charts": ("open-telemetry/opentelemetry-helm-charts", "charts"),
    "https://dandydeveloper.github.io/charts/": ("DandyDeveloper/charts", "charts"),
    "https://dandydeveloper.github.io/charts": ("DandyDeveloper/charts", "charts"),
    "oci://registry-1.docker.io/bitnamicharts": ("bitnami/charts", "bitnami"),
    "https://charts.bitnami.com/bitnami": ("bitnami/charts", "bitnami"),
}

def git_dir(repo):
    return os.path.join(mirror, repo.replace("/", "+"), "repo")

def export(repo, path, dest):
    """git archive HEAD:path into dest."""
    data = subprocess.run(["git", "--git-dir", git_dir(repo), "archive", "--format=tar", "HEAD", path],
                          check=True, capture_output=True).stdout
    os.makedirs(dest, exist_ok=True)
    prefix = path.rstrip("/") + "/"
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for m in tar.getmembers():
            if not m.name.startswith(prefix):
                continue
            rel = m.name[len(prefix):]
            if not rel:
                continue
            target = os.path.join(dest, rel)
            if m.isdir():
                os.makedirs(target, exist_ok=True)
            elif m.isfile():
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(target, "wb") as f:
                    f.write(tar.extractfile(m).read())
            elif m.issym():
                # chart repos use a few symlinks (shared files); keep them as copies of their content when resolvable
                src = os.path.normpath(os.path.join(os.path.dirname(m.name), m.linkname))
                try:
                    blob = subprocess.run(["git", "--git-dir", git_dir(repo), "show", "HEAD:" + src], check=True, capture_output=True).stdout
                    os.makedirs(os.path.dirname(target), exist_ok=True)
                    with open(target, "wb") as f:
                        f.write(blob)
                except subprocess.CalledProcessError:
                    pass

def license_of(repo):
    for name in ("LICENSE", "LICENSE.md", "LICENSE.txt"):
        r = subprocess.run(["git", "--git-dir", git_dir(repo), "show", "HEAD:" + name], capture_output=True)
        if r.returncode == 0:
            return r.stdout
    raise SystemExit(f"no LICENSE in {repo}")

def vendor_deps(chart_dir, repo, depth=0):
    cy = os.path.join(chart_dir, "Chart.yaml")
    meta = yaml.safe_load(open(cy)) or {}
    deps = meta.get("dependencies") or []
    req = os.path.join(chart_dir, "requirements.yaml")
    if os.path.exists(req):
        deps = (yaml.safe_load(open(req)) or {}).get("dependencies") or deps
    for d in deps:
        name, url = d["name"], (d.get("repository") or "")
        target = os.path.join(chart_dir, "charts", name)
        if os.path.exists(target) or os.path.exists(os.path.join(chart_dir, "charts", name + ".tgz")):
            continue
        if url.startswith("file://"):
            src = os.path.normpath(os.path.join(chart_dir, url[len("file://"):]))
            shutil.copytree(src, target)
        elif url == "":
            continue  # already inside charts/ in the repository
        elif url in REPOS:
            drepo, base = REPOS[url]
            export(drepo, f"{base}/{name}", target)
            if not any(os.path.exists(os.path.join(target, n)) for n in ("LICENSE", "LICENSE.md")):
                with open(os.path.join(target, "LICENSE"), "wb") as f:
                    f.write(license_of(drepo))
            vendor_deps(target, drepo, depth + 1)
        else:
            print(f"  ! {os.path.relpath(chart_dir, here)}: dependency {name} from {url} not vendored", file=sys.stderr)

def main():
    for line in open(sources):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, repo, path = line.split()
        dest = os.path.join(here, name)
        if os.path.exists(dest):
            shutil.rmtree(dest)
        export(repo, path, dest)
        if not any(os.path.exists(os.path.join(dest, n)) for n in ("LICENSE", "LICENSE.md")):
            with open(os.path.join(dest, "LICENSE"), "wb") as f:
                f.write(license_of(repo))
        vendor_deps(dest, repo)
        if slim:
            for root, dirs, files in os.walk(dest):
                if "Chart.yaml" not in files:
                    continue
                for n in ("README.md", "CHANGELOG.md"):
                    if n in files:
                        os.remove(os.path.join(root, n))
                if "img" in dirs:
                    shutil.rmtree(os.path.join(root, "img"))
        print(f"{name}: {repo} {path}")

main()
