using System.Net;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Sealer.Core.Diagnostics;
using Sealer.Core.RegistryServer;
using Sealer.RegistryServer;

namespace Sealer.Cli.Commands;

/// <summary><c>sealer registry serve | gen-certs | config | unit</c>.</summary>
internal static class RegistryCommands
{
    private static readonly string[] ServeOptions = ["layout", "address", "port", "tls-cert", "tls-key", "htpasswd", "default-domain", "writable-layout", "access-log", "shutdown-timeout", "upstream"];
    private static readonly string[] ServeFlags = ["allow-push", "no-verify"];

    private const string ServeUsage = """
        Usage: sealer registry serve --layout DIR [--layout DIR ...] [options]

        Serves OCI image layouts read-only over the distribution API v2, by their original full names
        (docker.io/library/nginx:1.27 stays docker.io/library/nginx:1.27). DIR may be a cluster image rootfs holding registry/.
        containerd mirrors select the source domain with ?ns=<domain>; without it, /v2/<domain>/<repo>/... or the default domain.

          --layout DIR             layout to serve (repeatable; the first holding a reference wins)
          --address IP             listen address (default 0.0.0.0)
          --port N                 listen port (default 5000)
          --tls-cert FILE          PEM certificate (chain) for HTTPS; with --tls-key (see 'sealer registry gen-certs')
          --tls-key FILE           PEM private key
          --htpasswd FILE          require basic auth (bcrypt entries: htpasswd -B)
          --default-domain D       domain of names without ns or domain prefix (default docker.io)
          --allow-push             accept pushes (CI use); needs --writable-layout
          --writable-layout DIR    layout pushes are written to (also served)
          --access-log PATH|-      one line per request to a file or stdout
          --upstream URL           pull-through: fetch what the layouts lack from D=https://host (domain D) or https://host
                                   (a proxy honouring ?ns=, every domain); cached in --writable-layout. Credentials come from
                                   SEALER_UPSTREAM_USERNAME / SEALER_UPSTREAM_PASSWORD, never from the command line.
          --no-verify              do not re-hash blobs before first serving them
          --shutdown-timeout SEC   time in-flight requests get on SIGTERM/Ctrl+C (default 10)
        """;

    internal static RegistryServerOptions ParseServe(string[] args, out bool help)
    {
        var a = CliArgs.Parse(args, ServeOptions, ServeFlags, "registry serve");
        help = a.Help;
        if (a.Positionals.Count > 0) throw new SealerException(ErrorCodes.BadCommandLine, $"'registry serve': unexpected argument '{a.Positionals[0]}'. Layouts are given with --layout.");
        var o = new RegistryServerOptions
        {
            Port = a.Int("port", 5000, 0, 65535, "registry serve"),
            TlsCertificateFile = a.Value("tls-cert"),
            TlsKeyFile = a.Value("tls-key"),
            HtpasswdFile = a.Value("htpasswd"),
            DefaultDomain = a.Value("default-domain") ?? "docker.io",
            AllowPush = a.Flag("allow-push"),
            WritableLayout = a.Value("writable-layout"),
            AccessLog = a.Value("access-log"),
            VerifyBlobs = !a.Flag("no-verify"),
            ShutdownTimeout = TimeSpan.FromSeconds(a.Int("shutdown-timeout", 10, 0, 3600, "registry serve")),
        };
        o.Layouts.AddRange(a.Values("layout"));
        string? upUser = Environment.GetEnvironmentVariable("SEALER_UPSTREAM_USERNAME"), upPassword = Environment.GetEnvironmentVariable("SEALER_UPSTREAM_PASSWORD");
        foreach (var u in a.Values("upstream")) o.Upstreams.Add(UpstreamRegistry.Parse(u, upUser, upPassword));
        string? address = a.Value("address");
        if (address is not null)
        {
            if (!IPAddress.TryParse(address.Trim('[', ']'), out var ip))
            {
                throw new SealerException(ErrorCodes.RegistryListenFailed, $"'{address}' is not an IP address to listen on (e.g. 0.0.0.0, 127.0.0.1, ::).");
            }
            o.ListenAddress = ip;
        }
        if (!help && o.Layouts.Count == 0 && o.WritableLayout is null)
        {
            throw new SealerException(ErrorCodes.RegistryLayoutInvalid, "'registry serve' needs --layout DIR (an OCI image layout, or a cluster image rootfs holding registry/).");
        }
        return o;
    }

    public static async Task<int> ServeAsync(string[] args, CancellationToken cancellationToken)
    {
        var options = ParseServe(args, out bool help);
        if (help) { Console.Out.WriteLine(ServeUsage); return 0; }
        options.Logger = new StderrLogger();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; cts.Cancel(); });
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; cts.Cancel(); });
        await using var host = await RegistryHost.StartAsync(options, cts.Token).ConfigureAwait(false);
        var store = host.Store;
        int tags = store.RepositoryNames.Sum(n => store.Tags(n).Count);
        Console.Out.WriteLine($"sealer registry: serving {store.RepositoryNames.Count} repositories ({tags} tags; domains: {string.Join(", ", store.Domains)}) " +
            $"from {store.Layouts.Count} layout(s) on {(host.IsTls ? "https" : "http")}://{FormatAddress(options.ListenAddress)}:{host.Port}" +
            $"{(options.HtpasswdFile is null ? "" : ", basic auth")}{(options.AllowPush ? ", push enabled" : ", read-only")}" +
            $"{(options.Upstreams.Count == 0 ? "" : ", pull-through from " + string.Join(", ", options.Upstreams.Select(u => $"{u.Domain}={u.BaseUrl.GetLeftPart(UriPartial.Authority)}")))}");
        await host.WaitForShutdownAsync(cts.Token).ConfigureAwait(false);
        Console.Out.WriteLine("sealer registry: stopped.");
        return 0;
    }

    private static string FormatAddress(IPAddress ip) => ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{ip}]" : ip.ToString();

    public static Task<int> GenCertsAsync(string[] args, CancellationToken cancellationToken)
    {
        var a = CliArgs.Parse(args, ["host", "out", "days"], [], "registry gen-certs");
        if (a.Help)
        {
            Console.Out.WriteLine("""
                Usage: sealer registry gen-certs --host NAME|IP [--host ...] [--out DIR] [--days N]

                Writes ca.crt, ca.key, server.crt (server + CA chain) and server.key to DIR (default ./certs).
                Every --host becomes a subjectAltName. An existing ca.crt/ca.key in DIR is reused, so nodes keep trusting it.
                """);
            return Task.FromResult(0);
        }
        var hosts = a.Values("host");
        if (hosts.Count == 0) throw new SealerException(ErrorCodes.BadCommandLine, "'registry gen-certs' needs --host NAME|IP (repeatable): every name and address nodes reach the registry by.");
        int days = a.Int("days", 3650, 1, 36500, "registry gen-certs");
        var files = CertificateGenerator.Generate(a.Value("out") ?? "certs", hosts, TimeSpan.FromDays(days));
        Console.Out.WriteLine($"wrote {files.CaCertificate}, {files.ServerCertificate}, {files.ServerKey} (SANs: {string.Join(", ", hosts)})");
        Console.Out.WriteLine($"serve with: sealer registry serve --tls-cert {files.ServerCertificate} --tls-key {files.ServerKey} --layout DIR");
        return Task.FromResult(0);
    }

    public static Task<int> ConfigAsync(string[] args, CancellationToken cancellationToken)
    {
        var a = CliArgs.Parse(args, ["layout", "endpoint", "domain", "ca", "ca-file", "certs-dir", "output-root"], ["skip-verify", "no-docker"], "registry config");
        if (a.Help)
        {
            Console.Out.WriteLine("""
                Usage: sealer registry config --endpoint HOST:PORT [--endpoint ...] (--layout DIR | --domain D)... [options]

                Generates containerd certs.d/<domain>/hosts.toml for every source domain in the layouts (plus _default), and
                Docker's daemon.json registry-mirrors, so nodes pull by original names through the registry.
                Endpoints are tried in order (list several registry hosts for HA); http://HOST:PORT means plain HTTP.

                  --layout DIR        layout (or rootfs) whose domains get a hosts.toml (repeatable)
                  --domain D          an extra source domain (repeatable)
                  --endpoint ADDR     registry address as nodes reach it (repeatable)
                  --ca FILE           CA certificate nodes should trust (from gen-certs)
                  --ca-file PATH      where the CA goes on nodes (default /etc/sealer/registry/ca.crt)
                  --skip-verify       skip TLS verification instead (not recommended)
                  --certs-dir DIR     containerd config_path (default /etc/containerd/certs.d)
                  --no-docker         no Docker files
                  --output-root DIR   write the files under DIR (e.g. / on a node); default: print them
                """);
            return Task.FromResult(0);
        }
        var endpoints = a.Values("endpoint").Select(RegistryEndpoint.Parse).ToList();
        if (endpoints.Count == 0) throw new SealerException(ErrorCodes.BadCommandLine, "'registry config' needs --endpoint HOST:PORT (the registry address nodes use).");
        var domains = new List<string>(a.Values("domain"));
        var sources = a.Values("layout").Select(RegistryHost.OpenSources).ToList();
        domains.AddRange(RegistryRuntimeConfig.DomainsOf(sources.Where(s => s.Layout is not null).Select(s => s.Layout!)));
        if (sources.Any(s => s.Storage is not null))
        {
            Console.Error.WriteLine("note: a Sealer-format registry storage (docker/registry/v2) records no source domains; its images are served for every domain through _default/hosts.toml. Add --domain D for domains that need their own hosts.toml.");
        }
        string? caPath = a.Value("ca");
        string? caPem = null;
        if (caPath is not null)
        {
            if (!File.Exists(caPath)) throw new SealerException(ErrorCodes.RegistryTlsInvalid, $"The CA certificate '{caPath}' does not exist. Create one with 'sealer registry gen-certs'.");
            caPem = File.ReadAllText(caPath);
        }
        var options = new RuntimeConfigOptions
        {
            CaPem = caPem,
            SkipVerify = a.Flag("skip-verify"),
            Docker = !a.Flag("no-docker"),
            CaFile = a.Value("ca-file") ?? "/etc/sealer/registry/ca.crt",
            ContainerdCertsDir = a.Value("certs-dir") ?? "/etc/containerd/certs.d",
        };
        var config = RegistryRuntimeConfig.Generate(domains, endpoints, options);
        string? root = a.Value("output-root");
        if (root is not null)
        {
            foreach (var path in RegistryRuntimeConfig.WriteTo(config, root)) Console.Out.WriteLine("wrote " + path);
        }
        else
        {
            foreach (var f in config.Files)
            {
                Console.Out.WriteLine($"# ==> {f.Path}");
                Console.Out.WriteLine(f.Content);
            }
        }
        foreach (var note in config.Notes) Console.Error.WriteLine("note: " + note);
        return Task.FromResult(0);
    }

    public static Task<int> UnitAsync(string[] args, CancellationToken cancellationToken)
    {
        // Options of the unit itself, then everything else is passed to 'registry serve' (validated here first).
        string binary = "/usr/local/bin/sealer", name = "sealer-registry";
        string? output = null;
        var serveArgs = new List<string>();
        bool help = false;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--binary" when i + 1 < args.Length: binary = args[++i]; break;
                case "--name" when i + 1 < args.Length: name = args[++i]; break;
                case "--output" when i + 1 < args.Length: output = args[++i]; break;
                case "-h" or "--help": help = true; break;
                default: serveArgs.Add(args[i]); break;
            }
        }
        if (help)
        {
            Console.Out.WriteLine("Usage: sealer registry unit [--binary PATH] [--name NAME] [--output FILE] <registry serve options>\n\n" +
                "Prints (or writes) a systemd unit running 'sealer registry serve' with the given options; SIGTERM stops it gracefully.");
            return Task.FromResult(0);
        }
        var options = ParseServe([.. serveArgs], out _);
        string unit = SystemdUnit(binary, name, serveArgs, options);
        if (output is null) Console.Out.Write(unit);
        else
        {
            Sealer.Core.Layout.AtomicFile.WriteAllText(output, unit);
            Console.Out.WriteLine($"wrote {output}; enable it with: systemctl daemon-reload && systemctl enable --now {Path.GetFileNameWithoutExtension(output)}");
        }
        return Task.FromResult(0);
    }

    internal static string SystemdUnit(string binary, string name, IReadOnlyList<string> serveArgs, RegistryServerOptions options)
    {
        var writable = new List<string>();
        if (options.WritableLayout is not null) writable.Add(Path.GetFullPath(options.WritableLayout));
        if (options.AccessLog is not null and not "-") writable.Add(Path.GetDirectoryName(Path.GetFullPath(options.AccessLog))!);
        return RegistryUnit.Render(binary, serveArgs, name, writable, (int)options.ShutdownTimeout.TotalSeconds, options.Port is > 0 and < 1024);
    }
}

/// <summary>Warnings and errors to stderr, one line each (the codes are in the messages).</summary>
internal sealed class StderrLogger : ILogger
{
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel)) return;
        string level = logLevel >= LogLevel.Error ? "error" : "warning";
        Console.Error.WriteLine($"{level}: {formatter(state, exception)}{(exception is null ? "" : " (" + exception.GetType().Name + ": " + exception.Message + ")")}");
    }
}
