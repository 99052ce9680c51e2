using Sealer.Core.Charts;

namespace Sealer.Cli.Commands;

/// <summary>find-images: the value options every chart of one invocation is rendered with (<c>-f</c>, <c>--set*</c>,
/// release, namespace), and the one place a <see cref="ChartInput"/> is made from them — local charts, fetched charts
/// and local charts with fetched dependencies all get the same options.</summary>
internal sealed record ChartInputs(List<string> Values, List<string> Set, List<string> SetString, List<string> SetFile, string? Release, string? Namespace)
{
    /// <summary>A chart at <paramref name="path"/> with these options; <paramref name="displayNames"/> and
    /// <paramref name="dependencies"/> as <see cref="ChartInput.DisplayNames"/> and <see cref="ChartInput.AdditionalDependencies"/>.</summary>
    public ChartInput For(string path, Dictionary<string, string>? displayNames = null, List<string>? dependencies = null) => new()
    {
        Path = path, ValuesFiles = Values, SetValues = Set, SetStringValues = SetString, SetFileValues = SetFile, ReleaseName = Release, Namespace = Namespace,
        DisplayNames = displayNames ?? new(StringComparer.Ordinal), AdditionalDependencies = dependencies ?? [],
    };
}
