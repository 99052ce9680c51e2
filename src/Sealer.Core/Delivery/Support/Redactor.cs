using System.Text;
using System.Text.RegularExpressions;
using Sealer.Core.Delivery.Clusterfile;

namespace Sealer.Core.Delivery.Support;

/// <summary>
/// Takes secrets out of text bound for a support bundle, in two ways:
/// <list type="number">
/// <item>known values: every secret the Clusterfile holds (SSH passwords and key passphrases, registry passwords, values
/// of env entries whose names look secret, see <see cref="SecretNames.IsSecret"/>) and the body lines of the SSH private keys it
/// names, wherever they appear (a script echoing an env value, a config file holding a password);</item>
/// <item>shapes: PEM private key blocks; <c>NAME=value</c>, <c>NAME: value</c>, <c>"NAME": "value"</c> and
/// <c>--name=value</c> where NAME looks secret; Kubernetes env entries (<c>name: DB_PASSWORD</c> then <c>value: ...</c>);
/// <c>Authorization:</c> headers (and hosts.toml's <c>Authorization = ["Basic …"]</c>); <c>"auth"</c> entries of docker/containerd credentials; passwords in URLs
/// (<c>https://user:pass@host</c>).</item>
/// </list>
/// A value is replaced by <see cref="Mask"/>; the name stays, so the reader still sees which setting was there.
/// </summary>
public sealed partial class Redactor
{
    public const string Mask = "[REDACTED]";

    /// <summary>Known values shorter than this are not replaced as text (a 2-character password would mask half the bundle); the shapes still catch them.</summary>
    public const int MinLiteralLength = 4;

    private readonly string[] _literals;

    public Redactor(IEnumerable<string> secrets)
    {
        _literals = secrets.Where(s => s.Trim().Length >= MinLiteralLength).Select(s => s.Trim()).Distinct(StringComparer.Ordinal)
            .OrderByDescending(s => s.Length).ToArray();
    }

    /// <summary>How many known values this redactor replaces.</summary>
    public int KnownValues => _literals.Length;

    /// <summary>The secrets of a Clusterfile: passwords, passphrases, secret-looking env values (cluster, hosts, apps) and the private keys' body lines.</summary>
    public static Redactor ForClusterfile(ClusterfileDocument doc)
    {
        var secrets = new List<string>();
        var keyFiles = new HashSet<string>(StringComparer.Ordinal);
        void Ssh(SshSpec s)
        {
            if (s.Password is { } p) secrets.Add(p);
            if (s.PrivateKeyPassphrase is { } pp) secrets.Add(pp);
            if (s.PrivateKeyPath is { } k) keyFiles.Add(k);
        }
        void Env(IEnumerable<KeyValuePair<string, string>> env)
        {
            foreach (var (k, v) in env) if (SecretNames.IsSecret(k)) secrets.Add(v);
        }
        var c = doc.Cluster;
        Ssh(c.Ssh);
        Env(c.Env);
        foreach (var h in c.Hosts)
        {
            Ssh(h.Ssh);
            Env(h.Env);
        }
        if (c.Registry.Local.Password is { } lp) secrets.Add(lp);
        if (c.Registry.External?.Password is { } ep) secrets.Add(ep);
        foreach (var a in doc.Applications) foreach (var cfg in a.Configs) Env(cfg.Env);
        foreach (var f in keyFiles) secrets.AddRange(KeyLines(f));
        return new Redactor(secrets);
    }

    /// <summary>The base64 body lines of a PEM/OpenSSH private key file (none when it cannot be read: it is not collected either).</summary>
    private static IEnumerable<string> KeyLines(string path)
    {
        string text;
        try
        {
            if (!File.Exists(path) || new FileInfo(path).Length > 64 << 10) return [];
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [];
        }
        return text.Split('\n').Select(l => l.Trim()).Where(l => l.Length >= 16 && !l.StartsWith("-----", StringComparison.Ordinal) && !l.Contains(':', StringComparison.Ordinal)).ToList();
    }

    public string Redact(string text)
    {
        if (text.Length == 0) return text;
        foreach (var s in _literals)
        {
            if (text.Contains(s, StringComparison.Ordinal)) text = text.Replace(s, Mask, StringComparison.Ordinal);
        }
        text = PemKey().Replace(text, m => $"{m.Groups["begin"].Value}\n{Mask}\n{m.Groups["end"].Value}");
        text = KubeEnv().Replace(text, m => SecretNames.IsSecret(m.Groups["name"].Value) ? m.Groups["head"].Value + Masked(m.Groups["value"].Value) : m.Value);
        text = Assignment().Replace(text, m => SecretNames.IsSecret(m.Groups["name"].Value) ? m.Groups["head"].Value + Masked(m.Groups["value"].Value) : m.Value);
        text = AuthEntry().Replace(text, m => m.Groups["head"].Value + Masked(m.Groups["value"].Value));
        text = AuthHeader().Replace(text, m => m.Groups["head"].Value + Mask);
        text = UrlPassword().Replace(text, m => m.Groups["head"].Value + Mask + "@");
        return text;
    }

    /// <summary><see cref="Redact"/> of UTF-8 bytes; bytes that are not UTF-8 text (a binary) are dropped whole, not kept unredacted.</summary>
    public byte[] Redact(ReadOnlySpan<byte> data)
    {
        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(data);
        }
        catch (DecoderFallbackException)
        {
            return Encoding.UTF8.GetBytes($"[{data.Length} bytes that are not text, left out]\n");
        }
        return Encoding.UTF8.GetBytes(Redact(text));
    }

    private static string Masked(string value) => value.Length >= 2 && (value[0] is '"' or '\'') && value[^1] == value[0] ? value[0] + Mask + value[0] : Mask;

    [GeneratedRegex(@"(?<begin>-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----)[\s\S]*?(?<end>-----END [A-Z0-9 ]*PRIVATE KEY-----)")]
    private static partial Regex PemKey();

    // NAME=value, export NAME=value, NAME: value, "NAME": "value", --name=value (the value on the same line)
    [GeneratedRegex(@"(?<head>(?:^|(?<=[\s,{;(\[]))(?:--)?[""']?(?<name>[A-Za-z_][A-Za-z0-9_.\-]*)[""']?[ \t]*[=:][ \t]*)(?<value>""[^""\n]*""|'[^'\n]*'|[^\s,;}\]\n][^\s,;}\]]*)", RegexOptions.Multiline)]
    private static partial Regex Assignment();

    // Kubernetes env entries: - name: DB_PASSWORD \n value: ...   (YAML), "name": "DB_PASSWORD", "value": "..." (JSON)
    [GeneratedRegex(@"[""']?name[""']?[ \t]*:[ \t]*[""']?(?<name>[A-Za-z_][A-Za-z0-9_.\-]*)[""']?[ \t]*,?[ \t]*\r?\n?(?<head>[ \t]*[""']?value[""']?[ \t]*:[ \t]*)(?<value>""[^""\n]*""|'[^'\n]*'|[^\s,}\n][^\n,}]*)")]
    private static partial Regex KubeEnv();

    // "auth": "dXNlcjpwYXNz" in docker config.json / containerd auth sections
    [GeneratedRegex(@"(?<head>[""']?\b(?:auth|identitytoken|identityToken)[""']?[ \t]*[=:][ \t]*)(?<value>""[^""\n]*""|'[^'\n]*'|[^\s,}\n]+)")]
    private static partial Regex AuthEntry();

    [GeneratedRegex(@"(?<head>\b(?:Proxy-)?Authorization[""']?[ \t]*[:=][ \t]*\[?[ \t]*[""']?(?:Basic|Bearer|Token)?[ \t]*)[^\s""'\]]+", RegexOptions.IgnoreCase)]
    private static partial Regex AuthHeader();

    [GeneratedRegex(@"(?<head>\b[a-z][a-z0-9+.\-]*://[^\s:/@""']+:)[^\s@/""']+@", RegexOptions.IgnoreCase)]
    private static partial Regex UrlPassword();
}
