using System.Diagnostics;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Sealer.TestSupport;

/// <summary>
/// The loopback registries of <c>build/test-env.sh</c>, read from env.json (<c>SEALER_TEST_ENV</c>, else
/// <c>&lt;repo&gt;/artifacts/test-env/env.json</c>). When env.json is absent or its registries do not answer, the first use
/// runs <c>bash build/test-env.sh up</c> once per test process, so <c>dotnet test</c> alone works.
/// Every test project gets it through Sealer.TestSupport.
/// </summary>
public sealed class TestEnvironment
{
    private static readonly Lazy<(TestEnvironment? Env, string? Why)> Shared = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    public static readonly JsonSerializerOptions Json = new() { PropertyNameCaseInsensitive = true };

    /// <summary>The environment, started if needed; throws when it cannot be had (use <see cref="RegistryFactAttribute"/> to skip instead).</summary>
    public static TestEnvironment Current => Shared.Value.Env ?? throw new InvalidOperationException(Shared.Value.Why);

    /// <summary>Null when the environment is available, else why not (the skip reason).</summary>
    public static string? UnavailableReason => Shared.Value.Why;

    public required EnvFile File { get; init; }

    public required string EnvPath { get; init; }

    public RegistryInfo Registry(string key) => File.Registries.TryGetValue(key, out var r) ? r
        : throw new KeyNotFoundException($"env.json has no registry '{key}' (has: {string.Join(", ", File.Registries.Keys)})");

    /// <summary>A fixture image by its id in build/fixtures/gen-fixtures.py (nginx, redis, bitnami-redis, busybox, pause, ...).</summary>
    public FixtureImage Image(string id) => File.Images.FirstOrDefault(i => i.Id == id)
        ?? throw new KeyNotFoundException($"env.json has no fixture image '{id}'");

    /// <summary>Bytes in a registry's access log so far; pass to <see cref="RequestsSince"/> to count requests made after.</summary>
    public long LogMark(string registryKey)
    {
        var info = new FileInfo(Registry(registryKey).Log);
        return info.Exists ? info.Length : 0;
    }

    /// <summary>
    /// The access-log lines (one per HTTP request) a registry wrote after <paramref name="mark"/>, only those whose
    /// User-Agent contains <paramref name="userAgent"/> when given (other test processes share the registries).
    /// </summary>
    public IReadOnlyList<string> RequestsSince(string registryKey, long mark, string? userAgent = null)
    {
        using var fs = new FileStream(Registry(registryKey).Log, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        fs.Seek(mark, SeekOrigin.Begin);
        using var reader = new StreamReader(fs);
        var lines = new List<string>();
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            // access log lines: 127.0.0.1 - - [date] "GET /v2/... HTTP/1.1" 200 ...
            if (line.Contains("\" ", StringComparison.Ordinal) && line.Contains(" /v2/", StringComparison.Ordinal) && !line.StartsWith("time=", StringComparison.Ordinal)
                && (userAgent is null || line.Contains(userAgent, StringComparison.Ordinal))) lines.Add(line);
        }
        return lines;
    }

    private static (TestEnvironment?, string?) Load()
    {
        string? explicitPath = Environment.GetEnvironmentVariable("SEALER_TEST_ENV");
        string root;
        try { root = Repo.Root; }
        catch (InvalidOperationException ex) { return (null, ex.Message); }
        string path = string.IsNullOrEmpty(explicitPath) ? Path.Combine(root, "artifacts", "test-env", "env.json") : explicitPath;
        var env = TryRead(path);
        if (env is not null && Answers(env)) return (env, null);
        if (!string.IsNullOrEmpty(explicitPath) && env is null) return (null, $"SEALER_TEST_ENV={explicitPath} does not exist; run build/test-env.sh up");
        // Start (or restart) it.
        string script = Path.Combine(root, "build", "test-env.sh");
        var psi = new ProcessStartInfo("bash", [script, "up"]) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = root };
        try
        {
            using var p = Process.Start(psi)!;
            var err = p.StandardError.ReadToEndAsync();
            var output = p.StandardOutput.ReadToEnd();
            if (!p.WaitForExit(180_000)) { p.Kill(true); return (null, "build/test-env.sh up took more than 3 minutes"); }
            if (p.ExitCode != 0) return (null, $"build/test-env.sh up failed ({p.ExitCode}): {err.Result}{output}");
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return (null, "cannot run bash build/test-env.sh up: " + ex.Message);
        }
        env = TryRead(path);
        return env is not null && Answers(env) ? (env, null) : (null, $"build/test-env.sh up did not produce a working {path}");
    }

    private static TestEnvironment? TryRead(string path)
    {
        if (!System.IO.File.Exists(path)) return null;
        try
        {
            var file = JsonSerializer.Deserialize<EnvFile>(System.IO.File.ReadAllText(path), Json);
            return file is null ? null : new TestEnvironment { File = file, EnvPath = path };
        }
        catch (JsonException) { return null; }
    }

    /// <summary>
    /// Every registry accepts a connection. Synchronous connects on loopback (answered or refused at once by the kernel):
    /// an async connect waited on with a timeout needs a free thread-pool thread to complete, and test fixtures that block
    /// pool threads at start-up (packing, building) made it time out although the registries were up. A few tries, since a
    /// registry may be starting.
    /// </summary>
    private static bool Answers(TestEnvironment env)
    {
        for (int attempt = 0; ; attempt++)
        {
            bool all = true;
            foreach (var r in env.File.Registries.Values)
            {
                var parts = r.Address.Split(':');
                try
                {
                    using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { SendTimeout = 2000, ReceiveTimeout = 2000 };
                    socket.Connect(System.Net.IPAddress.Parse(parts[0]), int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture));
                }
                catch (Exception ex) when (ex is SocketException or FormatException)
                {
                    all = false;
                    break;
                }
            }
            if (all) return true;
            if (attempt >= 4) return false;
            Thread.Sleep(500);
        }
    }
}

public sealed record EnvFile
{
    public int Version { get; init; }
    public int PortBase { get; init; }
    public string Root { get; init; } = "";
    public Dictionary<string, RegistryInfo> Registries { get; init; } = new();
    public List<FixtureImage> Images { get; init; } = new();
}

/// <summary>One test registry. Keys in env.json: docker.io, quay.io, registry.k8s.io, private, token, mirror.</summary>
public sealed record RegistryInfo
{
    public string Name { get; init; } = "";
    /// <summary>host:port on 127.0.0.1.</summary>
    public string Address { get; init; } = "";
    public string Url { get; init; } = "";
    /// <summary>The public domain it stands in for (docker.io, quay.io, registry.k8s.io), or null.</summary>
    public string? Domain { get; init; }
    /// <summary>none, basic or token.</summary>
    public string Auth { get; init; } = "none";
    public string? Username { get; init; }
    public string? Password { get; init; }
    public string? TokenRealm { get; init; }
    public string? TokenStats { get; init; }
    public string? MirrorOf { get; init; }
    /// <summary>The registry's access log (one line per request).</summary>
    public string Log { get; init; } = "";
    public string Storage { get; init; } = "";
}

public sealed record FixtureImage
{
    public string Id { get; init; } = "";
    /// <summary>Key of the registry serving it.</summary>
    public string Registry { get; init; } = "";
    public string Repository { get; init; } = "";
    public string Tag { get; init; } = "";
    /// <summary>The reference users would write, on the public domain (docker.io/library/nginx:1.27) or on the local address.</summary>
    public string Reference { get; init; } = "";
    /// <summary>The same image addressed at its loopback registry (127.0.0.1:5100/library/nginx:1.27).</summary>
    public string LocalReference { get; init; } = "";
    /// <summary>Digest of what the registry serves for the tag (index or manifest).</summary>
    public string Digest { get; init; } = "";
    public string MediaType { get; init; } = "";
    /// <summary>"linux/amd64" → manifest digest.</summary>
    public Dictionary<string, string> Platforms { get; init; } = new();
    public List<FixtureBlob> Blobs { get; init; } = new();
    public long TotalSize { get; init; }
    public string? Note { get; init; }
    public string? CorruptBlob { get; init; }
}

public sealed record FixtureBlob
{
    public string Digest { get; init; } = "";
    public long Size { get; init; }
    public string MediaType { get; init; } = "";
}

/// <summary>A fact that needs the test registries: it starts them if needed and is skipped, with the reason, when they cannot be had.</summary>
public sealed class RegistryFactAttribute : FactAttribute
{
    public RegistryFactAttribute()
    {
        if (TestEnvironment.UnavailableReason is { } why) Skip = "test environment unavailable: " + why;
    }
}

public sealed class RegistryFixture
{
    public TestEnvironment Env => TestEnvironment.Current;
}

/// <summary>A registry fact that also needs to mount a tmpfs (root on Linux); skipped with the reason otherwise.</summary>
public sealed class TmpfsFactAttribute : FactAttribute
{
    private static readonly Lazy<string?> Why = new(() =>
    {
        if (!OperatingSystem.IsLinux()) return "needs Linux";
        string dir = Path.Combine(Path.GetTempPath(), "sealer-tmpfs-probe-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            var (code, output) = Processes.Run("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", dir);
            if (code != 0) return "cannot mount a tmpfs (needs root): " + output.Trim();
            Processes.Run("umount", dir);
            return null;
        }
        catch (Exception ex) { return "cannot run mount: " + ex.Message; }
        finally { try { Directory.Delete(dir); } catch (IOException) { } }
    });

    public TmpfsFactAttribute()
    {
        if (TestEnvironment.UnavailableReason is { } env) Skip = "test environment unavailable: " + env;
        else if (Why.Value is { } why) Skip = why;
    }
}
