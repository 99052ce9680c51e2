namespace Sealer.TestSupport;

/// <summary>The repository the tests run from: the directory above the test binaries that holds Sealer.Sdk.sln.</summary>
public static class Repo
{
    public static string Root { get; } = FindRoot();

    /// <summary>A path under the repository root.</summary>
    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Sealer.Sdk.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("cannot find the repository root (Sealer.Sdk.sln) above " + AppContext.BaseDirectory);
    }
}
