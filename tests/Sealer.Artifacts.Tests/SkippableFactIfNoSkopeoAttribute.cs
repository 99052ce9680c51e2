using System.Diagnostics;

namespace Sealer.Artifacts.Tests;

public static class Tools
{
    public static bool Exists(string tool) => Environment.GetEnvironmentVariable("PATH")!.Split(':').Any(d => File.Exists(Path.Combine(d, tool)));

    public static (int ExitCode, string Output) Run(string file, params string[] args) => RunWithEnv(file, null, args);

    public static (int ExitCode, string Output) RunWithEnv(string file, IDictionary<string, string>? env, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        if (env is not null) foreach (var kv in env) psi.Environment[kv.Key] = kv.Value;
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(120_000)) { p.Kill(true); throw new TimeoutException($"{file} did not finish in 2 minutes"); }
        string err = stderr.Result;
        return (p.ExitCode, p.ExitCode == 0 ? stdout : stdout + err);
    }
}

/// <summary>A fact that is skipped, with the reason, when skopeo is not installed (build/install-test-deps.sh installs it).</summary>
public sealed class SkippableFactIfNoSkopeoAttribute : FactAttribute
{
    public SkippableFactIfNoSkopeoAttribute()
    {
        if (!Tools.Exists("skopeo")) Skip = "skopeo is not installed; run build/install-test-deps.sh";
    }
}
