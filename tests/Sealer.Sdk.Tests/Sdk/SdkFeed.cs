using System.Text;
using Sealer.Sdk.Tests.ClusterImage;

namespace Sealer.Sdk.Tests.Sdk;

/// <summary>
/// Packs Sealer.Sdk once per test run (build/pack.sh) into a private feed, with a private NuGet packages folder, so
/// every test project restores the SDK just built and nothing else: builds are offline apart from the loopback registries.
/// </summary>
public sealed class SdkFeed : IDisposable
{
    private readonly TempDir _root = new();

    public SdkFeed()
    {
        Env = TestEnvironment.Current;
        string repo = Repo.Root;
        SealerCli.Aot(); // published (when stale) before packing: the package carries it for -t:BundleCluster
        var (code, output) = Processes.RunCommandLine("bash", $"{repo}/build/pack.sh", repo, timeoutMs: 600_000);
        if (code != 0) throw new InvalidOperationException("build/pack.sh failed:\n" + output);
        string nupkg = output.Trim().Split('\n')[^1].Trim();
        Directory.CreateDirectory(FeedDir);
        File.Copy(nupkg, Path.Combine(FeedDir, Path.GetFileName(nupkg)));
        Directory.CreateDirectory(PackagesDir);
        ChildDotnet.WriteNuGetConfig(_root.Path, FeedDir);
    }

    public TestEnvironment Env { get; }

    public string FeedDir => _root.Sub("feed");

    public string PackagesDir => _root.Sub("packages");

    /// <summary>A new project directory under the feed's root (so its NuGet.config applies).</summary>
    public string NewProjectDir(string name)
    {
        string dir = Path.Combine(_root.Path, "p", Guid.NewGuid().ToString("N")[..8], name);
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>Runs <c>dotnet</c> in <paramref name="dir"/> with the private feed/packages and the given image cache; no node reuse.</summary>
    public (int ExitCode, string Output, TimeSpan Elapsed) Dotnet(string dir, string args, string cacheDir, IReadOnlyDictionary<string, string>? extraEnv = null)
    {
        bool msbuild = args.StartsWith("build", StringComparison.Ordinal) || args.StartsWith("publish", StringComparison.Ordinal) || args.StartsWith("clean", StringComparison.Ordinal) || args.StartsWith("restore", StringComparison.Ordinal);
        var env = ChildDotnet.Environment(PackagesDir);
        env["SEALER_CACHE_DIR"] = cacheDir;
        if (extraEnv is not null) foreach (var kv in extraEnv) env[kv.Key] = kv.Value;
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var (code, output) = Processes.RunCommandLine("dotnet", msbuild ? args + " -nodeReuse:false" : args, dir, env);
        return (code, output, sw.Elapsed);
    }

    public void Dispose() => _root.Dispose();
}

[CollectionDefinition(Name)]
public sealed class SdkCollection : ICollectionFixture<SdkFeed>
{
    public const string Name = "sdk";
}

/// <summary>Writes a .kubeproj: properties and items as given, the SDK by name and version.</summary>
internal sealed class KubeProject
{
    private readonly List<(string Name, string Value)> _properties = [];
    private readonly List<string> _items = [];

    public string Sdk { get; init; } = "Sealer.Sdk/0.1.0";

    public KubeProject Property(string name, string value)
    {
        _properties.Add((name, value));
        return this;
    }

    /// <summary>An item: <c>Item("ContainerImage", "nginx:1.27")</c> or with metadata as attributes.</summary>
    public KubeProject Item(string type, string include, params (string Name, string Value)[] metadata)
    {
        var sb = new StringBuilder($"    <{type} Include=\"{Escape(include)}\"");
        foreach (var (n, v) in metadata) sb.Append($" {n}=\"{Escape(v)}\"");
        _items.Add(sb.Append(" />").ToString());
        return this;
    }

    /// <summary>Mirrors for docker.io, quay.io and registry.k8s.io to the loopback registries, never falling back to the
    /// real registries (tests reach nothing but loopback).</summary>
    public KubeProject Mirrors(TestEnvironment env)
    {
        foreach (var domain in new[] { "docker.io", "quay.io", "registry.k8s.io" }) Item("SealerRegistryMirror", domain, ("Mirrors", env.Registry(domain).Url), ("FallbackToSource", "false"));
        return this;
    }

    public string Write(string dir, string name = "app.kubeproj")
    {
        var sb = new StringBuilder($"<Project Sdk=\"{Sdk}\">\n  <PropertyGroup>\n");
        foreach (var (n, v) in _properties) sb.Append($"    <{n}>{Escape(v)}</{n}>\n");
        sb.Append("  </PropertyGroup>\n  <ItemGroup>\n");
        foreach (var i in _items) sb.Append(i).Append('\n');
        sb.Append("  </ItemGroup>\n</Project>\n");
        string path = Path.Combine(dir, name);
        File.WriteAllText(path, sb.ToString());
        return path;
    }

    private static string Escape(string s) => System.Security.SecurityElement.Escape(s)!;
}
