using Sealer.Core.Delivery.Clusterfile;
using Sealer.Core.Diagnostics;

namespace Sealer.Delivery.Tests;

/// <summary>
/// Every Clusterfile published in Sealer's repositories and docs (<see cref="ClusterfileCorpus"/>) is read with Sealer's
/// meaning, or gets a coded error at the line that is wrong.
/// </summary>
public class ClusterfileCorpusTests
{
    /// <summary>path → "ok" or "CODE@line".</summary>
    private static readonly Dictionary<string, string> Expected = new(StringComparer.Ordinal)
    {
        // SEA2541: ETCD / out-of-tree plugin types (named replacement); SEA2540: v1 files (sealer convert clusterfile);
        // SEA2502 plugin-07: name/type outside spec; Clusterfile: a 'KubeadmConfig' with unknown fields; SEA2501: '//' comments are not YAML.
        ["sealer-docs-v0.8/plugin-01.yaml"] = "ok",
        ["sealer-docs-v0.8/plugin-02.yaml"] = "ok",
        ["sealer-docs-v0.8/plugin-03.yaml"] = "ok",
        ["sealer-docs-v0.8/plugin-04.yaml"] = "SEA2541@6",
        ["sealer-docs-v0.8/plugin-05.yaml"] = "SEA2541@6",
        ["sealer-docs-v0.8/plugin-06.yaml"] = "SEA2541@23",
        ["sealer-docs-v0.8/plugin-07.yaml"] = "SEA2502@4",
        ["sealer-docs/api-clusterfile-01.yaml"] = "SEA2540@27",
        ["sealer-docs/design-clusterfile-v2-01.yaml"] = "ok",
        ["sealer-docs/design-clusterfile-v2-02.yaml"] = "ok",
        ["sealer-docs/design-clusterfile-v2-03.yaml"] = "ok",
        ["sealer-docs/design-clusterfile-v2-04.yaml"] = "SEA2503@8",
        ["sealer-docs/design-clusterfile-v2-05.yaml"] = "SEA2504@6",
        ["sealer-docs/design-clusterfile-v2-06.yaml"] = "ok",
        ["sealer/pkg/cluster-runtime/test/test.yaml"] = "ok",
        ["sealer/test/suites/apply/fixtures/cluster_file_for_test.yaml"] = "SEA2540@26",
        ["sealer/utils/test/file/Clusterfile"] = "SEA2502@47",
        ["sealer/utils/test/file/v1Clusterfile"] = "SEA2501@15",
    };

    private static (string Outcome, ClusterfileDocument? Doc) Outcome(string rel)
    {
        var (text, offset) = ClusterfileCorpus.ForReader(ClusterfileCorpus.Read(rel));
        try
        {
            return ("ok", ClusterfileReader.Parse(text, rel));
        }
        catch (SealerException ex)
        {
            Assert.True(ex.Line > 0, $"{rel}: {ex.Code} has no line: {ex.Message}");
            Assert.False(string.IsNullOrWhiteSpace(ex.Message));
            return ($"{ex.Code}@{ex.Line - offset}", null);
        }
    }

    [Fact]
    public void Every_published_Clusterfile_reads_or_gets_a_coded_line_error()
    {
        var actual = ClusterfileCorpus.Files().ToDictionary(f => f, f => Outcome(f).Outcome, StringComparer.Ordinal);
        string table = string.Join("\n", actual.Select(kv => $"        [\"{kv.Key}\"] = \"{kv.Value}\","));
        Assert.True(actual.Count >= 15, $"only {actual.Count} corpus files");
        Assert.True(Expected.Count == actual.Count && Expected.All(kv => actual.TryGetValue(kv.Key, out var v) && v == kv.Value), "outcomes differ from the table:\n" + table);
    }
}
