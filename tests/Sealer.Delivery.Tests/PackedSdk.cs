using System.Diagnostics;

namespace Sealer.Delivery.Tests;

/// <summary>
/// The SDK as users get it, shared by every test that runs <c>dotnet build|publish</c> on a .kubeproj: build/pack.sh once
/// per test run into a private feed, one NuGet.config listing only that feed, and one private packages folder (so the SDK
/// is restored once, not per test). Projects go under <see cref="NewProjectDir"/>, where that NuGet.config applies.
/// </summary>
public static class PackedSdk
{
    private static readonly Lazy<string> Root = new(Create, LazyThreadSafetyMode.ExecutionAndPublication);

    private static string Create()
    {
        string repo = FindRepoRoot();
        string pkg = TestHosts.Run(Path.Combine(repo, "build", "pack.sh"), "").Trim().Split('\n')[^1].Trim();
        string root = Directory.CreateTempSubdirectory("sealer-kubeproj-").FullName;
        // SEALER_TEST_KEEP=1 keeps the projects, caches and outputs for a look after a failure
        if (Environment.GetEnvironmentVariable("SEALER_TEST_KEEP") != "1") AppDomain.CurrentDomain.ProcessExit += (_, _) => { try { Directory.Delete(root, true); } catch (IOException) { } catch (UnauthorizedAccessException) { } };
        string feed = Directory.CreateDirectory(Path.Combine(root, "feed")).FullName;
        File.Copy(pkg, Path.Combine(feed, Path.GetFileName(pkg)));
        File.WriteAllText(Path.Combine(root, "NuGet.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="sealer-test-feed" value="{feed}" />
              </packageSources>
            </configuration>
            """);
        return root;
    }

    /// <summary>A new empty directory under the feed's root.</summary>
    public static string NewProjectDir(string name) =>
        Directory.CreateDirectory(Path.Combine(Root.Value, "p", Guid.NewGuid().ToString("N")[..8], name)).FullName;

    /// <summary>Runs <c>dotnet</c> in <paramref name="dir"/> with the private packages folder, no node reuse, and <paramref name="env"/>
    /// (a null value removes the variable).</summary>
    public static (int Code, string Output) Dotnet(string dir, string args, IReadOnlyDictionary<string, string?>? env = null)
    {
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args.Split(' ', StringSplitOptions.RemoveEmptyEntries)) psi.ArgumentList.Add(a);
        psi.ArgumentList.Add("-nodeReuse:false");
        var all = new Dictionary<string, string?>
        {
            ["NUGET_PACKAGES"] = Path.Combine(Root.Value, "packages"),
            ["MSBUILDDISABLENODEREUSE"] = "1",
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            ["DOTNET_NOLOGO"] = "1",
            ["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1",
            // dotnet test sets these for its own MSBuild; a child build must find its own
            ["MSBuildExtensionsPath"] = null,
            ["MSBUILD_EXE_PATH"] = null,
            ["MSBuildSDKsPath"] = null,
        };
        if (env is not null) foreach (var kv in env) all[kv.Key] = kv.Value;
        foreach (var kv in all)
        {
            if (kv.Value is null) psi.Environment.Remove(kv.Key);
            else psi.Environment[kv.Key] = kv.Value;
        }
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(600_000)) { p.Kill(true); throw new TimeoutException($"dotnet {args} timed out"); }
        return (p.ExitCode, stdout.Result + stderr.Result);
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Sealer.Sdk.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("Cannot find the repository root (Sealer.Sdk.sln) above " + AppContext.BaseDirectory);
    }
}
