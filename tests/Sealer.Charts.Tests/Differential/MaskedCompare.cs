using Sealer.Charts.Tests.Support;
using Sealer.Core.Charts;
using Sealer.Core.Yaml;

namespace Sealer.Charts.Tests.Differential;

/// <summary>
/// Rendered objects grouped by template, compared structurally. Charts that generate passwords or certificates
/// (randAlphaNum, genCA, ...) differ between two runs of helm itself: a leaf that differs between two helm runs is
/// random, and any string is accepted there. Everything else must be equal (numbers compared as numbers).
/// </summary>
public static class MaskedCompare
{
    /// <summary>source → objects, in a stable order (kind/namespace/name, then the order rendered).</summary>
    public static Dictionary<string, List<object?>> Group(IEnumerable<(string Source, object? Value)> docs)
    {
        var result = new Dictionary<string, List<object?>>(StringComparer.Ordinal);
        foreach (var (source, value) in docs)
        {
            if (value is null) continue;
            if (!result.TryGetValue(source, out var list)) result[source] = list = [];
            list.Add(value);
        }
        foreach (var list in result.Values)
        {
            var ordered = list.Select((v, i) => (v, i)).OrderBy(t => Key(t.v), StringComparer.Ordinal).ThenBy(t => t.i).Select(t => t.v).ToList();
            list.Clear();
            list.AddRange(ordered);
        }
        return result;
    }

    private static string Key(object? v)
    {
        if (v is not Dictionary<string, object?> d) return "";
        var md = d.GetValueOrDefault("metadata") as Dictionary<string, object?>;
        return $"{d.GetValueOrDefault("kind")}/{md?.GetValueOrDefault("namespace")}/{md?.GetValueOrDefault("name")}";
    }

    /// <summary>Compares <paramref name="ours"/> with helm run <paramref name="a"/>, masking leaves where helm runs a and b differ.
    /// Returns null when equal, else a description of the first difference.</summary>
    public static string? Compare(Dictionary<string, List<object?>> ours, Dictionary<string, List<object?>> a, Dictionary<string, List<object?>> b, out int differingTemplates)
    {
        differingTemplates = 0;
        string? first = null;
        foreach (var source in a.Keys.Union(ours.Keys).Order(StringComparer.Ordinal))
        {
            var x = ours.GetValueOrDefault(source) ?? [];
            var y = a.GetValueOrDefault(source) ?? [];
            var z = b.GetValueOrDefault(source) ?? y;
            string? diff = null;
            if (x.Count != y.Count) diff = $"{source}: helm {y.Count} objects, ours {x.Count}";
            else
            {
                for (int i = 0; i < x.Count && diff is null; i++)
                {
                    var path = Leaf(x[i], y[i], z.Count == y.Count ? z[i] : y[i], "");
                    if (path is not null) diff = $"{source} {Key(y[i])}: {path}";
                }
            }
            if (diff is not null)
            {
                differingTemplates++;
                first ??= diff;
            }
        }
        return first;
    }

    private static string? Leaf(object? x, object? a, object? b, string path)
    {
        if (a is Dictionary<string, object?> da)
        {
            if (x is not Dictionary<string, object?> dx) return $"{path}: helm map, ours {Short(x)}";
            var db = b as Dictionary<string, object?> ?? da;
            foreach (var k in da.Keys.Union(dx.Keys).Order(StringComparer.Ordinal))
            {
                if (!da.ContainsKey(k)) return $"{path}.{k}: only in ours ({Short(dx[k])})";
                if (!dx.ContainsKey(k)) return $"{path}.{k}: only in helm ({Short(da[k])})";
                var r = Leaf(dx[k], da[k], db.GetValueOrDefault(k, da[k]), path + "." + k);
                if (r is not null) return r;
            }
            return null;
        }
        if (a is List<object?> la)
        {
            if (x is not List<object?> lx) return $"{path}: helm list, ours {Short(x)}";
            if (lx.Count != la.Count) return $"{path}: helm {la.Count} items, ours {lx.Count}";
            var lb = b as List<object?> is { } l && l.Count == la.Count ? l : la;
            for (int i = 0; i < la.Count; i++)
            {
                var r = Leaf(lx[i], la[i], lb[i], $"{path}[{i}]");
                if (r is not null) return r;
            }
            return null;
        }
        string cx = Canon.Of(x), ca = Canon.Of(a);
        if (cx == ca) return null;
        if (a is string && b is string && Canon.Of(b) != ca && x is string) return null; // random in helm itself
        if (a is string sa && x is string sx)
        {
            int i = 0;
            while (i < Math.Min(sa.Length, sx.Length) && sa[i] == sx[i]) i++;
            int from = Math.Max(0, i - 40);
            return $"{path}: strings differ at {i}: helm …{Canon.Of(sa.Substring(from, Math.Min(100, sa.Length - from)))}… ours …{Canon.Of(sx.Substring(from, Math.Min(100, sx.Length - from)))}…";
        }
        return $"{path}: helm {Short(a)}, ours {Short(x)}";
    }

    private static string Short(object? v)
    {
        var s = Canon.Of(v);
        return s.Length > 120 ? s[..120] + "…" : s;
    }

    public static (Dictionary<string, List<object?>> Objects, SortedSet<string> Images) FromHelmOutput(string stdout)
    {
        var images = new SortedSet<string>(StringComparer.Ordinal);
        var docs = new List<(string, object?)>();
        foreach (var (source, text) in HelmOracle.SplitOutput(stdout))
        {
            var node = YamlReader.ParseStream(text).FirstOrDefault()?.Root;
            docs.Add((source, YamlReader.ToValue(node)));
            foreach (var img in Sealer.Core.Discovery.ImageWalker.Walk(node)) images.Add(Normalize(img.Value));
        }
        return (Group(docs), images);
    }

    public static string Normalize(string image)
        => Sealer.Core.References.ImageReference.TryParse(image, out var r, out _) ? r.ToString() : "invalid:" + image;
}
