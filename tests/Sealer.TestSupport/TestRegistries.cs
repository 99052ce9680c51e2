using Sealer.Core.Distribution;
using Sealer.Core.Distribution.Auth;
using Sealer.Core.Images;
using Sealer.Core.Layout;

namespace Sealer.TestSupport;

/// <summary>Client options and scratch caches for tests against the loopback registries.</summary>
public static class TestRegistries
{
    /// <summary>
    /// docker.io, quay.io and registry.k8s.io go to their loopback stand-ins with fallback to the real source OFF (tests
    /// never leave loopback); credentials for the private and token registries unless <paramref name="credentials"/> is given.
    /// </summary>
    /// <param name="userAgent">Marks this test's requests in the registries' access logs and the token server's stats
    /// (other test projects use the same registries at the same time); see <see cref="NewAgent"/>.</param>
    public static RegistryOptions Options(TestEnvironment env, ICredentialProvider? credentials = null, bool withCredentials = true, string? userAgent = null)
    {
        var o = new RegistryOptions
        {
            UserAgent = userAgent ?? NewAgent(),
            FallbackToSource = false,
            MaxAttempts = 3,
            RetryBaseDelay = TimeSpan.FromMilliseconds(20),
            RequestTimeout = TimeSpan.FromSeconds(20),
            StallTimeout = TimeSpan.FromSeconds(10),
        };
        foreach (var key in new[] { "docker.io", "quay.io", "registry.k8s.io" }) o.AddMirror(key, env.Registry(key).Url);
        o.Credentials = credentials ?? (withCredentials ? Credentials(env) : AnonymousCredentialProvider.Instance);
        return o;
    }

    /// <summary>A User-Agent unique to one test: filter access-log lines with it.</summary>
    public static string NewAgent() => "sealer-test/" + Guid.NewGuid().ToString("N")[..12];

    public static StaticCredentialProvider Credentials(TestEnvironment env) => new(new Dictionary<string, RegistryCredential>
    {
        [env.Registry("private").Address] = new(env.Registry("private").Username, env.Registry("private").Password) { Origin = "test" },
        [env.Registry("token").Address] = new(env.Registry("token").Username, env.Registry("token").Password) { Origin = "test" },
    });

    /// <summary>A fresh empty cache directory under the system temp dir (deleted by <see cref="TempCache.Dispose"/>).</summary>
    public static TempCache NewCache() => new();

    public static List<ImageRequest> Requests(params string[] references)
        => references.Select((r, i) => new ImageRequest(Sealer.Core.References.ImageReference.Parse(r), [new Sealer.Core.References.ImageSource("app.kubeproj", 10 + i)])).ToList();
}

public sealed class TempCache : IDisposable
{
    public TempCache()
    {
        Root = Path.Combine(Path.GetTempPath(), "sealer-dist-tests", Guid.NewGuid().ToString("N"));
        Layout = OciLayout.OpenOrCreate(Root);
    }

    public string Root { get; }

    public OciLayout Layout { get; }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
