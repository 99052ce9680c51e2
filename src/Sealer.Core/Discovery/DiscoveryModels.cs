using Sealer.Core.Charts;
using Sealer.Core.References;

namespace Sealer.Core.Discovery;

/// <summary>What to look for images in: charts (rendered offline with the given values), plain manifest files, image
/// list files, and explicit additions/exclusions. The same values, namespace and Kubernetes version as the deploy.</summary>
public sealed class DiscoveryInput
{
    public List<ChartInput> Charts { get; init; } = [];

    /// <summary>Kubernetes manifests: multi-document YAML (.yaml/.yml/.tmpl) or JSON.</summary>
    public List<string> ManifestFiles { get; init; } = [];

    /// <summary>Kustomization directories (holding kustomization.yaml/.yml/Kustomization), built offline like
    /// <c>kubectl kustomize DIR</c>; the images of the objects it renders.</summary>
    public List<string> Kustomizations { get; init; } = [];

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

    /// <summary>Where each chart's findings are kept between runs (null: every chart is rendered): a chart whose inputs
    /// did not change is not rendered again (<see cref="ChartFindingsKey"/>).</summary>
    public IChartFindingsCache? ChartCache { get; init; }
}

// Where an image was found is a References.ImageSource (the same record images.lock.json stores): File is the
// manifest or image list (line = line in that file), or for a chart the template's file (line = line of the image in the
// rendered output of that template); Detail says more (chart, template, object and field).

/// <summary>A discovered image: the normalized reference and every place it came from.</summary>
public sealed record DiscoveredImage(string Reference, IReadOnlyList<ImageSource> Sources);

public sealed class DiscoveryResult
{
    /// <summary>Every image, sorted by <see cref="DiscoveredImage.Reference"/> (ordinal), duplicates merged.</summary>
    public required IReadOnlyList<DiscoveredImage> Images { get; init; }

    /// <summary>Every file read (charts' files, values files, manifests, image lists), for MSBuild Inputs.</summary>
    public required IReadOnlyList<string> InputFiles { get; init; }

    /// <summary>Charts rendered by this run.</summary>
    public int ChartsRendered { get; init; }

    /// <summary>Charts whose findings came from <see cref="DiscoveryInput.ChartCache"/> (their inputs had not changed).</summary>
    public int ChartsFromCache { get; init; }
}
