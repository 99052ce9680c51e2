using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Sealer.Core.Diagnostics;
using Sealer.Core.Layout;

namespace Sealer.Core.Delivery.Ssh;

public enum HostKeyStatus
{
    /// <summary>known_hosts has this exact key for the host.</summary>
    Trusted,
    /// <summary>known_hosts has no key of this type for the host.</summary>
    Unknown,
    /// <summary>known_hosts has a different key of the same type for the host (or the key is @revoked).</summary>
    Changed,
}

/// <summary>
/// An OpenSSH known_hosts file: plain names, <c>[host]:port</c>, comma lists, <c>*</c>/<c>?</c> wildcards, <c>!</c> negation,
/// hashed entries (<c>|1|salt|hmac-sha1</c>) and the <c>@revoked</c> marker. New keys (trust on first use) are appended
/// atomically, hashed like <c>HashKnownHosts yes</c>.
/// </summary>
public sealed class KnownHosts
{
    private readonly List<Entry> _entries;
    private readonly object _gate = new();

    private KnownHosts(string? path, List<Entry> entries)
    {
        Path = path;
        _entries = entries;
    }

    public string? Path { get; }

    /// <summary>The user's <c>~/.ssh/known_hosts</c>.</summary>
    public static string DefaultPath => System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".ssh", "known_hosts");

    public static KnownHosts Load(string path)
    {
        try
        {
            return File.Exists(path) ? Parse(File.ReadAllText(path), path) : new KnownHosts(path, []);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new SealerException(ErrorCodes.KnownHostsUnusable, $"Cannot read known_hosts '{path}': {ex.Message}.", path, inner: ex);
        }
    }

    public static KnownHosts Parse(string text, string? path = null)
    {
        var entries = new List<Entry>();
        foreach (var rawLine in text.Split('\n'))
        {
            var line = rawLine.Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            var parts = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            string? marker = null;
            if (parts[0].StartsWith('@'))
            {
                marker = parts[0];
                parts = parts[1..];
            }
            if (parts.Length < 3 || marker == "@cert-authority") continue;
            byte[] blob;
            try
            {
                blob = Convert.FromBase64String(parts[2]);
            }
            catch (FormatException)
            {
                continue; // OpenSSH skips such lines too
            }
            entries.Add(new Entry(parts[0], parts[1], blob, marker == "@revoked"));
        }
        return new KnownHosts(path, entries);
    }

    /// <summary>The name OpenSSH looks up: <c>host</c> on port 22, <c>[host]:port</c> otherwise.</summary>
    public static string HostName(string host, int port) => port == 22 ? host : $"[{host}]:{port}";

    /// <summary>The key type inside an SSH public key blob (its first string), e.g. <c>ssh-ed25519</c>, <c>ssh-rsa</c>.</summary>
    public static string KeyType(byte[] blob)
    {
        if (blob.Length < 4) return "";
        int len = (int)BinaryPrimitives.ReadUInt32BigEndian(blob);
        return len > 0 && len <= blob.Length - 4 ? Encoding.ASCII.GetString(blob, 4, len) : "";
    }

    /// <summary>SHA256 fingerprint as OpenSSH prints it (<c>SHA256:base64-without-padding</c>).</summary>
    public static string Fingerprint(byte[] blob) => "SHA256:" + Convert.ToBase64String(SHA256.HashData(blob)).TrimEnd('=');

    /// <summary>The key types known_hosts holds for a host, in file order (so the client can prefer them).</summary>
    public IReadOnlyList<string> KnownKeyTypes(string host, int port)
    {
        string name = HostName(host, port);
        lock (_gate)
        {
            return _entries.Where(e => !e.Revoked && e.Matches(name)).Select(e => e.KeyType).Distinct(StringComparer.Ordinal).ToList();
        }
    }

    public HostKeyStatus Check(string host, int port, byte[] keyBlob)
    {
        string name = HostName(host, port);
        string type = KeyType(keyBlob);
        bool sameTypeOther = false;
        lock (_gate)
        {
            foreach (var e in _entries.Where(e => e.Matches(name)))
            {
                bool same = e.Key.AsSpan().SequenceEqual(keyBlob);
                if (e.Revoked && same) return HostKeyStatus.Changed;
                if (e.Revoked) continue;
                if (same) return HostKeyStatus.Trusted;
                if (string.Equals(e.KeyType, type, StringComparison.Ordinal)) sameTypeOther = true;
            }
        }
        return sameTypeOther ? HostKeyStatus.Changed : HostKeyStatus.Unknown;
    }

    /// <summary>Records a key (trust on first use): a hashed line appended atomically to the file.</summary>
    public void Add(string host, int port, byte[] keyBlob)
    {
        string name = HostName(host, port);
        var salt = RandomNumberGenerator.GetBytes(20);
        var hash = HMACSHA1.HashData(salt, Encoding.ASCII.GetBytes(name));
        string hashed = $"|1|{Convert.ToBase64String(salt)}|{Convert.ToBase64String(hash)}";
        string line = $"{hashed} {KeyType(keyBlob)} {Convert.ToBase64String(keyBlob)}\n";
        lock (_gate)
        {
            _entries.Add(new Entry(hashed, KeyType(keyBlob), keyBlob, false));
            if (Path is null) return;
            try
            {
                string dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!;
                Directory.CreateDirectory(dir);
                string existing = File.Exists(Path) ? File.ReadAllText(Path) : "";
                if (existing.Length > 0 && !existing.EndsWith('\n')) existing += "\n";
                AtomicFile.WriteAllBytes(Path, Encoding.UTF8.GetBytes(existing + line));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new SealerException(ErrorCodes.KnownHostsUnusable, $"Cannot record the host key of {name} in '{Path}': {ex.Message}.", Path, inner: ex);
            }
        }
    }

    private sealed record Entry(string Hosts, string KeyType, byte[] Key, bool Revoked)
    {
        public bool Matches(string name)
        {
            if (Hosts.StartsWith("|1|", StringComparison.Ordinal))
            {
                var parts = Hosts.Split('|');
                if (parts.Length != 4) return false;
                try
                {
                    var salt = Convert.FromBase64String(parts[2]);
                    var want = Convert.FromBase64String(parts[3]);
                    return CryptographicOperations.FixedTimeEquals(HMACSHA1.HashData(salt, Encoding.ASCII.GetBytes(name)), want);
                }
                catch (FormatException)
                {
                    return false;
                }
            }
            bool matched = false;
            foreach (var pattern in Hosts.Split(','))
            {
                bool negate = pattern.StartsWith('!');
                var p = negate ? pattern[1..] : pattern;
                if (Glob(p, name))
                {
                    if (negate) return false;
                    matched = true;
                }
            }
            return matched;
        }

        private static bool Glob(string pattern, string text)
        {
            int p = 0, t = 0, star = -1, mark = 0;
            while (t < text.Length)
            {
                if (p < pattern.Length && (pattern[p] == '?' || char.ToLowerInvariant(pattern[p]) == char.ToLowerInvariant(text[t]))) { p++; t++; }
                else if (p < pattern.Length && pattern[p] == '*') { star = p++; mark = t; }
                else if (star >= 0) { p = star + 1; t = ++mark; }
                else return false;
            }
            while (p < pattern.Length && pattern[p] == '*') p++;
            return p == pattern.Length;
        }
    }
}
