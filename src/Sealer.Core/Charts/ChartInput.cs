namespace Sealer.Core.Charts;

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
    /// <c>Charts.Remote.ChartDependencies</c>), added as if vendored; a chart charts/ already holds by that name wins.</summary>
    public List<string> AdditionalDependencies { get; init; } = [];

    /// <summary>Names to show in sources instead of file paths (a cached archive's path → <c>oci://host/ns/chart:1.2.3</c>),
    /// so where an image came from reads the same on every machine.</summary>
    public Dictionary<string, string> DisplayNames { get; init; } = new(StringComparer.Ordinal);
}
