namespace Sealer.TestSupport;

/// <summary>Runs the real <c>sealer</c> CLI (built with the tests) as a child process, with an empty standard input.</summary>
public static class SealerCli
{
    /// <summary>sealer.dll next to the tests (projects that reference Sealer.Cli), else in Sealer.Cli's own output of the same configuration.</summary>
    public static string Dll { get; } = File.Exists(Path.Combine(AppContext.BaseDirectory, "sealer.dll"))
        ? Path.Combine(AppContext.BaseDirectory, "sealer.dll")
        : Repo.Path("src", "Sealer.Cli", "bin", new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name, "net10.0", "sealer.dll");

    public static ProcessResult Run(params string[] args) => Processes.Run("dotnet", [Dll, .. args]);

    /// <summary>Runs an executable (the NativeAOT sealer, a site bundle) with an empty standard input.</summary>
    public static ProcessResult RunExecutable(string file, IReadOnlyList<string> args, string? workingDirectory = null) => Processes.Run(file, args, workingDirectory, env: null);

    /// <summary>
    /// <c>sealer build -t NAME:1</c> in <paramref name="dir"/> of a Kubefile (<c>FROM scratch</c>, <c>COPY imageList
    /// manifests</c>) whose image list is <paramref name="images"/>, each domain pulled through <paramref name="mirrors"/>
    /// (<c>DOMAIN=URL</c>, no fallback): the archive it writes (<c>bin/NAME.tar</c>).
    /// </summary>
    public static string BuildImageList(string dir, string name, IEnumerable<string> images, IEnumerable<string> mirrors, string cacheDir, params string[] extra)
    {
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "Kubefile"), "FROM scratch\nCOPY imageList manifests\n");
        File.WriteAllText(Path.Combine(dir, "imageList"), string.Join('\n', images) + "\n");
        var build = Run(["build", "-t", name + ":1", "--cache-dir", cacheDir, "--no-fallback", .. mirrors.SelectMany(m => new[] { "--mirror", m }), .. extra, dir]);
        Assert.True(build.ExitCode == 0, build.Output);
        string archive = Path.Combine(dir, "bin", name + ".tar");
        Assert.True(File.Exists(archive), build.Output);
        return archive;
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
                    var r = Processes.Run("bash", [Repo.Path("build", "publish-cli.sh"), "linux-x64"], Repo.Root, env: null, timeoutMs: 900_000);
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
