using Sealer.Core.Charts;
using Sealer.Core.Diagnostics;

namespace Sealer.Charts.Tests.Charts;

public class LoaderTests
{
    [Fact]
    public void Directory_load_honours_helmignore_and_hidden_templates()
    {
        using var tmp = new TempDir();
        string root = Path.Combine(tmp.Path, "c");
        ValuesOracleTests.MakeChart(root, "c", "a: 1\n");
        File.WriteAllText(Path.Combine(root, ".helmignore"), "# comment\n*.bak\nsecret/\n/top.txt\n");
        File.WriteAllText(Path.Combine(root, "templates", ".hidden.yaml"), "x");
        File.WriteAllText(Path.Combine(root, "templates", "x.bak"), "x");
        File.WriteAllText(Path.Combine(root, "files.txt"), "f");
        File.WriteAllText(Path.Combine(root, "top.txt"), "t");
        Directory.CreateDirectory(Path.Combine(root, "secret"));
        File.WriteAllText(Path.Combine(root, "secret", "s.txt"), "s");
        Directory.CreateDirectory(Path.Combine(root, "sub"));
        File.WriteAllText(Path.Combine(root, "sub", "top.txt"), "kept: anchored rule only matches at the root");
        var chart = ChartLoader.Load(root);
        Assert.Equal(["templates/values.yaml"], chart.Templates.Select(t => t.Name));
        Assert.Equal([".helmignore", "files.txt", "sub/top.txt"], chart.Files.Select(f => f.Name).OrderBy(n => n, StringComparer.Ordinal));
        Assert.Equal(1.0, chart.Values["a"]);
    }

    [Fact]
    public void Symbolic_links_to_directories_are_followed_as_helm_does()
    {
        // helm's loader walks a chart directory with sympath.Walk: a link to a directory is a directory (templates and
        // vendored subcharts may live elsewhere); hidden entries are walked too, and .helmignore still applies under a link.
        using var tmp = new TempDir();
        string root = Path.Combine(tmp.Path, "c");
        ValuesOracleTests.MakeChart(root, "c", "a: 1\n");
        string shared = Path.Combine(tmp.Path, "shared");
        Directory.CreateDirectory(shared);
        File.WriteAllText(Path.Combine(shared, "cm.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: linked\n");
        File.WriteAllText(Path.Combine(shared, "skip.bak"), "not yaml: [");
        File.WriteAllText(Path.Combine(root, ".helmignore"), "*.bak\n");
        Directory.CreateSymbolicLink(Path.Combine(root, "templates", "more"), shared);
        ValuesOracleTests.MakeChart(Path.Combine(tmp.Path, "sub-src"), "sub", "b: 2\n");
        Directory.CreateDirectory(Path.Combine(root, "charts"));
        Directory.CreateSymbolicLink(Path.Combine(root, "charts", "sub"), Path.Combine(tmp.Path, "sub-src"));

        var chart = ChartLoader.Load(root);
        Assert.Equal(["templates/more/cm.yaml", "templates/values.yaml"], chart.Templates.Select(t => t.Name).Order(StringComparer.Ordinal));
        Assert.Equal(["sub"], chart.Dependencies.Select(d => d.Name));
        Assert.Contains(Path.Combine(root, "templates", "more", "cm.yaml"), ChartLoader.EnumerateInputFiles(root)); // by the path through the link
        Assert.DoesNotContain(Path.Combine(root, "templates", "more", "skip.bak"), ChartLoader.EnumerateInputFiles(root));

        var helm = HelmOracle.Run(HelmOracle.HelmPath("helm3"), ["template", "release-name", root, "--namespace", "default"]);
        Assert.True(helm.ExitCode == 0, helm.StdErr);
        var sources = helm.StdOut.Split('\n').Where(l => l.StartsWith("# Source: ", StringComparison.Ordinal)).Select(l => l["# Source: ".Length..]).Order(StringComparer.Ordinal);
        Assert.Equal(["c/charts/sub/templates/values.yaml", "c/templates/more/cm.yaml", "c/templates/values.yaml"], sources);
    }

    [Fact]
    public void Archive_and_directory_give_the_same_chart()
    {
        using var tmp = new TempDir();
        string root = Path.Combine(tmp.Path, "c");
        ValuesOracleTests.MakeChart(root, "c", "a: {b: [1, two]}\n", "appVersion: 1.10\ndescription: d\n");
        ValuesOracleTests.MakeChart(Path.Combine(root, "charts", "s"), "s", "x: 1\n");
        string tgz = Path.Combine(tmp.Path, "c-1.0.0.tgz");
        TempDir.PackTgz(root, tgz);
        var a = ChartLoader.Load(root);
        var b = ChartLoader.Load(tgz);
        Assert.Equal(Canon.Of(a.Values), Canon.Of(b.Values));
        Assert.Equal(Canon.Of(a.Metadata.ToTemplateValue()), Canon.Of(b.Metadata.ToTemplateValue()));
        Assert.Equal("1.1", b.Metadata.AppVersion); // Go's yaml → string field: 1.10 is the float 1.1
        Assert.Equal(["s"], b.Dependencies.Select(d => d.Name));
        Assert.Equal(tgz + "!charts/s", b.Dependencies[0].SourcePath);
    }

    [Fact]
    public void Chart_yaml_errors_are_coded_with_file_and_line()
    {
        using var tmp = new TempDir();
        string f = tmp.Write("c/Chart.yaml", "apiVersion: v2\nname: c\n");
        var ex = Assert.Throws<SealerException>(() => ChartLoader.Load(Path.Combine(tmp.Path, "c")));
        Assert.Equal(ErrorCodes.InvalidChartMetadata, ex.Code);
        Assert.Equal(f, ex.File);
        tmp.Write("c/Chart.yaml", "apiVersion: v2\nname: c\nversion: 1.0.0\n");
        tmp.Write("c/values.yaml", "a: 1\nb: [\n");
        var ex2 = Assert.Throws<SealerException>(() => ChartLoader.Load(Path.Combine(tmp.Path, "c")));
        Assert.Equal(ErrorCodes.InvalidValuesFile, ex2.Code);
        Assert.EndsWith("values.yaml", ex2.File);
        Assert.True(ex2.Line >= 2);
        var ex3 = Assert.Throws<SealerException>(() => ChartLoader.Load(Path.Combine(tmp.Path, "nope")));
        Assert.Equal(ErrorCodes.ChartNotFound, ex3.Code);
    }

    [Fact]
    public void Corrupt_archive_is_a_coded_error()
    {
        using var tmp = new TempDir();
        string f = tmp.Write("bad.tgz", "not gzip at all");
        var ex = Assert.Throws<SealerException>(() => ChartLoader.Load(f));
        Assert.Equal(ErrorCodes.InvalidChartArchive, ex.Code);
    }

    [Theory]
    [InlineData("*.txt", "a.txt", true)]
    [InlineData("*.txt", "dir/a.txt", true)]
    [InlineData("dir/*.txt", "dir/a.txt", true)]
    [InlineData("dir/*.txt", "other/dir/a.txt", false)]
    [InlineData("/a.txt", "a.txt", true)]
    [InlineData("a?c", "abc", true)]
    [InlineData("[a-c]x", "bx", true)]
    [InlineData("[^a-c]x", "bx", false)]
    public void Helmignore_patterns(string rule, string path, bool ignored)
    {
        var rules = HelmIgnore.Parse(rule);
        Assert.Equal(ignored, rules.Ignore(path, isDirectory: false));
    }

    [Fact]
    public void Helmignore_rejects_double_star()
    {
        var ex = Assert.Throws<SealerException>(() => HelmIgnore.Parse("ok\n**/x\n", ".helmignore"));
        Assert.Equal(ErrorCodes.InvalidHelmIgnore, ex.Code);
        Assert.Equal(2, ex.Line);
    }
}
