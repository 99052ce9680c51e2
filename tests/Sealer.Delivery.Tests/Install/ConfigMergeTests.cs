using Sealer.Core.Delivery.Clusterfile;
using Sealer.Core.Delivery.Install.Policies;
using Sealer.Core.Diagnostics;

namespace Sealer.Delivery.Tests.Install;

/// <summary><see cref="ConfigMerge"/>: Sealer's <c>kind: Config</c> strategies over a file of the image.</summary>
public class ConfigMergeTests
{
    private static ConfigSpec Config(string strategy, string data) => new("c", "etc/x.yaml", data, strategy, null, new SourceLocation("Clusterfile", 7, 3));

    [Theory]
    [InlineData("override", "a: 1\n", "b: 2\n", "b: 2\n")]
    [InlineData("insert", "a: 1\n", "b: 2\n", "a: 1\nb: 2\n")]
    [InlineData("insert", "a: 1\n\n\n", "b: 2\n", "a: 1\nb: 2\n")]
    [InlineData("merge", "a:\n  x: 1\n  y: 2\n", "a:\n  y: 3\nb: 2\n", "a:\n  x: 1\n  y: 3\nb: 2\n")]
    [InlineData("merge", null, "new\n", "new\n")] // nothing in the image: the data
    [InlineData("merge", "- a\n", "b: 2\n", "b: 2\n")] // not two mappings: the data replaces the file
    [InlineData("merge", "a: 1\n---\nb: 2\n", "c: 3\n", "c: 3\n")] // several documents: the data replaces the file
    public void Strategies_override_insert_or_merge(string strategy, string? existing, string data, string expected) =>
        Assert.Equal(expected, ConfigMerge.Apply(Config(strategy, data), existing));

    [Fact]
    public void Merge_into_invalid_yaml_is_a_clusterfile_error_with_the_line()
    {
        var ex = Assert.Throws<SealerException>(() => ConfigMerge.Apply(Config("merge", "b: 2\n"), "a: [1\n"));
        Assert.Equal(ErrorCodes.ClusterfileBadConfig, ex.Code);
        Assert.Equal(7, ex.Line);
        Assert.Contains("strategy: override", ex.Message, StringComparison.Ordinal);
    }
}
