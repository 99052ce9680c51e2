using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Sealer.Sdk.Tests.Sdk;

/// <summary>
/// Ctrl+C during `dotnet build` of a .kubeproj, as a terminal sends it (SIGINT to the process group), while the images
/// come over a slow link (the loopback registries behind a proxy that paces their responses): progress messages at a
/// steady pace with bytes, rate and time left; a quick stop; whole blobs only in the cache; a rebuild that downloads
/// only what was missing. build/bench/scale-bench.sh (SCALE_CANCEL=1) does the same at the largest size, and mid-archive.
/// </summary>
[Collection(SdkCollection.Name)]
public sealed class CancellationTests(SdkFeed feed)
{
    private static readonly string[] Domains = ["docker.io", "quay.io", "registry.k8s.io"];

    private static readonly string[] Images =
    [
        "nginx:1.27", "docker.io/library/redis:7.4", "docker.io/bitnami/redis:7.2", "quay.io/coreos/etcd:v3.5.15",
        "quay.io/prometheus/node-exporter:v1.8.2", "registry.k8s.io/coredns/coredns:v1.11.1", "registry.k8s.io/kube-apiserver:v1.30.0",
    ];

    [Fact]
    public async Task Ctrl_C_mid_pull_stops_quickly_keeps_only_whole_blobs_and_the_rebuild_downloads_only_what_was_missing()
    {
        var proxies = Domains.ToDictionary(d => d, d => new CuttingProxy(feed.Env.Registry(d).Address) { ResponseBytesPerSecond = 250_000 });
        int group = 0;
        try
        {
            string dir = feed.NewProjectDir("slowlink");
            var p = new KubeProject().Property("ClusterImageTag", "1.0.0");
            foreach (var image in Images) p.Item("ContainerImage", image);
            foreach (var (domain, proxy) in proxies) p.Item("SealerRegistryMirror", domain, ("Mirrors", proxy.Url), ("FallbackToSource", "false"));
            p.Write(dir, "slowlink.kubeproj");
            string cache = feed.NewProjectDir("cache");
            Assert.Equal(0, feed.Dotnet(dir, "restore", cache).ExitCode);

            // 1. The build, in a process group of its own (setsid) as a terminal's job is; Ctrl+C once some blobs are in.
            var env = ChildDotnet.Environment(feed.PackagesDir);
            env["SEALER_CACHE_DIR"] = cache;
            env["SEALER_PROGRESS_SECONDS"] = "0.5";
            // A terminal's foreground job gets SIGINT with its default action. Tests started in the background (`cmd &`
            // without job control) pass SIGINT on ignored, and .NET keeps an ignored SIGINT ignored: the build would never
            // see the Ctrl+C (it ran on and exited 0). So reset it, then setsid and exec, as scale-cancel.py does.
            var psi = new ProcessStartInfo("python3") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in (string[])["-c", "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.setsid(); os.execvp(sys.argv[1], sys.argv[1:])",
                "dotnet", "build", "-c", "Release", "--no-restore", "-nodeReuse:false", "-v:m"]) psi.ArgumentList.Add(a);
            foreach (var kv in env) psi.Environment[kv.Key] = kv.Value;
            var output = new StringBuilder();
            var progressLines = new List<(TimeSpan At, string Line)>();
            var clock = Stopwatch.StartNew();
            using var build = Process.Start(psi)!;
            group = build.Id;
            void OnLine(string? line)
            {
                if (line is null) return;
                lock (output)
                {
                    output.AppendLine(line);
                    if (line.Contains("Sealer: pulling images", StringComparison.Ordinal)) progressLines.Add((clock.Elapsed, line));
                }
            }
            build.OutputDataReceived += (_, e) => OnLine(e.Data);
            build.ErrorDataReceived += (_, e) => OnLine(e.Data);
            build.BeginOutputReadLine();
            build.BeginErrorReadLine();
            string blobs = Path.Combine(cache, "blobs", "sha256");
            int ProgressCount()
            {
                lock (output) return progressLines.Count;
            }
            while (!build.HasExited && !(CachedBlobs(blobs).Count >= 2 && ProgressCount() >= 3) && clock.Elapsed < TimeSpan.FromMinutes(3))
            {
                await Task.Delay(50);
            }
            Assert.False(build.HasExited, "the pull ended before Ctrl+C:\n" + output);
            var signalled = Stopwatch.StartNew();
            Assert.Equal(0, Processes.Run("kill", "-INT", "--", "-" + build.Id).ExitCode);
            Assert.True(build.WaitForExit(30_000), "dotnet build did not stop after SIGINT:\n" + output);
            var stopTime = signalled.Elapsed;
            build.WaitForExit();
            string text;
            lock (output) text = output.ToString();
            Assert.NotEqual(0, build.ExitCode);
            // The machine runs other builds and tests at the same time: a second is the target, 5 s the test's margin.
            Assert.True(stopTime < TimeSpan.FromSeconds(5), $"stopped {stopTime.TotalSeconds:F2} s after SIGINT:\n{text}");

            // 2. Progress a person can follow: a line every half second with bytes, rate and time left.
            List<(TimeSpan At, string Line)> lines;
            lock (output) lines = [.. progressLines];
            Assert.True(lines.Count >= 3, text);
            Assert.Matches(new Regex(@"\d+\.\d/\d+\.\d MiB, \d+\.\d MiB/s, [\dh min s]+ left"), lines[^1].Line);
            var gaps = lines.Zip(lines.Skip(1), (a, b) => (b.At - a.At).TotalSeconds).ToList();
            Assert.True(gaps.Max() < 3, $"progress gaps {string.Join(", ", gaps.Select(g => g.ToString("F2")))} s");

            // 3. Only whole blobs in the cache: every file hashes to its name.
            var cached = CachedBlobs(blobs);
            foreach (var b in cached)
            {
                await using var f = File.OpenRead(Path.Combine(blobs, b));
                Assert.Equal(b, Convert.ToHexStringLower(await SHA256.HashDataAsync(f)));
            }

            // 4. The rebuild (fast link) completes the cache without one request for a blob it already had.
            foreach (var proxy in proxies.Values)
            {
                proxy.ResponseBytesPerSecond = 0;
                proxy.Requests.Clear();
            }
            var r = feed.Dotnet(dir, "build -c Release --no-restore", cache);
            Assert.True(r.ExitCode == 0, r.Output);
            var fetched = proxies.Values.SelectMany(x => x.Requests)
                .Select(h => Regex.Match(h, @"^GET /v2/.+/blobs/sha256:([0-9a-f]{64})[ ?]")).Where(m => m.Success).Select(m => m.Groups[1].Value).ToList();
            Assert.NotEmpty(fetched); // it was stopped mid-pull: something was left to download
            Assert.Empty(fetched.Intersect(cached));
            Assert.Equal(fetched.Count, fetched.Distinct().Count());
            Assert.Superset(cached.ToHashSet(), CachedBlobs(blobs).ToHashSet());
            Assert.True(File.Exists(Path.Combine(dir, "bin", "Release", "slowlink.tar")), r.Output);
        }
        finally
        {
            // a build that did not stop (the test failed) is not left running; a group that ended makes kill fail, harmlessly
            if (group != 0) Processes.Run("kill", "-KILL", "--", "-" + group);
            foreach (var proxy in proxies.Values) await proxy.DisposeAsync();
        }
    }

    private static List<string> CachedBlobs(string dir)
        => Directory.Exists(dir) ? Directory.GetFiles(dir).Select(Path.GetFileName).Where(n => n!.Length == 64).Select(n => n!).ToList() : [];
}
