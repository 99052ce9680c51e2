namespace Sealer.Architecture.Tests;

/// <summary>
/// Checks sources against <see cref="LayerRules"/>: every namespace matches its folder and has a line in the list, every
/// reference between namespaces is an allowed arrow (or a listed exception in that file), and every listed exception still
/// occurs. Each problem is one line <c>path:line: what</c>.
/// </summary>
public static class LayerCheck
{
    public static List<string> Check(LayerRules rules, SourceScanner scanner)
    {
        var problems = new List<string>();
        foreach (var d in scanner.Declarations())
        {
            if (d.Namespace.Length == 0) problems.Add($"{d.File}:1: declares no namespace (expected {d.Expected})");
            else if (d.Namespace != d.Expected) problems.Add($"{d.File}:{d.Line}: namespace {d.Namespace} does not match its folder (expected {d.Expected})");
        }
        foreach (var ns in scanner.Namespaces.Where(n => !rules.IsListed(n)).Order(StringComparer.Ordinal))
        {
            problems.Add($"docs/architecture.md: namespace {ns} has no line in the layer list; add one with the parts it may use");
        }
        var usedExceptions = new HashSet<LayerException>();
        foreach (var r in scanner.References())
        {
            if (!rules.IsListed(r.From) || rules.Allows(r.From, r.To)) continue;
            var exception = rules.Exceptions.FirstOrDefault(e => e.From == r.From && e.To == r.To && e.File == r.File);
            if (exception is not null)
            {
                usedExceptions.Add(exception);
                continue;
            }
            string allowed = rules.DirectTargets(r.From) is { Count: > 0 } t ? string.Join(", ", t.Select(LayerRules.ShortName)) : "nothing";
            problems.Add($"{r.File}:{r.Line}: {LayerRules.ShortName(r.From)} → {LayerRules.ShortName(r.To)} is not an allowed arrow " +
                $"({Describe(r)}); docs/architecture.md lets {LayerRules.ShortName(r.From)} use {allowed}");
        }
        foreach (var e in rules.Exceptions.Where(e => !usedExceptions.Contains(e)))
        {
            problems.Add($"docs/architecture.md: the exception {LayerRules.ShortName(e.From)} → {LayerRules.ShortName(e.To)} in {e.File} no longer occurs; delete its line");
        }
        return problems.Distinct().ToList();
    }

    private static string Describe(NamespaceReference r) => r.Kind switch
    {
        ReferenceKind.Using => r.Text,
        ReferenceKind.Qualified => $"uses {r.Text}",
        _ => $"uses {r.Text} from the parent namespace {r.To} without a using",
    };

    /// <summary>Project references of <c>src/*/*.csproj</c> against the project lines of the list.</summary>
    public static List<string> CheckProjects(LayerRules rules, IEnumerable<(string Project, string Path, IReadOnlyList<string> References)> projects)
    {
        var problems = new List<string>();
        foreach (var (project, path, references) in projects)
        {
            if (!rules.IsListed(project))
            {
                problems.Add($"{path}: project {project} has no line in the layer list of docs/architecture.md");
                continue;
            }
            foreach (var reference in references.Where(r => !rules.Allows(project, r)))
            {
                problems.Add($"{path}: {project} → {reference} is not an allowed arrow in docs/architecture.md");
            }
        }
        return problems;
    }
}
