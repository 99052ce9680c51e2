using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Sealer.Core.Build;
using Sealer.Sdk.Tests.ClusterImage;
using Sealer.Core.ClusterImage;
using Sealer.Core.Kubefile;
using Sealer.Core.Oci;
using Sealer.Core.References;

namespace Sealer.Sdk.Tests.Kubefile;

/// <summary>
/// One loopback registry (<c>sealer registry serve</c>, the real server) standing in for every registry the buildable corpus
/// Kubefiles name: each remote FROM is a small cluster image built here under that exact name, and each app image their
/// rootfs names (nginx:alpine, busybox:latest, the Percona operator images, ...) is the test environment's nginx fixture
/// (both platforms) copied under that name with skopeo. Builds reach it as the mirror of every domain (<c>*</c>), never
/// falling back to the real registries.
/// </summary>
public sealed class StandInRegistry : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly Process _server;

    public StandInRegistry()
    {
        var env = TestEnvironment.Current;
        string bases = _dir.Sub("bases"), apps = _dir.Sub("apps");
        var fromRefs = new SortedSet<string>(StringComparer.Ordinal);
        var appRefs = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var rel in KubefileCorpusTests.Expected.Where(e => e.Value is null).Select(e => e.Key))
        {
            var plan = KubefileCorpusTests.Plan(Path.Combine(KubefileCorpusTests.Root, rel), [Platform.Parse("linux/amd64"), Platform.Parse("linux/arm64")]);
            var inputs = KubefileBuild.Inputs(plan, "corpus:1") with { BaseImage = "scratch" };
            foreach (var image in ClusterBuild.Resolve(inputs).Images.Images) appRefs.Add(image.Reference);
            if (!plan.Project.BaseImage.Equals("scratch", StringComparison.OrdinalIgnoreCase)) fromRefs.Add(ImageReference.Parse(plan.Project.BaseImage).ToString());
        }
        FromImages = fromRefs.ToList();
        AppImages = appRefs.ToList();

        // Stand-in bases: a file and an env, for both platforms, each under its FROM name.
        _dir.Write("base/etc/stand-in-base.txt", "a stand-in for a Sealer base image\n");
        foreach (var (from, i) in FromImages.Select((f, i) => (f, i)))
        {
            var inputs = new ClusterBuildInputs
            {
                ProjectDirectory = _dir.Sub("base"),
                ProjectFile = _dir.Sub("base/Kubefile"),
                RefName = from,
                Files = [new FileItem(_dir.Sub("base/etc/stand-in-base.txt"), "etc/")],
                Platforms = [Platform.Parse("linux/amd64"), Platform.Parse("linux/arm64")],
                Env = [new("STAND_IN", from)],
            };
            ClusterBuild.AssembleAsync(inputs, new PulledImagesFile(), _dir.Sub("cache"), null, new ClusterImageOutput(Path.Combine(bases, i.ToString()))).GetAwaiter().GetResult();
        }
        string nginx = $"docker://{env.Registry("docker.io").Address}/library/nginx:1.27";
        foreach (var app in AppImages)
        {
            var (code, output) = Processes.Run("skopeo", "copy", "--all", "--preserve-digests", "--src-tls-verify=false", nginx, $"oci:{apps}:{app}");
            Assert.True(code == 0, output);
        }

        Port = FreePort();
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { SealerCli.Dll, "registry", "serve", "--address", "127.0.0.1", "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture) }) psi.ArgumentList.Add(a);
        foreach (var layout in Directory.EnumerateDirectories(bases).Append(apps).Where(Directory.Exists)) { psi.ArgumentList.Add("--layout"); psi.ArgumentList.Add(layout); }
        _server = Process.Start(psi)!;
        _server.OutputDataReceived += (_, _) => { };
        _server.ErrorDataReceived += (_, _) => { };
        _server.BeginOutputReadLine();
        _server.BeginErrorReadLine();
        using var http = new HttpClient();
        for (var until = DateTime.UtcNow.AddSeconds(60); ; Thread.Sleep(200))
        {
            try
            {
                if (http.GetAsync(Url + "/v2/").GetAwaiter().GetResult().IsSuccessStatusCode) break;
            }
            catch (HttpRequestException) when (DateTime.UtcNow < until && !_server.HasExited)
            {
            }
        }
    }

    /// <summary>The remote FROMs of the buildable corpus, full names.</summary>
    public IReadOnlyList<string> FromImages { get; }

    /// <summary>The app images the buildable corpus's rootfs names, full names.</summary>
    public IReadOnlyList<string> AppImages { get; }

    public int Port { get; }

    public string Url => $"http://127.0.0.1:{Port}";

    /// <summary>A free loopback port from this helper's range (5300 + a hash of its name), never the shared registries' ports.</summary>
    private static int FreePort()
    {
        int start = 5300 + "kubefile2".Sum(c => c) % 600;
        for (int port = start; port < 6000; port++)
        {
            try
            {
                var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                listener.Stop();
                return port;
            }
            catch (SocketException)
            {
            }
        }
        throw new InvalidOperationException("no free port in 5300-5999");
    }

    public void Dispose()
    {
        try
        {
            if (!_server.HasExited) _server.Kill(entireProcessTree: true);
            _server.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
        }
        _server.Dispose();
        _dir.Dispose();
    }
}
