namespace Sealer.TestSupport;

/// <summary>Runs the real <c>sealer</c> CLI (built with the tests) as a child process, with an empty standard input.</summary>
public static class SealerCli
{
    /// <summary>sealer.dll next to the tests (projects that reference Sealer.Cli), else in Sealer.Cli's own output of the same configuration.</summary>
    public static string Dll { get; } = File.Exists(Path.Combine(AppContext.BaseDirectory, "sealer.dll"))
        ? Path.Combine(AppContext.BaseDirectory, "sealer.dll")
        : Repo.Path("src", "Sealer.Cli", "bin", new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name, "net10.0", "sealer.dll");

    public static ProcessResult Run(params string[] args) => Processes.Run("dotnet", [Dll, .. args]);
}
