using Microsoft.Build.Framework;
using Sealer.Core.Diagnostics;
using Sealer.Core.Distribution;

namespace Sealer.Tasks;

/// <summary>The registry options of a build (images and OCI charts alike): SealerRegistryMirror items, fallback, User-Agent.</summary>
internal static class RegistrySettings
{
    public static RegistryOptions Create(ITaskItem[] mirrors, bool fallbackToSource, string? userAgent)
    {
        var registry = new RegistryOptions();
        foreach (var m in mirrors)
        {
            // <SealerRegistryMirror Include="docker.io" Mirrors="http://a;http://b" />, or "docker.io=http://a,http://b" (from the SealerRegistryMirrors property).
            string domain = m.ItemSpec;
            var endpoints = ItemLocation.List(m, "Mirrors").ToList();
            int eq = domain.IndexOf('=');
            if (eq > 0)
            {
                endpoints.AddRange(domain[(eq + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
                domain = domain[..eq].Trim();
            }
            if (endpoints.Count == 0)
            {
                var (file, line) = ItemLocation.Of(m);
                throw new SealerException(ErrorCodes.InvalidProjectValue, $"SealerRegistryMirror '{m.ItemSpec}' names no mirror: add Mirrors=\"http://host:port\" (several separated by ';').", file, line);
            }
            foreach (var endpoint in endpoints)
            {
                registry.AddMirror(domain, endpoint);
                if (Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) && (uri.Scheme == "http" || string.Equals(m.GetMetadata("Insecure"), "true", StringComparison.OrdinalIgnoreCase)))
                {
                    registry.AddInsecureRegistry(uri.Authority);
                }
            }
            if (string.Equals(m.GetMetadata("FallbackToSource"), "false", StringComparison.OrdinalIgnoreCase)) registry.FallbackToSource = false;
        }
        if (!fallbackToSource) registry.FallbackToSource = false;
        if (!string.IsNullOrWhiteSpace(userAgent)) registry.UserAgent = userAgent.Trim();
        return registry;
    }
}
