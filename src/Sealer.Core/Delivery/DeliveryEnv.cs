using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Sealer.Core.Delivery.Clusterfile;
using Sealer.Core.Diagnostics;

namespace Sealer.Core.Delivery;

/// <summary>
/// The env every remote command and template gets, in Sealer's precedence: image ENV &lt; Clusterfile spec.env &lt; the
/// host's env, then the derived values (HostIP, HostIPFamily, Registry*, LocalRegistry*, ExternalRegistry*, ContainerRuntime)
/// which users cannot override (Sealer drops and re-derives them).
/// </summary>
public static partial class DeliveryEnv
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
    /// Renders a Sealer <c>*.tmpl</c> file: <c>{{ .Name }}</c>, <c>{{- .Name -}}</c>, <c>{{ .Name | default "x" }}</c>,
    /// <c>{{ .Env.Name }}</c>. A missing value without a default is an error naming the file and line.
    /// </summary>
    public static string Render(string template, IReadOnlyList<KeyValuePair<string, string>> env, string file)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in env) values[k] = v;
        var sb = new StringBuilder();
        int pos = 0;
        foreach (Match m in ActionRegex().Matches(template))
        {
            string before = template[pos..m.Index];
            if (m.Groups["ltrim"].Success) before = before.TrimEnd();
            sb.Append(before);
            pos = m.Index + m.Length;
            int line = template.AsSpan(0, m.Index).Count('\n') + 1;
            string body = m.Groups["body"].Value.Trim();
            var am = FieldRegex().Match(body);
            if (!am.Success)
            {
                throw new SealerException(ErrorCodes.TemplateUnsupported,
                    $"The template action '{{{{ {body} }}}}' is not supported when delivering: use {{{{ .Name }}}} or {{{{ .Name | default \"value\" }}}}.", file, line);
            }
            string name = am.Groups["name"].Value;
            if (values.TryGetValue(name, out var value)) sb.Append(value);
            else if (am.Groups["def"].Success) sb.Append(am.Groups["def"].Value);
            else
            {
                throw new SealerException(ErrorCodes.TemplateEnvMissing,
                    $"The template uses .{name}, which is not set: add '- {name}=value' to spec.env in the Clusterfile (or a default: {{{{ .{name} | default \"...\" }}}}).", file, line);
            }
            if (m.Groups["rtrim"].Success)
            {
                int skip = pos;
                while (skip < template.Length && char.IsWhiteSpace(template[skip])) skip++;
                pos = skip;
            }
        }
        sb.Append(template[pos..]);
        return sb.ToString();
    }

    [GeneratedRegex(@"\{\{(?<ltrim>-\s)?(?<body>.*?)(?<rtrim>\s-)?\}\}", RegexOptions.Singleline)]
    private static partial Regex ActionRegex();

    [GeneratedRegex(@"^\.(?:Env\.)?(?<name>[A-Za-z_][A-Za-z0-9_\-]*)(?:\s*\|\s*default\s+""(?<def>[^""]*)"")?$")]
    private static partial Regex FieldRegex();
}
