namespace Sealer.Core.Distribution.Auth;

/// <summary>A parsed <c>WWW-Authenticate</c> challenge: <c>Bearer realm="...",service="...",scope="..."</c> or <c>Basic realm="..."</c>.</summary>
public sealed record AuthChallenge(string Scheme, IReadOnlyDictionary<string, string> Parameters)
{
    public string? Realm => Parameters.TryGetValue("realm", out var v) ? v : null;

    public string? Service => Parameters.TryGetValue("service", out var v) ? v : null;

    public string? Scope => Parameters.TryGetValue("scope", out var v) ? v : null;

    public bool IsBearer => Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase);

    public bool IsBasic => Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase);

    /// <summary>Parses one header value (RFC 7235 auth-params, quoted strings with backslash escapes). Null if empty.</summary>
    public static AuthChallenge? Parse(string? header)
    {
        if (string.IsNullOrWhiteSpace(header)) return null;
        string s = header.Trim();
        int sp = s.IndexOf(' ');
        string scheme = sp < 0 ? s : s[..sp];
        var ps = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        int i = sp < 0 ? s.Length : sp + 1;
        while (i < s.Length)
        {
            while (i < s.Length && (s[i] == ' ' || s[i] == ',')) i++;
            int eq = s.IndexOf('=', i);
            if (eq < 0) break;
            string key = s[i..eq].Trim();
            i = eq + 1;
            string value;
            if (i < s.Length && s[i] == '"')
            {
                var sb = new System.Text.StringBuilder();
                i++;
                while (i < s.Length && s[i] != '"')
                {
                    if (s[i] == '\\' && i + 1 < s.Length) i++;
                    sb.Append(s[i]);
                    i++;
                }
                i++;
                value = sb.ToString();
            }
            else
            {
                int end = s.IndexOf(',', i);
                if (end < 0) end = s.Length;
                value = s[i..end].Trim();
                i = end;
            }
            if (key.Length > 0) ps[key] = value;
        }
        return new AuthChallenge(scheme, ps);
    }
}
