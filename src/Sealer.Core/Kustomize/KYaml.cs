using Sealer.Core.Yaml;
using System.Text;
using System.Text.RegularExpressions;
using Sealer.Core.Charts;
using Sealer.Core.Text;
using YamlDotNet.Core;

namespace Sealer.Core.Kustomize;

/// <summary>Small helpers over the YAML tree (<see cref="YNode"/>): copies, edits, and the YAML text the engine writes.</summary>
internal static partial class KYaml
{
    [GeneratedRegex(@"^[A-Za-z_/][A-Za-z0-9_./-]*(?:[ :@+=,][A-Za-z0-9_./@+=,-]+)*$", RegexOptions.CultureInvariant)]
    private static partial Regex SafePlain();

    public static YNode Clone(YNode node) => node switch
    {
        YScalar s => new YScalar { Value = s.Value, Style = s.Style, Tag = s.Tag, Line = s.Line, Column = s.Column },
        YSeq q => CloneSeq(q),
        YMap m => CloneMap(m),
        _ => throw new InvalidOperationException(),
    };

    private static YSeq CloneSeq(YSeq q)
    {
        var r = new YSeq { Line = q.Line, Column = q.Column };
        foreach (var i in q.Items) r.Items.Add(Clone(i));
        return r;
    }

    private static YMap CloneMap(YMap m)
    {
        var r = new YMap { Line = m.Line, Column = m.Column };
        foreach (var (k, v) in m.Entries) r.Entries.Add(new(Clone(k), Clone(v)));
        return r;
    }

    /// <summary>A string scalar: plain when that reads back as the same string, else double-quoted.</summary>
    public static YScalar Str(string value, int line = 0)
        => new() { Value = value, Style = IsSafePlainString(value) ? ScalarStyle.Plain : ScalarStyle.DoubleQuoted, Line = line };

    public static YScalar Plain(string value, int line = 0) => new() { Value = value, Style = ScalarStyle.Plain, Line = line };

    private static bool IsSafePlainString(string v)
        => v.Length > 0 && v.Length < 200 && SafePlain().IsMatch(v) && !v.Contains(": ", StringComparison.Ordinal)
           && YamlReader.Resolve(new YScalar { Value = v, Style = ScalarStyle.Plain }) is string
           && v is not ("y" or "Y" or "n" or "N");

    /// <summary>The scalar's string value (null for a null scalar or a non-scalar).</summary>
    public static string? AsString(YNode? n) => n is YScalar s && !YamlReader.IsNull(s) ? s.Value : null;

    public static void Set(YMap map, string key, YNode value)
    {
        for (int i = map.Entries.Count - 1; i >= 0; i--)
        {
            if (map.Entries[i].Key is YScalar s && s.Value == key)
            {
                map.Entries[i] = new(map.Entries[i].Key, value);
                return;
            }
        }
        map.Entries.Add(new(Str(key), value));
    }

    public static bool Remove(YMap map, string key)
    {
        bool removed = false;
        for (int i = map.Entries.Count - 1; i >= 0; i--)
        {
            if (map.Entries[i].Key is YScalar s && s.Value == key)
            {
                map.Entries.RemoveAt(i);
                removed = true;
            }
        }
        return removed;
    }

    /// <summary>The mapping at <paramref name="key"/>, created (or replacing a null) when <paramref name="create"/>.</summary>
    public static YMap? Map(YMap parent, string key, bool create)
    {
        var v = parent.Get(key);
        if (v is YMap m) return m;
        if (!create || v is YSeq || v is YScalar s && !YamlReader.IsNull(s)) return null;
        var created = new YMap();
        Set(parent, key, created);
        return created;
    }

    /// <summary>Writes documents as a YAML stream (<c>---</c> between them), block style, keys in their order.</summary>
    public static string Emit(IEnumerable<YNode> docs)
    {
        var sb = new StringBuilder();
        bool first = true;
        foreach (var d in docs)
        {
            if (!first) sb.Append("---\n");
            first = false;
            EmitRoot(sb, d);
        }
        return sb.ToString();
    }

    private static void EmitRoot(StringBuilder sb, YNode node)
    {
        switch (node)
        {
            case YMap m when m.Entries.Count > 0: EmitMapBody(sb, m, 0); break;
            case YSeq q when q.Items.Count > 0: EmitSeqBody(sb, q, 0); break;
            default: EmitInline(sb, node); sb.Append('\n'); break;
        }
    }

    private static void EmitMapBody(StringBuilder sb, YMap m, int indent)
    {
        bool firstLine = true;
        foreach (var (k, v) in m.Entries)
        {
            if (!firstLine) sb.Append(' ', indent);
            firstLine = false;
            EmitKey(sb, k);
            sb.Append(':');
            EmitValueAfterKey(sb, v, indent);
        }
    }

    /// <summary>Starts right after <c>key:</c> or <c>- </c>; nested blocks go on the next lines.</summary>
    private static void EmitValueAfterKey(StringBuilder sb, YNode v, int indent)
    {
        switch (v)
        {
            case YMap vm when vm.Entries.Count > 0:
                sb.Append('\n').Append(' ', indent + 2);
                EmitMapBody(sb, vm, indent + 2);
                break;
            case YSeq vq when vq.Items.Count > 0:
                sb.Append('\n').Append(' ', indent);
                EmitSeqBody(sb, vq, indent);
                break;
            default:
                sb.Append(' ');
                EmitInline(sb, v);
                sb.Append('\n');
                break;
        }
    }

    private static void EmitSeqBody(StringBuilder sb, YSeq q, int indent)
    {
        bool firstLine = true;
        foreach (var item in q.Items)
        {
            if (!firstLine) sb.Append(' ', indent);
            firstLine = false;
            sb.Append("- ");
            switch (item)
            {
                case YMap im when im.Entries.Count > 0: EmitMapBody(sb, im, indent + 2); break;
                case YSeq iq when iq.Items.Count > 0: EmitSeqBody(sb, iq, indent + 2); break;
                default: EmitInline(sb, item); sb.Append('\n'); break;
            }
        }
    }

    private static void EmitKey(StringBuilder sb, YNode k)
    {
        if (k is YScalar s && (s.IsPlain && s.Value.Length > 0 && !s.Value.Contains(": ", StringComparison.Ordinal) && !s.Value.Contains(" #", StringComparison.Ordinal) && IsPlainSafeText(s.Value) || IsSafePlainString(s.Value)))
        {
            sb.Append(s.Value);
            return;
        }
        EmitInline(sb, k);
    }

    private static bool IsPlainSafeText(string v)
        => v.Length > 0 && "-?:,[]{}#&*!|>'\"%@`".IndexOf(v[0]) < 0 && !v.Contains('\n') && !char.IsWhiteSpace(v[0]) && !char.IsWhiteSpace(v[^1]);

    private static void EmitInline(StringBuilder sb, YNode n)
    {
        switch (n)
        {
            case YMap: sb.Append("{}"); return;
            case YSeq: sb.Append("[]"); return;
            case YScalar s:
                if (s.IsPlain)
                {
                    if (YamlReader.IsNull(s)) { sb.Append("null"); return; }
                    if (IsPlainSafeText(s.Value) && !s.Value.Contains(": ", StringComparison.Ordinal) && !s.Value.Contains(" #", StringComparison.Ordinal))
                    {
                        sb.Append(s.Value);
                        return;
                    }
                }
                else if (IsSafePlainString(s.Value) && s.Tag is null or "!" or "tag:yaml.org,2002:str")
                {
                    sb.Append(s.Value);
                    return;
                }
                if (s.Tag is { } tag && tag.StartsWith("tag:yaml.org,2002:", StringComparison.Ordinal) && tag != "tag:yaml.org,2002:str")
                {
                    sb.Append("!!").Append(tag["tag:yaml.org,2002:".Length..]).Append(' ');
                }
                StringEscapes.AppendYamlDoubleQuoted(sb, s.Value);
                return;
        }
    }
}
