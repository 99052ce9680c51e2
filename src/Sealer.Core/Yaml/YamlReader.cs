using System.Globalization;
using Sealer.Core.Diagnostics;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Sealer.Core.Yaml;

/// <summary>
/// YAML as Helm and Kubernetes read it: sigs.k8s.io/yaml over go-yaml v2 (YAML 1.1 booleans such as <c>yes</c>/<c>on</c>, octal
/// <c>0777</c>, merge keys <c>&lt;&lt;</c>, duplicate keys last-wins, timestamps kept as strings), then through JSON,
/// so every number becomes a <see cref="double"/>. Built on YamlDotNet's event parser (no reflection).
/// </summary>
internal static class YamlReader
{

    /// <summary>Parses every document of <paramref name="text"/>. Throws <see cref="YamlException"/> on syntax errors.</summary>
    public static List<YDocument> ParseStream(string text, int lineOffset = 0)
    {
        for (int attempt = 0; ; attempt++)
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
            catch (YamlException ex) when (attempt < 1000 && ex.Message.Contains("multi-line", StringComparison.Ordinal)
                && ex.Message.Contains("quoted scalar, found wrong indentation", StringComparison.Ordinal)
                && IndentQuotedContinuation(text, (int)ex.Start.Line, (int)ex.Start.Column) is { } fixedText)
            {
                // libyaml (go-yaml, helm, kubectl) does not check the indentation of a quoted scalar's continuation lines
                // inside a flow collection (Argo Workflows' examples: args: ["\n  apk update && ...\n"]). Folding strips a
                // continuation line's leading white space, so indenting those lines changes nothing but YamlDotNet's verdict.
                text = fixedText;
            }
        }
    }

    /// <summary>Indents the continuation lines of the quoted scalar starting at (line, column) to that column; null when nothing changes.</summary>
    private static string? IndentQuotedContinuation(string text, int line, int column)
    {
        var lines = text.Split('\n');
        if (line < 1 || line > lines.Length || column < 1 || column > lines[line - 1].Length) return null;
        char quote = lines[line - 1][column - 1];
        if (quote is not ('"' or '\'')) return null;
        bool changed = false;
        int pos = column; // just after the opening quote, 0-based index into the line
        for (int l = line - 1; l < lines.Length; l++)
        {
            string cur = lines[l];
            if (l > line - 1)
            {
                int indent = cur.Length - cur.TrimStart(' ', '\t').Length;
                if (indent < column && cur.Trim().Length > 0)
                {
                    cur = new string(' ', column) + cur.TrimStart(' ', '\t');
                    lines[l] = cur;
                    changed = true;
                }
                pos = 0;
            }
            for (int i = pos; i < cur.Length; i++)
            {
                char c = cur[i];
                if (quote == '"' && c == '\\') { i++; continue; }
                if (c != quote) continue;
                if (quote == '\'' && i + 1 < cur.Length && cur[i + 1] == '\'') { i++; continue; }
                return changed ? string.Join('\n', lines) : null;
            }
        }
        return null;
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
        var parser = new SafeParser(text);
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

    public static bool IsNull(YScalar s) => s.IsPlain ? YamlScalars.IsNullText(s.Value) : s.Tag is YamlScalars.TagPrefix + "null";

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

    /// <summary>Resolves a scalar like go-yaml v2 (<see cref="YamlScalars"/>), numbers as double (they pass through JSON in Helm).</summary>
    public static object? Resolve(YScalar s) => YamlScalars.Resolve(s.Value, s.IsPlain, s.Tag);
}
