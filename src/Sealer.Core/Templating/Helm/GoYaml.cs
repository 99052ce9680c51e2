using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Sealer.Core.Text;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Sealer.Core.Templating.Helm;

/// <summary>
/// YAML as Helm writes and reads it: sigs.k8s.io/yaml over go-yaml v2 (sorted keys, sequences not indented under
/// their key, YAML 1.1 quoting of strings like "yes"/"on"/"1.0", literal blocks for multi-line strings, plain
/// scalars folded at 80 columns).
/// </summary>
public static partial class GoYaml
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
                    else line.Append(DoubleQuote(c.ToString())[1..^1]);
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
        bool canUsePlain = ResolvesToString(s) && !IsBase60Float(s);
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

    private static readonly HashSet<string> YamlBoolsAndNulls = new(StringComparer.Ordinal)
    {
        "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE",
        "on", "On", "ON", "off", "Off", "OFF", "", "~", "null", "Null", "NULL",
        ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", ".nan", ".NaN", ".NAN",
    };

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")]
    private static partial Regex YamlFloat();

    [GeneratedRegex(@"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$")]
    private static partial Regex Base60Float();

    [GeneratedRegex(@"^[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(([Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](\.[0-9]*)?(([ \t]*)(Z|[-+][0-9][0-9]?(:[0-9][0-9])?))?)?$")]
    private static partial Regex Timestamp();

    private static bool IsBase60Float(string s) => s.Length > 0 && (char.IsAsciiDigit(s[0]) || s[0] is '+' or '-' or '.') && Base60Float().IsMatch(s);

    /// <summary>go-yaml v2 resolve: would this plain scalar read back as a string?</summary>
    internal static bool ResolvesToString(string s)
    {
        if (YamlBoolsAndNulls.Contains(s)) return false;
        if (s.Length == 0) return false;
        char c = s[0];
        if (!(char.IsAsciiDigit(c) || c is '+' or '-' or '.')) return true;
        var plain = s.Replace("_", "", StringComparison.Ordinal);
        if (GoNumbers.TryParseInt(plain, out _)) return false;
        if (plain.StartsWith("0b", StringComparison.Ordinal) || plain.StartsWith("-0b", StringComparison.Ordinal) || plain.StartsWith("+0b", StringComparison.Ordinal))
        {
            var digits = plain.TrimStart('+', '-')[2..];
            if (digits.Length > 0 && digits.All(ch => ch is '0' or '1')) return false;
        }
        if (ulong.TryParse(plain.TrimStart('+'), NumberStyles.None, CultureInfo.InvariantCulture, out _)) return false;
        if (YamlFloat().IsMatch(plain)) return false;
        if (Timestamp().IsMatch(s) && IsValidTimestamp(s)) return false;
        return true;
    }

    private static bool IsValidTimestamp(string s)
    {
        var datePart = s.Split('T', 't', ' ')[0];
        var p = datePart.Split('-');
        return p.Length == 3 && int.TryParse(p[1], CultureInfo.InvariantCulture, out var mo) && mo is >= 1 and <= 12
            && int.TryParse(p[2], CultureInfo.InvariantCulture, out var d) && d >= 1 && d <= DateTime.DaysInMonth(int.Parse(p[0], CultureInfo.InvariantCulture), mo);
    }

    private static string DoubleQuote(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (char c in s)
        {
            switch (c)
            {
                case '\0': sb.Append("\\0"); break;
                case '\a': sb.Append("\\a"); break;
                case '\b': sb.Append("\\b"); break;
                case '\t': sb.Append("\\t"); break;
                case '\n': sb.Append("\\n"); break;
                case '\v': sb.Append("\\v"); break;
                case '\f': sb.Append("\\f"); break;
                case '\r': sb.Append("\\r"); break;
                case '\x1b': sb.Append("\\e"); break;
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\u0085': sb.Append("\\N"); break;
                case '\u00a0': sb.Append("\\_"); break;
                case '\u2028': sb.Append("\\L"); break;
                case '\u2029': sb.Append("\\P"); break;
                default:
                    if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == 0xfeff)
                    {
                        sb.Append(c <= 0xff ? "\\x" + ((int)c).ToString("X2", CultureInfo.InvariantCulture) : "\\u" + ((int)c).ToString("X4", CultureInfo.InvariantCulture));
                    }
                    else sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
        return sb.ToString();
    }

    // ---- reading ----

    /// <summary>sigs.k8s.io/yaml.Unmarshal into interface{}: YAML 1.1 scalars, then JSON semantics (numbers are float64).</summary>
    public static object? Unmarshal(string text)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            throw new GoFuncException($"error converting YAML to JSON: yaml: line {e.Start.Line}: {e.Message}");
        }
        if (stream.Documents.Count == 0) return null;
        return Convert(stream.Documents[0].RootNode);
    }

    /// <summary>Every document of a multi-document stream (fromYamlArray reads only one).</summary>
    internal static object? Convert(YamlNode node)
    {
        switch (node)
        {
            case YamlMappingNode m:
                {
                    var d = new Dictionary<string, object?>(StringComparer.Ordinal);
                    foreach (var (k, v) in m.Children)
                    {
                        if (k is YamlScalarNode ks && ks.Value == "<<" && ks.Style == ScalarStyle.Plain && Convert(v) is IDictionary<string, object?> merge)
                        {
                            foreach (var (mk, mv) in merge) d.TryAdd(mk, mv);
                            continue;
                        }
                        var key = Convert(k);
                        d[key switch { string s => s, null => "null", bool b => b ? "true" : "false", double dd => GoJson.FormatFloat(dd), _ => GoValues.FormatValue(key) }] = Convert(v);
                    }
                    return d;
                }
            case YamlSequenceNode s:
                return s.Children.Select(Convert).ToList();
            case YamlScalarNode sc:
                return ResolveScalar(sc);
        }
        return null;
    }

    private static object? ResolveScalar(YamlScalarNode sc)
    {
        var v = sc.Value ?? "";
        if (sc.Style != ScalarStyle.Plain) return v;
        if (!sc.Tag.IsEmpty && !sc.Tag.IsNonSpecific && sc.Tag.Value is "tag:yaml.org,2002:str" or "!!str") return v;
        switch (v)
        {
            case "" or "~" or "null" or "Null" or "NULL": return null;
            case "y" or "Y" or "yes" or "Yes" or "YES" or "true" or "True" or "TRUE" or "on" or "On" or "ON": return true;
            case "n" or "N" or "no" or "No" or "NO" or "false" or "False" or "FALSE" or "off" or "Off" or "OFF": return false;
            case ".inf" or ".Inf" or ".INF" or "+.inf" or "+.Inf" or "+.INF": return double.PositiveInfinity;
            case "-.inf" or "-.Inf" or "-.INF": return double.NegativeInfinity;
            case ".nan" or ".NaN" or ".NAN": return double.NaN;
        }
        if (ResolvesToString(v)) return v;
        var plain = v.Replace("_", "", StringComparison.Ordinal);
        if (GoNumbers.TryParseInt(plain, out var l)) return (double)l;
        if (plain.TrimStart('+', '-').StartsWith("0b", StringComparison.Ordinal))
        {
            var neg = plain.StartsWith('-');
            var n = System.Convert.ToInt64(plain.TrimStart('+', '-')[2..], 2);
            return (double)(neg ? -n : n);
        }
        if (double.TryParse(plain, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)) return d;
        return v;
    }
}
