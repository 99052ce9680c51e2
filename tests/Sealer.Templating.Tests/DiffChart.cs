using System.Text;
using Sealer.Core.Templating;
using Sealer.Core.Templating.Helm;

namespace Sealer.Templating.Tests;

/// <summary>Builds the differential test charts and the top-level values (Release, Chart, Capabilities) our engine renders them with, as helm does.</summary>
public static class DiffChart
{
    /// <summary>The text between the first "&lt;&lt;&lt;" and the last "&gt;&gt;&gt;".</summary>
    public static string? Between(string s)
    {
        int a = s.IndexOf("<<<", StringComparison.Ordinal);
        int b = s.LastIndexOf(">>>", StringComparison.Ordinal);
        if (a < 0 || b < a) return null;
        return s[(a + 3)..b];
    }

    public static Dictionary<string, object?> Release() => new(StringComparer.Ordinal)
    {
        ["Name"] = "release-name",
        ["Namespace"] = "default",
        ["IsUpgrade"] = false,
        ["IsInstall"] = true,
        ["Revision"] = 1L,
        ["Service"] = "Helm",
    };

    public static HelmCapabilities Helm4Capabilities { get; } = new()
    {
        KubeVersion = new HelmKubeVersion("v1.35.0"),
        APIVersions = HelmCapabilities.Default.APIVersions,
        HelmVersion = new HelmVersionInfo("v4.1.4", "05fa37973dc9e42b76e1d2883494c87174b6074f", "go1.25.9"),
    };

    /// <summary>Writes a chart directory: Chart.yaml, values.yaml, templates and extra files.</summary>
    public static void WriteChart(string dir, string name, string valuesYaml, IEnumerable<(string Path, string Text)> files)
    {
        Directory.CreateDirectory(Path.Combine(dir, "templates"));
        File.WriteAllText(Path.Combine(dir, "Chart.yaml"), $"apiVersion: v2\nname: {name}\nversion: 0.1.0\nappVersion: \"1.2.3\"\ndescription: differential test chart\n");
        File.WriteAllText(Path.Combine(dir, "values.yaml"), valuesYaml);
        foreach (var (p, text) in files)
        {
            var full = Path.Combine(dir, p);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllText(full, text, new UTF8Encoding(false));
        }
    }

    public static Dictionary<string, object?> ChartMetadata(string name) => new(StringComparer.Ordinal)
    {
        ["Name"] = name,
        ["Version"] = "0.1.0",
        ["AppVersion"] = "1.2.3",
        ["APIVersion"] = "v2",
        ["Description"] = "differential test chart",
        ["Type"] = "",
    };

    public static Dictionary<string, object?> TopValues(object? values, HelmCapabilities caps) => new(StringComparer.Ordinal)
    {
        ["Values"] = values ?? new Dictionary<string, object?>(StringComparer.Ordinal),
        ["Release"] = Release(),
        ["Capabilities"] = caps,
    };

    public static object? LoadValues(string yaml) => GoYaml.Unmarshal(yaml) ?? new Dictionary<string, object?>(StringComparer.Ordinal);
}
