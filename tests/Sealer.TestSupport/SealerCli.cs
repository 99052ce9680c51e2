using System.Diagnostics;

namespace Sealer.TestSupport;

/// <summary>What a child process printed and how it ended.</summary>
public sealed record ProcessResult(int ExitCode, string StdOut, string StdErr)
{
    /// <summary>Standard output, then standard error.</summary>
    public string Output => StdOut + StdErr;
}

/// <summary>Runs the real <c>sealer</c> CLI (built with the tests) as a child process, with an empty standard input.</summary>
public static class SealerCli
{
    /// <summary>sealer.dll next to the tests (projects that reference Sealer.Cli), else in Sealer.Cli's own output of the same configuration.</summary>
    public static string Dll { get; } = File.Exists(Path.Combine(AppContext.BaseDirectory, "sealer.dll"))
        ? Path.Combine(AppContext.BaseDirectory, "sealer.dll")
        : Repo.Path("src", "Sealer.Cli", "bin", new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name, "net10.0", "sealer.dll");

    public static ProcessResult Run(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        psi.ArgumentList.Add(Dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(300_000))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException("sealer " + string.Join(' ', args) + " did not finish in 5 minutes");
        }
        return new ProcessResult(p.ExitCode, stdout.Result, stderr.Result);
    }
}
