using System.Collections.Concurrent;
using System.Diagnostics;

namespace Sealer.Delivery.Tests;

/// <summary>
/// The SDK as users get it, shared by every test that runs <c>dotnet build|publish</c> on a .kubeproj: build/pack.sh once
/// per test run into a private feed, one NuGet.config listing only that feed, and one private packages folder (so the SDK
/// is restored once, not per test). Projects go under <see cref="NewProjectDir"/>, where that NuGet.config applies.
/// A collection fixture of the hosts collection: nothing is packed until a test asks, and everything goes with the collection
/// (SEALER_TEST_KEEP=1 keeps the projects, caches and outputs for a look after a failure).
/// </summary>
public sealed class PackedSdk : IDisposable
{
    private readonly Lazy<string> _root = new(Create, LazyThreadSafetyMode.ExecutionAndPublication);
    private readonly ConcurrentDictionary<string, Lazy<object>> _shared = new(StringComparer.Ordinal);

    private static string Create()
    {
        string repo = Repo.Root;
        // pack.sh takes a lock that the Sdk tests hold while they pack: on a busy 2-core CI machine the wait alone can pass
        // two minutes, so this gets the same ten minutes as a dotnet build here.
        var (code, output) = Processes.Run("bash", [Path.Combine(repo, "build", "pack.sh")], repo, env: null, timeoutMs: 600_000);
        if (code != 0) throw new InvalidOperationException("build/pack.sh failed:\n" + output);
        string pkg = output.Trim().Split('\n')[^1].Trim();
        string root = Directory.CreateTempSubdirectory("sealer-kubeproj-").FullName;
        string feed = Directory.CreateDirectory(Path.Combine(root, "feed")).FullName;
        File.Copy(pkg, Path.Combine(feed, Path.GetFileName(pkg)));
        ChildDotnet.WriteNuGetConfig(root, feed);
        return root;
    }

    /// <summary>A new empty directory under the feed's root.</summary>
    public string NewProjectDir(string name) =>
        Directory.CreateDirectory(Path.Combine(_root.Value, "p", Guid.NewGuid().ToString("N")[..8], name)).FullName;

    /// <summary>Runs <c>dotnet</c> in <paramref name="dir"/> with the private packages folder, no node reuse, and <paramref name="env"/>
    /// (a null value removes the variable).</summary>
    public (int Code, string Output) Dotnet(string dir, string args, IReadOnlyDictionary<string, string?>? env = null)
    {
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args.Split(' ', StringSplitOptions.RemoveEmptyEntries)) psi.ArgumentList.Add(a);
        psi.ArgumentList.Add("-nodeReuse:false");
        var all = ChildDotnet.Environment(Path.Combine(_root.Value, "packages"));
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

    /// <summary>Something built once per collection and shared by tests (e.g. a pushed base image), made on first use.</summary>
    public T Shared<T>(string key, Func<T> create) where T : class =>
        (T)_shared.GetOrAdd(key, _ => new Lazy<object>(() => create(), LazyThreadSafetyMode.ExecutionAndPublication)).Value;

    public void Dispose()
    {
        if (!_root.IsValueCreated || Environment.GetEnvironmentVariable("SEALER_TEST_KEEP") == "1") return;
        try { Directory.Delete(_root.Value, true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
