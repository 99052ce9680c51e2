using YamlDotNet.Core;

namespace Sealer.Core.Yaml;

/// <summary>A YAML node with its position: a scalar, a mapping (entries in source order) or a sequence.</summary>
internal abstract class YNode
{
    /// <summary>1-based line of the node's first character.</summary>
    public int Line { get; init; }

    /// <summary>1-based column.</summary>
    public int Column { get; init; }
}

internal sealed class YScalar : YNode
{
    public required string Value { get; init; }
    public ScalarStyle Style { get; init; }
    public string? Tag { get; init; }

    /// <summary>True for a plain scalar without an explicit tag: its type is resolved from its text.</summary>
    public bool IsPlain => Style is ScalarStyle.Plain or ScalarStyle.Any && (Tag is null or "?");
}

internal sealed class YMap : YNode
{
    public List<KeyValuePair<YNode, YNode>> Entries { get; } = [];

    /// <summary>The value of the last entry whose key is the scalar <paramref name="key"/> (duplicate keys: last wins, as go-yaml v2).</summary>
    public YNode? Get(string key)
    {
        for (int i = Entries.Count - 1; i >= 0; i--)
        {
            if (Entries[i].Key is YScalar s && s.Value == key) return Entries[i].Value;
        }
        return null;
    }

    /// <summary>The value at <paramref name="key"/> when it is a non-null string scalar.</summary>
    public string? GetString(string key) => Get(key) is YScalar s && !YamlReader.IsNull(s) ? s.Value : null;
}

internal sealed class YSeq : YNode
{
    public List<YNode> Items { get; } = [];
}

/// <summary>One YAML document: its root node (null when empty) and the line where it starts.</summary>
internal sealed record YDocument(YNode? Root, int StartLine);
