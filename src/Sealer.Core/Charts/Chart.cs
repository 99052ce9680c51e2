namespace Sealer.Core.Charts;

/// <summary>A file of a chart, path relative to the chart root with '/' separators (e.g. <c>templates/deployment.yaml</c>).</summary>
public sealed record ChartFile(string Name, byte[] Data);

/// <summary>A dependency as declared in Chart.yaml (v2) or requirements.yaml (v1).</summary>
public sealed class ChartDependency
{
    public required string Name { get; set; }
    public string Version { get; set; } = "";
    public string Repository { get; set; } = "";
    public string Condition { get; set; } = "";
    public List<string> Tags { get; set; } = [];
    public bool Enabled { get; set; }

    /// <summary>Each entry is a string (<c>exports.&lt;name&gt;</c>) or a map {child, parent}.</summary>
    public List<object?> ImportValues { get; set; } = [];
    public string Alias { get; set; } = "";

    public ChartDependency Clone() => new()
    {
        Name = Name, Version = Version, Repository = Repository, Condition = Condition, Tags = [.. Tags],
        Enabled = Enabled, ImportValues = [.. ImportValues], Alias = Alias,
    };
}

/// <summary>Chart.yaml, with Helm's Go field names available through <see cref="ToTemplateValue"/>.</summary>
public sealed class ChartMetadata
{
    public string Name { get; set; } = "";
    public string Home { get; set; } = "";
    public List<string> Sources { get; set; } = [];
    public string Version { get; set; } = "";
    public string Description { get; set; } = "";
    public List<string> Keywords { get; set; } = [];
    public List<Dictionary<string, object?>> Maintainers { get; set; } = [];
    public string Icon { get; set; } = "";
    public string ApiVersion { get; set; } = "";
    public string Condition { get; set; } = "";
    public string Tags { get; set; } = "";
    public string AppVersion { get; set; } = "";
    public bool Deprecated { get; set; }
    public Dictionary<string, object?> Annotations { get; set; } = new(StringComparer.Ordinal);
    public string KubeVersion { get; set; } = "";
    public List<ChartDependency> Dependencies { get; set; } = [];

    /// <summary>True when Chart.yaml or requirements.yaml has a non-null <c>dependencies</c> (helm distinguishes nil from []).</summary>
    public bool DependenciesDeclared { get; set; }

    public string Type { get; set; } = "";

    public bool IsLibrary => Type == "library";

    public ChartMetadata Clone()
    {
        var copy = (ChartMetadata)MemberwiseClone();
        copy.Dependencies = Dependencies.Select(d => d.Clone()).ToList();
        return copy;
    }

    /// <summary><c>.Chart</c> as templates see it: Go field names of helm's chart.Metadata, zero values for absent fields.</summary>
    public Dictionary<string, object?> ToTemplateValue()
    {
        static List<object?> Strings(List<string> l) => l.Cast<object?>().ToList();
        return new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["Name"] = Name,
            ["Home"] = Home,
            ["Sources"] = Strings(Sources),
            ["Version"] = Version,
            ["Description"] = Description,
            ["Keywords"] = Strings(Keywords),
            ["Maintainers"] = Maintainers.Select(m => (object?)new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["Name"] = m.GetValueOrDefault("name") as string ?? "",
                ["Email"] = m.GetValueOrDefault("email") as string ?? "",
                ["URL"] = m.GetValueOrDefault("url") as string ?? "",
            }).ToList(),
            ["Icon"] = Icon,
            ["APIVersion"] = ApiVersion,
            ["Condition"] = Condition,
            ["Tags"] = Tags,
            ["AppVersion"] = AppVersion,
            ["Deprecated"] = Deprecated,
            ["Annotations"] = new Dictionary<string, object?>(Annotations, StringComparer.Ordinal),
            ["KubeVersion"] = KubeVersion,
            ["Dependencies"] = Dependencies.Select(d => (object?)new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["Name"] = d.Name,
                ["Version"] = d.Version,
                ["Repository"] = d.Repository,
                ["Condition"] = d.Condition,
                ["Tags"] = Strings(d.Tags),
                ["Enabled"] = d.Enabled,
                ["ImportValues"] = d.ImportValues.ToList(),
                ["Alias"] = d.Alias,
            }).ToList(),
            ["Type"] = Type,
        };
    }
}

/// <summary>
/// A loaded chart, like helm's chart.Chart: metadata, default values, templates, other files and the vendored
/// subcharts under charts/ (directories and .tgz archives).
/// </summary>
public sealed class Chart
{
    public required ChartMetadata Metadata { get; set; }

    /// <summary>values.yaml (numbers are double).</summary>
    public Dictionary<string, object?> Values { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Files under templates/.</summary>
    public List<ChartFile> Templates { get; set; } = [];

    /// <summary>Every other file (for <c>.Files</c>), except Chart.yaml, values.yaml, charts/ and templates/.</summary>
    public List<ChartFile> Files { get; set; } = [];

    public List<Chart> Dependencies { get; set; } = [];

    /// <summary>The parent chart, or null for the root.</summary>
    public Chart? Parent { get; set; }

    /// <summary>Where the chart came from: its directory or archive on disk (for subcharts inside an archive,
    /// <c>archive.tgz!charts/sub</c>). Used in error messages and provenance.</summary>
    public string SourcePath { get; set; } = "";

    /// <summary>The on-disk directory of the chart when it was loaded from a directory (templates map to real files).</summary>
    public string? Directory { get; set; }

    public string Name => Metadata.Name;

    public bool IsRoot => Parent is null;

    /// <summary>Path of chart names from the root, e.g. <c>kube-prometheus-stack/charts/grafana</c>, as helm names templates.</summary>
    public string ChartFullPath => Parent is null ? Name : Parent.ChartFullPath + "/charts/" + Name;

    /// <summary>A shallow copy sharing files, with its own metadata and dependency list (for aliases).</summary>
    internal Chart ShallowCopy()
    {
        var copy = (Chart)MemberwiseClone();
        copy.Metadata = Metadata.Clone();
        copy.Dependencies = [.. Dependencies];
        return copy;
    }
}
