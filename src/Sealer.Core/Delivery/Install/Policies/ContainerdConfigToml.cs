using System.Text;
using Sealer.Core.Diagnostics;
using Sealer.Core.RegistryServer;

namespace Sealer.Core.Delivery.Install.Policies;

/// <summary>
/// containerd's CRI plugin reads the <c>hosts.toml</c> mirrors only from the folders its registry <c>config_path</c>
/// names; this points it at <see cref="CertsDir"/> in the host's <c>/etc/containerd/config.toml</c>, changing that one
/// value and nothing else of the file (its comments, order and layout stay). Pure.
/// <list type="bullet">
/// <item>The table depends on the file's <c>version</c>: 1 (none) <c>plugins.cri.registry</c>, 2
/// <c>plugins."io.containerd.grpc.v1.cri".registry</c> (containerd 1.x), 3 <c>plugins."io.containerd.cri.v1.images".registry</c>
/// (containerd 2.x); keys may be written under a table header or dotted, quoted either way.</item>
/// <item>An empty <c>config_path</c> is set; one that already names <see cref="CertsDir"/> (alone or in a
/// <c>:</c> list) is left. One that names only other folders is refused: ours would shadow the host's own
/// <c>_default</c> there, or theirs ours.</item>
/// <item>Refused too, as containerd itself refuses them beside <c>config_path</c> (its CRI plugin then fails to load, and
/// with it every pod): the deprecated <c>registry.mirrors</c> entries and <c>registry.configs."HOST".tls</c>.</item>
/// <item>No file: one is written (version 3 for containerd 2.x, else 2) holding just that table, so every other setting
/// keeps containerd's default; no containerd on the host: nothing.</item>
/// </list>
/// </summary>
internal static class ContainerdConfigToml
{
    /// <summary>Where the step writes the hosts.toml files (<see cref="RuntimeConfigOptions.DefaultContainerdCertsDir"/>).</summary>
    public const string CertsDir = RuntimeConfigOptions.DefaultContainerdCertsDir;

    public const string Path = "/etc/containerd/config.toml";

    /// <summary>The new file (null: it is right as it is) and what was done, for the log.</summary>
    public sealed record Result(string? Content, string Says);

    /// <summary>
    /// <paramref name="existing"/>: the file's text (null: no file); <paramref name="containerdMajor"/>: the major version of
    /// the host's containerd (null: none installed). Throws SEA4027 naming the host, file and line when the file cannot take it.
    /// </summary>
    public static Result WithConfigPath(string host, string? existing, int? containerdMajor)
    {
        if (string.IsNullOrWhiteSpace(existing))
        {
            if (containerdMajor is null) return new Result(null, "no containerd");
            int v = containerdMajor >= 2 ? 3 : 2;
            return new Result($"version = {v}\n\n[{TableText(Target(v))}]\n  config_path = \"{CertsDir}\"\n", $"{Path} written (version {v}, config_path only)");
        }

        var doc = Scan(host, existing);
        int version = doc.Version ?? 1;
        if (version is < 1 or > 3) throw Refuse(host, doc.VersionLine, $"its version = {version} is not one containerd 1.x or 2.x reads (1, 2 or 3); fix the file, then run again.");
        var target = Target(version);
        var key = target.Append("config_path").ToArray();

        var current = doc.Keys.FirstOrDefault(k => k.Path.SequenceEqual(key));
        if (current is { } c)
        {
            string? value = c.StringValue;
            if (value is null)
            {
                throw Refuse(host, c.Line, $"config_path = {c.ValueText.Trim()} is not a plain string sealer can read (no escapes, one line); " +
                    $"write it as config_path = \"{CertsDir}\" (or a ':' list naming it), then run again.");
            }
            var dirs = Folders(value);
            if (dirs.Contains(CertsDir, StringComparer.Ordinal)) return new Result(null, $"config_path already names {CertsDir}");
            if (dirs.Count > 0)
            {
                throw Refuse(host, c.Line, $"config_path = \"{value}\" does not name {CertsDir}, where sealer writes the registry mirrors (hosts.toml). " +
                    $"Add it first (config_path = \"{CertsDir}:{value}\") and move any _default/hosts.toml of those folders into a domain's own folder, then run again.");
            }
        }
        CheckConflicts(host, doc, target);
        if (current is { } empty)
        {
            var line = doc.Lines[empty.Line - 1];
            var replaced = line[..empty.ValueStart] + $"\"{CertsDir}\"" + line[empty.ValueEnd..];
            return new Result(Join(doc, empty.Line - 1, [replaced], replace: true), $"config_path set to {CertsDir} (line {empty.Line})");
        }

        // no config_path: under the table's header when it has one ...
        var header = doc.Headers.FirstOrDefault(h => !h.Array && h.Path.SequenceEqual(target));
        if (header is not null)
        {
            var indent = Indent(doc.Lines[header.Line - 1]) + "  ";
            return new Result(Join(doc, header.Line, [$"{indent}config_path = \"{CertsDir}\""], replace: false), $"config_path = \"{CertsDir}\" added under line {header.Line}");
        }
        // ... a table whose value is an inline table cannot take another key ...
        var inline = doc.Keys.FirstOrDefault(k => k.Path.Length <= target.Length && target.Take(k.Path.Length).SequenceEqual(k.Path));
        if (inline is not null)
        {
            throw Refuse(host, inline.Line, $"{string.Join('.', inline.Path)} is an inline value, which cannot take config_path; " +
                $"write it as a [{TableText(target)}] table with config_path = \"{CertsDir}\", then run again.");
        }
        // ... beside the dotted keys that define the table ...
        var dotted = doc.Keys.LastOrDefault(k => k.Path.Length > target.Length && k.Path.Take(target.Length).SequenceEqual(target) && k.Table.Length < target.Length);
        if (dotted is not null)
        {
            var relative = TableText(key.Skip(dotted.Table.Length).ToArray());
            return new Result(Join(doc, dotted.EndLine, [$"{Indent(doc.Lines[dotted.Line - 1])}{relative} = \"{CertsDir}\""], replace: false),
                $"{relative} = \"{CertsDir}\" added after line {dotted.EndLine}");
        }
        // ... or a table of its own at the end
        var nl = doc.NewLine;
        var text = existing.EndsWith('\n') ? existing : existing + nl;
        return new Result(text + $"{nl}[{TableText(target)}]{nl}  config_path = \"{CertsDir}\"{nl}", $"[{TableText(target)}] config_path = \"{CertsDir}\" appended");
    }

    /// <summary>The folders a <c>config_path</c> value names (containerd splits it at <c>:</c>), without trailing slashes.</summary>
    public static IReadOnlyList<string> Folders(string configPath) =>
        configPath.Split(':', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(d => d.TrimEnd('/')).ToList();

    /// <summary>The major version in <c>containerd --version</c>'s line ("containerd github.com/containerd/containerd/v2 v2.1.3 …", "… 1.6.20~ds1 …"); null when none.</summary>
    public static int? MajorOf(string? versionLine)
    {
        if (string.IsNullOrWhiteSpace(versionLine)) return null;
        foreach (var word in versionLine.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1))
        {
            var w = word.StartsWith('v') ? word[1..] : word;
            int dot = w.IndexOf('.');
            if (dot > 0 && int.TryParse(w[..dot], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int major)
                && dot + 1 < w.Length && char.IsAsciiDigit(w[dot + 1])) return major;
        }
        return null;
    }

    private static string[] Target(int version) => version switch
    {
        1 => ["plugins", "cri", "registry"],
        2 => ["plugins", "io.containerd.grpc.v1.cri", "registry"],
        _ => ["plugins", "io.containerd.cri.v1.images", "registry"],
    };

    private static void CheckConflicts(string host, Document doc, string[] target)
    {
        bool Under(string[] path, string child, int minExtra) =>
            path.Length >= target.Length + 1 + minExtra && path.Take(target.Length).SequenceEqual(target) && path[target.Length] == child;
        foreach (var (line, path, isHeader, value) in doc.Headers.Select(h => (h.Line, h.Path, true, (string?)null)).Concat(doc.Keys.Select(k => (k.Line, k.Path, false, (string?)k.ValueText.Trim()))))
        {
            // mirrors: a domain's table or key (an empty [..registry.mirrors] table, as containerd 1.x's default file has, is fine)
            bool mirrors = Under(path, "mirrors", 1) || (!isHeader && Under(path, "mirrors", 0) && value is not "{}" and not "{ }");
            bool tls = (Under(path, "configs", 2) && path[target.Length + 2] == "tls")
                || (!isHeader && path.Length == target.Length + 2 && Under(path, "configs", 1) && value!.Contains("tls", StringComparison.Ordinal));
            if (mirrors || tls)
            {
                throw Refuse(host, line, $"{string.Join('.', path)}: containerd refuses registry.{(mirrors ? "mirrors" : "configs.\"HOST\".tls")} beside config_path " +
                    $"(its CRI plugin would not load), and sealer needs config_path = \"{CertsDir}\" for the cluster's registry. " +
                    $"Move {(mirrors ? "those mirrors" : "that TLS setting")} into {CertsDir}/HOST/hosts.toml (containerd's docs/hosts.md), remove {(mirrors ? "them" : "it")} here, then run again.");
            }
        }
    }

    private static SealerException Refuse(string host, int line, string what) =>
        new(ErrorCodes.ContainerdConfigRefused, $"{host}: {Path}{(line > 0 ? ":" + line : "")}: {what}");

    private static string Indent(string line) => line[..(line.Length - line.TrimStart(' ', '\t').Length)];

    private static string Join(Document doc, int at, IEnumerable<string> insert, bool replace)
    {
        var all = doc.Lines.Take(at).Concat(insert).Concat(doc.Lines.Skip(replace ? at + 1 : at));
        return string.Join(doc.NewLine, all);
    }

    /// <summary>A key path as TOML text: bare segments where they may be, else quoted.</summary>
    private static string TableText(IEnumerable<string> path) =>
        string.Join('.', path.Select(s => s.Length > 0 && s.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '_' or '-') ? s : "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\""));

    private sealed record Header(int Line, string[] Path, bool Array);

    /// <summary>A key = value line: its full path, the table it is in, the value's span in the line, and the last line of a value spanning lines.</summary>
    private sealed record Key(int Line, int EndLine, string[] Path, string[] Table, int ValueStart, int ValueEnd, string ValueText)
    {
        public string? StringValue
        {
            get
            {
                var v = ValueText.Trim();
                if (v.Length >= 2 && v[0] == '\'' && v[^1] == '\'' && !v.StartsWith("'''", StringComparison.Ordinal)) return v[1..^1];
                if (v.Length >= 2 && v[0] == '"' && v[^1] == '"' && !v.StartsWith("\"\"\"", StringComparison.Ordinal) && !v[1..^1].Contains('\\')) return v[1..^1];
                return null;
            }
        }
    }

    private sealed record Document(List<string> Lines, string NewLine, List<Header> Headers, List<Key> Keys, int? Version, int VersionLine);

    /// <summary>
    /// Walks the file line by line: table headers, key = value lines (dotted, bare or quoted keys), values that span lines
    /// (multi-line strings, arrays, inline tables) skipped as a whole. Not a full TOML parser: enough to find one key and
    /// the tables around it; a line it cannot read is refused, never guessed.
    /// </summary>
    private static Document Scan(string host, string text)
    {
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n').ToList();
        var headers = new List<Header>();
        var keys = new List<Key>();
        string[] table = [];
        int? version = null;
        int versionLine = 0;
        for (int i = 0; i < lines.Count; i++)
        {
            var line = lines[i];
            int p = SkipSpace(line, 0);
            if (p >= line.Length || line[p] == '#') continue;
            if (line[p] == '[')
            {
                bool array = p + 1 < line.Length && line[p + 1] == '[';
                int q = p + (array ? 2 : 1);
                var path = ReadKey(line, ref q) ?? throw Refuse(host, i + 1, "a table header sealer cannot read; fix the file, then run again.");
                q = SkipSpace(line, q);
                if (!line.AsSpan(q).StartsWith(array ? "]]" : "]")) throw Refuse(host, i + 1, "a table header sealer cannot read; fix the file, then run again.");
                table = path;
                headers.Add(new Header(i + 1, path, array));
                continue;
            }
            int k = p;
            var keyPath = ReadKey(line, ref k);
            k = SkipSpace(line, k);
            if (keyPath is null || k >= line.Length || line[k] != '=') throw Refuse(host, i + 1, "a line sealer cannot read as key = value; fix the file, then run again.");
            int valueStart = SkipSpace(line, k + 1);
            int start = i;
            int valueEnd = SkipValue(lines, ref i, valueStart);
            if (i != start) valueEnd = lines[start].Length;
            var full = table.Concat(keyPath).ToArray();
            var valueText = i == start ? line[valueStart..valueEnd] : string.Join('\n', new[] { line[valueStart..] }.Concat(lines.Skip(start + 1).Take(i - start)));
            keys.Add(new Key(start + 1, i + 1, full, table, valueStart, valueEnd, valueText));
            if (table.Length == 0 && keyPath is ["version"])
            {
                versionLine = start + 1;
                version = int.TryParse(valueText.Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int v) ? v : -1;
            }
        }
        return new Document(lines, text.Contains("\r\n", StringComparison.Ordinal) ? "\r\n" : "\n", headers, keys, version, versionLine);
    }

    private static int SkipSpace(string s, int i)
    {
        while (i < s.Length && s[i] is ' ' or '\t') i++;
        return i;
    }

    /// <summary>A dotted key at <paramref name="i"/> (bare, "basic" or 'literal' segments); null when none can be read.</summary>
    private static string[]? ReadKey(string s, ref int i)
    {
        var parts = new List<string>();
        while (true)
        {
            i = SkipSpace(s, i);
            if (i >= s.Length) return null;
            if (s[i] == '"' || s[i] == '\'')
            {
                char quote = s[i];
                var sb = new StringBuilder();
                int j = i + 1;
                for (; j < s.Length && s[j] != quote; j++)
                {
                    if (quote == '"' && s[j] == '\\' && j + 1 < s.Length) { j++; sb.Append(s[j] switch { 'n' => '\n', 't' => '\t', _ => s[j] }); }
                    else sb.Append(s[j]);
                }
                if (j >= s.Length) return null;
                parts.Add(sb.ToString());
                i = j + 1;
            }
            else
            {
                int j = i;
                while (j < s.Length && (char.IsAsciiLetterOrDigit(s[j]) || s[j] is '_' or '-')) j++;
                if (j == i) return null;
                parts.Add(s[i..j]);
                i = j;
            }
            int after = SkipSpace(s, i);
            if (after < s.Length && s[after] == '.') { i = after + 1; continue; }
            return [.. parts];
        }
    }

    /// <summary>
    /// Skips the value starting at <paramref name="start"/> of line <paramref name="i"/>, moving <paramref name="i"/> to its
    /// last line; returns where it ends on that line (before a trailing comment).
    /// </summary>
    private static int SkipValue(List<string> lines, ref int i, int start)
    {
        int depth = 0;
        int j = start;
        var s = lines[i];
        while (true)
        {
            if (j >= s.Length)
            {
                if (depth == 0 || i + 1 >= lines.Count) return TrimEnd(s, s.Length);
                s = lines[++i];
                j = 0;
                continue;
            }
            char c = s[j];
            if (c == '#') { if (depth == 0) return TrimEnd(s, j); j = s.Length; continue; }
            if (c is '[' or '{') { depth++; j++; continue; }
            if (c is ']' or '}') { depth--; j++; continue; }
            if (c is '"' or '\'')
            {
                string triple = new(c, 3);
                if (s.AsSpan(j).StartsWith(triple))
                {
                    int close = s.IndexOf(triple, j + 3, StringComparison.Ordinal);
                    while (close < 0 && i + 1 < lines.Count) { s = lines[++i]; close = s.IndexOf(triple, StringComparison.Ordinal); }
                    j = close < 0 ? s.Length : close + 3;
                    while (j < s.Length && s[j] == c) j++; // up to two quotes may end the content
                    continue;
                }
                j++;
                while (j < s.Length && s[j] != c) j += c == '"' && s[j] == '\\' ? 2 : 1;
                j++;
                continue;
            }
            j++;
        }
    }

    private static int TrimEnd(string s, int end)
    {
        while (end > 0 && s[end - 1] is ' ' or '\t') end--;
        return end;
    }
}
