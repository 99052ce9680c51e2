#!/usr/bin/env python3
"""Writes the MSBuild editor schemas of Sealer.Sdk from one catalog (below): every public property, item type and item
metadata the SDK's Sdk/*.props and Sdk/*.targets define or read, with a description, a type and the default.

  docs/schemas/Sealer.Sdk.xsd               XML Schema in the MSBuild namespace, extending msb:Property and msb:Item the way
                                             MSBuild's Microsoft.Build.CommonTypes.xsd does. Visual Studio's XML editor reads
                                             it once Microsoft.Build.xsd (in VS's Xml/Schemas/1033) includes it:
                                             `dotnet msbuild app.kubeproj -t:InstallSealerVisualStudioSchema` does that. Any
                                             XSD-driven editor can use it too.
  docs/schemas/Sealer.Sdk.buildschema.json  the MSBuild Editor extension's schema format (mhutch/MonoDevelop.MSBuildEditor, in
                                             Visual Studio and VS Code); packed as Sdk/Sdk.targets.buildschema.json, the
                                             "sidecar" that extension loads for Sdk.targets without any install step.

Both are packed into the SDK package (src/Sealer.Sdk/Sealer.Sdk.csproj). tests/Sealer.Sdk.Tests EditorSchemaTests read the
props/targets (and the tasks' metadata reads, and the README tables) and fail when a name is missing here or listed here
but no longer in the SDK; they also compile the XSD with MSBuild's own schemas and validate a sample project.
Usage: python3 build/gen-msbuild-schemas.py [--check]   (--check: exit 1 when the files on disk differ)."""
import json, os, sys
from xml.sax.saxutils import escape

BOOL, INT, STR = "bool", "int", "string"


def P(name, type_, default, desc):
    return (name, type_, default, desc)


# Properties. type: BOOL, INT, STR, or a dict of allowed values -> description. default: as the SDK sets it ('' = none).
PROPERTIES = [
    # what to build
    P("ClusterImageName", STR, "project name, lower case", "The cluster image name (sealer build -t NAME:tag). The layout's org.opencontainers.image.ref.name is name:tag."),
    P("ClusterImageTag", STR, "$(Version), else latest", "The cluster image tag."),
    P("KubernetesVersion", STR, "", "Kubefile KUBEVERSION: the label sealer.io.kubeversion, and .Capabilities.KubeVersion when charts are rendered (e.g. v1.30.0)."),
    P("SealerBaseImage", STR, "scratch", "Kubefile FROM: a registry reference (pulled through the image cache, pinned in images.lock.json), or offline oci:DIR[:REF], oci-archive:FILE[:REF], a path, a name in the local store."),
    P("SealerPlatforms", STR, "linux/amd64", "Kubefile FROM --platform: the platforms to build, ';'-separated (one image per platform, an OCI index over them)."),
    P("SealerLaunch", STR, "", "Kubefile LAUNCH: the apps sealer run launches, ';'-separated. Exclusive with SealerCmds (SEA2002)."),
    P("SealerCmds", STR, "", "Kubefile CMDS/CMD: commands sealer run runs instead of launching apps, ';'-separated. Exclusive with SealerLaunch (SEA2002)."),
    P("SealerImageType", {"kube-installer": "A cluster image that installs Kubernetes", "app-installer": "A cluster image that installs apps on an existing cluster"}, "derived",
      "The image type in sealer.image.extension (derived: the FROM image's type, else kube-installer when the cluster.alpha.sealer.io/cluster-runtime-type label is set)."),
    P("SealerScanRootfs", BOOL, "false", "Sealer's lite build: also find images in the rootfs (YAML under manifests/ and application/apps/, manifests/imageList, chart directories). sealer convert kubefile sets it."),
    P("SealerArchive", BOOL, "true", "Also write the OCI archive <name>.tar next to the layout (updated in place on rebuilds)."),
    P("SealerSbom", BOOL, "true", "Also write the image's SBOM (SPDX 2.3 JSON: the cluster image, every app image with its digests, every app) as <name>.spdx.json next to the archive."),
    P("SealerSourceDateEpoch", INT, "$(SOURCE_DATE_EPOCH), else 0", "The mtime of rootfs tar entries (reproducible builds)."),
    P("SealerSdkVersion", STR, "the restored package's version", "The Sealer.Sdk version (written when the package is packed; read it, do not set it)."),
    P("UsingSealerSdk", BOOL, "true", "true in every project that uses Sealer.Sdk."),
    # where
    P("SealerCacheDir", STR, "$(SEALER_CACHE_DIR), else ~/.sealer/cache", "The image and chart cache (an OCI layout, full references)."),
    P("SealerImagesDir", STR, "$(SEALER_IMAGES_DIR), else ~/.sealer/images", "The local cluster image store (FROM by store name, oci-archive: loads)."),
    P("SealerLockFile", STR, "images.lock.json next to the project", "The image lock: every image with its digest per platform. Commit it."),
    P("SealerChartsLockFile", STR, "charts.lock.json next to SealerLockFile", "Every chart resolved from a repository or registry, pinned. Commit it."),
    P("SealerIntermediateDir", STR, "$(IntermediateOutputPath)sealer/", "Where the build keeps its intermediate files."),
    P("ClusterImageOutputDir", STR, "bin/<Configuration>/", "Where the layout and the archive go."),
    P("ClusterImageLayout", STR, "$(ClusterImageOutputDir)<name>", "The OCI layout directory the build writes."),
    P("ClusterImageArchive", STR, "$(ClusterImageOutputDir)<name>.tar", "The OCI archive the build writes (when SealerArchive is true)."),
    P("ClusterImageSbom", STR, "$(ClusterImageOutputDir)<name>.spdx.json", "The SBOM the build writes (when SealerSbom is true)."),
    P("SealerTasksAssembly", STR, "the package's tools/net10.0/linux-x64/Sealer.Tasks.dll (ReadyToRun) on a linux-x64 SDK, else tools/net10.0/Sealer.Tasks.dll", "The task assembly (for testing a locally built one)."),
    # registries
    P("SealerRegistryMirrors", STR, "", "Registry mirrors: docker.io=http://host:port,...;quay.io=... (also from the environment)."),
    P("SealerRegistryFallbackToSource", BOOL, "true", "false: never reach a source registry when its mirrors fail (offline builds)."),
    P("SealerRefresh", BOOL, "false", "true: resolve tags and chart versions again instead of using the locks."),
    P("SealerMaxConcurrentBlobs", INT, "6", "Parallel blob downloads."),
    P("SealerUserAgent", STR, "sealer-sdk/$(SealerSdkVersion)", "The User-Agent sent to registries and chart repositories."),
    P("SealerHelmRepositoryConfig", STR, "$HELM_REPOSITORY_CONFIG, else helm's repositories.yaml", "helm's repositories file: @name and alias:name dependency repositories, credentials and caFile of listed URLs."),
    P("SealerChartNetworkRequests", INT, "", "Output of ResolveHelmCharts: the network requests it made (0 when the locks and cache had everything)."),
    P("ClusterImageDigest", STR, "", "Output of AssembleClusterImage: the digest of the image index written."),
    # extension points
    P("CustomBeforeSealerProps", STR, "", "A file imported before the SDK's props."),
    P("CustomAfterSealerProps", STR, "", "A file imported after the SDK's props."),
    P("CustomBeforeSealerTargets", STR, "", "A file imported before the SDK's targets."),
    P("CustomAfterSealerTargets", STR, "", "A file imported after the SDK's targets."),
    P("SealerBuildDependsOn", STR, "", "Targets to run before the Sealer build steps."),
    # site check
    P("SealerSiteValues", STR, "", "A site's Clusterfile (or only its Application documents): after the build, render the apps with its values as sealer run launches them; error SEA4150 for each image the cluster image does not carry."),
    P("SealerAllowMissingImages", BOOL, "false", "true: the SealerSiteValues errors are warnings."),
    # push
    P("ClusterImageRegistry", STR, "$(SEALER_REGISTRY)", "PushClusterImage pushes to $(ClusterImageRegistry)/$(ClusterImageName):$(ClusterImageTag)."),
    P("SealerPushDestination", STR, "from ClusterImageRegistry", "The full push reference (overrides ClusterImageRegistry)."),
    P("SealerPushAdditionalTags", STR, "", "More tags to push, ';'-separated."),
    P("SealerPushMountFrom", STR, "", "Repositories on the same registry to mount blobs from, ';'-separated."),
    P("SealerPushPlainHttp", BOOL, "false", "Push over plain http (loopback registries need nothing)."),
    P("SealerPushMaxConcurrentBlobs", INT, "4", "Parallel uploads."),
    P("SealerPushSbom", BOOL, "true", "Attach the image's SPDX 2.3 SBOM as an OCI referrer."),
    P("SealerSigningKey", STR, "", "Sign the pushed image with this PEM private key in cosign's format (password from COSIGN_PASSWORD)."),
    P("PushClusterImageDependsOn", STR, "Build", "Targets PushClusterImage runs first."),
    P("ClusterImagePushedDigest", STR, "", "Output of PushClusterImage: the pushed digest."),
    P("ClusterImagePushedReference", STR, "", "Output of PushClusterImage: the pushed reference."),
    # delta
    P("SealerDeltaFrom", STR, "", "PackClusterDelta: the image the site has (a store name, oci:DIR[:REF], oci-archive:FILE[:REF]; never pulled)."),
    P("SealerDeltaOutput", STR, "$(ClusterImageOutputDir)<name>-<base tag>-to-<tag>.tar", "PackClusterDelta: the delta file (.zst compresses)."),
    P("PackClusterDeltaDependsOn", STR, "Build", "Targets PackClusterDelta runs first."),
    P("ClusterImageDeltaArchive", STR, "", "Output of PackClusterDelta: the delta file written."),
    P("ClusterImageDeltaBaseDigest", STR, "", "Output of PackClusterDelta: the digest of the base image."),
    # deliver
    P("SealerClusterfile", STR, "Clusterfile next to the project", "DeliverCluster: the Clusterfile."),
    P("SealerKnownHosts", STR, "~/.ssh/known_hosts", "DeliverCluster: known_hosts to check host keys against."),
    P("SealerTrustOnFirstUse", BOOL, "false", "DeliverCluster: accept and record unknown host keys (changed keys are always refused)."),
    P("SealerSshPrivateKey", STR, "", "DeliverCluster: the private key for every host, overriding the Clusterfile's."),
    P("SealerSshUser", STR, "", "DeliverCluster: the SSH user for every host, overriding the Clusterfile's."),
    P("SealerSshPasswordVariable", STR, "SEALER_SSH_PASSWORD", "DeliverCluster: the environment variable holding the SSH password (passwords never come from project files)."),
    P("SealerMasters", STR, "", "DeliverCluster: masters replacing the Clusterfile's, as sealer run -m (ranges a.b.c.d-a.b.c.e, lists)."),
    P("SealerNodes", STR, "", "DeliverCluster: nodes replacing the Clusterfile's, as sealer run -n."),
    P("SealerDeliverParallelism", INT, "3", "DeliverCluster: hosts worked on at once."),
    P("SealerDeliverRelay", BOOL, "true", "DeliverCluster: hosts pass content on to each other instead of all from this machine."),
    P("SealerDeliverPlanOnly", BOOL, "false", "DeliverCluster: compute and log the upgrade plan, change nothing."),
    P("SealerPruneApps", BOOL, "false", "DeliverCluster: remove the apps the new image drops."),
    P("SealerBinary", STR, "", "DeliverCluster: the sealer binary to install on the hosts."),
    P("SealerStateDir", STR, "", "DeliverCluster: where the delivery keeps its run state."),
    P("DeliverClusterDependsOn", STR, "Build", "Targets DeliverCluster runs first."),
    P("SealerDeliverBytesSent", INT, "", "Output of DeliverCluster: bytes sent from this machine."),
    P("SealerDeliverBytesRelayed", INT, "", "Output of DeliverCluster: bytes hosts sent to each other."),
    # bundle
    P("SealerBundleOutput", STR, "$(ClusterImageOutputDir)<name>-<tag>-<os>-<arch>.run", "BundleCluster: the bundle file."),
    P("SealerBundlePlatform", {"linux/amd64": "x86-64 Linux", "linux/arm64": "ARM64 Linux"}, "the first of SealerPlatforms", "BundleCluster: the machine the site runs the bundle on."),
    P("SealerBundleClusterfileTemplate", STR, "Clusterfile.template next to the project, if any", "BundleCluster: the Clusterfile template the bundle carries."),
    P("SealerBundleSplitSize", STR, "", "BundleCluster: no bundle file larger than this (bytes, 4G, 4700MB, or fat32): the archive goes into <bundle>.partK-of-N files beside the bundle."),
    P("SealerCliPath", STR, "the sealer the package carries for SealerBundlePlatform", "BundleCluster: the NativeAOT sealer to embed."),
    P("BundleClusterDependsOn", STR, "Build", "Targets BundleCluster runs first."),
    P("ClusterImageBundle", STR, "", "Output of BundleCluster: the bundle written."),
    # conversion and editor help
    P("SealerKubefile", STR, "", "ConvertKubefile: the Kubefile to convert into this project (its directory is the build context)."),
    P("SealerKubefileBuildArgs", STR, "", "ConvertKubefile: ARG values, K=V;K2=V2 (as sealer convert kubefile --build-arg)."),
    P("SealerVisualStudioDir", STR, "VsInstallRoot, else every install vswhere lists", "InstallSealerVisualStudioSchema: the Visual Studio installation(s) to add the schema to, ';'-separated."),
]


def I(name, desc, include, metadata=(), output=False):
    return (name, desc, include, list(metadata), output)


def M(name, type_, desc):
    return (name, type_, desc)


ITEMS = [
    I("HelmChart", "Kubefile: a chart in the build context, a repository or a registry. Rendered offline for image discovery, carried under charts/.",
      "a chart directory or .tgz, oci://host/ns/chart, or a chart name with Repository", [
          M("ValuesFiles", STR, "Values files, ';'-separated (as helm -f)."),
          M("SetValues", STR, "Values a=b, ';'-separated (as helm --set)."),
          M("SetStringValues", STR, "String values a=b, ';'-separated (as helm --set-string)."),
          M("ReleaseName", STR, "The release name charts are rendered with."),
          M("Namespace", STR, "The namespace charts are rendered with."),
          M("Destination", STR, "Where the chart goes in the image (default charts/<name>)."),
          M("Repository", STR, "An https:// chart repository (or oci://host/ns with the chart name as Include)."),
          M("Version", STR, "A version or constraint, as helm pull --version."),
          M("CaFile", STR, "A CA bundle for the repository's TLS."),
          M("InsecureSkipTlsVerify", BOOL, "Skip TLS verification of the repository."),
      ]),
    I("KubeManifest", "Kubernetes YAML scanned for images and carried under manifests/.", "YAML files (wildcards allowed)", [
          M("Destination", STR, "Where the manifest goes in the image (default manifests/)."),
          M("Platform", STR, "Only for this platform (e.g. linux/arm64)."),
      ]),
    I("Kustomization", "A kustomize directory built offline like kubectl kustomize; its images resolved, carried rendered as manifests/<Name>.yaml.",
      "a directory with kustomization.yaml", [
          M("Name", STR, "The rendered file's name (default the path with / as -)."),
          M("Destination", STR, "Where the rendered manifest goes in the image."),
      ]),
    I("ImageList", "An image list (one reference per line), as Sealer's manifests/imageList.", "image list files"),
    I("ContainerImage", "An image to carry that nothing else names.", "an image reference"),
    I("ExcludeImage", "An image not to carry.", "an image reference, repository, or * pattern"),
    I("SealerFile", "Kubefile COPY: files into the image's rootfs.", "files or directories (wildcards allowed)", [
          M("Destination", STR, "The rootfs path; ending in / keeps the file name."),
          M("Platform", STR, "Only for this platform (e.g. linux/arm64); that platform gets its own rootfs layer."),
          M("Executable", {"true": "mode 0755 in the image", "false": "mode 0644 in the image"}, "The file's executable bit in the image (default: git's mode for the file, else the file system's where it has one)."),
      ]),
    I("SealerApp", "Kubefile APP: an app sealer run launches.", "the app name", [
          M("Source", STR, "The app's sources in the build context, ';'-separated (local://path in a Kubefile)."),
          M("Type", {"helm": "a Helm chart (helm upgrade --install)", "kube": "manifests (kubectl apply)", "shell": "a shell script"}, "How the app is launched (detected when left out)."),
          M("Cmds", STR, "Kubefile APPCMDS: commands that launch the app, ';'-separated."),
          M("Env", STR, "Kubefile APPENV: k=v;k2=v2."),
          M("Version", STR, "The app's version."),
      ]),
    I("SealerLabel", "Kubefile LABEL: an image label.", "the label key", [M("Value", STR, "The label value.")]),
    I("SealerEnv", "Kubefile ENV: an environment variable of the cluster image.", "the variable name", [M("Value", STR, "The value.")]),
    I("SealerRegistryMirror", "A registry mirror the build pulls through.", "a registry domain (docker.io), or domain=url,url", [
          M("Mirrors", STR, "Mirror URLs, ';'-separated."),
          M("Insecure", BOOL, "Allow plain http and unverified TLS for these mirrors."),
          M("FallbackToSource", BOOL, "false: never reach the source registry when the mirrors fail."),
      ]),
    I("SealerClusterEnv", "DeliverCluster: a spec.env entry set over the Clusterfile's, as sealer run -e.", "the variable name", [M("Value", STR, "The value.")]),
    I("SealerDeliveredStep", "Output of DeliverCluster: the delivery steps that ran.", "a step", output=True),
    I("ClusterImageBundleParts", "Output of BundleCluster with SealerBundleSplitSize: the part files beside the bundle.", "a part file", output=True),
]

HEADER = ("Generated by build/gen-msbuild-schemas.py from its catalog; edit the catalog there and run it. "
          "Sealer.Sdk properties, items and metadata for MSBuild IntelliSense (docs: README.md, Editor help).")


def xsd_simple_type(t, indent):
    if t == BOOL:
        return None, "msb:boolean"
    if isinstance(t, dict):
        pad = " " * indent
        enums = "".join(f'{pad}        <xs:enumeration value="{escape(v)}" />\n' for v in t)
        return (f'{pad}<xs:simpleType>\n{pad}  <xs:union memberTypes="msb:non_empty_string">\n{pad}    <xs:simpleType>\n'
                f'{pad}      <xs:restriction base="xs:string">\n{enums}{pad}      </xs:restriction>\n{pad}    </xs:simpleType>\n'
                f'{pad}  </xs:union>\n{pad}</xs:simpleType>\n'), None
    return None, "xs:string"


def doc(text, indent):
    pad = " " * indent
    return f'{pad}<xs:annotation>\n{pad}  <xs:documentation>{escape(text)}</xs:documentation>\n{pad}</xs:annotation>\n'


def describe(desc, default):
    return desc + (f" Default: {default}." if default else "")


def xsd():
    out = ['<?xml version="1.0" encoding="utf-8"?>\n',
           f"<!-- {HEADER}\n",
           "     Visual Studio: `dotnet msbuild app.kubeproj -t:InstallSealerVisualStudioSchema` copies this file to\n",
           "     <VS>/Xml/Schemas/1033/MSBuild/ and includes it in Microsoft.Build.xsd, the extension point that file names. -->\n",
           '<xs:schema targetNamespace="http://schemas.microsoft.com/developer/msbuild/2003" xmlns:xs="http://www.w3.org/2001/XMLSchema"\n',
           '           xmlns:msb="http://schemas.microsoft.com/developer/msbuild/2003" elementFormDefault="qualified">\n']
    for name, t, default, desc in PROPERTIES:
        inline, ref = xsd_simple_type(t, 4)
        if t == BOOL:
            out.append(f'  <xs:element name="{name}" type="msb:boolean" substitutionGroup="msb:Property">\n')
            out.append(doc(describe(desc, default), 4))
        elif inline:
            out.append(f'  <xs:element name="{name}" substitutionGroup="msb:Property">\n')
            out.append(doc(describe(desc, default), 4))
            out.append(inline)
        else:
            out.append(f'  <xs:element name="{name}" type="msb:StringPropertyType" substitutionGroup="msb:Property">\n')
            out.append(doc(describe(desc, default), 4))
        out.append("  </xs:element>\n")
    for name, desc, include, metadata, output in ITEMS:
        # Microsoft.Build.CommonTypes.xsd redefines msb:SimpleItemType with Include prohibited and declares it on each item
        # again; so does this schema (with what the Include names), else Visual Studio would reject every Include.
        out.append(f'  <xs:element name="{name}" substitutionGroup="msb:Item">\n')
        out.append(doc(desc, 4))
        out.append('    <xs:complexType>\n      <xs:complexContent>\n        <xs:extension base="msb:SimpleItemType">\n')
        if metadata:
            out.append('          <xs:sequence minOccurs="0" maxOccurs="unbounded">\n            <xs:choice>\n')
            for m, t, mdesc in metadata:
                out.append(f'              <xs:element name="{m}">\n')
                out.append(doc(mdesc, 16))
                out.append("              </xs:element>\n")
            out.append("            </xs:choice>\n          </xs:sequence>\n")
        out.append('          <xs:attribute name="Include" type="xs:string">\n')
        out.append(doc(include[0].upper() + include[1:] + ".", 12))
        out.append("          </xs:attribute>\n")
        for m, t, mdesc in metadata:
            inline, ref = xsd_simple_type(t, 12)
            if inline:
                out.append(f'          <xs:attribute name="{m}" use="optional">\n')
                out.append(doc(mdesc, 12))
                out.append(inline)
            else:
                out.append(f'          <xs:attribute name="{m}" type="{ref}" use="optional">\n')
                out.append(doc(mdesc, 12))
            out.append("          </xs:attribute>\n")
        out.append("        </xs:extension>\n      </xs:complexContent>\n    </xs:complexType>\n  </xs:element>\n")
    out.append("</xs:schema>\n")
    return "".join(out)


def bs_type(t):
    return {"values": t} if isinstance(t, dict) else t


def buildschema():
    props = {}
    for name, t, default, desc in PROPERTIES:
        p = {"description": desc, "type": bs_type(t)}
        if default and not any(c in default for c in " $<~,"):
            p["defaultValue"] = default
        elif default:
            p["description"] = describe(desc, default)
        props[name] = p
    items = {}
    for name, desc, include, metadata, output in ITEMS:
        it = {"description": desc, "includeDescription": include}
        if metadata:
            it["metadata"] = {m: {"description": mdesc, "type": bs_type(t)} for m, t, mdesc in metadata}
        items[name] = it
    return json.dumps({"license": "Apache-2.0 (Sealer.Sdk). " + HEADER, "properties": props, "items": items}, indent=2) + "\n"


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    files = {os.path.join(root, "docs", "schemas", "Sealer.Sdk.xsd"): xsd(),
             os.path.join(root, "docs", "schemas", "Sealer.Sdk.buildschema.json"): buildschema()}
    check = "--check" in sys.argv[1:]
    stale = []
    for path, text in files.items():
        old = open(path, encoding="utf-8").read() if os.path.exists(path) else None
        if old == text:
            continue
        if check:
            stale.append(path)
        else:
            with open(path + ".tmp", "w", encoding="utf-8", newline="\n") as f:
                f.write(text)
            os.replace(path + ".tmp", path)
            print(f"wrote {path}")
    if stale:
        print("stale (run python3 build/gen-msbuild-schemas.py): " + ", ".join(stale), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
