namespace Sealer.Core.Diagnostics;

// SEA3500–3999: charts (loading, values, dependencies) and image discovery. SEA3000–3499 belong to the template engine.
public static partial class ErrorCodes
{
    /// <summary>A chart path does not exist, or is neither a chart directory nor a .tgz chart archive.</summary>
    public const string ChartNotFound = "SEA3500";

    /// <summary>Chart.yaml is missing or invalid (no name/version, bad apiVersion, unparsable YAML).</summary>
    public const string InvalidChartMetadata = "SEA3501";

    /// <summary>A chart archive (.tgz) is corrupt or holds unsafe paths.</summary>
    public const string InvalidChartArchive = "SEA3502";

    /// <summary>A values file (values.yaml, -f file) is not valid YAML or not a mapping.</summary>
    public const string InvalidValuesFile = "SEA3503";

    /// <summary>A --set / --set-string / --set-file expression cannot be parsed.</summary>
    public const string InvalidSetValue = "SEA3504";

    /// <summary>A .helmignore rule is invalid.</summary>
    public const string InvalidHelmIgnore = "SEA3505";

    /// <summary>A chart dependency is declared in Chart.yaml/requirements.yaml but not vendored under charts/.</summary>
    public const string MissingChartDependency = "SEA3506";

    /// <summary>The chart called fail or required: a value must be set for it to render.</summary>
    public const string ChartRequiresValue = "SEA3507";

    /// <summary>Rendering a chart failed (template error).</summary>
    public const string ChartRenderFailed = "SEA3508";

    /// <summary>The chart is a library chart and cannot be rendered on its own.</summary>
    public const string LibraryChartNotInstallable = "SEA3509";

    /// <summary>A rendered chart document or a manifest file is not valid YAML/JSON.</summary>
    public const string InvalidManifest = "SEA3510";

    /// <summary>An image list file holds a line that is not an image reference.</summary>
    public const string InvalidImageListEntry = "SEA3511";

    /// <summary>A manifest, image list or values file given to discovery does not exist or cannot be read.</summary>
    public const string DiscoveryInputNotFound = "SEA3512";

    /// <summary>Values have incompatible types (e.g. a subchart's key is not a table).</summary>
    public const string ValuesTypeMismatch = "SEA3513";

    /// <summary>The chart's Chart.yaml kubeVersion does not accept the Kubernetes version discovery renders for.</summary>
    public const string ChartKubeVersionIncompatible = "SEA3514";
}
