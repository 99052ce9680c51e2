using System.Text.Json;
using Sealer.Core.Diagnostics;
using Sealer.Core.Distribution;
using Sealer.Core.Layout;
using Sealer.Core.Oci;
using Sealer.Core.References;

namespace Sealer.Core.Charts.Remote;

/// <summary>Helm's OCI media types (helm pkg/registry/constants.go).</summary>
public static class HelmMediaTypes
{
    public const string Config = "application/vnd.cncf.helm.config.v1+json";
    public const string ChartContent = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
    public const string Provenance = "application/vnd.cncf.helm.chart.provenance.v1.prov";

    /// <summary>The chart layer type of charts pushed by helm before 3.8 (helm still pulls them).</summary>
    public const string LegacyChartContent = "application/tar+gzip";
}

/// <summary>
/// Charts in OCI registries (<c>oci://host/ns/chart</c>), pulled like <c>helm pull oci://...</c> but through
/// <see cref="RegistryClient"/> (mirrors, Docker config and environment credentials, retries, verified blobs): versions are
/// tags (helm writes '+' as '_'), the manifest's config must be Helm's and its chart layer is the packaged chart.
/// </summary>
public static class OciChartSource
{
    /// <summary>Parses <c>oci://host[:port]/path/chart</c> into the registry reference of the chart's repository.</summary>
    public static ImageReference Parse(string repository, string? file = null, int line = 0)
    {
        const string prefix = "oci://";
        if (!repository.StartsWith(prefix, StringComparison.Ordinal) || repository.Length == prefix.Length
            || !ImageReference.TryParse(repository[prefix.Length..].TrimEnd('/'), out var image, out var error))
        {
            throw new SealerException(ErrorCodes.ChartReferenceInvalid, $"'{repository}' is not an OCI chart reference: write oci://registry/namespace/chart.", file, line);
        }
        if (image.Tag is not null && image.Tag != "latest" || image.Digest is not null)
        {
            throw new SealerException(ErrorCodes.ChartReferenceInvalid, $"'{repository}': give the chart version in Version=\"...\" (or --version), not in the reference.", file, line);
        }
        _ = error;
        return ImageReference.Parse(image.Name);
    }

    /// <summary>The tag helm uses for a chart version ('+' is not allowed in tags).</summary>
    public static string TagOf(string version) => version.Replace('+', '_');

    /// <summary>The chart versions the repository has (tags turned back into versions), newest first.</summary>
    public static async Task<List<string>> VersionsAsync(RegistryClient client, ImageReference repository, CancellationToken cancellationToken = default)
    {
        var tags = await client.ListTagsAsync(repository, cancellationToken).ConfigureAwait(false);
        return ChartVersions.SortNewestFirst(tags.Select(t => t.Replace('_', '+')).Where(ChartVersions.IsValid), v => v);
    }

    /// <summary>The chart layer of <paramref name="version"/>; checks the manifest is a Helm chart.</summary>
    public static async Task<Descriptor> ChartLayerAsync(RegistryClient client, ImageReference repository, string version, CancellationToken cancellationToken = default)
    {
        var manifest = await client.GetManifestAsync(repository, TagOf(version), cancellationToken).ConfigureAwait(false);
        string where = $"oci://{repository.Name}:{TagOf(version)}";
        if (manifest.IsIndex)
        {
            throw new SealerException(ErrorCodes.NotAHelmChart, $"{where} is an image index, not a Helm chart. Check the reference (a chart is pushed with 'helm push').");
        }
        ImageManifest? m;
        try { m = JsonSerializer.Deserialize(manifest.Content, OciJsonContext.Default.ImageManifest); }
        catch (JsonException ex) { throw new SealerException(ErrorCodes.NotAHelmChart, $"{where}: the manifest is not valid JSON ({ex.Message}).", inner: ex); }
        if (m?.Config.MediaType != HelmMediaTypes.Config)
        {
            throw new SealerException(ErrorCodes.NotAHelmChart, $"{where} is not a Helm chart: its config is '{m?.Config.MediaType}', Helm's is {HelmMediaTypes.Config}. Check the reference (a chart is pushed with 'helm push').");
        }
        var layers = m.Layers.Where(l => l.MediaType is HelmMediaTypes.ChartContent or HelmMediaTypes.LegacyChartContent).ToList();
        if (layers.Count != 1)
        {
            throw new SealerException(ErrorCodes.NotAHelmChart, $"{where} has {layers.Count} chart layers ({HelmMediaTypes.ChartContent}); a Helm chart has exactly one.");
        }
        if (layers[0].Size > ChartLoader.MaxDecompressedSize)
        {
            throw new SealerException(ErrorCodes.NotAHelmChart, $"{where}: the chart layer is {layers[0].Size} bytes, more than a chart may be.");
        }
        return layers[0];
    }

    /// <summary>Downloads the chart layer into the chart cache (verified), unless it is there.</summary>
    public static Task<bool> FetchAsync(RegistryClient client, ImageReference repository, Descriptor layer, OciLayout cache, CancellationToken cancellationToken = default)
        => client.FetchBlobAsync(repository, layer, cache, null, cancellationToken);
}
