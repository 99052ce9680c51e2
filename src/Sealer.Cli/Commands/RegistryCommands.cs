using System.CommandLine;
using System.CommandLine.Parsing;
using System.Net;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Sealer.Core.Diagnostics;
using Sealer.Core.RegistryServer;
using Sealer.RegistryServer;

namespace Sealer.Cli.Commands;

/// <summary><c>sealer registry serve | gen-certs | config | unit | gc</c>.</summary>
internal static class RegistryCommands
{
    public static Command Create() => new SealerCommand("registry", "The built-in registry: serve, certificates, node configuration, systemd unit, garbage collection")
    {
        Serve(), GenCerts(), Config(), Unit(), DeliveryCommands.RegistryGc(),
    };

    /// <summary>The options of 'registry serve', which 'registry unit' takes too (and passes on).</summary>
    private sealed class ServeOptions
    {
        public readonly Option<List<string>> Layout = CliOptions.Repeatable("--layout", "layout to serve, or a cluster image rootfs holding registry/; the first holding a reference wins", "DIR", true);
        public readonly Option<string?> Address = CliOptions.Text("--address", "listen address (default 0.0.0.0)", "IP");
        public readonly Option<int> Port = CliOptions.Int("--port", "listen port", 5000, 0, 65535);
        public readonly Option<string?> TlsCert = CliOptions.Text("--tls-cert", "PEM certificate (chain) for HTTPS; with --tls-key (see 'sealer registry gen-certs')", "FILE");
        public readonly Option<string?> TlsKey = CliOptions.Text("--tls-key", "PEM private key", "FILE");
        public readonly Option<string?> Htpasswd = CliOptions.Text("--htpasswd", "require basic auth (bcrypt entries: htpasswd -B)", "FILE");
        public readonly Option<string?> DefaultDomain = CliOptions.Text("--default-domain", "domain of names without ns or domain prefix (default docker.io)", "D");
        public readonly Option<bool> AllowPush = CliOptions.Flag("--allow-push", "accept pushes (CI use); needs --writable-layout");
        public readonly Option<string?> WritableLayout = CliOptions.Text("--writable-layout", "layout pushes and pull-through copies are written to (also served)", "DIR");
        public readonly Option<string?> AccessLog = CliOptions.Text("--access-log", "one line per request to a file or stdout (-)", "PATH|-");
        public readonly Option<List<string>> Upstream = CliOptions.Repeatable("--upstream",
            "pull-through: fetch what the layouts lack from D=https://host (domain D) or https://host (a proxy honouring ?ns=, every domain); " +
            "cached in --writable-layout. Credentials come from SEALER_UPSTREAM_USERNAME / SEALER_UPSTREAM_PASSWORD, never from the command line", "URL", true);
        public readonly Option<bool> NoVerify = CliOptions.Flag("--no-verify", "do not re-hash blobs before first serving them");
        public readonly Option<int> ShutdownTimeout = CliOptions.Int("--shutdown-timeout", "seconds in-flight requests get on SIGTERM/Ctrl+C", 10, 0, 3600, "SEC");

        private Option[] All => [Layout, Address, Port, TlsCert, TlsKey, Htpasswd, DefaultDomain, AllowPush, WritableLayout, AccessLog, Upstream, NoVerify, ShutdownTimeout];

        public void AddTo(Command command)
        {
            foreach (var o in All) command.Options.Add(o);
        }

        public RegistryServerOptions Build(ParseResult p)
        {
            var o = new RegistryServerOptions
            {
                Port = p.GetValue(Port),
                TlsCertificateFile = p.GetValue(TlsCert),
                TlsKeyFile = p.GetValue(TlsKey),
                HtpasswdFile = p.GetValue(Htpasswd),
                DefaultDomain = p.GetValue(DefaultDomain) ?? "docker.io",
                AllowPush = p.GetValue(AllowPush),
                WritableLayout = p.GetValue(WritableLayout),
                AccessLog = p.GetValue(AccessLog),
                VerifyBlobs = !p.GetValue(NoVerify),
                ShutdownTimeout = TimeSpan.FromSeconds(p.GetValue(ShutdownTimeout)),
            };
            o.Layouts.AddRange(p.GetValue(Layout)!);
            string? upUser = Environment.GetEnvironmentVariable("SEALER_UPSTREAM_USERNAME"), upPassword = Environment.GetEnvironmentVariable("SEALER_UPSTREAM_PASSWORD");
            foreach (var u in p.GetValue(Upstream)!) o.Upstreams.Add(UpstreamRegistry.Parse(u, upUser, upPassword));
            if (p.GetValue(Address) is { } address)
            {
                if (!IPAddress.TryParse(address.Trim('[', ']'), out var ip))
                {
                    throw new SealerException(ErrorCodes.RegistryListenFailed, $"'{address}' is not an IP address to listen on (e.g. 0.0.0.0, 127.0.0.1, ::).");
                }
                o.ListenAddress = ip;
            }
            if (o.Layouts.Count == 0 && o.WritableLayout is null)
            {
                throw new SealerException(ErrorCodes.RegistryLayoutInvalid, "'registry serve' needs --layout DIR (an OCI image layout, or a cluster image rootfs holding registry/).");
            }
            return o;
        }

        /// <summary>The serve options given on this command line, in their order, as arguments again (for the unit's ExecStart).</summary>
        public List<string> Arguments(ParseResult p)
        {
            var args = new List<string>();
            foreach (var child in p.CommandResult.Children)
            {
                if (child is not OptionResult { Implicit: false } r || !All.Contains(r.Option)) continue;
                if (r.Option is Option<bool> flag)
                {
                    if (p.GetValue(flag)) args.Add(r.Option.Name);
                    continue;
                }
                foreach (var token in r.Tokens) args.AddRange([r.Option.Name, token.Value]);
            }
            return args;
        }
    }

    /// <summary>The options 'sealer registry serve ARGS' would run with (usage errors throw, as when serving).</summary>
    internal static RegistryServerOptions ParseServe(string[] args)
    {
        var parseResult = SealerCli.ParseOrThrow(["registry", "serve", .. args]);
        return ((ServeCommand)parseResult.CommandResult.Command).Options.Build(parseResult);
    }

    /// <summary>'registry serve', keeping its options for <see cref="ParseServe"/>.</summary>
    private sealed class ServeCommand(ServeOptions options, string summary, string details) : SealerCommand("serve", summary, details)
    {
        public new ServeOptions Options { get; } = options;
    }

    private static Command Serve()
    {
        var serve = new ServeOptions();
        var command = new ServeCommand(serve, "Serve OCI image layouts read-only over the distribution API (by original names)", """
            Serves OCI image layouts read-only over the distribution API v2, by their original full names
            (docker.io/library/nginx:1.27 stays docker.io/library/nginx:1.27). DIR may be a cluster image rootfs holding registry/.
            A blob missing from DIR/blobs/ is served from DIR/in-store/sha256/<hex> when that links to the image-blob layer holding
            it (as `sealer run` leaves a registry host: one copy of the bytes, in the content store), re-hashed before first use.
            containerd mirrors select the source domain with ?ns=<domain>; without it, /v2/<domain>/<repo>/... or the default domain.
            """);
        serve.AddTo(command);
        command.SetAction(async (p, cancellationToken) =>
        {
            var options = serve.Build(p);
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
        });
        return command;
    }

    private static string FormatAddress(IPAddress ip) => ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{ip}]" : ip.ToString();

    private static Command GenCerts()
    {
        var hosts = CliOptions.Repeatable("--host", "a name or address nodes reach the registry by; becomes a subjectAltName", "NAME|IP", true);
        var output = CliOptions.Text("--out", "where the files go (default ./certs)", "DIR");
        var days = CliOptions.Int("--days", "validity of the server certificate in days", 3650, 1, 36500);
        var command = new SealerCommand("gen-certs", "Generate a CA and a server certificate with SANs for the registry", """
            Writes ca.crt, ca.key, server.crt (server + CA chain) and server.key to DIR (default ./certs).
            Every --host becomes a subjectAltName. An existing ca.crt/ca.key in DIR is reused, so nodes keep trusting it.
            """)
        {
            hosts, output, days,
        };
        command.SetAction(p =>
        {
            var names = p.GetValue(hosts)!;
            if (names.Count == 0) throw new SealerException(ErrorCodes.BadCommandLine, "'registry gen-certs' needs --host NAME|IP (repeatable): every name and address nodes reach the registry by.");
            var files = CertificateGenerator.Generate(p.GetValue(output) ?? "certs", names, TimeSpan.FromDays(p.GetValue(days)));
            Console.Out.WriteLine($"wrote {files.CaCertificate}, {files.ServerCertificate}, {files.ServerKey} (SANs: {string.Join(", ", names)})");
            Console.Out.WriteLine($"serve with: sealer registry serve --tls-cert {files.ServerCertificate} --tls-key {files.ServerKey} --layout DIR");
            return 0;
        });
        return command;
    }

    private static Command Config()
    {
        var endpointsOption = CliOptions.Repeatable("--endpoint", "registry address as nodes reach it; tried in order (list several registry hosts for HA); http://HOST:PORT means plain HTTP", "ADDR", true);
        var layouts = CliOptions.Repeatable("--layout", "layout (or rootfs) whose domains get a hosts.toml", "DIR", true);
        var domainsOption = CliOptions.Repeatable("--domain", "an extra source domain", "D", true);
        var ca = CliOptions.Text("--ca", "CA certificate nodes should trust (from gen-certs)", "FILE");
        var caFile = CliOptions.Text("--ca-file", "where the CA goes on nodes (default /etc/sealer/registry/ca.crt)", "PATH");
        var skipVerify = CliOptions.Flag("--skip-verify", "skip TLS verification instead (not recommended)");
        var certsDir = CliOptions.Text("--certs-dir", "containerd config_path (default /etc/containerd/certs.d)", "DIR");
        var noDocker = CliOptions.Flag("--no-docker", "no Docker files");
        var outputRoot = CliOptions.Text("--output-root", "write the files under DIR (e.g. / on a node); default: print them", "DIR");
        var command = new SealerCommand("config", "Generate containerd hosts.toml / Docker daemon.json to pull through the registry", """
            Generates containerd certs.d/<domain>/hosts.toml for every source domain in the layouts (plus _default), and
            Docker's daemon.json registry-mirrors, so nodes pull by original names through the registry.
            """)
        {
            endpointsOption, layouts, domainsOption, ca, caFile, skipVerify, certsDir, noDocker, outputRoot,
        };
        command.SetAction(p =>
        {
            var endpoints = p.GetValue(endpointsOption)!.Select(RegistryEndpoint.Parse).ToList();
            if (endpoints.Count == 0) throw new SealerException(ErrorCodes.BadCommandLine, "'registry config' needs --endpoint HOST:PORT (the registry address nodes use).");
            var domains = new List<string>(p.GetValue(domainsOption)!);
            var sources = p.GetValue(layouts)!.Select(RegistryHost.OpenSources).ToList();
            domains.AddRange(RegistryRuntimeConfig.DomainsOf(sources.Where(s => s.Layout is not null).Select(s => s.Layout!)));
            if (sources.Any(s => s.Storage is not null))
            {
                Console.Error.WriteLine("note: a Sealer-format registry storage (docker/registry/v2) records no source domains; its images are served for every domain through _default/hosts.toml. Add --domain D for domains that need their own hosts.toml.");
            }
            string? caPath = p.GetValue(ca);
            string? caPem = null;
            if (caPath is not null)
            {
                if (!File.Exists(caPath)) throw new SealerException(ErrorCodes.RegistryTlsInvalid, $"The CA certificate '{caPath}' does not exist. Create one with 'sealer registry gen-certs'.");
                caPem = File.ReadAllText(caPath);
            }
            var options = new RuntimeConfigOptions
            {
                CaPem = caPem,
                SkipVerify = p.GetValue(skipVerify),
                Docker = !p.GetValue(noDocker),
                CaFile = p.GetValue(caFile) ?? "/etc/sealer/registry/ca.crt",
                ContainerdCertsDir = p.GetValue(certsDir) ?? "/etc/containerd/certs.d",
            };
            var config = RegistryRuntimeConfig.Generate(domains, endpoints, options);
            string? root = p.GetValue(outputRoot);
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
            return 0;
        });
        return command;
    }

    private static Command Unit()
    {
        var serve = new ServeOptions();
        var binary = CliOptions.Text("--binary", "the sealer executable on the host (default /usr/local/bin/sealer)", "PATH");
        var name = CliOptions.Text("--name", "unit name (default sealer-registry)", "NAME");
        var output = CliOptions.Text("--output", "write the unit to FILE (default: print it)", "FILE");
        var command = new SealerCommand("unit", "Generate a systemd unit running 'sealer registry serve'", """
            Prints (or writes) a systemd unit running 'sealer registry serve' with the given serve options (those of
            'sealer registry serve --help'); SIGTERM stops it gracefully.
            """)
        {
            binary, name, output,
        };
        serve.AddTo(command);
        command.SetAction(p =>
        {
            var options = serve.Build(p);
            string unit = SystemdUnit(p.GetValue(binary) ?? "/usr/local/bin/sealer", p.GetValue(name) ?? "sealer-registry", serve.Arguments(p), options);
            if (p.GetValue(output) is not { } file) Console.Out.Write(unit);
            else
            {
                Sealer.Core.Layout.AtomicFile.WriteAllText(file, unit);
                Console.Out.WriteLine($"wrote {file}; enable it with: systemctl daemon-reload && systemctl enable --now {Path.GetFileNameWithoutExtension(file)}");
            }
            return 0;
        });
        return command;
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
