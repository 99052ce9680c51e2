using System.Text.RegularExpressions;

namespace Sealer.Architecture.Tests;

/// <summary>
/// The layer list in docs/architecture.md is the one source of truth: Sealer.Core's namespaces match their folders, and
/// every reference between them (and every project reference) is an arrow the list allows.
/// </summary>
public partial class LayerTests
{
    private const string CoreFolder = "src/Sealer.Core";

    private static string RepoRoot => Sealer.TestSupport.Repo.Root;

    private static string Doc => File.ReadAllText(Path.Combine(RepoRoot, "docs", "architecture.md"));

    private static LayerRules Rules => LayerRules.Parse(Doc);

    /// <summary>Every .cs file of Sealer.Core (not obj/ or bin/), repository-relative.</summary>
    private static List<SourceFile> CoreSources()
    {
        string root = Path.Combine(RepoRoot, CoreFolder);
        return Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(RepoRoot, f).Replace('\\', '/'))
            .Where(f => !f.Contains("/obj/", StringComparison.Ordinal) && !f.Contains("/bin/", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(f => new SourceFile(f, File.ReadAllText(Path.Combine(RepoRoot, f))))
            .ToList();
    }

    private static List<string> CheckCore(IEnumerable<SourceFile> sources) => LayerCheck.Check(Rules, new SourceScanner(LayerRules.CoreRoot, CoreFolder, sources));

    [Fact]
    public void Core_namespaces_match_folders_and_follow_the_layer_list()
    {
        var sources = CoreSources();
        Assert.True(sources.Count > 80, $"only {sources.Count} Core sources found");
        var problems = CheckCore(sources);
        Assert.True(problems.Count == 0, "Sealer.Core breaks docs/architecture.md:\n" + string.Join("\n", problems));
    }

    [Fact]
    public void Project_references_follow_the_layer_list()
    {
        var projects = Directory.EnumerateFiles(Path.Combine(RepoRoot, "src"), "*.csproj", SearchOption.AllDirectories)
            .Select(p => (
                Project: Path.GetFileNameWithoutExtension(p),
                Path: Path.GetRelativePath(RepoRoot, p).Replace('\\', '/'),
                References: (IReadOnlyList<string>)ProjectReferenceRegex().Matches(File.ReadAllText(p))
                    .Select(m => Path.GetFileNameWithoutExtension(m.Groups[1].Value.Replace('\\', '/'))).ToList()))
            .ToList();
        Assert.Contains(projects, p => p.Project == "Sealer.Cli" && p.References.Contains("Sealer.Core"));
        var problems = LayerCheck.CheckProjects(Rules, projects);
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void Layer_list_names_every_core_namespace_once_and_has_no_cycle()
    {
        var rules = Rules;
        var declared = new SourceScanner(LayerRules.CoreRoot, CoreFolder, CoreSources()).Namespaces;
        Assert.All(declared, ns => Assert.True(rules.IsListed(ns), $"{ns} has no line in docs/architecture.md"));
        Assert.True(rules.Allows("Sealer.Core.Delivery", "Sealer.Core.Diagnostics"), "the list should let Delivery reach Diagnostics through the layers below it");
        Assert.False(rules.Allows("Sealer.Core.Diagnostics", "Sealer.Core.Delivery"));
    }

    // ---- the test of the test: synthetic sources that break the list must fail, naming file, line and arrow ----

    [Fact]
    public void An_added_upward_using_fails_naming_file_line_and_arrow()
    {
        var sources = CoreSources();
        int i = sources.FindIndex(s => s.Path == "src/Sealer.Core/Oci/Digest.cs");
        Assert.True(i >= 0, "src/Sealer.Core/Oci/Digest.cs not found");
        sources[i] = sources[i] with { Text = "using Sealer.Core.Delivery;\n" + sources[i].Text };

        var problems = CheckCore(sources);

        var problem = Assert.Single(problems);
        Assert.StartsWith("src/Sealer.Core/Oci/Digest.cs:1: Oci → Delivery is not an allowed arrow (using Sealer.Core.Delivery;)", problem);
    }

    [Theory]
    [InlineData("using static Sealer.Core.Artifacts.OciArchive;", "Layout → Artifacts")]
    [InlineData("using Store = Sealer.Core.Artifacts.ClusterImageStore;", "Layout → Artifacts")]
    [InlineData("global using Sealer.Core.Charts;", "Layout → Charts")]
    public void Using_static_aliases_and_global_usings_count(string directive, string arrow)
    {
        var problems = CheckCore(CoreSources().Append(new SourceFile("src/Sealer.Core/Layout/Synthetic.cs", directive + "\n\nnamespace Sealer.Core.Layout;\n")));

        Assert.StartsWith($"src/Sealer.Core/Layout/Synthetic.cs:1: {arrow} is not an allowed arrow ({directive})", Assert.Single(problems));
    }

    [Fact]
    public void A_fully_qualified_upward_name_in_code_fails()
    {
        const string text = """
            namespace Sealer.Core.Layout;

            internal static class Synthetic
            {
                public static object? Open(string path) => Sealer.Core.Artifacts.ClusterImageStore.Open(path);
                public static object? Parse(string s) => Charts.StrVals.Parse(s);
            }
            """;
        var problems = CheckCore(CoreSources().Append(new SourceFile("src/Sealer.Core/Layout/Synthetic.cs", text)));

        Assert.Equal(2, problems.Count);
        Assert.StartsWith("src/Sealer.Core/Layout/Synthetic.cs:5: Layout → Artifacts is not an allowed arrow (uses Sealer.Core.Artifacts.ClusterImageStore.Open)", problems[0]);
        Assert.StartsWith("src/Sealer.Core/Layout/Synthetic.cs:6: Layout → Charts is not an allowed arrow (uses Charts.StrVals.Parse)", problems[1]);
    }

    [Fact]
    public void A_parent_namespace_type_used_without_a_using_fails()
    {
        // Templating.Parse sits below Templating: C# lets it see Templating's types without a using, the list does not.
        const string text = """
            namespace Sealer.Core.Templating.Parse;

            internal static class Synthetic
            {
                public static string Name(TemplateSet set) => set.ToString()!;
            }
            """;
        var problems = CheckCore(CoreSources().Append(new SourceFile("src/Sealer.Core/Templating/Parse/Synthetic.cs", text)));

        Assert.StartsWith("src/Sealer.Core/Templating/Parse/Synthetic.cs:5: Templating.Parse → Templating is not an allowed arrow (uses TemplateSet from the parent namespace",
            Assert.Single(problems));
    }

    [Fact]
    public void Names_in_comments_and_strings_do_not_count()
    {
        const string text = """"
            namespace Sealer.Core.Oci;

            // using Sealer.Core.Delivery; would be upward
            /* Sealer.Core.Artifacts.ClusterImageStore */
            internal static class Synthetic
            {
                public const string A = "Sealer.Core.Delivery.ClusterInstaller";
                public const string B = @"Charts.StrVals ""quoted"" Sealer.Core.Charts.ChartLoader";
                public const string C = """
                    Sealer.Core.Artifacts.OciArchive
                    """;
                public static string D(int n) => $"{n} Sealer.Core.Charts.ChartLoader {{ }}";
                public const char E = '"';
            }
            """";
        var problems = CheckCore(CoreSources().Append(new SourceFile("src/Sealer.Core/Oci/Synthetic.cs", text)));

        Assert.Empty(problems);
    }

    [Fact]
    public void Code_inside_an_interpolation_hole_counts()
    {
        const string text = """
            namespace Sealer.Core.Oci;

            internal static class Synthetic
            {
                public static string D(string p) => $"store: {Sealer.Core.Artifacts.ClusterImageStore.Open(p)}";
            }
            """;
        var problems = CheckCore(CoreSources().Append(new SourceFile("src/Sealer.Core/Oci/Synthetic.cs", text)));

        Assert.StartsWith("src/Sealer.Core/Oci/Synthetic.cs:5: Oci → Artifacts", Assert.Single(problems));
    }

    [Fact]
    public void A_namespace_that_does_not_match_its_folder_fails()
    {
        var problems = CheckCore(CoreSources().Append(new SourceFile("src/Sealer.Core/Templating/Helm/Synthetic.cs", "namespace Sealer.Core.Templating;\n")));

        Assert.Equal("src/Sealer.Core/Templating/Helm/Synthetic.cs:1: namespace Sealer.Core.Templating does not match its folder (expected Sealer.Core.Templating.Helm)",
            Assert.Single(problems));
    }

    [Fact]
    public void A_cycle_or_an_unlisted_target_in_the_layer_list_is_refused()
    {
        var cycle = Assert.Throws<FormatException>(() => LayerRules.Parse("<!-- layers -->\n- `A` → `B`\n- `B` → `C`\n- `C` → `A`\n<!-- /layers -->\n"));
        Assert.Contains("cycle: A → B → C → A", cycle.Message);
        var unlisted = Assert.Throws<FormatException>(() => LayerRules.Parse("<!-- layers -->\n- `A` → `B`\n<!-- /layers -->\n"));
        Assert.Contains("'B' has no line of its own", unlisted.Message);
    }

    [Fact]
    public void A_listed_exception_that_no_longer_occurs_fails()
    {
        string doc = Doc.Replace("<!-- /layer-exceptions -->", "- `Oci` → `Delivery` in `src/Sealer.Core/Oci/Digest.cs`: a test\n<!-- /layer-exceptions -->", StringComparison.Ordinal);
        var problems = LayerCheck.Check(LayerRules.Parse(doc), new SourceScanner(LayerRules.CoreRoot, CoreFolder, CoreSources()));

        Assert.Equal("docs/architecture.md: the exception Oci → Delivery in src/Sealer.Core/Oci/Digest.cs no longer occurs; delete its line", Assert.Single(problems));
    }

    [GeneratedRegex(@"<ProjectReference\s+Include=""([^""]+)""")]
    private static partial Regex ProjectReferenceRegex();
}
