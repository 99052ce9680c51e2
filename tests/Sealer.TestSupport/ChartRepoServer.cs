using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Sealer.TestSupport;

/// <summary>
/// Real chart repositories for the remote-chart tests: charts packaged by real <c>helm package</c>, indexed by real
/// <c>helm repo index</c> and served by nginx (Debian) on a loopback port — <c>/open/</c> without auth and relative chart
/// URLs, <c>/auth/</c> behind basic auth (htpasswd from apache2-utils) with absolute URLs — plus the same charts pushed with
/// real <c>helm push</c> (helm 3) into the test environment's registry under a namespace of this run. Shared by the chart
/// tests (<c>[Collection(ChartRepoCollection.Name)]</c>) and the SDK tests (a class fixture).
/// </summary>
public sealed class ChartRepoServer : IDisposable
{
    public const string User = "charts";
    public const string Password = "s3cret-repo-password";

    private readonly Process _nginx;

    public ChartRepoServer()
    {
        Root = Directory.CreateTempSubdirectory("sealer-chart-repo-").FullName;
        Www = Path.Combine(Root, "www");
        Directory.CreateDirectory(Path.Combine(Www, "open"));
        Directory.CreateDirectory(Path.Combine(Www, "auth"));
        Directory.CreateDirectory(Path.Combine(Root, "tmp"));
        Port = FreePort();
        Helm = HelmOracle.HelmPath("helm3");

        // Charts: "demo" in several versions (one a pre-release), and the real subcharts of the corpus charts the
        // differential tests use, with a few extra versions so constraints have something to choose between.
        string demo = Path.Combine(Root, "src", "demo");
        Directory.CreateDirectory(Path.Combine(demo, "templates"));
        File.WriteAllText(Path.Combine(demo, "Chart.yaml"), "apiVersion: v2\nname: demo\nversion: 0.0.0\nappVersion: \"1.27\"\n");
        File.WriteAllText(Path.Combine(demo, "values.yaml"), "image: docker.io/library/nginx\n");
        File.WriteAllText(Path.Combine(demo, "templates", "deploy.yaml"),
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: \"{{ .Values.image }}:{{ .Chart.AppVersion }}\"\n");
        foreach (var v in new[] { "1.0.0", "1.1.0", "1.2.0-rc.1", "2.0.0" }) Package(demo, v);
        string corpus = HelmOracle.CorpusDir;
        foreach (var (chart, versions) in new (string, string[])[]
        {
            ("prometheus/charts/alertmanager", ["1.42.0", "1.42.1", "1.43.0"]),
            ("prometheus/charts/kube-state-metrics", ["8.4.0", "8.4.2"]),
            ("prometheus/charts/prometheus-node-exporter", ["4.56.1"]),
            ("prometheus/charts/prometheus-pushgateway", ["3.8.0", "3.9.0"]),
            ("argo-cd/charts/redis-ha", ["4.37.0", "4.38.0", "4.38.1"]),
            ("bitnami-redis/charts/common", ["2.31.4", "2.31.5", "3.0.0"]),
        })
        {
            foreach (var v in versions) Package(Path.Combine(corpus, chart), v);
        }
        Run(Helm, "repo", "index", Path.Combine(Www, "open"));
        foreach (var f in Directory.GetFiles(Path.Combine(Www, "open"), "*.tgz")) File.Copy(f, Path.Combine(Www, "auth", Path.GetFileName(f)));
        Run(Helm, "repo", "index", Path.Combine(Www, "auth"), "--url", AuthUrl);
        Run("htpasswd", "-bc", Path.Combine(Root, "htpasswd"), User, Password);

        File.WriteAllText(Path.Combine(Root, "nginx.conf"), $$"""
            user root;
            worker_processes 1;
            pid {{Root}}/nginx.pid;
            error_log {{Root}}/error.log;
            events { worker_connections 256; }
            http {
              access_log {{Root}}/access.log;
              client_body_temp_path {{Root}}/tmp/body;
              proxy_temp_path {{Root}}/tmp/proxy;
              fastcgi_temp_path {{Root}}/tmp/fastcgi;
              uwsgi_temp_path {{Root}}/tmp/uwsgi;
              scgi_temp_path {{Root}}/tmp/scgi;
              types { text/yaml yaml; application/gzip tgz; }
              server {
                listen 127.0.0.1:{{Port}};
                root {{Www}};
                location /auth/ { auth_basic "charts"; auth_basic_user_file {{Root}}/htpasswd; }
              }
            }
            """);
        var psi = new ProcessStartInfo("nginx") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { "-e", Path.Combine(Root, "error.log"), "-p", Root, "-c", Path.Combine(Root, "nginx.conf"), "-g", "daemon off;" }) psi.ArgumentList.Add(a);
        _nginx = Process.Start(psi)!;
        for (int i = 0; ; i++)
        {
            try
            {
                using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                s.Connect(IPAddress.Loopback, Port);
                break;
            }
            catch (SocketException) when (i < 100 && !_nginx.HasExited)
            {
                Thread.Sleep(50);
            }
        }
        Assert.False(_nginx.HasExited, "nginx exited: " + File.ReadAllText(Path.Combine(Root, "error.log")));

        // OCI: the same packaged charts, pushed with helm push into the test registry, in a namespace of this run.
        if (TestEnvironment.UnavailableReason is null)
        {
            Registry = TestEnvironment.Current.Registry("quay.io").Address;
            OciNamespace = $"oci://{Registry}/sealer-charts-{Guid.NewGuid():N}";
            foreach (var name in new[] { "demo-1.0.0", "demo-1.1.0", "demo-2.0.0", "common-2.31.4", "common-2.31.5", "common-3.0.0" })
            {
                Run(Helm, "push", Path.Combine(Www, "open", name + ".tgz"), OciNamespace, "--plain-http");
            }
        }
    }

    public string Root { get; }

    public string Www { get; }

    public int Port { get; }

    public string Helm { get; }

    public string OpenUrl => $"http://127.0.0.1:{Port}/open";

    public string AuthUrl => $"http://127.0.0.1:{Port}/auth";

    /// <summary>The registry (host:port) and <c>oci://host:port/ns</c> the charts were pushed to; null without the test environment.</summary>
    public string? Registry { get; }

    public string? OciNamespace { get; }

    public string AccessLog => Path.Combine(Root, "access.log");

    /// <summary>Lines of nginx's access log (one per request).</summary>
    public string[] Requests() => File.Exists(AccessLog) ? File.ReadAllLines(AccessLog) : [];

    /// <summary>sha256 of a packaged chart in the open repository (what helm would download).</summary>
    public string DigestOf(string fileName) => "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(Path.Combine(Www, "open", fileName))));

    private void Package(string chartDir, string version)
    {
        Run(Helm, "package", chartDir, "--version", version, "-d", Path.Combine(Www, "open"));
    }

    public static string Run(string exe, params string[] args)
    {
        var r = HelmOracle.Run(exe, args);
        Assert.True(r.ExitCode == 0, $"{exe} {string.Join(' ', args)} failed: {r.StdErr}{r.StdOut}");
        return r.StdOut;
    }

    private static int FreePort()
    {
        // 5860-5879: the chart repositories' range (one per test project running) (helpers share the machine; 5100-5299 belong to the registries).
        for (int p = 5860; p < 5880; p++)
        {
            try
            {
                var l = new TcpListener(IPAddress.Loopback, p);
                l.Start();
                l.Stop();
                return p;
            }
            catch (SocketException) { }
        }
        throw new InvalidOperationException("no free port in 5860-5879");
    }

    public void Dispose()
    {
        try { _nginx.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        _nginx.WaitForExit(5000);
        _nginx.Dispose();
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}
