using System.Diagnostics;
using System.Text;
using Sealer.Core.Templating;
using Sealer.Core.Templating.Helm;

namespace Sealer.Templating.Tests;

/// <summary>Finds the repo root and the helm binaries installed by build/install-test-deps.sh, and renders charts with them.</summary>
public static class HelmOracle
{
    public static string RepoRoot { get; } = FindRepoRoot();

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Sealer.Sdk.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("cannot find the repository root (Sealer.Sdk.sln) above " + AppContext.BaseDirectory);
    }

    /// <summary>The path of artifacts/tools/helm3 or helm4; fails (never skips) with what to run when it is missing.</summary>
    public static string Binary(string name)
    {
        var path = Path.Combine(RepoRoot, "artifacts", "tools", name);
        Assert.True(File.Exists(path), $"{path} is missing: run `bash build/install-test-deps.sh` once to install the helm oracle.");
        return path;
    }

    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static Result Run(string helm, params string[] args)
    {
        var psi = new ProcessStartInfo(helm)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        var home = Path.Combine(Path.GetTempPath(), "sealer-helm-home");
        psi.Environment["HELM_CACHE_HOME"] = Path.Combine(home, "cache");
        psi.Environment["HELM_CONFIG_HOME"] = Path.Combine(home, "config");
        psi.Environment["HELM_DATA_HOME"] = Path.Combine(home, "data");
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return new Result(p.ExitCode, stdout, stderr.Result);
    }

    /// <summary>Splits `helm template --debug` output into files by their "# Source:" headers.</summary>
    public static Dictionary<string, string> SplitSources(string stdout)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        const string header = "---\n# Source: ";
        int i = stdout.IndexOf(header, StringComparison.Ordinal);
        while (i >= 0)
        {
            int nameStart = i + header.Length;
            int nl = stdout.IndexOf('\n', nameStart);
            var name = stdout[nameStart..nl];
            int next = stdout.IndexOf(header, nl, StringComparison.Ordinal);
            var body = next < 0 ? stdout[(nl + 1)..] : stdout[(nl + 1)..next];
            result[name] = result.TryGetValue(name, out var prev) ? prev + "\n---\n" + body : body;
            i = next;
        }
        return result;
    }

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
