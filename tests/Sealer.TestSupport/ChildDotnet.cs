namespace Sealer.TestSupport;

/// <summary>
/// What a test needs to run <c>dotnet</c> on a .kubeproj against the SDK it packed (used by the Sdk and Delivery tests):
/// a NuGet.config listing only the private feed, and the child process's environment.
/// </summary>
public static class ChildDotnet
{
    /// <summary>Writes <c>NuGet.config</c> into <paramref name="root"/> with <paramref name="feed"/> as the only package source.</summary>
    public static void WriteNuGetConfig(string root, string feed) => File.WriteAllText(Path.Combine(root, "NuGet.config"), $"""
        <?xml version="1.0" encoding="utf-8"?>
        <configuration>
          <packageSources>
            <clear />
            <add key="sealer-test-feed" value="{feed}" />
          </packageSources>
        </configuration>
        """);

    /// <summary>The environment of a child <c>dotnet</c>: a private packages folder, no node reuse, quiet; a null value removes the variable.</summary>
    public static Dictionary<string, string?> Environment(string packagesDir) => new()
    {
        ["NUGET_PACKAGES"] = packagesDir,
        ["MSBUILDDISABLENODEREUSE"] = "1",
        ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
        ["DOTNET_NOLOGO"] = "1",
        ["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1",
        // dotnet test sets these for its own MSBuild; a child build must find its own
        ["MSBuildExtensionsPath"] = null,
        ["MSBUILD_EXE_PATH"] = null,
        ["MSBuildSDKsPath"] = null,
    };
}
