using System.Net;
using System.Net.Sockets;
using Sealer.Core.Delivery.Clusterfile;
using Sealer.Core.Diagnostics;
using Sealer.Core.Templating;
using Sealer.Core.Templating.Sprig;

namespace Sealer.Core.Delivery;

/// <summary>
/// The env every remote command and template gets, in Sealer's precedence: image ENV &lt; Clusterfile spec.env &lt; the
/// host's env, then the derived values (HostIP, HostIPFamily, Registry*, LocalRegistry*, ExternalRegistry*, ContainerRuntime)
/// which users cannot override (Sealer drops and re-derives them).
/// </summary>
public static class DeliveryEnv
{
    private static readonly string[] DerivedPrefixes = ["Registry", "LocalRegistry", "ExternalRegistry"];

    public static IReadOnlyList<KeyValuePair<string, string>> For(ClusterSpec cluster, HostSpec host, IReadOnlyList<KeyValuePair<string, string>> imageEnv,
        string containerRuntime, IReadOnlyList<string> registryHosts)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        var order = new List<string>();
        void Set(string k, string v)
        {
            if (!env.ContainsKey(k)) order.Add(k);
            env[k] = v;
        }
        foreach (var (k, v) in imageEnv.Concat(cluster.Env).Concat(host.Env))
        {
            if (k == "ContainerRuntime" || DerivedPrefixes.Any(p => k.StartsWith(p, StringComparison.Ordinal))) continue;
            Set(k, v);
        }
        var local = cluster.Registry.Local;
        Set("HostIP", host.Ip);
        Set("HostIPFamily", IPAddress.TryParse(host.Ip, out var ip) && ip.AddressFamily == AddressFamily.InterNetworkV6 ? "6" : "4");
        Set("ContainerRuntime", containerRuntime);
        Set("LocalRegistryDomain", local.Domain);
        Set("LocalRegistryPort", local.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Set("LocalRegistryURL", local.Url);
        Set("LocalRegistryHosts", string.Join(',', registryHosts));
        if (local.Username is not null) Set("LocalRegistryUsername", local.Username);
        if (local.Password is not null) Set("LocalRegistryPassword", local.Password);
        if (cluster.Registry.External is { } ext)
        {
            Set("ExternalRegistryDomain", ext.Domain);
            if (ext.Port is { } p) Set("ExternalRegistryPort", p.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Set("ExternalRegistryURL", ext.Url);
            if (ext.Username is not null) Set("ExternalRegistryUsername", ext.Username);
            if (ext.Password is not null) Set("ExternalRegistryPassword", ext.Password);
        }
        // Registry* names the registry the cluster pulls from: the external one when given, else the local one.
        var (domain, port, url) = cluster.Registry.External is { } e
            ? (e.Domain, e.Port?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "", e.Url)
            : (local.Domain, local.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), local.Url);
        Set("RegistryDomain", domain);
        Set("RegistryPort", port);
        Set("RegistryURL", url);
        return order.Select(k => new KeyValuePair<string, string>(k, env[k])).ToList();
    }

    /// <summary>
    /// An app's env (APPENV of the image, then the Application config's env) over a host's env. Derived values (HostIP,
    /// HostIPFamily, Registry*, LocalRegistry*, ExternalRegistry*, ContainerRuntime) stay as derived.
    /// </summary>
    public static IReadOnlyList<KeyValuePair<string, string>> WithAppEnv(IReadOnlyList<KeyValuePair<string, string>> hostEnv, IEnumerable<KeyValuePair<string, string>> appEnv)
    {
        var result = hostEnv.ToList();
        foreach (var (k, v) in appEnv)
        {
            if (k is "ContainerRuntime" or "HostIP" or "HostIPFamily" || DerivedPrefixes.Any(p => k.StartsWith(p, StringComparison.Ordinal))) continue;
            int i = result.FindIndex(e => e.Key == k);
            if (i >= 0) result[i] = new(k, v); else result.Add(new(k, v));
        }
        return result;
    }

    private static readonly Lazy<IReadOnlyDictionary<string, GoFunc>> Functions = new(() => SprigFunctions.Create());

    /// <summary>
    /// Renders a Sealer <c>*.tmpl</c> file as Sealer does (pkg/env RenderTemplate: Go text/template, <c>missingkey=default</c>,
    /// the data a map of env strings), with the Sprig functions on top (Sealer's <c>b64enc</c>/<c>b64dec</c> are among them).
    /// Every Go construct works: <c>if</c>/<c>range</c>/<c>with</c>/variables/<c>define</c>, <c>default</c>, <c>splitList</c>, ...
    /// One difference, on purpose: where Go would print <c>&lt;no value&gt;</c> (an env value that is not set) rendering fails
    /// (SEA4015), since a config file with <c>&lt;no value&gt;</c> in it is always a bug. Errors name the host (when given),
    /// the file, the line and the column: SEA4017 the template does not parse, SEA4019 it failed while executing.
    /// </summary>
    public static string Render(string template, IReadOnlyList<KeyValuePair<string, string>> env, string file, string? host = null, CancellationToken cancellationToken = default)
    {
        var values = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (k, v) in env) values[k] = v;
        string where = host is null ? file : $"{host}: {file}";
        var set = new TemplateSet(Functions.Value) { MissingKey = MissingKeyMode.Default };
        try
        {
            set.Parse(file, template);
        }
        catch (TemplateException ex)
        {
            throw new SealerException(ErrorCodes.TemplateUnsupported,
                $"{where} line {ex.Line}: the template does not parse: {ex.Message}. Fix the file in the cluster image (Go text/template syntax, Sprig functions).",
                file, ex.Line, ex.Column, ex);
        }
        try
        {
            return set.Execute(file, values, new ExecuteOptions { NoValueErrorCode = ErrorCodes.TemplateEnvMissing, CancellationToken = cancellationToken });
        }
        catch (TemplateException ex) when (ex.Code == ErrorCodes.TemplateEnvMissing)
        {
            throw new SealerException(ErrorCodes.TemplateEnvMissing,
                $"{where} line {ex.Line}: a value the template prints is not set ({ex.Message}). Add it to spec.env in the Clusterfile (or the host's env), or give it a default: {{{{ .Name | default \"value\" }}}}.",
                file, ex.Line, ex.Column, ex);
        }
        catch (TemplateException ex)
        {
            throw new SealerException(ErrorCodes.TemplateRenderFailed,
                $"{where} line {ex.Line}: rendering failed: {ex.Message}. Check the env values it uses (spec.env, the host's env) and the template.",
                file, ex.Line, ex.Column, ex);
        }
    }
}
