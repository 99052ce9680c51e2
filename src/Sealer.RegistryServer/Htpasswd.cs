using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Sealer.Core.Diagnostics;

namespace Sealer.RegistryServer;

/// <summary>
/// HTTP basic auth against an htpasswd file of bcrypt entries (<c>htpasswd -Bbn user pass</c>), as distribution's htpasswd
/// access controller. bcrypt is slow on purpose, so a successful check is remembered by the SHA-256 of the credentials
/// (never the password itself) for the life of the process. Passwords are never logged.
/// </summary>
public sealed class HtpasswdAuthenticator
{
    private readonly Dictionary<string, string> _users;
    private readonly ConcurrentDictionary<string, string> _accepted = new(StringComparer.Ordinal);

    private HtpasswdAuthenticator(Dictionary<string, string> users) => _users = users;

    public int UserCount => _users.Count;

    public static HtpasswdAuthenticator Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new SealerException(ErrorCodes.RegistryHtpasswdInvalid, $"The htpasswd file '{path}' does not exist. Create it with 'htpasswd -Bc {path} USER'.", path);
        }
        var users = new Dictionary<string, string>(StringComparer.Ordinal);
        int line = 0;
        foreach (var raw in File.ReadLines(path))
        {
            line++;
            string text = raw.Trim();
            if (text.Length == 0 || text.StartsWith('#')) continue;
            int colon = text.IndexOf(':');
            string hash = colon > 0 ? text[(colon + 1)..] : "";
            if (colon <= 0 || !(hash.StartsWith("$2a$", StringComparison.Ordinal) || hash.StartsWith("$2b$", StringComparison.Ordinal) || hash.StartsWith("$2y$", StringComparison.Ordinal)))
            {
                throw new SealerException(ErrorCodes.RegistryHtpasswdInvalid,
                    $"Line {line} is not 'user:bcrypt-hash'. Only bcrypt entries are accepted: create them with 'htpasswd -B'.", path, line);
            }
            users[text[..colon]] = hash;
        }
        if (users.Count == 0) throw new SealerException(ErrorCodes.RegistryHtpasswdInvalid, $"'{path}' has no users. Add one with 'htpasswd -B {path} USER'.", path);
        return new HtpasswdAuthenticator(users);
    }

    /// <summary>The user name when the Authorization header holds valid basic credentials, else null.</summary>
    public string? Authenticate(string? authorization)
    {
        if (authorization is null || !authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase)) return null;
        string key = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(authorization)));
        if (_accepted.TryGetValue(key, out var known)) return known;
        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(authorization[6..].Trim()));
        }
        catch (FormatException)
        {
            return null;
        }
        int colon = decoded.IndexOf(':');
        if (colon <= 0) return null;
        string user = decoded[..colon];
        if (!_users.TryGetValue(user, out var hash)) return null;
        bool ok;
        try
        {
            ok = BCrypt.Net.BCrypt.Verify(decoded[(colon + 1)..], hash);
        }
        catch (BCrypt.Net.SaltParseException)
        {
            ok = false;
        }
        if (!ok) return null;
        if (_accepted.Count < 10000) _accepted[key] = user;
        return user;
    }
}
