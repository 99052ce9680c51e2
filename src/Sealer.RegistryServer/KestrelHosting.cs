using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Abstractions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Sealer.RegistryServer;

/// <summary>
/// What the generic host's <c>HostingApplication</c> does for Kestrel, reduced to what the registry uses: one
/// <see cref="DefaultHttpContext"/> per request, reused per connection (HTTP/1.1) or stream (HTTP/2) through
/// <see cref="IHostContextContainer{TContext}"/>, and the request delegate. No request services, no diagnostics events:
/// the handler needs neither. An exception the delegate throws goes back to Kestrel, which logs it and answers 500.
/// </summary>
internal sealed class RegistryApplication(RequestDelegate handle) : IHttpApplication<DefaultHttpContext>
{
    public DefaultHttpContext CreateContext(IFeatureCollection contextFeatures)
    {
        if (contextFeatures is not IHostContextContainer<DefaultHttpContext> container) return new DefaultHttpContext(contextFeatures);
        if (container.HostContext is { } reused)
        {
            reused.Initialize(contextFeatures);
            return reused;
        }
        var created = new DefaultHttpContext(contextFeatures);
        container.HostContext = created;
        return created;
    }

    public Task ProcessRequestAsync(DefaultHttpContext context) => handle(context);

    public void DisposeContext(DefaultHttpContext context, Exception? exception) => context.Uninitialize();
}

/// <summary>
/// The two services Kestrel asks <c>KestrelServerOptions.ApplicationServices</c> for when HTTPS is configured with
/// <c>ListenOptions.UseHttps(HttpsConnectionAdapterOptions)</c>: the logger factory and its (internal) metrics. This
/// replaces the DI container the generic host would build. Anything else is "not registered" (null), as in DI.
/// </summary>
internal sealed class KestrelServices : IServiceProvider
{
    private readonly ILoggerFactory _loggerFactory;
    private readonly object _metrics;

    public KestrelServices(ILoggerFactory loggerFactory)
    {
        _loggerFactory = loggerFactory;
        // Kestrel's KestrelMetrics is internal and UseHttps resolves it by type. Its constructor is reached without
        // reflection (resolved by the compiler, NativeAOT-safe); a renamed type fails every HTTPS test, not silently.
        _metrics = NewKestrelMetrics(new NoMeterFactory());
    }

    public object? GetService(Type serviceType)
    {
        if (serviceType == typeof(ILoggerFactory)) return _loggerFactory;
        if (serviceType == _metrics.GetType()) return _metrics;
        return null;
    }

    [UnsafeAccessor(UnsafeAccessorKind.Constructor)]
    [return: UnsafeAccessorType("Microsoft.AspNetCore.Server.Kestrel.Core.Internal.Infrastructure.KestrelMetrics, Microsoft.AspNetCore.Server.Kestrel.Core")]
    private static extern object NewKestrelMetrics(IMeterFactory meterFactory);

    /// <summary>Meters nobody listens to (as KestrelServer's own factory when built without DI; MetricsSupport is off in the CLI).</summary>
    private sealed class NoMeterFactory : IMeterFactory
    {
        public Meter Create(MeterOptions options) => new(options);

        public void Dispose() { }
    }
}
