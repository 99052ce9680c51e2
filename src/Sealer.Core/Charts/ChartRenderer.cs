using Sealer.Core.Diagnostics;
using Sealer.Core.Semver;
using Sealer.Core.Templating;
using Sealer.Core.Templating.Helm;

namespace Sealer.Core.Charts;

/// <summary>One rendered template: helm's key (<c>chart/charts/sub/templates/x.yaml</c>), its output, the file it came from.</summary>
public sealed record RenderedTemplate(string Key, string Text, string SourceFile, string ChartName, string TemplateName);

public sealed class RenderedChart
{
    public required Chart Chart { get; init; }
    public required IReadOnlyList<RenderedTemplate> Templates { get; init; }
    public required IReadOnlyList<string> InputFiles { get; init; }
    public required Dictionary<string, object?> Values { get; init; }
}

/// <summary>
/// <c>helm template</c> without helm: loads the chart, merges user values (-f, --set, --set-string, --set-file), processes
/// dependencies (condition, tags, alias, import-values), coalesces values, builds the template data
/// {Values, Release, Capabilities} and renders with <see cref="HelmEngine"/>. NOTES.txt and partials are not returned.
/// </summary>
public static class ChartRenderer
{
    public const string DefaultReleaseName = "release-name";
    public const string DefaultNamespace = "default";

    /// <param name="renderOptions">null: <see cref="HelmRenderOptions"/>' defaults; <see cref="HelmRenderOptions.Discovery"/> when the output is only read.</param>
    public static RenderedChart Render(ChartInput input, string? kubeVersion = null, IReadOnlyList<string>? apiVersions = null, CancellationToken ct = default,
        HelmRenderOptions? renderOptions = null)
    {
        var chart = ChartLoader.Load(input.Path, ct);
        var inputFiles = new List<string>(ChartLoader.EnumerateInputFiles(input.Path));
        foreach (var extra in input.AdditionalDependencies)
        {
            var dep = ChartLoader.Load(extra, ct);
            inputFiles.AddRange(ChartLoader.EnumerateInputFiles(extra));
            if (chart.Dependencies.Any(d => d.Name == dep.Name)) continue; // vendored charts/ wins, as in helm
            dep.Parent = chart;
            chart.Dependencies.Add(dep);
        }
        var options = new ValuesOptions
        {
            ValuesFiles = input.ValuesFiles, SetValues = input.SetValues, SetStringValues = input.SetStringValues, SetFileValues = input.SetFileValues,
        };
        var userValues = options.Merge();
        inputFiles.AddRange(options.FilesRead);
        return Render(chart, userValues, input.ReleaseName, input.Namespace, kubeVersion, apiVersions, inputFiles, ct, renderOptions);
    }

    public static RenderedChart Render(Chart chart, Dictionary<string, object?> userValues, string? releaseName, string? ns,
        string? kubeVersion, IReadOnlyList<string>? apiVersions, List<string> inputFiles, CancellationToken ct, HelmRenderOptions? renderOptions = null)
    {
        CheckDependencies(chart);
        ChartValues.ProcessDependencies(chart, userValues);
        if (chart.Metadata.IsLibrary)
        {
            throw new SealerException(ErrorCodes.LibraryChartNotInstallable,
                $"chart '{chart.Name}' is a library chart (type: library) and renders nothing on its own. Use an application chart that depends on it.", ChartYamlPath(chart));
        }
        var caps = Capabilities(kubeVersion, apiVersions);
        if (chart.Metadata.KubeVersion.Length > 0 && !SemverConstraint.IsSatisfied(chart.Metadata.KubeVersion, caps.KubeVersion.Version))
        {
            throw new SealerException(ErrorCodes.ChartKubeVersionIncompatible,
                $"chart '{chart.Name}' requires kubeVersion: {chart.Metadata.KubeVersion} which is incompatible with Kubernetes {caps.KubeVersion.Version}. " +
                "Set the cluster's Kubernetes version (KubeVersion / --kube-version) or use a chart version that supports it.", ChartYamlPath(chart));
        }
        var values = ChartValues.CoalesceValues(chart, userValues);
        var top = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["Values"] = values,
            ["Release"] = new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["Name"] = string.IsNullOrEmpty(releaseName) ? DefaultReleaseName : releaseName,
                ["Namespace"] = string.IsNullOrEmpty(ns) ? DefaultNamespace : ns,
                ["Revision"] = 1L,
                ["IsUpgrade"] = false,
                ["IsInstall"] = true,
                ["Service"] = "Helm",
            },
            ["Capabilities"] = caps,
        };
        var sources = new Dictionary<string, (string File, string Chart, string Template)>(StringComparer.Ordinal);
        var node = BuildNode(chart, chart.Name, sources);
        IReadOnlyDictionary<string, string> output;
        try
        {
            output = HelmEngine.Render(node, top, renderOptions, ct);
        }
        catch (TemplateException ex) when (ex.IsUserError)
        {
            var src = sources.GetValueOrDefault(ex.TemplateName);
            throw new SealerException(ErrorCodes.ChartRequiresValue,
                $"chart '{src.Chart ?? chart.Name}', template '{ex.TemplateName}' line {ex.Line}: {ex.Message}. Set the value it names with a values file (-f) or --set.",
                src.File ?? ex.File, ex.Line, ex.Column, ex);
        }
        var templates = new List<RenderedTemplate>();
        foreach (var (key, text) in output.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (key.EndsWith("NOTES.txt", StringComparison.Ordinal)) continue;
            if (Path.GetFileName(key).StartsWith('_')) continue;
            var src = sources.TryGetValue(key, out var s) ? s : (File: key, Chart: chart.Name, Template: key);
            templates.Add(new RenderedTemplate(key, text, src.File, src.Chart, src.Template));
        }
        return new RenderedChart { Chart = chart, Templates = templates, InputFiles = inputFiles, Values = values };
    }

    private static HelmCapabilities Capabilities(string? kubeVersion, IReadOnlyList<string>? apiVersions)
        => string.IsNullOrEmpty(kubeVersion) && (apiVersions is null || apiVersions.Count == 0)
            ? HelmCapabilities.Default
            : HelmCapabilities.With(string.IsNullOrEmpty(kubeVersion) ? HelmCapabilities.Default.KubeVersion.Version : kubeVersion, apiVersions);

    private static string ChartYamlPath(Chart c) => c.Directory is not null ? Path.Combine(c.Directory, "Chart.yaml") : c.SourcePath + "!Chart.yaml";

    /// <summary>helm's action.CheckDependencies: every declared dependency must be vendored under charts/.</summary>
    internal static void CheckDependencies(Chart chart)
    {
        var missing = chart.Metadata.Dependencies.Where(r => !chart.Dependencies.Any(d => d.Name == r.Name)).Select(r => r.Name).ToList();
        if (missing.Count > 0)
        {
            throw new SealerException(ErrorCodes.MissingChartDependency,
                $"chart '{chart.Name}' depends on {string.Join(", ", missing.Select(m => "'" + m + "'"))} but charts/ does not hold {(missing.Count == 1 ? "it" : "them")}. " +
                "Run 'helm dependency build' in the chart directory (then the charts are vendored and the build stays offline).", ChartYamlPath(chart));
        }
    }

    private static HelmChartNode BuildNode(Chart c, string fullPath, Dictionary<string, (string File, string Chart, string Template)> sources)
    {
        var templates = new List<HelmTemplateFile>();
        foreach (var t in c.Templates)
        {
            string file = c.Directory is not null ? Path.Combine(c.Directory, t.Name.Replace('/', Path.DirectorySeparatorChar)) : c.SourcePath + "!" + t.Name;
            templates.Add(new HelmTemplateFile(t.Name, DecodeTemplate(t.Data), file));
            sources[fullPath + "/" + t.Name] = (file, c.Name, t.Name);
        }
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var f in c.Files) files[f.Name] = f.Data;
        var deps = c.Dependencies.Select(d => BuildNode(d, fullPath + "/charts/" + d.Name, sources)).ToList();
        return new HelmChartNode
        {
            Name = c.Name,
            Metadata = c.Metadata.ToTemplateValue(),
            Templates = templates,
            Files = files,
            Dependencies = deps,
        };
    }

    private static string DecodeTemplate(byte[] data)
    {
        var s = System.Text.Encoding.UTF8.GetString(data);
        return s;
    }
}
