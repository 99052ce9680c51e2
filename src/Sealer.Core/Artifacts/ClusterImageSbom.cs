using System.Globalization;
using System.Text.Json;
using Sealer.Core.ClusterImage;
using Sealer.Core.Diagnostics;
using Sealer.Core.Layout;
using Sealer.Core.Oci;
using Sealer.Core.References;

namespace Sealer.Core.Artifacts;

/// <summary>
/// The cluster image's software bill of materials as an SPDX 2.3 JSON document (<see cref="MediaType"/>): one CONTAINER
/// package for the cluster image, one per app image of its registry layer (<c>registry/images.json</c>: name, digest,
/// a purl per platform manifest) and one APPLICATION package per app (chart, manifests), with DESCRIBES/CONTAINS
/// relationships. SPDX rather than CycloneDX: its 2.3 schema is one self-contained file, <c>primaryPackagePurpose</c>
/// has CONTAINER, and the OCI referrers convention (<c>artifactType application/spdx+json</c>) is what scanners
/// (trivy, grype, oras discover) look for. Attached as a referrer of the image (<see cref="Attach"/>).
/// </summary>
public static class ClusterImageSbom
{
    public const string MediaType = "application/spdx+json";

    /// <summary>
    /// The document of the image named <paramref name="refName"/> in a layout just built, written atomically to
    /// <paramref name="path"/> (what <c>dotnet build</c> and <c>sealer build</c> put beside the archive); returns what it describes.
    /// </summary>
    public static ClusterImageInfo WriteFile(OciLayout layout, string refName, string path, DateTimeOffset created)
    {
        var root = layout.FindRef(refName)
            ?? throw new SealerException(ErrorCodes.NotAClusterImage, $"The built layout {layout.Root} has no image named '{refName}', so there is no SBOM to write. Build it again (dotnet build -t:Rebuild).");
        var info = ClusterImageInspector.InspectBuilt(layout, refName, root);
        AtomicFile.WriteAllBytes(path, Create(info, created));
        return info;
    }

    /// <summary>SOURCE_DATE_EPOCH when above 0 (reproducible output), else now.</summary>
    public static DateTimeOffset CreatedAt(long sourceDateEpoch) => sourceDateEpoch > 0 ? DateTimeOffset.FromUnixTimeSeconds(sourceDateEpoch) : DateTimeOffset.UtcNow;

    /// <summary>Writes the document for <paramref name="info"/> (what <see cref="ClusterImageInspector"/> reads).</summary>
    public static byte[] Create(ClusterImageInfo info, DateTimeOffset created)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, NewLine = "\n" }))
        {
            var root = ImageReference.TryParse(info.Name, out var r, out _) ? r : null;
            string rootHex = Digest.Parse(info.Digest).Encoded;
            w.WriteStartObject();
            w.WriteString("spdxVersion", "SPDX-2.3");
            w.WriteString("dataLicense", "CC0-1.0");
            w.WriteString("SPDXID", "SPDXRef-DOCUMENT");
            w.WriteString("name", info.Name);
            w.WriteString("documentNamespace", $"https://sealer.io/spdx/{Uri.EscapeDataString(root?.Name ?? info.Name)}/sha256-{rootHex}");
            w.WriteStartObject("creationInfo");
            w.WriteString("created", created.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
            w.WriteStartArray("creators");
            w.WriteStringValue("Tool: sealer-sdk");
            w.WriteEndArray();
            w.WriteEndObject();

            var contained = new List<string>();
            w.WriteStartArray("packages");
            WritePackage(w, "SPDXRef-ClusterImage", root?.Name ?? info.Name, root?.Tag, info.Digest, "CONTAINER",
                [Purl(root?.Name ?? info.Name, info.Digest, null)], $"cluster image, platforms {string.Join(", ", info.Platforms.Select(p => p.Platform))}");
            int n = 0;
            foreach (var group in ImageGroup.Of(info))
            {
                var image = group.Image;
                var platforms = group.Platforms;
                string id = $"SPDXRef-Image-{++n}";
                contained.Add(id);
                var reference = ImageReference.TryParse(image.Reference, out var ir, out _) ? ir : null;
                string name = reference?.Name ?? image.Reference;
                var purls = platforms.Count == 0 ? [Purl(name, image.Digest, null)] : platforms.Select(p => Purl(name, p.Digest, p.Platform)).Prepend(Purl(name, image.Digest, null)).Distinct().ToList();
                WritePackage(w, id, name, reference?.Tag, image.Digest, "CONTAINER", purls,
                    $"{image.Reference}@{image.Digest}; platforms: {(platforms.Count == 0 ? "unknown" : string.Join(", ", platforms.Select(p => $"{p.Platform ?? "?"} {p.Digest}")))}");
            }
            var apps = info.Platforms.Where(p => p.Extension is not null).SelectMany(p => p.Extension!.Applications).DistinctBy(a => a.Name).ToList();
            n = 0;
            foreach (var app in apps)
            {
                string id = $"SPDXRef-App-{++n}";
                contained.Add(id);
                WritePackage(w, id, app.Name, app.Version, null, "APPLICATION", [], $"{app.Type ?? "app"}: {string.Join(", ", app.Files)}");
            }
            w.WriteEndArray();

            w.WriteStartArray("relationships");
            WriteRelationship(w, "SPDXRef-DOCUMENT", "DESCRIBES", "SPDXRef-ClusterImage");
            foreach (var id in contained) WriteRelationship(w, "SPDXRef-ClusterImage", "CONTAINS", id);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return buffer.ToArray();
    }

    /// <summary>One image package: an image (reference and digest) as every platform of the cluster image lists it, with the
    /// union of its platform manifests. A class and plain loops, not LINQ over value tuples: that is generic code over value
    /// types ReadyToRun cannot carry, JIT-compiled in every build.</summary>
    private sealed class ImageGroup(ContainedImage image)
    {
        public ContainedImage Image { get; } = image;
        public List<ContainedPlatform> Platforms { get; } = [];

        /// <summary>The groups of <paramref name="info"/>, by reference then digest (ordinal).</summary>
        public static List<ImageGroup> Of(ClusterImageInfo info)
        {
            var groups = new Dictionary<string, ImageGroup>(StringComparer.Ordinal);
            foreach (var platform in info.Platforms)
            {
                foreach (var image in platform.Images)
                {
                    string key = image.Reference + "\n" + image.Digest;
                    if (!groups.TryGetValue(key, out var group)) groups.Add(key, group = new ImageGroup(image));
                    foreach (var p in image.Platforms)
                    {
                        if (!group.Platforms.Exists(q => q.Digest == p.Digest)) group.Platforms.Add(p);
                    }
                }
            }
            var list = new List<ImageGroup>(groups.Values);
            list.Sort(static (a, b) =>
            {
                int c = string.CompareOrdinal(a.Image.Reference, b.Image.Reference);
                return c != 0 ? c : string.CompareOrdinal(a.Image.Digest, b.Image.Digest);
            });
            return list;
        }
    }

    private static void WritePackage(Utf8JsonWriter w, string id, string name, string? version, string? digest, string purpose, IReadOnlyList<string> purls, string comment)
    {
        w.WriteStartObject();
        w.WriteString("SPDXID", id);
        w.WriteString("name", name);
        if (version is not null) w.WriteString("versionInfo", version);
        w.WriteString("downloadLocation", "NOASSERTION");
        w.WriteBoolean("filesAnalyzed", false);
        w.WriteString("primaryPackagePurpose", purpose);
        if (digest is not null && Digest.TryParse(digest, out var d) && d.Algorithm == "sha256")
        {
            w.WriteStartArray("checksums");
            w.WriteStartObject();
            w.WriteString("algorithm", "SHA256");
            w.WriteString("checksumValue", d.Encoded);
            w.WriteEndObject();
            w.WriteEndArray();
        }
        if (purls.Count > 0)
        {
            w.WriteStartArray("externalRefs");
            foreach (var purl in purls)
            {
                w.WriteStartObject();
                w.WriteString("referenceCategory", "PACKAGE-MANAGER");
                w.WriteString("referenceType", "purl");
                w.WriteString("referenceLocator", purl);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        w.WriteString("comment", comment);
        w.WriteEndObject();
    }

    private static void WriteRelationship(Utf8JsonWriter w, string from, string type, string to)
    {
        w.WriteStartObject();
        w.WriteString("spdxElementId", from);
        w.WriteString("relationshipType", type);
        w.WriteString("relatedSpdxElement", to);
        w.WriteEndObject();
    }

    /// <summary>The package URL of an OCI image (purl-spec <c>oci</c> type): last path segment, digest as version, the repository and platform as qualifiers.</summary>
    public static string Purl(string name, string digest, string? platform)
    {
        string last = name[(name.LastIndexOf('/') + 1)..].ToLowerInvariant();
        var qualifiers = new List<string>();
        if (platform is not null)
        {
            var parts = platform.Split('/');
            qualifiers.Add("arch=" + Uri.EscapeDataString(parts.Length > 1 ? parts[1] : parts[0]));
            if (parts.Length > 1) qualifiers.Add("os=" + Uri.EscapeDataString(parts[0]));
        }
        qualifiers.Add("repository_url=" + Uri.EscapeDataString(name));
        return $"pkg:oci/{last}@{Uri.EscapeDataString(digest)}?{string.Join("&", qualifiers)}";
    }

    /// <summary>Attaches <paramref name="sbom"/> to <paramref name="root"/> in <paramref name="layout"/> as a referrer (unnamed index.json entry).</summary>
    public static Descriptor Attach(OciLayout layout, Descriptor root, byte[] sbom)
    {
        var config = layout.WriteBlob("{}"u8, MediaTypes.OciEmpty);
        var layer = layout.WriteBlob(sbom, MediaType, new Dictionary<string, string> { [Annotations.Title] = "sbom.spdx.json" });
        var manifest = new ImageManifest
        {
            MediaType = MediaTypes.OciManifest,
            ArtifactType = MediaType,
            Config = config,
            Layers = [layer],
            Subject = new Descriptor { MediaType = root.MediaType, Digest = root.Digest, Size = root.Size },
        };
        var descriptor = layout.WriteBlob(OciJsonContext.ToBytes(manifest, OciJsonContext.Default.ImageManifest), MediaTypes.OciManifest) with { ArtifactType = MediaType };
        layout.UpdateIndex(list => list.Where(d => d.Digest != descriptor.Digest).Append(descriptor).ToList());
        return descriptor;
    }

    /// <summary>The SBOM attached to <paramref name="digest"/> in an index (layout or archive), or null.</summary>
    public static byte[]? Find(ImageIndex index, Func<Digest, bool> has, Func<Digest, long, byte[]> read, string digest)
    {
        foreach (var entry in index.Manifests)
        {
            if (entry.GetAnnotation(Annotations.RefName) is not null || !MediaTypes.IsManifest(entry.MediaType) || !has(entry.ParsedDigest)) continue;
            var m = OciJsonContext.FromBytes(read(entry.ParsedDigest, OciLimits.MaxManifestBytes), OciJsonContext.Default.ImageManifest, $"manifest {entry.Digest}");
            if (m.Subject?.Digest != digest || m.ArtifactType != MediaType) continue;
            var layer = m.Layers.FirstOrDefault(l => l.MediaType == MediaType);
            if (layer is not null && has(layer.ParsedDigest)) return read(layer.ParsedDigest, Math.Max(layer.Size, 1));
        }
        return null;
    }

    /// <summary>Attaches an SBOM to the store or build output image <paramref name="root"/> unless one is there already; returns the
    /// document. The caller has walked and checked the image's graph (<see cref="RegistryPusher"/>).</summary>
    public static byte[] EnsureAttached(OciLayout layout, Descriptor root, string name)
    {
        var existing = Find(layout.ReadIndex(), d => layout.HasBlob(d), (d, max) => layout.ReadBlobBytes(d, max), root.Digest);
        if (existing is not null) return existing;
        var sbom = Create(ClusterImageInspector.InspectBuilt(layout, name, root), DateTimeOffset.UtcNow);
        Attach(layout, root, sbom);
        return sbom;
    }
}
