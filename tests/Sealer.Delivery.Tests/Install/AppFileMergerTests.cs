using Sealer.Core.ClusterImage;
using Sealer.Core.Delivery;
using Sealer.Core.Delivery.Clusterfile;
using Sealer.Core.Delivery.Install.Policies;
using Sealer.Core.Diagnostics;

namespace Sealer.Delivery.Tests.Install;

/// <summary><see cref="AppFileMerger"/>: where an Application config file goes and what it becomes, without SSH.</summary>
public class AppFileMergerTests
{
    private static AppFileOverride Override(string path, string strategy, string data) =>
        new("web", new AppFileSpec(path, strategy, data, new SourceLocation("Clusterfile", 12, 9)));

    [Theory]
    // the app's own file
    [InlineData("values.yaml", "merge", "application/apps/web/values.yaml|application/apps/web/chart/values.yaml", "application/apps/web/values.yaml")]
    // the SDK nests each source under a leaf directory: every leaf's file, sorted
    [InlineData("values.yaml", "merge", "application/apps/web/b/values.yaml|application/apps/web/a/values.yaml", "application/apps/web/a/values.yaml|application/apps/web/b/values.yaml")]
    // only one leaf level, and only this app
    [InlineData("values.yaml", "overwrite", "application/apps/web/a/b/values.yaml|application/apps/other/values.yaml", "application/apps/web/values.yaml")]
    // a path with directories
    [InlineData("conf/app.yaml", "merge", "application/apps/web/leaf/conf/app.yaml", "application/apps/web/leaf/conf/app.yaml")]
    // overwrite of a file the image does not have: created in the app's directory
    [InlineData("new.txt", "overwrite", "application/apps/web/values.yaml", "application/apps/web/new.txt")]
    public void Targets_are_the_apps_file_else_each_leafs_file(string path, string strategy, string existing, string expected)
    {
        var o = Override(path, strategy, "x: 1\n");
        Assert.Equal(expected.Split('|'), o.Targets(existing.Split('|')));
        Assert.All(expected.Split('|'), t => Assert.True(o.Matches(t) || strategy == "overwrite"));
    }

    [Fact]
    public void Merge_into_a_file_the_image_does_not_have_names_the_clusterfile_line()
    {
        var ex = Assert.Throws<SealerException>(() => Override("missing.yaml", "merge", "a: 1\n").Targets(["application/apps/web/values.yaml"]));
        Assert.Equal(ErrorCodes.ClusterfileBadConfig, ex.Code);
        Assert.Equal(12, ex.Line);
        Assert.Contains("strategy: overwrite", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("overwrite", "a: 1\n", "b: 2\n", "b: 2\n")]
    [InlineData("merge", null, "b: 2\n", "b: 2\n")] // nothing to merge into
    [InlineData("merge", "a: 1\nn:\n  x: 1\n  y: 2\n", "n:\n  y: 3\nb: 2\n", "a: 1\nn:\n  x: 1\n  y: 3\nb: 2\n")]
    [InlineData("merge", "a: 1\n---\nc: 3\n", "b: 2\n", "a: 1\nb: 2\n---\nc: 3\nb: 2\n")] // every document
    public void Apply_overwrites_or_deep_merges_every_document(string strategy, string? existing, string data, string expected) =>
        Assert.Equal(expected, AppFileMerger.Apply(Override("values.yaml", strategy, data), existing, "application/apps/web/values.yaml"));

    [Theory]
    [InlineData("a: 1\n", "- a\n- b\n", "not one YAML mapping")] // data not a mapping
    [InlineData("- x\n", "b: 2\n", "not a mapping")] // a document of the image's file not a mapping
    [InlineData("a: [1\n", "b: 2\n", "cannot merge")] // the image's file is not YAML
    public void Merge_of_what_is_not_a_mapping_is_a_clusterfile_error(string existing, string data, string message)
    {
        var ex = Assert.Throws<SealerException>(() => AppFileMerger.Apply(Override("values.yaml", "merge", data), existing, "application/apps/web/values.yaml"));
        Assert.Equal(ErrorCodes.ClusterfileBadConfig, ex.Code);
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
        Assert.Equal("Clusterfile", ex.File);
    }

    [Fact]
    public void Only_launched_apps_files_are_applied()
    {
        var doc = ClusterfileReader.Parse("""
            kind: Cluster
            spec: {image: a, hosts: [{ips: [10.0.0.1], roles: [master]}]}
            ---
            kind: Application
            spec:
              launchApps: [web]
              configs:
                - name: web
                  files: [{path: values.yaml, strategy: merge, data: "a: 1"}, {path: extra.txt, data: x}]
                - name: idle
                  files: [{path: values.yaml, data: "b: 2"}]
            """);
        var plan = LaunchPlanner.Plan(doc, SealerImageExtension.Empty);
        Assert.Equal(["web:values.yaml", "web:extra.txt"], AppFileMerger.Overrides(doc, plan).Select(o => $"{o.App}:{o.File.Path}"));
    }
}
