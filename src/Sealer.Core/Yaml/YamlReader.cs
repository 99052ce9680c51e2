using System.Globalization;
using System.Text.RegularExpressions;
using Sealer.Core.Diagnostics;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Sealer.Core.Yaml;

/// <summary>
/// YAML as Helm and Kubernetes read it: sigs.k8s.io/yaml over go-yaml v2 (YAML 1.1 booleans such as <c>yes</c>/<c>on</c>, octal
/// <c>0777</c>, merge keys <c>&lt;&lt;</c>, duplicate keys last-wins, timestamps kept as strings), then through JSON,
/// so every number becomes a <see cref="double"/>. Built on YamlDotNet's event parser (no reflection).
/// </summary>
internal static partial class YamlReader
{
    private const string TagPrefix = "tag:yaml.org,2002:";
    private static readonly Regex YamlStyleFloat = new(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$", RegexOptions.CultureInvariant);

    /// <summary>Parses every document of <paramref name="text"/>. Throws <see cref="YamlException"/> on syntax errors.</summary>
    public static List<YDocument> ParseStream(string text, int lineOffset = 0)
    {
        try
        {
            return ParseStreamCore(text, lineOffset);
        }
        catch (YamlException ex) when (ex.Message.Contains("found extra spaces in first line", StringComparison.Ordinal))
        {
            // YamlDotNet rejects a block scalar whose leading blank lines carry spaces, even as many as the content's
            // indentation, which libyaml (go-yaml, helm) accepts. Blank such lines when they are no deeper than the next
            // content line (same meaning; line numbers stay) and parse again. Deeper ones stay: libyaml rejects those too.
            return ParseStreamCore(BlankShallowWhitespaceLines(text), lineOffset);
        }
    }

    private static string BlankShallowWhitespaceLines(string text)
    {
        var lines = text.Split('\n');
        int nextIndent = 0;
        for (int i = lines.Length - 1; i >= 0; i--)
        {
            string l = lines[i].TrimEnd('\r');
            if (l.Trim().Length == 0)
            {
                if (l.Length > 0 && l.Length <= nextIndent && !l.Contains('\t')) lines[i] = lines[i].EndsWith('\r') ? "\r" : "";
            }
            else
            {
                nextIndent = l.Length - l.TrimStart(' ').Length;
            }
        }
        return string.Join('\n', lines);
    }

    private static List<YDocument> ParseStreamCore(string text, int lineOffset)
    {
        var parser = new Parser(new StringReader(text));
        var docs = new List<YDocument>();
        parser.Consume<StreamStart>();
        while (!parser.TryConsume<StreamEnd>(out _))
        {
            var start = parser.Consume<DocumentStart>();
            var anchors = new Dictionary<string, YNode>(StringComparer.Ordinal);
            YNode? root = null;
            if (!parser.Accept<DocumentEnd>(out _)) root = ReadNode(parser, anchors, lineOffset);
            parser.Consume<DocumentEnd>();
            docs.Add(new YDocument(root, (int)start.Start.Line + lineOffset));
        }
        return docs;
    }

    /// <summary>Parses text holding YAML documents, turning syntax errors into <see cref="SealerException"/> with the file and line.</summary>
    public static List<YDocument> ParseStream(string text, string file, string code, int lineOffset = 0)
    {
        try
        {
            return ParseStream(text, lineOffset);
        }
        catch (YamlException ex)
        {
            throw new SealerException(code, $"invalid YAML: {StripMark(ex.Message)}", file, (int)ex.Start.Line + lineOffset, (int)ex.Start.Column, ex);
        }
    }

    private static string StripMark(string message)
    {
        // YamlDotNet prefixes "(Line: 3, Col: 1, Idx: 10) - (Line: ...): "; the location goes into file(line,col) instead.
        int i = message.IndexOf("): ", StringComparison.Ordinal);
        return message.StartsWith("(Line", StringComparison.Ordinal) && i > 0 ? message[(i + 3)..] : message;
    }

    private static YNode ReadNode(IParser parser, Dictionary<string, YNode> anchors, int lineOffset)
    {
        var ev = parser.Consume<ParsingEvent>();
        int line = (int)ev.Start.Line + lineOffset, col = (int)ev.Start.Column;
        switch (ev)
        {
            case AnchorAlias alias:
                return anchors.TryGetValue(alias.Value.Value, out var target)
                    ? target
                    : throw new YamlException(ev.Start, ev.End, $"unknown anchor '{alias.Value.Value}'");
            case Scalar s:
            {
                var node = new YScalar { Value = s.Value, Style = s.Style, Tag = s.Tag.IsEmpty ? null : s.Tag.Value, Line = line, Column = col };
                if (!s.Anchor.IsEmpty) anchors[s.Anchor.Value] = node;
                return node;
            }
            case SequenceStart ss:
            {
                var node = new YSeq { Line = line, Column = col };
                if (!ss.Anchor.IsEmpty) anchors[ss.Anchor.Value] = node;
                while (!parser.TryConsume<SequenceEnd>(out _)) node.Items.Add(ReadNode(parser, anchors, lineOffset));
                return node;
            }
            case MappingStart ms:
            {
                var node = new YMap { Line = line, Column = col };
                if (!ms.Anchor.IsEmpty) anchors[ms.Anchor.Value] = node;
                while (!parser.TryConsume<MappingEnd>(out _))
                {
                    var key = ReadNode(parser, anchors, lineOffset);
                    var value = ReadNode(parser, anchors, lineOffset);
                    node.Entries.Add(new(key, value));
                }
                return node;
            }
            default:
                throw new YamlException(ev.Start, ev.End, $"unexpected YAML event {ev.GetType().Name}");
        }
    }

    public static bool IsNull(YScalar s) => s.IsPlain ? s.Value is "" or "~" or "null" or "Null" or "NULL" : s.Tag is TagPrefix + "null";

    /// <summary>Converts a node to Helm's value model (null, bool, string, double, Dictionary, List).</summary>
    public static object? ToValue(YNode? node) => ToValue(node, 0);

    private static object? ToValue(YNode? node, int depth)
    {
        if (depth > 10000) throw new YamlException("YAML nesting is too deep (recursive aliases?)");
        switch (node)
        {
            case null:
                return null;
            case YScalar s:
                return Resolve(s);
            case YSeq q:
            {
                var list = new List<object?>(q.Items.Count);
                foreach (var item in q.Items) list.Add(ToValue(item, depth + 1));
                return list;
            }
            case YMap m:
            {
                var dict = new Dictionary<string, object?>(StringComparer.Ordinal);
                // Merge keys first (explicit keys override them; within a list of merges, the earlier wins).
                foreach (var (k, v) in m.Entries)
                {
                    if (k is YScalar { Value: "<<" } mk && mk.IsPlain)
                    {
                        var sources = v is YSeq seq ? seq.Items : [v];
                        for (int i = sources.Count - 1; i >= 0; i--)
                        {
                            if (ToValue(sources[i], depth + 1) is Dictionary<string, object?> src)
                            {
                                foreach (var (sk, sv) in src) dict[sk] = sv;
                            }
                        }
                    }
                }
                foreach (var (k, v) in m.Entries)
                {
                    if (k is YScalar { Value: "<<" } mk && mk.IsPlain) continue;
                    dict[KeyString(k)] = ToValue(v, depth + 1);
                }
                return dict;
            }
            default:
                throw new InvalidOperationException();
        }
    }

    /// <summary>A mapping key as the string sigs.k8s.io/yaml makes of it.</summary>
    public static string KeyString(YNode key) => key switch
    {
        YScalar s => Resolve(s) switch
        {
            null => "null",
            bool b => b ? "true" : "false",
            double d => FormatNumberKey(d, s.Value),
            _ => s.Value,
        },
        _ => "",
    };

    private static string FormatNumberKey(double d, string raw)
        => Math.Floor(d) == d && Math.Abs(d) < 1e18 && !raw.Contains('.') && !raw.Contains('e') && !raw.Contains('E')
            ? ((long)d).ToString(CultureInfo.InvariantCulture)
            : d.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Resolves a scalar like go-yaml v2, numbers as double (they pass through JSON in Helm).</summary>
    public static object? Resolve(YScalar s)
    {
        string v = s.Value;
        if (!s.IsPlain)
        {
            return s.Tag switch
            {
                TagPrefix + "null" => null,
                TagPrefix + "bool" => ResolvePlain(v) is bool b ? b : v,
                TagPrefix + "int" or TagPrefix + "float" => ResolvePlain(v) is double d ? d : v,
                _ => v,
            };
        }
        return ResolvePlain(v);
    }

    private static object? ResolvePlain(string v)
    {
        switch (v)
        {
            case "" or "~" or "null" or "Null" or "NULL":
                return null;
            case "y" or "Y" or "yes" or "Yes" or "YES" or "on" or "On" or "ON" or "true" or "True" or "TRUE":
                return true;
            case "n" or "N" or "no" or "No" or "NO" or "off" or "Off" or "OFF" or "false" or "False" or "FALSE":
                return false;
            case ".nan" or ".NaN" or ".NAN":
                return double.NaN;
            case ".inf" or ".Inf" or ".INF" or "+.inf" or "+.Inf" or "+.INF":
                return double.PositiveInfinity;
            case "-.inf" or "-.Inf" or "-.INF":
                return double.NegativeInfinity;
        }
        char c = v[0];
        if (c == '.')
        {
            return TryParseGoFloat(v, out var f) ? f : v;
        }
        if (c is '+' or '-' or (>= '0' and <= '9'))
        {
            if (LooksLikeTimestamp(v)) return v;
            string plain = v.Replace("_", "", StringComparison.Ordinal);
            if (TryParseGoInt(plain, out var i)) return i;
            if (YamlStyleFloat.IsMatch(plain) && TryParseGoFloat(plain, out var f)) return f;
        }
        return v;
    }

    private static bool LooksLikeTimestamp(string v)
        => v.Length >= 8 && v.Length <= 40 && char.IsAsciiDigit(v[0]) && Regex.IsMatch(v,
            @"^\d{4}-\d{1,2}-\d{1,2}(([Tt]|[ \t]+)\d{1,2}:\d{2}:\d{2}(\.\d*)?([ \t]*(Z|[-+]\d{1,2}(:\d{2})?))?)?$", RegexOptions.CultureInvariant);

    /// <summary>strconv.ParseInt(s, 0, 64) then ParseUint; returns the value as double (it goes through JSON).</summary>
    private static bool TryParseGoInt(string s, out double value)
    {
        value = 0;
        if (s.Length == 0) return false;
        bool neg = false;
        string body = s;
        if (body[0] is '+' or '-') { neg = body[0] == '-'; body = body[1..]; }
        if (body.Length == 0) return false;
        int radix = 10;
        if (body.Length > 1 && body[0] == '0')
        {
            switch (body[1])
            {
                case 'x' or 'X': radix = 16; body = body[2..]; break;
                case 'o' or 'O': radix = 8; body = body[2..]; break;
                case 'b' or 'B': radix = 2; body = body[2..]; break;
                default: radix = 8; body = body[1..]; break;
            }
            if (body.Length == 0) return false;
        }
        System.Numerics.BigInteger acc = 0;
        foreach (char ch in body)
        {
            int d = ch switch { >= '0' and <= '9' => ch - '0', >= 'a' and <= 'f' => ch - 'a' + 10, >= 'A' and <= 'F' => ch - 'A' + 10, _ => 99 };
            if (d >= radix) return false;
            acc = acc * radix + d;
        }
        if (neg) acc = -acc;
        if (acc > ulong.MaxValue || acc < long.MinValue) return false;
        value = (double)acc;
        return true;
    }

    private static bool TryParseGoFloat(string s, out double value)
        => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
}
