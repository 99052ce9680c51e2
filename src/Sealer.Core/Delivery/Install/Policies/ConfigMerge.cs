using Sealer.Core.Delivery.Clusterfile;
using Sealer.Core.Diagnostics;
using YamlDotNet.RepresentationModel;
using Sealer.Core.Yaml;

namespace Sealer.Core.Delivery.Install.Policies;

/// <summary>Sealer's <c>kind: Config</c> documents over a file of the image. Pure.</summary>
internal static class ConfigMerge
{
    /// <summary>A Config document over the image's file: override, insert (append), or merge (YAML mappings deep-merged).</summary>
    public static string Apply(ConfigSpec config, string? existing)
    {
        if (existing is null || config.Strategy == "override") return config.Data;
        if (config.Strategy == "insert") return existing.TrimEnd('\n') + "\n" + config.Data;
        try
        {
            var baseStream = new YamlStream();
            baseStream.Load(new SafeParser(existing));
            var overStream = new YamlStream();
            overStream.Load(new SafeParser(config.Data));
            if (baseStream.Documents.Count == 1 && overStream.Documents.Count == 1
                && baseStream.Documents[0].RootNode is YamlMappingNode b && overStream.Documents[0].RootNode is YamlMappingNode o)
            {
                DeepMerge(b, o);
                var w = new StringWriter();
                baseStream.Save(w, assignAnchors: false);
                string text = w.ToString();
                return text.EndsWith("...\n", StringComparison.Ordinal) ? text[..^4] : text;
            }
        }
        catch (YamlDotNet.Core.YamlException ex)
        {
            throw new SealerException(ErrorCodes.ClusterfileBadConfig, $"Config '{config.Name}' cannot be merged into {config.Path}: {ex.Message}. Use strategy: override.", config.Location.File, config.Location.Line, inner: ex);
        }
        return config.Data;
    }

    /// <summary>Deep merge of YAML mappings: <paramref name="from"/> wins; nested mappings are merged, anything else replaced.</summary>
    public static void DeepMerge(YamlMappingNode into, YamlMappingNode from)
    {
        foreach (var (k, v) in from.Children)
        {
            if (into.Children.TryGetValue(k, out var existingNode) && existingNode is YamlMappingNode em && v is YamlMappingNode vm) DeepMerge(em, vm);
            else into.Children[k] = v;
        }
    }
}
