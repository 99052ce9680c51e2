using Sealer.Core.Yaml;
using System.Globalization;
using Sealer.Core.Charts;
using Sealer.Core.Diagnostics;

namespace Sealer.Core.Kustomize;

/// <summary>RFC 6902 JSON patches on the YAML tree: add, remove, replace, move, copy, test; paths are RFC 6901 pointers
/// (<c>~0</c>, <c>~1</c>, <c>-</c> for the end of a list).</summary>
internal static class JsonPatch
{
    public static void Apply(YMap root, YSeq ops, string file)
    {
        foreach (var opNode in ops.Items)
        {
            if (opNode is not YMap op) throw Fail(file, opNode, "each JSON 6902 operation must be a mapping with op and path.");
            string kind = KYaml.AsString(op.Get("op")) ?? throw Fail(file, op, "a JSON 6902 operation needs op.");
            string path = KYaml.AsString(op.Get("path")) ?? (op.Get("path") is YScalar { Value: "" } ? "" : throw Fail(file, op, "a JSON 6902 operation needs path."));
            switch (kind)
            {
                case "add":
                    Add(root, path, KYaml.Clone(op.Get("value") ?? throw Fail(file, op, "add needs a value.")), file, op);
                    break;
                case "remove":
                    Remove(root, path, file, op);
                    break;
                case "replace":
                    Get(root, path, file, op);
                    Remove(root, path, file, op);
                    Add(root, path, KYaml.Clone(op.Get("value") ?? throw Fail(file, op, "replace needs a value.")), file, op);
                    break;
                case "move":
                {
                    string from = KYaml.AsString(op.Get("from")) ?? throw Fail(file, op, "move needs from.");
                    var value = Get(root, from, file, op);
                    Remove(root, from, file, op);
                    Add(root, path, value, file, op);
                    break;
                }
                case "copy":
                {
                    string from = KYaml.AsString(op.Get("from")) ?? throw Fail(file, op, "copy needs from.");
                    Add(root, path, KYaml.Clone(Get(root, from, file, op)), file, op);
                    break;
                }
                case "test":
                {
                    var actual = Get(root, path, file, op);
                    var expected = op.Get("value");
                    if (!Equal(YamlReader.ToValue(actual), YamlReader.ToValue(expected)))
                    {
                        throw Fail(file, op, $"test failed: the value at '{path}' is not the expected one.");
                    }
                    break;
                }
                default:
                    throw Fail(file, op, $"unknown JSON 6902 op '{kind}' (add, remove, replace, move, copy, test).");
            }
        }
    }

    private static SealerException Fail(string file, YNode at, string message) => new(ErrorCodes.KustomizePatchFailed, message, file, at.Line, at.Column);

    private static List<string> Tokens(string path, string file, YNode at)
    {
        if (path.Length == 0) return [];
        if (path[0] != '/') throw Fail(file, at, $"'{path}' is not a JSON pointer (it starts with '/').");
        return path[1..].Split('/').Select(t => t.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)).ToList();
    }

    private static YNode Get(YMap root, string path, string file, YNode at)
    {
        YNode cur = root;
        foreach (var t in Tokens(path, file, at)) cur = Child(cur, t) ?? throw Fail(file, at, $"path '{path}' does not exist in the target.");
        return cur;
    }

    private static YNode? Child(YNode node, string token) => node switch
    {
        YMap m => m.Get(token),
        YSeq s when int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out int i) && i < s.Items.Count => s.Items[i],
        _ => null,
    };

    private static (YNode Parent, string Last) Parent(YMap root, string path, string file, YNode at)
    {
        var tokens = Tokens(path, file, at);
        if (tokens.Count == 0) throw Fail(file, at, "the whole document cannot be the path of this operation.");
        YNode cur = root;
        foreach (var t in tokens.Take(tokens.Count - 1)) cur = Child(cur, t) ?? throw Fail(file, at, $"path '{path}' does not exist in the target.");
        return (cur, tokens[^1]);
    }

    private static void Add(YMap root, string path, YNode value, string file, YNode at)
    {
        var (parent, last) = Parent(root, path, file, at);
        switch (parent)
        {
            case YMap m:
                KYaml.Set(m, last, value);
                break;
            case YSeq s:
                if (last == "-") { s.Items.Add(value); break; }
                if (!int.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out int i) || i > s.Items.Count) throw Fail(file, at, $"index '{last}' of '{path}' is out of range.");
                s.Items.Insert(i, value);
                break;
            default:
                throw Fail(file, at, $"the parent of '{path}' is not an object or a list.");
        }
    }

    private static void Remove(YMap root, string path, string file, YNode at)
    {
        var (parent, last) = Parent(root, path, file, at);
        switch (parent)
        {
            case YMap m when m.Get(last) is not null:
                KYaml.Remove(m, last);
                break;
            case YSeq s when int.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out int i) && i < s.Items.Count:
                s.Items.RemoveAt(i);
                break;
            default:
                throw Fail(file, at, $"path '{path}' does not exist in the target.");
        }
    }

    private static bool Equal(object? a, object? b) => (a, b) switch
    {
        (null, null) => true,
        (Dictionary<string, object?> x, Dictionary<string, object?> y) => x.Count == y.Count && x.All(kv => y.TryGetValue(kv.Key, out var v) && Equal(kv.Value, v)),
        (List<object?> x, List<object?> y) => x.Count == y.Count && x.Zip(y).All(p => Equal(p.First, p.Second)),
        _ => Equals(a, b),
    };
}
