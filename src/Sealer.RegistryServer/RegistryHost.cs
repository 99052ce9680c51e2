using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sealer.Core.Diagnostics;
using Sealer.Core.Layout;

namespace Sealer.RegistryServer;

/// <summary>
/// A running registry: Kestrel (HTTP/1.1 and, with TLS, HTTP/2) with one request delegate, <see cref="RegistryHandler"/>.
/// <code>
/// await using var host = await RegistryHost.StartAsync(new RegistryServerOptions { Layouts = { "/opt/rootfs/registry" }, Port = 5000 });
/// Console.WriteLine(host.BaseAddress);   // http://0.0.0.0:5000/
/// await host.WaitForShutdownAsync(token); // graceful: in-flight requests finish (ShutdownTimeout)
/// </code>
/// </summary>
public sealed class RegistryHost : IAsyncDisposable
{
    private readonly KestrelServer _server;
    private readonly AccessLog? _accessLog;
    private readonly TimeSpan _shutdownTimeout;
    private int _stopped;
    private PullThrough? _pull;

    private RegistryHost(KestrelServer server, RegistryStore store, AccessLog? accessLog, int port, bool tls, TimeSpan shutdownTimeout)
    {
        _server = server;
        Store = store;
        _accessLog = accessLog;
        Port = port;
        IsTls = tls;
        _shutdownTimeout = shutdownTimeout;
    }

    public RegistryStore Store { get; }

    /// <summary>The bound port (the real one when 0 was asked for).</summary>
    public int Port { get; }

    public bool IsTls { get; }

    public static async Task<RegistryHost> StartAsync(RegistryServerOptions options, CancellationToken cancellationToken = default)
    {
        if (options.Layouts.Count == 0 && options.WritableLayout is null)
        {
            throw new SealerException(ErrorCodes.RegistryLayoutInvalid, "Nothing to serve: give at least one --layout (an OCI image layout, or a cluster image rootfs holding registry/).");
        }
        var layouts = new List<OciLayout>();
        var storages = new List<DistributionStorage>();
        foreach (var path in options.Layouts)
        {
            var (layout, storage) = OpenSources(path);
            if (layout is not null) layouts.Add(layout);
            if (storage is not null) storages.Add(storage);
        }
        OciLayout? writable = null;
        if (options.WritableLayout is not null) writable = OciLayout.OpenOrCreate(options.WritableLayout);
        if (options.AllowPush && writable is null)
        {
            throw new SealerException(ErrorCodes.RegistryLayoutInvalid, "--allow-push needs --writable-layout DIR: pushes are written to that layout, never to the served ones.");
        }
        if (options.Upstreams.Count > 0 && writable is null)
        {
            throw new SealerException(ErrorCodes.RegistryLayoutInvalid, "--upstream needs --writable-layout DIR: what is pulled through is cached there, never in the served layouts.");
        }
        var store = new RegistryStore(layouts, writable, options.Logger, storages) { VerifyBlobs = options.VerifyBlobs };
        var pull = options.Upstreams.Count > 0 ? new PullThrough(options.Upstreams, writable!, store, options.Logger) : null;
        var auth = options.HtpasswdFile is null ? null : HtpasswdAuthenticator.Load(options.HtpasswdFile);
        X509Certificate2? certificate = LoadCertificate(options);
        AccessLog? accessLog = options.AccessLog is null ? null : AccessLog.Open(options.AccessLog);
        var handler = new RegistryHandler(store, new NameResolver(options.DefaultDomain), auth, accessLog, options.AllowPush, options.Logger, pull);

        // Kestrel driven directly, without WebApplication/generic host: the hosting, configuration, DI container, routing
        // and diagnostics assemblies stay out of the native binary (issue 17, build/bench/RESULTS.md "Kestrel without hosting").
        var loggerFactory = new ForwardingLoggerFactory(options.Logger);
        var kestrel = new KestrelServerOptions
        {
            AddServerHeader = false,
            ApplicationServices = new KestrelServices(loggerFactory),
        };
        kestrel.Limits.MaxRequestBodySize = options.AllowPush ? null : 0;
        kestrel.Limits.MaxRequestHeadersTotalSize = 64 * 1024;
        kestrel.Limits.MaxRequestLineSize = 16 * 1024;
        kestrel.Limits.KeepAliveTimeout = TimeSpan.FromMinutes(2);
        kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(30);
        // Blob sends write 256 KiB steps (RegistryHandler.SendFileRangeAsync); the default 64 KiB would make every step
        // wait for the socket to drain before the next file read starts. 1 MiB per connection keeps reads and sends overlapped.
        kestrel.Limits.MaxResponseBufferSize = 4 * RegistryHandler.SendChunkSize;
        kestrel.Listen(options.ListenAddress, options.Port, listen =>
        {
            if (certificate is not null)
            {
                listen.Protocols = HttpProtocols.Http1AndHttp2;
                // The options overload: no HTTPS configuration service, no development certificate lookup; the defaults
                // are those of UseHttps(certificate) (nothing configures ConfigureHttpsDefaults here).
                listen.UseHttps(new HttpsConnectionAdapterOptions { ServerCertificate = certificate });
            }
            else
            {
                listen.Protocols = HttpProtocols.Http1;
            }
        });
        var transport = new SocketTransportFactory(Options.Create(new SocketTransportOptions()), loggerFactory);
        var server = new KestrelServer(Options.Create(kestrel), transport, loggerFactory);
        try
        {
            await server.StartAsync(new RegistryApplication(handler.HandleAsync), cancellationToken).ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            server.Dispose();
            throw new SealerException(ErrorCodes.RegistryListenFailed,
                $"Cannot listen on {options.ListenAddress}:{options.Port}: {ex.Message}. Choose another --port or stop what uses it.", inner: ex);
        }
        catch
        {
            server.Dispose();
            throw;
        }
        var address = server.Features.Get<IServerAddressesFeature>()!.Addresses.First();
        int port = new Uri(address.Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal).Replace("[::]", "[::1]", StringComparison.Ordinal)).Port;
        return new RegistryHost(server, store, accessLog, port, certificate is not null, options.ShutdownTimeout) { _pull = pull };
    }

    /// <summary>
    /// What a --layout path holds: an OCI image layout and/or a docker/distribution storage tree (Sealer's own images carry
    /// one under <c>registry/docker/registry/v2</c>; a FROM of such an image gives both in one directory). The path may be the
    /// layout itself or a rootfs holding <c>registry/</c>.
    /// </summary>
    public static (OciLayout? Layout, DistributionStorage? Storage) OpenSources(string path)
    {
        string full = Path.GetFullPath(path);
        if (!Directory.Exists(full))
        {
            throw new SealerException(ErrorCodes.RegistryLayoutInvalid, $"The layout '{path}' does not exist. Give an OCI image layout directory or an unpacked cluster image rootfs.");
        }
        string dir = File.Exists(Path.Combine(full, "oci-layout")) || DistributionStorage.TryOpen(full) is not null || !Directory.Exists(Path.Combine(full, "registry"))
            ? full : Path.Combine(full, "registry");
        var storage = DistributionStorage.TryOpen(dir);
        bool hasOci = File.Exists(Path.Combine(dir, "oci-layout"));
        if (!hasOci && storage is not null) return (null, storage);
        return (OpenLayout(dir), storage);
    }

    /// <summary>A layout directory, or a rootfs holding <c>registry/</c>.</summary>
    public static OciLayout OpenLayout(string path)
    {
        string full = Path.GetFullPath(path);
        if (!File.Exists(Path.Combine(full, "oci-layout")) && File.Exists(Path.Combine(full, "registry", "oci-layout"))) full = Path.Combine(full, "registry");
        if (!Directory.Exists(full))
        {
            throw new SealerException(ErrorCodes.RegistryLayoutInvalid, $"The layout '{path}' does not exist. Give an OCI image layout directory or an unpacked cluster image rootfs.");
        }
        try
        {
            return OciLayout.Open(full);
        }
        catch (SealerException ex)
        {
            throw new SealerException(ErrorCodes.RegistryLayoutInvalid, $"{ex.Message} Give an OCI image layout directory or an unpacked cluster image rootfs (holding registry/).", path, inner: ex);
        }
    }

    private static X509Certificate2? LoadCertificate(RegistryServerOptions options)
    {
        if (options.TlsCertificateFile is null && options.TlsKeyFile is null) return null;
        if (options.TlsCertificateFile is null || options.TlsKeyFile is null)
        {
            throw new SealerException(ErrorCodes.RegistryTlsInvalid, "Give both --tls-cert and --tls-key (or neither, for plain HTTP).");
        }
        try
        {
            using var pem = X509Certificate2.CreateFromPemFile(options.TlsCertificateFile, options.TlsKeyFile);
            // Re-import so the private key is usable by SslStream on every platform.
            return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or ArgumentException)
        {
            throw new SealerException(ErrorCodes.RegistryTlsInvalid,
                $"Cannot load the TLS certificate '{options.TlsCertificateFile}' with key '{options.TlsKeyFile}': {ex.Message}. Generate a pair with 'sealer registry gen-certs'.",
                options.TlsCertificateFile, inner: ex);
        }
    }

    /// <summary>Waits until <paramref name="cancellationToken"/> fires (Ctrl+C, SIGTERM), then stops gracefully.</summary>
    public async Task WaitForShutdownAsync(CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        await StopAsync().ConfigureAwait(false);
    }

    /// <summary>Stops accepting connections and lets in-flight requests finish (up to the shutdown timeout).</summary>
    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0) return;
        using var cts = new CancellationTokenSource(_shutdownTimeout);
        await _server.StopAsync(cts.Token).ConfigureAwait(false);
        if (_accessLog is not null) await _accessLog.DisposeAsync().ConfigureAwait(false);
        _pull?.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _server.Dispose();
    }

    /// <summary>Routes Kestrel's own diagnostics (bad requests, connection errors) to the options' logger, warnings and up.</summary>
    private sealed class ForwardingLoggerFactory(ILogger target) : ILoggerFactory
    {
        public ILogger CreateLogger(string categoryName) => new Filtered(target);
        public void AddProvider(ILoggerProvider provider) { }
        public void Dispose() { }

        private sealed class Filtered(ILogger inner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning && inner.IsEnabled(logLevel);
            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (IsEnabled(logLevel)) inner.Log(logLevel, eventId, state, exception, formatter);
            }
        }
    }
}
