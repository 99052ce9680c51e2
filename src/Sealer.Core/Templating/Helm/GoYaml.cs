using System.Globalization;
using System.Text;
using Sealer.Core.Text;
using Sealer.Core.Yaml;
using YamlDotNet.Core;

namespace Sealer.Core.Templating.Helm;

/// <summary>
/// YAML as Helm writes and reads it: sigs.k8s.io/yaml over go-yaml v2 (sorted keys, sequences not indented under
/// their key, YAML 1.1 quoting of strings like "yes"/"on"/"1.0", literal blocks for multi-line strings, plain
/// scalars folded at 80 columns).
/// </summary>
public static class GoYaml
{
    private const int BestWidth = 80;

    /// <summary>sigs.k8s.io/yaml.Marshal (ends with a newline; Helm's toYaml trims it).</summary>
    public static string Marshal(object? v) => Marshal(v, indentSequences: false);

    /// <summary>Marshal; <paramref name="indentSequences"/> indents block sequences under their key (Helm's toYamlPretty, go-yaml v3 SetIndent(2)).</summary>
    public static string Marshal(object? v, bool indentSequences)
    {
        var sb = new StringBuilder();
        var w = new Writer(sb) { IndentSequences = indentSequences };
        // JSON round trip semantics: top-level scalars are emitted as a document.
        w.WriteNode(v, 0, Context.Top);
        if (sb.Length == 0 || sb[^1] != '\n') sb.Append('\n');
        // A "keep" literal (|+) that ends the document keeps its final line break after the one that ends its last line.
        else if (sb.Length == w.KeepLiteralEnd) sb.Append('\n');
        return sb.ToString();
    }

    private enum Context { Top, MapValue, SeqItem }

    private sealed class Writer(StringBuilder sb)
    {
        private int _column;

        /// <summary>The output length right after the last "|+" literal scalar was written (-1: none).</summary>
        public int KeepLiteralEnd { get; private set; } = -1;

        /// <summary>go-yaml v3 encoding of the raw value (toYamlPretty): indented sequences, floats in 'g' form, no folding.</summary>
        public bool IndentSequences { get; init; }

        private int Width => IndentSequences ? int.MaxValue : BestWidth;

        private void Write(string s)
        {
            sb.Append(s);
            int nl = s.LastIndexOf('\n');
            _column = nl >= 0 ? s.Length - nl - 1 : _column + s.Length;
        }

        private void Newline(int indent)
        {
            sb.Append('\n');
            sb.Append(' ', indent);
            _column = indent;
        }

        public void WriteNode(object? v, int indent, Context ctx)
        {
            v = Normalize(v);
            switch (v)
            {
                case IDictionary<string, object?> m when m.Count > 0:
                    {
                        bool first = true;
                        foreach (var k in SortKeys(m.Keys))
                        {
                            if (!first || ctx == Context.MapValue) Newline(indent);
                            else if (ctx == Context.Top && sb.Length > 0) Newline(indent);
                            first = false;
                            WriteScalar(k, indent, isKey: true);
                            Write(":");
                            var child = Normalize(m[k]);
                            if (child is IDictionary<string, object?> cm && cm.Count > 0) WriteNode(child, indent + 2, Context.MapValue);
                            else if (child is List<object?> cl && cl.Count > 0) WriteSeq(cl, IndentSequences ? indent + 2 : indent, Context.MapValue);
                            else
                            {
                                Write(" ");
                                WriteNode(child, indent + 2, Context.MapValue);
                            }
                        }
                        return;
                    }
                case IDictionary<string, object?>:
                    Write("{}");
                    return;
                case List<object?> l when l.Count > 0:
                    WriteSeq(l, indent, ctx);
                    return;
                case List<object?>:
                    Write("[]");
                    return;
                default:
                    WriteScalar(v, indent, isKey: false);
                    return;
            }
        }

        private void WriteSeq(List<object?> l, int indent, Context ctx)
        {
            for (int i = 0; i < l.Count; i++)
            {
                if (i > 0 || ctx == Context.MapValue) Newline(indent);
                Write("- ");
                var item = Normalize(l[i]);
                if (item is IDictionary<string, object?> m && m.Count > 0) WriteNode(item, indent + 2, Context.SeqItem);
                else if (item is List<object?> sl && sl.Count > 0) WriteSeq(sl, indent + 2, Context.SeqItem);
                else WriteNode(item, indent + 2, Context.SeqItem);
            }
        }

        private void WriteScalar(object? v, int indent, bool isKey)
        {
            switch (v)
            {
                case null: Write("null"); return;
                case bool b: Write(b ? "true" : "false"); return;
                case long l: Write(l.ToString(CultureInfo.InvariantCulture)); return;
                case double d: Write(IndentSequences ? FormatFloatV3(d) : FormatNumber(d)); return;
                case string s: WriteString(s, indent, isKey); return;
                default: WriteString(GoValues.FormatValue(v), indent, isKey); return;
            }
        }

        private void WriteString(string s, int indent, bool isKey)
        {
            var style = ChooseStyle(s, isKey);
            switch (style)
            {
                case Style.Plain:
                    WritePlain(s, indent);
                    return;
                case Style.Single:
                    WriteSingleQuoted(s, indent);
                    return;
                case Style.Literal:
                    // libyaml indents block scalar content one step past the current indent, so a root-level literal
                    // (indent 0 only happens at the root) has its lines at 2, as `toYaml "a\nb"` shows in helm.
                    WriteLiteral(s, Math.Max(indent, 2));
                    return;
                default:
                    WriteDoubleQuoted(s, indent);
                    return;
            }
        }

        // yaml_emitter_write_single_quoted: folds at a single space once past the best width.
        private void WriteSingleQuoted(string s, int indent)
        {
            var line = new StringBuilder("'");
            bool spaces = false;
            for (int i = 0; i < s.Length; i++)
            {
                char c = s[i];
                if (c == ' ')
                {
                    if (!spaces && _column + line.Length > Width && i > 0 && i < s.Length - 1 && s[i + 1] != ' ')
                    {
                        Write(line.ToString());
                        line.Clear();
                        Newline(indent);
                    }
                    else line.Append(c);
                    spaces = true;
                }
                else
                {
                    if (c == '\'') line.Append('\'');
                    line.Append(c);
                    spaces = false;
                }
            }
            line.Append('\'');
            Write(line.ToString());
        }

        // yaml_emitter_write_double_quoted: escapes, and folds at spaces (a following space is escaped with '\\').
        private void WriteDoubleQuoted(string s, int indent)
        {
            var line = new StringBuilder("\"");
            bool spaces = false;
            for (int i = 0; i < s.Length; i++)
            {
                char c = s[i];
                if (c == ' ')
                {
                    if (!spaces && _column + line.Length > Width && i != 0 && i != s.Length - 1)
                    {
                        Write(line.ToString());
                        line.Clear();
                        Newline(indent);
                        if (i + 1 < s.Length && s[i + 1] == ' ') line.Append('\\');
                    }
                    else line.Append(c);
                    spaces = true;
                }
                else
                {
                    if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
                    {
                        line.Append("\\U").Append(char.ConvertToUtf32(c, s[i + 1]).ToString("X8", CultureInfo.InvariantCulture));
                        i++;
                    }
                    else StringEscapes.AppendYamlEscaped(line, c);
                    spaces = false;
                }
            }
            line.Append('"');
            Write(line.ToString());
        }

        private void WritePlain(string s, int indent)
        {
            bool spaces = false;
            var line = new StringBuilder();
            for (int i = 0; i < s.Length; i++)
            {
                char c = s[i];
                if (c == ' ')
                {
                    if (!spaces && _column + line.Length > Width && i + 1 < s.Length && s[i + 1] != ' ')
                    {
                        Write(line.ToString());
                        line.Clear();
                        Newline(indent);
                    }
                    else line.Append(c);
                    spaces = true;
                }
                else
                {
                    line.Append(c);
                    spaces = false;
                }
            }
            Write(line.ToString());
        }

        private void WriteLiteral(string s, int indent)
        {
            var head = new StringBuilder("|");
            if (s.Length > 0 && (s[0] == ' ' || s[0] == '\n')) head.Append('2');
            if (!s.EndsWith('\n')) head.Append('-');
            else if (s.Length >= 2 && s[^2] == '\n') head.Append('+');
            Write(head.ToString());
            var body = s.EndsWith('\n') ? s[..^1] : s;
            var lines = body.Split('\n');
            foreach (var ln in lines)
            {
                sb.Append('\n');
                if (ln.Length > 0) sb.Append(' ', indent).Append(ln);
                _column = ln.Length > 0 ? indent + ln.Length : 0;
            }
            if (head[^1] == '+') KeepLiteralEnd = sb.Length;
        }
    }

    private static object? Normalize(object? v) => v switch
    {
        int i => (long)i,
        byte b => (long)b,
        GoTime t => t.Format("2006-01-02T15:04:05.999999999Z07:00"),
        IGoPlainValue pv => Normalize(pv.ToPlainValue()),
        _ when ReferenceEquals(v, GoValues.NoValue) || ReferenceEquals(v, GoValues.NilInterface) => null,
        _ => v,
    };

    /// <summary>A JSON number as go-yaml re-reads and writes it: integers in int64 range as integers, others in 'g' form.</summary>
    private static string FormatNumber(double d)
    {
        // sigs.k8s.io/yaml marshals through encoding/json, which rejects NaN and infinities (GoJson throws).
        var json = GoJson.FormatFloat(d);
        if (GoNumbers.TryParseInt(json, out var l)) return l.ToString(CultureInfo.InvariantCulture);
        var g = GoNumbers.FormatFloat(d, 'g', -1);
        // go-yaml v2 writes floats with strconv 'g'; a float without '.', 'e', "inf" or "nan" gets nothing extra in v2.
        return g;
    }

    private static string FormatFloatV3(double d)
    {
        if (double.IsNaN(d)) return ".nan";
        if (double.IsPositiveInfinity(d)) return ".inf";
        if (double.IsNegativeInfinity(d)) return "-.inf";
        return GoNumbers.FormatFloat(d, 'g', -1);
    }

    // go-yaml v2 sorts keys "naturally": runs of digits compare numerically, letters before non-letters.
    private static List<string> SortKeys(ICollection<string> keys)
    {
        var l = new List<string>(keys);
        l.Sort(NaturalLess);
        return l;
    }

    private static int NaturalLess(string a, string b)
    {
        var ar = a.ToCharArray();
        var br = b.ToCharArray();
        bool digits = false;
        for (int i = 0; i < ar.Length && i < br.Length; i++)
        {
            if (ar[i] == br[i])
            {
                digits = char.IsAsciiDigit(ar[i]);
                continue;
            }
            bool al = char.IsLetter(ar[i]), bl = char.IsLetter(br[i]);
            if (al && bl) return ar[i].CompareTo(br[i]);
            if (al || bl)
            {
                if (digits) return al ? -1 : 1;
                return bl ? -1 : 1;
            }
            int an = 0, bn = 0;
            int ai = i, bi = i;
            if (ar[i] == '0' || br[i] == '0')
            {
                for (int j = i - 1; j >= 0 && char.IsAsciiDigit(ar[j]); j--)
                {
                    if (ar[j] != '0') { an = 1; bn = 1; break; }
                }
            }
            for (; ai < ar.Length && char.IsAsciiDigit(ar[ai]); ai++) an = an * 10 + (ar[ai] - '0');
            for (; bi < br.Length && char.IsAsciiDigit(br[bi]); bi++) bn = bn * 10 + (br[bi] - '0');
            if (an != bn) return an.CompareTo(bn);
            if (ai != bi) return ai.CompareTo(bi);
            return ar[i].CompareTo(br[i]);
        }
        return ar.Length.CompareTo(br.Length);
    }

    private enum Style { Plain, Single, Double, Literal }

    private static Style ChooseStyle(string s, bool isKey)
    {
        // stringv: quote anything that would resolve to a non-string, or a base-60 float.
        bool canUsePlain = YamlScalars.CanBePlain(s);
        if (!isKey && s.Contains('\n'))
        {
            return Analyze(s).BlockAllowed ? Style.Literal : Style.Double;
        }
        if (!canUsePlain) return Style.Double;
        var a = Analyze(s);
        if (a.Multiline || a.Special) return Style.Double;
        if (a.PlainAllowed) return Style.Plain;
        if (a.SingleAllowed) return Style.Single;
        return Style.Double;
    }

    private readonly record struct Analysis(bool PlainAllowed, bool SingleAllowed, bool BlockAllowed, bool Multiline, bool Special);

    private static bool IsBlankOrEnd(string s, int i) => i >= s.Length || s[i] is ' ' or '\t' or '\n' or '\r';

    // yaml_emitter_analyze_scalar
    private static Analysis Analyze(string s)
    {
        if (s.Length == 0) return new(false, true, false, false, false);
        bool flowIndicators = false, blockIndicators = false, lineBreaks = false, special = false;
        bool leadingSpace = false, leadingBreak = false, trailingSpace = false, trailingBreak = false;
        bool breakSpace = false, spaceBreak = false, previousSpace = false, previousBreak = false;
        if (s.StartsWith("---", StringComparison.Ordinal) || s.StartsWith("...", StringComparison.Ordinal))
        {
            blockIndicators = true;
            flowIndicators = true;
        }
        bool precededByWhitespace = true;
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            bool followedByWhitespace = IsBlankOrEnd(s, i + 1);
            if (i == 0)
            {
                switch (c)
                {
                    case '#' or ',' or '[' or ']' or '{' or '}' or '&' or '*' or '!' or '|' or '>' or '\'' or '"' or '%' or '@' or '`':
                        flowIndicators = true;
                        blockIndicators = true;
                        break;
                    case '?' or ':':
                        flowIndicators = true;
                        if (followedByWhitespace) blockIndicators = true;
                        break;
                    case '-':
                        if (followedByWhitespace)
                        {
                            flowIndicators = true;
                            blockIndicators = true;
                        }
                        break;
                }
            }
            else
            {
                switch (c)
                {
                    case ',' or '?' or '[' or ']' or '{' or '}':
                        flowIndicators = true;
                        break;
                    case ':':
                        flowIndicators = true;
                        if (followedByWhitespace) blockIndicators = true;
                        break;
                    case '#':
                        if (precededByWhitespace)
                        {
                            flowIndicators = true;
                            blockIndicators = true;
                        }
                        break;
                }
            }
            if (!(c == '\n' || (c >= 0x20 && c <= 0x7e) || c == 0x85 || (c >= 0xa0 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd && c != 0xfeff)))
            {
                special = true;
            }
            if (c == '\n') lineBreaks = true;
            if (c == ' ')
            {
                if (i == 0) leadingSpace = true;
                if (i == s.Length - 1) trailingSpace = true;
                if (previousBreak) breakSpace = true;
                previousSpace = true;
                previousBreak = false;
            }
            else if (c == '\n' || c == '\r')
            {
                if (i == 0) leadingBreak = true;
                if (i == s.Length - 1) trailingBreak = true;
                if (previousSpace) spaceBreak = true;
                previousSpace = false;
                previousBreak = true;
            }
            else
            {
                previousSpace = false;
                previousBreak = false;
            }
            precededByWhitespace = c is ' ' or '\t' or '\n' or '\r';
        }
        bool blockPlain = true, single = true, block = true;
        if (leadingSpace || leadingBreak || trailingSpace || trailingBreak)
        {
            blockPlain = false;
        }
        if (trailingSpace) block = false;
        if (breakSpace)
        {
            blockPlain = false;
            single = false;
        }
        if (spaceBreak || special)
        {
            blockPlain = false;
            single = false;
            block = false;
        }
        if (lineBreaks)
        {
            blockPlain = false;
        }
        _ = flowIndicators;
        if (blockIndicators) blockPlain = false;
        return new(blockPlain, single, block, lineBreaks, special);
    }

    // ---- reading ----

    /// <summary>
    /// sigs.k8s.io/yaml.Unmarshal into interface{}: YAML 1.1 scalars, then JSON semantics (numbers are float64). Read with
    /// the event reader (<see cref="YamlReader"/>), so a repeated mapping key is no error: the last one wins, as in go-yaml v2.
    /// </summary>
    public static object? Unmarshal(string text)
    {
        List<YDocument> docs;
        try
        {
            docs = YamlReader.ParseStream(text);
        }
        catch (YamlException e)
        {
            throw new GoFuncException($"error converting YAML to JSON: yaml: line {e.Start.Line}: {e.Message}");
        }
        return docs.Count == 0 ? null : Convert(docs[0].Root, 0);
    }

    private static object? Convert(YNode? node, int depth)
    {
        if (depth > 10000) throw new GoFuncException("error converting YAML to JSON: yaml: nesting is too deep (an anchor that contains itself?)");
        switch (node)
        {
            case YMap m:
                {
                    var d = new Dictionary<string, object?>(StringComparer.Ordinal);
                    foreach (var (k, v) in m.Entries)
                    {
                        if (k is YScalar { Value: "<<", Style: ScalarStyle.Plain } && Convert(v, depth + 1) is IDictionary<string, object?> merge)
                        {
                            foreach (var (mk, mv) in merge) d.TryAdd(mk, mv);
                            continue;
                        }
                        var key = Convert(k, depth + 1);
                        d[key switch { string s => s, null => "null", bool b => b ? "true" : "false", double dd => GoJson.FormatFloat(dd), _ => GoValues.FormatValue(key) }] = Convert(v, depth + 1);
                    }
                    return d;
                }
            case YSeq s:
                {
                    var list = new List<object?>(s.Items.Count);
                    foreach (var item in s.Items) list.Add(Convert(item, depth + 1));
                    return list;
                }
            case YScalar sc:
                return YamlScalars.Resolve(sc.Value, sc.IsPlain, sc.Tag);
        }
        return null;
    }
}
