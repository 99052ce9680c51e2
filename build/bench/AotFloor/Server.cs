#if FLOOR_SERVER
using System.Diagnostics.Metrics;
using System.Net;
using System.Runtime.CompilerServices;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Abstractions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace AotFloor;

// Kestrel as src/Sealer.RegistryServer/RegistryHost.cs builds it: no generic host, HTTP/1.1 + HTTP/2 on TLS, sockets transport.
internal static class Server
{
    public static async Task Run(string[] args)
    {
        ILoggerFactory loggers = NullLoggerFactory.Instance;
        var kestrel = new KestrelServerOptions { AddServerHeader = false, ApplicationServices = new Services(loggers) };
        kestrel.Limits.MaxRequestBodySize = args[9] == "push" ? null : 0;
        kestrel.Limits.MaxResponseBufferSize = 1 << 20;
        using var certificate = X509CertificateLoader.LoadPkcs12FromFile(args[11], null);
        kestrel.Listen(IPAddress.Parse(args[8]), 0, listen =>
        {
            listen.Protocols = HttpProtocols.Http1AndHttp2;
            listen.UseHttps(new HttpsConnectionAdapterOptions { ServerCertificate = certificate });
        });
        var transport = new SocketTransportFactory(Options.Create(new SocketTransportOptions()), loggers);
        using var server = new KestrelServer(Options.Create(kestrel), transport, loggers);
        await server.StartAsync(new App(Handle), CancellationToken.None);
        await Task.Delay(1000);
        await server.StopAsync(CancellationToken.None);
    }

    private static async Task Handle(HttpContext context)
    {
        var request = context.Request;
        if (HttpMethods.IsHead(request.Method)) { context.Response.StatusCode = 200; return; }
        if (request.Headers.TryGetValue("Range", out var range)) context.Response.Headers["Content-Range"] = range.ToString();
        context.Response.ContentType = "application/octet-stream";
        context.Response.ContentLength = 3;
        var memory = context.Response.BodyWriter.GetMemory(3);
        "abc"u8.CopyTo(memory.Span);
        context.Response.BodyWriter.Advance(3);
        await context.Response.BodyWriter.FlushAsync();
        await using var body = File.Create(Path.GetTempFileName());
        await request.Body.CopyToAsync(body);
    }

    private sealed class App(RequestDelegate handle) : IHttpApplication<DefaultHttpContext>
    {
        public DefaultHttpContext CreateContext(IFeatureCollection contextFeatures)
        {
            if (contextFeatures is not IHostContextContainer<DefaultHttpContext> container) return new DefaultHttpContext(contextFeatures);
            if (container.HostContext is { } reused) { reused.Initialize(contextFeatures); return reused; }
            return container.HostContext = new DefaultHttpContext(contextFeatures);
        }

        public Task ProcessRequestAsync(DefaultHttpContext context) => handle(context);

        public void DisposeContext(DefaultHttpContext context, Exception? exception) => context.Uninitialize();
    }

    private sealed class Services(ILoggerFactory loggers) : IServiceProvider
    {
        private readonly object _metrics = NewKestrelMetrics(new NoMeters());

        public object? GetService(Type serviceType) =>
            serviceType == typeof(ILoggerFactory) ? loggers : serviceType == _metrics.GetType() ? _metrics : null;

        [UnsafeAccessor(UnsafeAccessorKind.Constructor)]
        [return: UnsafeAccessorType("Microsoft.AspNetCore.Server.Kestrel.Core.Internal.Infrastructure.KestrelMetrics, Microsoft.AspNetCore.Server.Kestrel.Core")]
        private static extern object NewKestrelMetrics(IMeterFactory meterFactory);

        private sealed class NoMeters : IMeterFactory
        {
            public Meter Create(MeterOptions options) => new(options);

            public void Dispose() { }
        }
    }
}
#endif
