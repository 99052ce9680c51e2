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

    public static ProcessResult Run(params string[] args) => Start("dotnet", [Dll, .. args], null);

    /// <summary>Runs an executable (the NativeAOT sealer, a site bundle) with an empty standard input.</summary>
    public static ProcessResult RunExecutable(string file, IReadOnlyList<string> args, string? workingDirectory = null) => Start(file, args, workingDirectory);

    private static ProcessResult Start(string file, IReadOnlyList<string> args, string? workingDirectory)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        if (workingDirectory is not null) psi.WorkingDirectory = workingDirectory;
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(300_000))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException(Path.GetFileName(file) + " " + string.Join(' ', args) + " did not finish in 5 minutes");
        }
        return new ProcessResult(p.ExitCode, stdout.Result, stderr.Result);
    }

    private static readonly object PublishLock = new();

    /// <summary>
    /// The NativeAOT <c>sealer</c> (artifacts/cli/linux-x64/sealer, what sites run and what bundles embed), published by
    /// build/publish-cli.sh when it is missing or older than the CLI built with the tests (build/test.sh publishes it first).
    /// </summary>
    public static string Aot()
    {
        string binary = Repo.Path("artifacts", "cli", "linux-x64", "sealer");
        lock (PublishLock)
        {
            if (!File.Exists(binary) || File.GetLastWriteTimeUtc(binary) < File.GetLastWriteTimeUtc(Dll))
            {
                Directory.CreateDirectory(Repo.Path("artifacts"));
                using var lockFile = OpenExclusive(Repo.Path("artifacts", ".publish-cli.lock")); // other test projects run at the same time
                if (!File.Exists(binary) || File.GetLastWriteTimeUtc(binary) < File.GetLastWriteTimeUtc(Dll))
                {
                    var r = Start("bash", [Repo.Path("build", "publish-cli.sh"), "linux-x64"], Repo.Root);
                    if (r.ExitCode != 0 || !File.Exists(binary)) throw new InvalidOperationException("build/publish-cli.sh linux-x64 failed:\n" + r.Output);
                }
            }
        }
        return binary;
    }

    private static FileStream OpenExclusive(string path)
    {
        for (var until = DateTime.UtcNow.AddMinutes(15); ; Thread.Sleep(1000))
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < until)
            {
            }
        }
    }
}
