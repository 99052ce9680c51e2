using Sealer.Core.Charts;
using Sealer.Core.Discovery;

namespace Sealer.Discovery.Tests;

public class ManifestSplitTests
{
    [Fact]
    public void Splits_like_helm_and_keeps_start_lines()
    {
        string text = "\n\n# leading comment\n---\napiVersion: v1\nkind: A\n---   \n\n---\nkind: B\nx: |\n  ---inside\n---\n\n   \n";
        var docs = ManifestDocuments.SplitLikeHelm(text);
        // As Go's regexp: "---   \n\n" eats the blank lines, so the next "---" has no newline before it and stays in the document;
        // "  ---inside" is indented, so it is no separator.
        Assert.Equal(["# leading comment", "apiVersion: v1\nkind: A", "---\nkind: B\nx: |\n  ---inside"], docs.Select(d => d.Text));
        Assert.Equal([3, 5, 9], docs.Select(d => d.StartLine));
    }

    [Fact]
    public void Rendered_template_lines_are_lines_of_the_template_output()
    {
        string rendered = "---\n# Source: x\napiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: a:1\n---\nkind: Pod\nspec:\n  containers:\n  - image: b:2\n";
        var found = ImageDiscovery.FindInRenderedText(rendered, "t.yaml");
        Assert.Equal([("a:1", 7), ("b:2", 12)], found.Select(f => (f.Value, f.Line)));
    }
}
