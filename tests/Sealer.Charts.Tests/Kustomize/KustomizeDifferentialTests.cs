using Sealer.Core.Yaml;
using Sealer.Core.Charts;
using Sealer.Core.Diagnostics;
using Sealer.Core.Discovery;
using Sealer.Core.Kustomize;

namespace Sealer.Charts.Tests.Kustomize;

/// <summary>
/// Our kustomize engine against the real <c>kubectl kustomize</c> on real trees (kustomize-corpus/, see its README):
/// the same objects (kind/namespace/name), the same containers (name and image of every container list of every object),
/// and the same images found by discovery, on our build and on kubectl's output.
/// </summary>
public class KustomizeDifferentialTests
{
    public static TheoryData<string> TreeNames()
    {
        var data = new TheoryData<string>();
        foreach (var t in KubectlOracle.Trees) data.Add(t.Name);
        return data;
    }

    [Fact]
    public void The_corpus_holds_at_least_15_real_trees_from_public_repositories()
    {
        Assert.True(KubectlOracle.Trees.Count(t => t.ExpectedError is null) >= 15, "kustomize-corpus/trees.txt lists fewer than 15 buildable trees");
        Assert.True(KubectlOracle.Trees.Select(t => t.Repo).Distinct().Count() >= 8);
    }

    [Theory]
    [MemberData(nameof(TreeNames))]
    public void Builds_the_same_objects_containers_and_images_as_kubectl_kustomize(string name)
    {
        var tree = KubectlOracle.Trees.Single(t => t.Name == name);
        var oracle = KubectlOracle.Kustomize(tree.Directory);
        if (tree.ExpectedError is { } code)
        {
            Assert.NotEqual(0, oracle.ExitCode);
            var ex = Assert.Throws<SealerException>(() => Kustomizer.Build(tree.Directory));
            Assert.Equal(code, ex.Code);
            Assert.EndsWith("kustomization.yaml", ex.File);
            Assert.True(ex.Line > 0);
            return;
        }
        Assert.True(oracle.ExitCode == 0, $"kubectl kustomize failed: {oracle.StdErr}");

        var ours = Kustomizer.Build(tree.Directory);
        var theirs = YamlReader.ParseStream(oracle.StdOut).Select(d => d.Root).OfType<YMap>().ToList();

        var expectedIds = theirs.Select(Id).Order(StringComparer.Ordinal).ToList();
        var actualIds = ours.Objects.Select(o => Id(o.Node)).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expectedIds, actualIds);

        var expectedContainers = theirs.SelectMany(Containers).Order(StringComparer.Ordinal).ToList();
        var actualContainers = ours.Objects.SelectMany(o => Containers(o.Node)).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expectedContainers, actualContainers);

        // Discovery: on our build (the Kustomization input) and on kubectl's rendered output.
        using var tmp = new TempDir();
        string rendered = tmp.Write("kubectl-kustomize.yaml", oracle.StdOut);
        var fromKubectl = ImageDiscovery.Discover(new DiscoveryInput { ManifestFiles = [rendered] }).Images.Select(i => i.Reference).ToList();
        var fromOurs = ImageDiscovery.Discover(new DiscoveryInput { Kustomizations = [tree.Directory] }).Images.Select(i => i.Reference).ToList();
        Assert.Equal(fromKubectl, fromOurs);

        // What we carry in the cluster image (our YAML output) reads back as the same objects.
        var reparsed = YamlReader.ParseStream(ours.ToYaml()).Select(d => d.Root).OfType<YMap>().ToList();
        Assert.Equal(actualIds, reparsed.Select(Id).Order(StringComparer.Ordinal).ToList());
        Assert.Equal(actualContainers, reparsed.SelectMany(Containers).Order(StringComparer.Ordinal).ToList());
    }

    private static string Id(YMap m)
        => $"{m.GetString("apiVersion")}|{m.GetString("kind")}|{(m.Get("metadata") as YMap)?.GetString("namespace") ?? ""}|{(m.Get("metadata") as YMap)?.GetString("name")}";

    /// <summary>"object-id | path | container name | image" for every container of every container list in the object.</summary>
    private static IEnumerable<string> Containers(YMap obj)
    {
        var result = new List<string>();
        Walk(obj, "", Id(obj), result, 0);
        return result;
    }

    private static void Walk(YNode node, string path, string id, List<string> result, int depth)
    {
        if (depth > 40) return;
        switch (node)
        {
            case YMap m:
                foreach (var (k, v) in m.Entries)
                {
                    string key = (k as YScalar)?.Value ?? "";
                    if (key is "containers" or "initContainers" or "ephemeralContainers" && v is YSeq cs)
                    {
                        foreach (var c in cs.Items.OfType<YMap>()) result.Add($"{id} | {path}.{key} | {c.GetString("name")} | {c.GetString("image")}");
                    }
                    Walk(v, path + "." + key, id, result, depth + 1);
                }
                break;
            case YSeq s:
                for (int i = 0; i < s.Items.Count; i++) Walk(s.Items[i], $"{path}[{i}]", id, result, depth + 1);
                break;
        }
    }
}
