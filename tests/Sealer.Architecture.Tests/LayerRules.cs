using System.Text.RegularExpressions;

namespace Sealer.Architecture.Tests;

/// <summary>An arrow the layer list tolerates for now, in one file only (see docs/architecture.md).</summary>
public sealed record LayerException(string From, string To, string File);

/// <summary>
/// The allowed arrows of docs/architecture.md: between <c>&lt;!-- layers --&gt;</c> and <c>&lt;!-- /layers --&gt;</c> one
/// line per part, <c>- `A` → `B`, `C`</c> (or <c>→ nothing</c>): A may use B and C and whatever they may use. Names starting
/// with <c>Sealer.</c> are projects, the others namespaces under <c>Sealer.Core</c>. Between <c>&lt;!-- layer-exceptions --&gt;</c>
/// and <c>&lt;!-- /layer-exceptions --&gt;</c>: <c>- `A` → `B` in `path`: why</c>, arrows still to be removed.
/// </summary>
public sealed partial class LayerRules
{
    public const string CoreRoot = "Sealer.Core";

    private readonly Dictionary<string, List<string>> _direct;
    private readonly Dictionary<string, HashSet<string>> _closure = new(StringComparer.Ordinal);

    private LayerRules(Dictionary<string, List<string>> direct, List<LayerException> exceptions)
    {
        _direct = direct;
        Exceptions = exceptions;
    }

    public IReadOnlyCollection<string> Parts => _direct.Keys;
    public IReadOnlyList<LayerException> Exceptions { get; }

    /// <summary>Full names (<c>Sealer.Core.Charts</c>, <c>Sealer.Cli</c>) as written in the list (<c>Charts</c>, <c>Sealer.Cli</c>).</summary>
    public static string FullName(string listed) => listed.StartsWith("Sealer.", StringComparison.Ordinal) ? listed : CoreRoot + "." + listed;

    /// <summary>The name as the list writes it (<c>Sealer.Core.Charts</c> → <c>Charts</c>).</summary>
    public static string ShortName(string full) => full.StartsWith(CoreRoot + ".", StringComparison.Ordinal) ? full[(CoreRoot.Length + 1)..] : full;

    /// <exception cref="FormatException">The list is missing, a line cannot be read, a target has no line of its own, or the arrows form a cycle.</exception>
    public static LayerRules Parse(string markdown)
    {
        var direct = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var (line, number) in Block(markdown, "layers"))
        {
            var m = ArrowRegex().Match(line);
            if (!m.Success) throw new FormatException($"docs/architecture.md:{number}: cannot read layer line '{line}' (write - `A` → `B`, `C` or - `A` → nothing)");
            var targets = m.Groups["to"].Value.Trim() == "nothing" ? [] : Names(m.Groups["to"].Value, number);
            foreach (var from in Names(m.Groups["from"].Value, number))
            {
                if (!direct.TryAdd(FullName(from), targets.Select(FullName).ToList()))
                    throw new FormatException($"docs/architecture.md:{number}: '{from}' has two lines");
            }
        }
        if (direct.Count == 0) throw new FormatException("docs/architecture.md has no <!-- layers --> list");
        foreach (var (from, targets) in direct)
        {
            foreach (var t in targets.Where(t => !direct.ContainsKey(t)))
                throw new FormatException($"docs/architecture.md: {ShortName(from)} → {ShortName(t)}, but '{ShortName(t)}' has no line of its own");
        }
        var exceptions = new List<LayerException>();
        foreach (var (line, number) in Block(markdown, "layer-exceptions"))
        {
            var m = ExceptionRegex().Match(line);
            if (!m.Success) throw new FormatException($"docs/architecture.md:{number}: cannot read exception line '{line}' (write - `A` → `B` in `path`: why)");
            exceptions.Add(new LayerException(FullName(m.Groups["from"].Value), FullName(m.Groups["to"].Value), m.Groups["file"].Value));
        }
        var rules = new LayerRules(direct, exceptions);
        if (rules.FindCycle() is { } cycle) throw new FormatException("docs/architecture.md: the layer list has a cycle: " + string.Join(" → ", cycle.Select(ShortName)));
        return rules;
    }

    public bool IsListed(string part) => _direct.ContainsKey(part);

    /// <summary>True when <paramref name="from"/> may use <paramref name="to"/> (directly or through the parts it may use).</summary>
    public bool Allows(string from, string to) => from == to || Closure(from).Contains(to);

    public IReadOnlyList<string> DirectTargets(string part) => _direct.TryGetValue(part, out var t) ? t : [];

    private HashSet<string> Closure(string part)
    {
        if (_closure.TryGetValue(part, out var done)) return done;
        var set = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<string>(DirectTargets(part));
        while (stack.Count > 0)
        {
            var p = stack.Pop();
            if (!set.Add(p)) continue;
            foreach (var t in DirectTargets(p)) stack.Push(t);
        }
        return _closure[part] = set;
    }

    private List<string>? FindCycle()
    {
        var state = new Dictionary<string, int>(StringComparer.Ordinal); // 1 on the path, 2 done
        var path = new List<string>();
        List<string>? Visit(string p)
        {
            if (state.TryGetValue(p, out var s))
            {
                return s == 1 ? [.. path[path.IndexOf(p)..], p] : null;
            }
            state[p] = 1;
            path.Add(p);
            foreach (var t in DirectTargets(p))
            {
                if (Visit(t) is { } c) return c;
            }
            path.RemoveAt(path.Count - 1);
            state[p] = 2;
            return null;
        }
        foreach (var p in _direct.Keys)
        {
            if (Visit(p) is { } c) return c;
        }
        return null;
    }

    private static IEnumerable<(string Line, int Number)> Block(string markdown, string name)
    {
        var lines = markdown.Split('\n');
        int start = Array.FindIndex(lines, l => l.Trim() == $"<!-- {name} -->");
        if (start < 0) yield break;
        for (int i = start + 1; i < lines.Length && lines[i].Trim() != $"<!-- /{name} -->"; i++)
        {
            string l = lines[i].Trim();
            if (l.Length > 0) yield return (l, i + 1);
        }
    }

    private static List<string> Names(string text, int number)
    {
        var names = NameRegex().Matches(text).Select(m => m.Groups[1].Value).ToList();
        if (names.Count == 0) throw new FormatException($"docs/architecture.md:{number}: no `name` in '{text.Trim()}'");
        return names;
    }

    [GeneratedRegex(@"^-\s+(?<from>(?:`[\w.]+`\s*,?\s*)+)\s*(?:→|->)\s*(?<to>.+)$")]
    private static partial Regex ArrowRegex();

    [GeneratedRegex(@"^-\s+`(?<from>[\w.]+)`\s*(?:→|->)\s*`(?<to>[\w.]+)`\s+in\s+`(?<file>[^`]+)`")]
    private static partial Regex ExceptionRegex();

    [GeneratedRegex(@"`([\w.]+)`")]
    private static partial Regex NameRegex();
}
