using Sealer.Core.Diagnostics;
using Sealer.Core.Yaml;

namespace Sealer.Core.Charts;

/// <summary>Helm values files: YAML documents (read by <see cref="YamlReader"/>) merged into one mapping.</summary>
internal static class HelmYaml
{
    /// <summary>Reads a values file (every document merged, later documents over earlier ones) into a mapping.</summary>
    public static Dictionary<string, object?> ParseValues(string text, string file)
    {
        var result = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var doc in YamlReader.ParseStream(text, file, ErrorCodes.InvalidValuesFile))
        {
            switch (YamlReader.ToValue(doc.Root))
            {
                case null:
                    continue;
                case Dictionary<string, object?> map:
                    result = MergeMaps(result, map);
                    break;
                default:
                    throw new SealerException(ErrorCodes.InvalidValuesFile,
                        "values must be a YAML mapping (key: value), not a list or a scalar.", file, doc.Root!.Line, doc.Root.Column);
            }
        }
        return result;
    }

    /// <summary>Helm's loader.MergeMaps / cli values mergeMaps: b over a, maps merged recursively, everything else replaced.</summary>
    public static Dictionary<string, object?> MergeMaps(Dictionary<string, object?> a, Dictionary<string, object?> b)
    {
        var result = new Dictionary<string, object?>(a, StringComparer.Ordinal);
        foreach (var (k, v) in b)
        {
            if (v is Dictionary<string, object?> vm && result.TryGetValue(k, out var existing) && existing is Dictionary<string, object?> em)
            {
                result[k] = MergeMaps(em, vm);
                continue;
            }
            result[k] = v;
        }
        return result;
    }
}
