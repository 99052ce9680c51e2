using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace Sealer.TestSupport;

/// <summary>
/// Runs the real helm (artifacts/tools/helm3, helm4 from build/install-test-deps.sh) as the oracle. Output is cached under
/// artifacts/helm-oracle/ keyed by a hash of the chart's files, the values files, the arguments and the helm binary, so
/// re-runs do not start helm again.
/// </summary>
public static class HelmOracle
{
    /// <summary>The real-world charts (tests/Sealer.Charts.Tests/corpus, with sources.txt) the differential and discovery tests use;
    /// SEALER_CHART_CORPUS names another corpus directory (e.g. tests/Sealer.Charts.Tests/corpus-bitnami, re-created by its
    /// README.md) for the same tests.</summary>
    public static string CorpusDir => Environment.GetEnvironmentVariable("SEALER_CHART_CORPUS") is { Length: > 0 } other
        ? Path.GetFullPath(other, Repo.Root)
        : Repo.Path("tests", "Sealer.Charts.Tests", "corpus");

    public static string CacheDir => Repo.Path("artifacts", "helm-oracle");

    /// <summary>The path of artifacts/tools/helm3 or helm4; fails (never skips) with what to run when it is missing.</summary>
    public static string HelmPath(string name)
    {
        string p = Repo.Path("artifacts", "tools", name);
        if (!File.Exists(p))
        {
            throw new InvalidOperationException($"{p} is missing: run build/install-test-deps.sh (it installs helm 3 and helm 4, the oracles for these tests).");
        }
        return p;
    }

    /// <summary><c>helm template release-name CHART -n default [--kube-version v] [-f values...] [extra]</c>, cached.</summary>
    /// <param name="run">Distinguishes repeated runs in the cache (charts generating random passwords/certificates differ per run).</param>
    public static ProcessResult Template(string helm, string chartPath, IReadOnlyList<string>? valuesFiles = null, IReadOnlyList<string>? extraArgs = null, string? kubeVersion = null, int run = 1)
    {
        var args = new List<string> { "template", "release-name", chartPath, "--namespace", "default" };
        if (kubeVersion is not null) { args.Add("--kube-version"); args.Add(kubeVersion); }
        foreach (var f in valuesFiles ?? []) { args.Add("-f"); args.Add(f); }
        args.AddRange(extraArgs ?? []);
        string key = CacheKey(helm, chartPath, valuesFiles ?? [], run == 1 ? args : [.. args, "#run" + run]);
        string cacheFile = Path.Combine(CacheDir, key + ".txt");
        if (File.Exists(cacheFile))
        {
            var cached = File.ReadAllText(cacheFile);
            int nl = cached.IndexOf('\n');
            int errLen = int.Parse(cached[..nl].Split(' ')[1]);
            int code = int.Parse(cached[..nl].Split(' ')[0]);
            string rest = cached[(nl + 1)..];
            return new ProcessResult(code, rest[errLen..], rest[..errLen]);
        }
        var result = Run(HelmPath(helm), args);
        Directory.CreateDirectory(CacheDir);
        string tmp = cacheFile + "." + Environment.ProcessId + ".tmp";
        File.WriteAllText(tmp, $"{result.ExitCode} {result.StdErr.Length}\n{result.StdErr}{result.StdOut}");
        File.Move(tmp, cacheFile, overwrite: true);
        return result;
    }

    public static ProcessResult Run(string exe, params IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        string home = Repo.Path("artifacts", "helm-home");
        psi.Environment["HELM_CACHE_HOME"] = Path.Combine(home, "cache");
        psi.Environment["HELM_CONFIG_HOME"] = Path.Combine(home, "config");
        psi.Environment["HELM_DATA_HOME"] = Path.Combine(home, "data");
        psi.Environment["KUBECONFIG"] = Path.Combine(home, "no-kubeconfig");
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        return new ProcessResult(p.ExitCode, stdout.Result, stderr.Result);
    }

    private static string CacheKey(string helm, string chartPath, IReadOnlyList<string> valuesFiles, List<string> args)
    {
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(string s) { h.AppendData(Encoding.UTF8.GetBytes(s)); h.AppendData([0]); }
        var helmFile = new FileInfo(HelmPath(helm));
        Add(helm); Add(helmFile.Length.ToString()); Add(helmFile.LastWriteTimeUtc.Ticks.ToString());
        foreach (var a in args) Add(a);
        foreach (var f in EnumerateFiles(chartPath)) { Add(Path.GetRelativePath(chartPath, f)); h.AppendData(File.ReadAllBytes(f)); }
        foreach (var v in valuesFiles) h.AppendData(File.ReadAllBytes(v));
        return Convert.ToHexString(h.GetHashAndReset()).ToLowerInvariant()[..32];
    }

    private static IEnumerable<string> EnumerateFiles(string path)
        => File.Exists(path) ? [path] : Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).OrderBy(f => f, StringComparer.Ordinal);

    /// <summary>Splits <c>helm template</c> output into (source, document) pairs ("---\n# Source: x\n...").</summary>
    public static List<(string Source, string Text)> SplitOutput(string stdout)
    {
        var result = new List<(string, string)>();
        string? source = null;
        var sb = new StringBuilder();
        foreach (var line in stdout.Split('\n'))
        {
            if (line == "---") { Flush(); source = null; continue; }
            if (source is null && sb.Length == 0 && line.StartsWith("# Source: ", StringComparison.Ordinal)) { source = line["# Source: ".Length..]; continue; }
            sb.Append(line).Append('\n');
        }
        Flush();
        return result;

        void Flush()
        {
            if (source is not null) result.Add((source, sb.ToString()));
            sb.Clear();
        }
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
}
