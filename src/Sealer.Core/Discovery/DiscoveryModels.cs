namespace Sealer.Core.Discovery;

/// <summary>What to look for images in: charts (rendered offline with the given values), plain manifest files, image
/// list files, and explicit additions/exclusions. The same values, namespace and Kubernetes version as the deploy.</summary>
public sealed class DiscoveryInput
{
    public List<ChartInput> Charts { get; init; } = [];

    /// <summary>Kubernetes manifests: multi-document YAML (.yaml/.yml/.tmpl) or JSON.</summary>
    public List<string> ManifestFiles { get; init; } = [];

    /// <summary>Image lists: one reference a line, <c>#</c> comments, blank lines ignored (Sealer's imageList format).</summary>
    public List<string> ImageListFiles { get; init; } = [];

    /// <summary>Images to add whatever the inputs say.</summary>
    public List<string> ExtraImages { get; init; } = [];

    /// <summary>Images to drop: a full reference (<c>nginx:1.27</c>), a repository without tag (every tag of it), or a
    /// pattern with <c>*</c> matched against the normalized reference.</summary>
    public List<string> ExcludeImages { get; init; } = [];

    /// <summary>Kubernetes version for <c>.Capabilities.KubeVersion</c> (e.g. <c>1.31.0</c> or <c>v1.31.0</c>); null for helm's default.</summary>
    public string? KubeVersion { get; init; }

    /// <summary>Extra API versions for <c>.Capabilities.APIVersions</c> (helm's <c>--api-versions</c>).</summary>
    public List<string> ApiVersions { get; init; } = [];
}

/// <summary>A chart to render: like <c>helm template RELEASE PATH -n NS -f values.yaml --set k=v</c>.</summary>
public sealed class ChartInput
{
    /// <summary>A chart directory or a packaged chart (.tgz).</summary>
    public required string Path { get; init; }
    public List<string> ValuesFiles { get; init; } = [];

    /// <summary><c>--set</c> expressions (<c>a.b=c,d[0]=e</c>).</summary>
    public List<string> SetValues { get; init; } = [];
    public List<string> SetStringValues { get; init; } = [];

    /// <summary><c>--set-file</c> expressions (<c>key=path</c>).</summary>
    public List<string> SetFileValues { get; init; } = [];

    /// <summary>Release name (default <c>release-name</c>, as <c>helm template</c>).</summary>
    public string? ReleaseName { get; init; }

    /// <summary>Namespace (default <c>default</c>).</summary>
    public string? Namespace { get; init; }

    /// <summary>Dependencies resolved outside charts/ (packaged charts or chart directories, e.g. from
    /// <see cref="Charts.Remote.ChartDependencies"/>), added as if vendored; a chart charts/ already holds by that name wins.</summary>
    public List<string> AdditionalDependencies { get; init; } = [];

    /// <summary>Names to show in sources instead of file paths (a cached archive's path → <c>oci://host/ns/chart:1.2.3</c>),
    /// so where an image came from reads the same on every machine.</summary>
    public Dictionary<string, string> DisplayNames { get; init; } = new(StringComparer.Ordinal);
}

// Where an image was found is a Sealer.Core.Images.ImageSource (the same record images.lock.json stores): File is the
// manifest or image list (line = line in that file), or for a chart the template's file (line = line of the image in the
// rendered output of that template); Detail says more (chart, template, object and field).

/// <summary>A discovered image: the normalized reference and every place it came from.</summary>
public sealed record DiscoveredImage(string Reference, IReadOnlyList<Sealer.Core.Images.ImageSource> Sources);

public sealed class DiscoveryResult
{
    /// <summary>Every image, sorted by <see cref="DiscoveredImage.Reference"/> (ordinal), duplicates merged.</summary>
    public required IReadOnlyList<DiscoveredImage> Images { get; init; }

    /// <summary>Every file read (charts' files, values files, manifests, image lists), for MSBuild Inputs.</summary>
    public required IReadOnlyList<string> InputFiles { get; init; }
}
