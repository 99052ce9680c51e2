using Sealer.Core.Yaml;
using Sealer.Core.Charts;
using Sealer.Core.Diagnostics;

namespace Sealer.Core.Kustomize;

/// <summary>A parsed kustomization file: its fields as YAML nodes (with lines, for errors), and the path lists.</summary>
internal sealed class KustomizationFile
{
    private static readonly HashSet<string> KnownFields = new(StringComparer.Ordinal)
    {
        "apiVersion", "kind", "metadata", "resources", "bases", "components", "namespace", "namePrefix", "nameSuffix", "commonLabels",
        "labels", "commonAnnotations", "images", "replicas", "patches", "patchesStrategicMerge", "patchesJson6902", "configMapGenerator",
        "secretGenerator", "generatorOptions", "helmCharts", "helmGlobals", "helmChartInflationGenerator", "vars", "configurations", "crds",
        "openapi", "transformers", "generators", "validators", "replacements", "sortOptions", "buildMetadata",
    };

    public KustomizationFile(string file, string text)
    {
        File = file;
        var docs = YamlReader.ParseStream(text, file, ErrorCodes.InvalidKustomization);
        var root = docs.FirstOrDefault(d => d.Root is not null)?.Root;
        if (root is YScalar s && YamlReader.IsNull(s) || root is null) root = new YMap { Line = 1, Column = 1 };
        Root = root as YMap ?? throw new SealerException(ErrorCodes.InvalidKustomization, "a kustomization must be a YAML mapping of fields (resources:, images:, ...).", file, root.Line, root.Column);
        foreach (var (k, v) in Root.Entries)
        {
            string key = (k as YScalar)?.Value ?? "";
            if (!KnownFields.Contains(key))
            {
                throw new SealerException(ErrorCodes.InvalidKustomization,
                    $"unknown kustomization field '{key}' (kustomize refuses it too). Check the spelling.", file, k.Line, k.Column);
            }
        }
        Kind = Root.GetString("kind") ?? "";
        if (Kind is not ("" or "Kustomization" or "Component"))
        {
            throw new SealerException(ErrorCodes.InvalidKustomization, $"kind '{Kind}' is not a kustomization; use Kustomization or Component.", file, Root.Get("kind")!.Line);
        }
        // kustomize appends the deprecated bases: to resources:.
        Resources = [.. Paths("resources"), .. Paths("bases")];
        Components = Paths("components");
    }

    public string File { get; }

    public YMap Root { get; }

    public string Kind { get; }

    public List<(string Path, int Line)> Resources { get; }

    public List<(string Path, int Line)> Components { get; }

    public YNode? this[string field] => Root.Get(field);

    /// <summary>A list of strings (null or absent: empty).</summary>
    public List<(string Path, int Line)> Paths(string field)
    {
        var result = new List<(string, int)>();
        switch (Root.Get(field))
        {
            case null:
                break;
            case YScalar s when YamlReader.IsNull(s):
                break;
            case YSeq seq:
                foreach (var item in seq.Items)
                {
                    if (item is not YScalar v || YamlReader.IsNull(v)) throw Invalid(item, $"{field}: entries must be strings (paths).");
                    result.Add((v.Value, v.Line));
                }
                break;
            case var other:
                throw Invalid(other, $"{field}: must be a list.");
        }
        return result;
    }

    /// <summary>A list of mappings (null or absent: empty).</summary>
    public List<YMap> Maps(string field)
    {
        var result = new List<YMap>();
        switch (Root.Get(field))
        {
            case null:
                break;
            case YScalar s when YamlReader.IsNull(s):
                break;
            case YSeq seq:
                foreach (var item in seq.Items)
                {
                    if (item is not YMap m) throw Invalid(item, $"{field}: entries must be mappings.");
                    result.Add(m);
                }
                break;
            case var other:
                throw Invalid(other, $"{field}: must be a list.");
        }
        return result;
    }

    /// <summary>A string-to-string mapping (commonLabels, commonAnnotations); values are kept as their text.</summary>
    public List<KeyValuePair<string, string>> StringMap(YNode? node, string field)
    {
        var result = new List<KeyValuePair<string, string>>();
        if (node is null || node is YScalar s && YamlReader.IsNull(s)) return result;
        if (node is not YMap m) throw Invalid(node, $"{field}: must be a mapping of strings.");
        foreach (var (k, v) in m.Entries)
        {
            if (k is not YScalar ks || v is not YScalar vs) throw Invalid(k, $"{field}: keys and values must be strings.");
            result.Add(new(ks.Value, YamlReader.IsNull(vs) ? "" : vs.Value));
        }
        return result;
    }

    public string? String(string field)
    {
        var n = Root.Get(field);
        if (n is null || n is YScalar s && YamlReader.IsNull(s)) return null;
        return n is YScalar v ? v.Value : throw Invalid(n, $"{field}: must be a string.");
    }

    public SealerException Invalid(YNode? at, string message)
        => new(ErrorCodes.InvalidKustomization, message, File, at?.Line ?? 0, at?.Column ?? 0);
}
