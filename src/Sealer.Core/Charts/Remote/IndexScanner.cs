using System.Globalization;
using System.Text;

namespace Sealer.Core.Charts.Remote;

/// <summary>
/// A hand-written, line-at-a-time reader for the shape every Helm repository index has in practice — what helm's
/// <c>repo index</c>, ChartMuseum, Harbor and chart-releaser write (go-yaml block style):
/// <code>
/// apiVersion: v1
/// entries:
///   NAME:
///   - KEY: VALUE          (version, urls, digest, name are read; every other field is skipped)
///     urls:
///     - URL
///     description: long text folded onto
///       more-indented lines          (plain, 'single', "double"-quoted, |/&gt; block scalars, nested maps/lists: skipped)
/// generated: "..."
/// </code>
/// It keeps what <see cref="RepositoryIndex.Parse"/> keeps (the fields of the chart names <c>keep</c> accepts) and costs one
/// pass over the lines with no YAML event objects, so a 20 MB index reads in a fraction of a second. Anything outside that
/// shape — flow collections around the read fields, anchors/aliases/tags/merge keys in entries, multi-line or block values
/// of version/digest/name/urls, tabs in indentation, directives, several documents, JSON — makes it give up (null), and the
/// caller reads the index with the full YAML reader instead: a shape it does not know is never a silent miss.
/// Chart names it skips are scanned too (not skipped unread), so a quoted scalar or block scalar there cannot derail it.
/// </summary>
internal sealed class IndexScanner
{
    private readonly TextReader _reader;
    private readonly Func<string, bool>? _keep;
    private readonly CancellationToken _cancellationToken;
    private readonly Dictionary<string, List<IndexChartVersion>> _entries = new(StringComparer.Ordinal);
    private string? _peeked;
    private bool _hasPeeked;
    private int _lines;

    private IndexScanner(TextReader reader, Func<string, bool>? keep, CancellationToken cancellationToken)
    {
        _reader = reader;
        _keep = keep;
        _cancellationToken = cancellationToken;
    }

    /// <summary>The index's entries (versions in file order), or null when the text is not in the shape this scanner reads.</summary>
    public static Dictionary<string, List<IndexChartVersion>>? TryScan(TextReader reader, Func<string, bool>? keep = null, CancellationToken cancellationToken = default)
    {
        var scanner = new IndexScanner(reader, keep, cancellationToken);
        try
        {
            return scanner.Scan() ? scanner._entries : null;
        }
        catch (GiveUpException)
        {
            return null;
        }
    }

    /// <summary>Thrown inside the scanner (at most once per index) when the text leaves the shape it reads.</summary>
    private sealed class GiveUpException : Exception;

    private static GiveUpException GiveUp() => new();

    private bool Scan()
    {
        bool sawApiVersion = false, first = true;
        while (Next() is { } line)
        {
            if (IsBlankOrComment(line)) continue;
            if (first && line.TrimEnd() == "---") { first = false; continue; }
            first = false;
            if (Indent(line) != 0 || line.StartsWith("---", StringComparison.Ordinal) || line.StartsWith("...", StringComparison.Ordinal)) throw GiveUp();
            int valueAt = KeyEnd(line, 0, out var key);
            switch (key)
            {
                case "apiVersion":
                    sawApiVersion = ReadScalar(line, valueAt, 0).Length > 0;
                    break;
                case "entries":
                    var rest = Rest(line, valueAt);
                    if (rest.Length == 0) ReadEntries();
                    else if (rest is not ("{}" or "null" or "~")) throw GiveUp();
                    break;
                default:
                    SkipValue(line, valueAt, 0);
                    break;
            }
        }
        // No apiVersion: the full reader says so, with its coded error.
        return sawApiVersion;
    }

    private void ReadEntries()
    {
        int nameIndent = -1;
        while (PeekContent() is { } line)
        {
            int indent = Indent(line);
            if (indent == 0) return;
            if (nameIndent < 0) nameIndent = indent;
            if (indent != nameIndent || line[indent] == '-') throw GiveUp();
            Next();
            _cancellationToken.ThrowIfCancellationRequested();
            int valueAt = KeyEnd(line, indent, out var name);
            List<IndexChartVersion>? list = null;
            if (_keep is null || _keep(name))
            {
                if (!_entries.TryGetValue(name, out list)) _entries[name] = list = [];
            }
            var rest = Rest(line, valueAt);
            if (rest.Length == 0) ReadVersions(nameIndent, name, list);
            else if (rest[0] is '[' or '{' && rest is not "[]") throw GiveUp();
            else SkipValue(line, valueAt, indent); // "NAME: []" or a scalar: no versions (as the full reader)
        }
    }

    private void ReadVersions(int nameIndent, string name, List<IndexChartVersion>? list)
    {
        int dashIndent = -1;
        while (PeekContent() is { } line)
        {
            int indent = Indent(line);
            if (indent < nameIndent || (indent == nameIndent && line[indent] != '-')) return;
            if (line[indent] != '-' || line.Length == indent + 1 || line[indent + 1] != ' ') throw GiveUp();
            if (dashIndent < 0) dashIndent = indent;
            if (indent != dashIndent) throw GiveUp();
            Next();
            int contentIndent = indent + 1;
            while (contentIndent < line.Length && line[contentIndent] == ' ') contentIndent++;
            if (contentIndent == line.Length || line[contentIndent] is '-' or '#') throw GiveUp();
            string? entryName = null, version = null, digest = null;
            var urls = new List<string>();
            ReadField(line, contentIndent, ref entryName, ref version, ref digest, urls);
            while (PeekContent() is { } field)
            {
                int fi = Indent(field);
                if (fi < contentIndent) break;
                if (fi > contentIndent || field[fi] == '-') throw GiveUp();
                Next();
                ReadField(field, fi, ref entryName, ref version, ref digest, urls);
            }
            // As the full reader: entries without a version are not kept.
            if (list is not null && !string.IsNullOrEmpty(version)) list.Add(new IndexChartVersion(entryName ?? name, version, urls, string.IsNullOrEmpty(digest) ? null : digest));
        }
    }

    private void ReadField(string line, int keyIndent, ref string? entryName, ref string? version, ref string? digest, List<string> urls)
    {
        int valueAt = KeyEnd(line, keyIndent, out var key);
        switch (key)
        {
            case "<<": throw GiveUp(); // a merge key could bring version/urls from elsewhere
            case "name": entryName = ReadScalar(line, valueAt, keyIndent); break;
            case "version": version = ReadScalar(line, valueAt, keyIndent); break;
            case "digest": digest = ReadScalar(line, valueAt, keyIndent); break;
            case "urls":
                var rest = Rest(line, valueAt);
                if (rest.Length == 0)
                {
                    while (PeekContent() is { } item)
                    {
                        int ii = Indent(item);
                        if (ii < keyIndent || (ii == keyIndent && item[ii] != '-')) break;
                        if (item[ii] != '-' || item.Length == ii + 1 || item[ii + 1] != ' ') throw GiveUp();
                        Next();
                        urls.Add(ReadScalar(item, ii + 1, ii));
                    }
                }
                else if (rest[0] is '[' or '{' && rest is not "[]") throw GiveUp();
                else SkipValue(line, valueAt, keyIndent); // a scalar where a list belongs: the full reader skips it
                break;
            default:
                SkipValue(line, valueAt, keyIndent);
                break;
        }
    }

    /// <summary>A one-line scalar value (plain, 'single' or "double" quoted) starting at <paramref name="at"/>; anything else gives up.</summary>
    private string ReadScalar(string line, int at, int parentIndent)
    {
        while (at < line.Length && line[at] == ' ') at++;
        string value;
        if (at == line.Length || line[at] == '#')
        {
            value = "";
        }
        else
        {
            char c = line[at];
            if (c == '"') value = DoubleQuoted(line, ref at);
            else if (c == '\'') value = SingleQuoted(line, ref at);
            else if ("|>[]{}&*!%@`,?".Contains(c) || (c is '-' or ':' && (at + 1 == line.Length || line[at + 1] == ' '))) throw GiveUp();
            else
            {
                int end = PlainEnd(line, at);
                value = line[at..end].TrimEnd(' ');
                at = end;
            }
            if (Rest(line, at) is { Length: > 0 } tail && tail[0] != '#') throw GiveUp();
        }
        // A more-indented next line continues the value (or nests under it): not one-line.
        if (PeekContent() is { } next && (Indent(next) > parentIndent || (Indent(next) == parentIndent && next[parentIndent] == '-' && value.Length == 0))) throw GiveUp();
        return value;
    }

    /// <summary>Where a plain scalar ends: before " #" (a comment) or at the end of the line; ": " inside gives up (not a scalar).</summary>
    private static int PlainEnd(string line, int at)
    {
        for (int i = at; i < line.Length; i++)
        {
            if (line[i] == '#' && line[i - 1] is ' ' or '\t') return i;
            if (line[i] == ':' && (i + 1 == line.Length || line[i + 1] is ' ' or '\t')) throw GiveUp();
        }
        return line.Length;
    }

    private static string SingleQuoted(string line, ref int at)
    {
        var sb = new StringBuilder();
        for (int i = at + 1; i < line.Length; i++)
        {
            if (line[i] != '\'') { sb.Append(line[i]); continue; }
            if (i + 1 < line.Length && line[i + 1] == '\'') { sb.Append('\''); i++; continue; }
            at = i + 1;
            return sb.ToString();
        }
        throw GiveUp(); // continues on the next line
    }

    private static string DoubleQuoted(string line, ref int at)
    {
        var sb = new StringBuilder();
        for (int i = at + 1; i < line.Length; i++)
        {
            char c = line[i];
            if (c == '"') { at = i + 1; return sb.ToString(); }
            if (c != '\\') { sb.Append(c); continue; }
            if (++i == line.Length) throw GiveUp(); // an escaped line break
            switch (line[i])
            {
                case '0': sb.Append('\0'); break;
                case 'a': sb.Append('\a'); break;
                case 'b': sb.Append('\b'); break;
                case 't' or '\t': sb.Append('\t'); break;
                case 'n': sb.Append('\n'); break;
                case 'v': sb.Append('\v'); break;
                case 'f': sb.Append('\f'); break;
                case 'r': sb.Append('\r'); break;
                case 'e': sb.Append('\x1b'); break;
                case ' ': sb.Append(' '); break;
                case '"': sb.Append('"'); break;
                case '/': sb.Append('/'); break;
                case '\\': sb.Append('\\'); break;
                case 'N': sb.Append('\u0085'); break;
                case '_': sb.Append('\u00a0'); break;
                case 'L': sb.Append('\u2028'); break;
                case 'P': sb.Append('\u2029'); break;
                case 'x': sb.Append(Hex(line, ref i, 2)); break;
                case 'u': sb.Append(Hex(line, ref i, 4)); break;
                case 'U': sb.Append(Hex(line, ref i, 8)); break;
                default: throw GiveUp();
            }
        }
        throw GiveUp(); // continues on the next line
    }

    private static string Hex(string line, ref int i, int digits)
    {
        if (i + digits >= line.Length || !int.TryParse(line.AsSpan(i + 1, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int cp)
            || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        {
            throw GiveUp();
        }
        i += digits;
        return char.ConvertFromUtf32(cp);
    }

    /// <summary>
    /// Skips the value of a key (or a sequence item) whose text starts at <paramref name="at"/>, and everything nested under
    /// it. A block scalar takes every more-indented line unread; a quoted scalar or flow collection runs to its close, on
    /// whatever lines that takes (go-yaml does not require their continuation lines to be indented); a plain scalar takes its
    /// more-indented continuation lines; an empty value takes the nested lines (and a list at the key's own indent).
    /// </summary>
    private void SkipValue(string line, int at, int parentIndent)
    {
        while (at < line.Length && line[at] == ' ') at++;
        if (at == line.Length || line[at] == '#' || (line[at] is '&' or '!' && NextTokenIsLast(line, at)))
        {
            while (PeekContent() is { } next)
            {
                int ni = Indent(next);
                if (ni < parentIndent || (ni == parentIndent && !IsDashLine(next, ni))) break;
                Next();
                SkipLine(next, ni);
            }
            return;
        }
        SkipInline(line, at, parentIndent);
    }

    private static bool NextTokenIsLast(string line, int at)
    {
        int end = line.IndexOf(' ', at);
        return end < 0 || Rest(line, end).Length == 0 || Rest(line, end)[0] == '#';
    }

    private static bool IsDashLine(string line, int indent) => line[indent] == '-' && (line.Length == indent + 1 || line[indent + 1] == ' ');

    /// <summary>One nested line of a skipped value: its own value may open a block scalar, a quoted scalar or a flow collection spanning lines.</summary>
    private void SkipLine(string line, int indent)
    {
        // The value's parent column: the key's column for "key: value", the last dash's for a list item.
        int at = indent, parent = indent;
        while (at < line.Length && IsDashLine(line, at))
        {
            parent = at++;
            while (at < line.Length && line[at] == ' ') at++;
        }
        if (at == line.Length || line[at] == '#') return;
        // "key: value": skip past the key (a quoted key closes on its line)
        int colon = KeyColon(line, at);
        if (colon >= 0)
        {
            parent = at;
            at = colon + 1;
        }
        while (at < line.Length && line[at] == ' ') at++;
        if (at == line.Length || line[at] == '#') return;
        SkipInline(line, at, parent);
    }

    /// <summary>Skips a value that starts on this line at <paramref name="at"/> (not empty).</summary>
    private void SkipInline(string line, int at, int parentIndent)
    {
        // tags and anchors before the value
        while (at < line.Length && line[at] is '&' or '!')
        {
            int sp = line.IndexOf(' ', at);
            if (sp < 0) return;
            at = sp;
            while (at < line.Length && line[at] == ' ') at++;
        }
        if (at == line.Length) return;
        char c = line[at];
        switch (c)
        {
            case '|' or '>':
                // block scalar: every following line that is blank or more indented than the parent belongs to it
                while (Peek() is { } next && (IsBlank(next) || Indent(next) > parentIndent)) Next();
                return;
            case '"' or '\'':
                SkipQuoted(line, at);
                return;
            case '[' or '{':
                SkipFlow(line, at);
                return;
            default:
                // plain scalar (or alias): more-indented lines continue it
                while (PeekContent() is { } next && Indent(next) > parentIndent) Next();
                return;
        }
    }

    private void SkipQuoted(string line, int at)
    {
        char q = line[at];
        int i = at + 1;
        while (true)
        {
            for (; i < line.Length; i++)
            {
                if (q == '"' && line[i] == '\\') { i++; continue; }
                if (line[i] != q) continue;
                if (q == '\'' && i + 1 < line.Length && line[i + 1] == '\'') { i++; continue; }
                return;
            }
            line = Next() ?? throw GiveUp();
            i = 0;
        }
    }

    private void SkipFlow(string line, int at)
    {
        int depth = 0;
        int i = at;
        char quote = '\0';
        while (true)
        {
            for (; i < line.Length; i++)
            {
                char c = line[i];
                if (quote != '\0')
                {
                    if (quote == '"' && c == '\\') { i++; continue; }
                    if (c == quote)
                    {
                        if (quote == '\'' && i + 1 < line.Length && line[i + 1] == '\'') { i++; continue; }
                        quote = '\0';
                    }
                    continue;
                }
                if (c is '"' or '\'' && (i == 0 || line[i - 1] is ' ' or '[' or '{' or ',' or ':')) quote = c;
                else if (c is '[' or '{') depth++;
                else if (c is ']' or '}' && --depth == 0) return;
                else if (c == '#' && i > 0 && line[i - 1] == ' ') break; // a comment ends the line
            }
            line = Next() ?? throw GiveUp();
            i = 0;
        }
    }

    /// <summary>The key of a "key: value" line at <paramref name="at"/> (plain, or quoted on one line), returning where its value starts.</summary>
    private static int KeyEnd(string line, int at, out string key)
    {
        char c = line[at];
        if (c is '"' or '\'')
        {
            int i = at;
            key = c == '"' ? DoubleQuoted(line, ref i) : SingleQuoted(line, ref i);
            while (i < line.Length && line[i] == ' ') i++;
            if (i == line.Length || line[i] != ':' || (i + 1 < line.Length && line[i + 1] != ' ')) throw GiveUp();
            return i + 1;
        }
        if ("&*!|>[]{}%@`#,?-".Contains(c) && !(c == '-' && at + 1 < line.Length && line[at + 1] != ' ')) throw GiveUp();
        for (int i = at; i < line.Length; i++)
        {
            if (line[i] == ':' && (i + 1 == line.Length || line[i + 1] == ' '))
            {
                key = line[at..i].TrimEnd(' ');
                if (key.Length == 0) throw GiveUp();
                return i + 1;
            }
            if (line[i] == '#' && line[i - 1] == ' ') break;
        }
        throw GiveUp();
    }

    /// <summary>The colon of a "key:" at <paramref name="at"/>, or -1 when the text there is a value, not a key.</summary>
    private static int KeyColon(string line, int at)
    {
        char c = line[at];
        if (c is '"' or '\'')
        {
            int i = at;
            try
            {
                _ = c == '"' ? DoubleQuoted(line, ref i) : SingleQuoted(line, ref i);
            }
            catch (GiveUpException)
            {
                return -1; // an unclosed quote: a multi-line quoted value, not a key
            }
            while (i < line.Length && line[i] == ' ') i++;
            return i < line.Length && line[i] == ':' && (i + 1 == line.Length || line[i + 1] == ' ') ? i : -1;
        }
        if (c is '[' or '{' or '|' or '>') return -1;
        for (int i = at; i < line.Length; i++)
        {
            if (line[i] == ':' && (i + 1 == line.Length || line[i + 1] == ' ')) return i;
            if (line[i] == '#' && line[i - 1] == ' ') return -1;
        }
        return -1;
    }

    private static string Rest(string line, int at)
    {
        while (at < line.Length && line[at] == ' ') at++;
        return at == line.Length ? "" : line[at..].TrimEnd(' ');
    }

    private static int Indent(string line)
    {
        int i = 0;
        while (i < line.Length && line[i] == ' ') i++;
        if (i < line.Length && line[i] == '\t') throw GiveUp();
        return i;
    }

    private static bool IsBlank(string line) => line.AsSpan().Trim(' ').Length == 0;

    private static bool IsBlankOrComment(string line)
    {
        var t = line.AsSpan().TrimStart(' ');
        return t.Length == 0 || t[0] == '#';
    }

    private string? Next()
    {
        if (_hasPeeked)
        {
            _hasPeeked = false;
            return _peeked;
        }
        return ReadLine();
    }

    private string? Peek()
    {
        if (!_hasPeeked)
        {
            _peeked = ReadLine();
            _hasPeeked = true;
        }
        return _peeked;
    }

    /// <summary>The next line that is not blank or a comment (those are consumed).</summary>
    private string? PeekContent()
    {
        while (Peek() is { } line && IsBlankOrComment(line)) Next();
        return Peek();
    }

    private string? ReadLine()
    {
        string? line = _reader.ReadLine();
        if (line is null) return null;
        if ((++_lines & 0xFFFF) == 0) _cancellationToken.ThrowIfCancellationRequested();
        return line;
    }
}
