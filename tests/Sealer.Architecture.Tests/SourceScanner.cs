using System.Text.RegularExpressions;

namespace Sealer.Architecture.Tests;

/// <summary>One C# source file: its repository-relative path (with '/') and its text.</summary>
public sealed record SourceFile(string Path, string Text);

/// <summary>How a file reaches another namespace.</summary>
public enum ReferenceKind { Using, Qualified, ParentType }

/// <summary>A reference from the namespace declared in <see cref="File"/> to <see cref="To"/>, at <see cref="Line"/> (1-based).</summary>
public sealed record NamespaceReference(string File, int Line, string From, string To, ReferenceKind Kind, string Text);

/// <summary>A namespace declaration and the namespace the file's folder asks for.</summary>
public sealed record NamespaceDeclaration(string File, int Line, string Namespace, string Expected);

/// <summary>
/// Reads C# sources as text (no compiler): namespace declarations, <c>using</c> directives (also <c>using static</c>,
/// aliases and <c>global using</c>), names written with a namespace (<c>Sealer.Core.X.Type</c>, or <c>X.Type</c> resolved
/// against the enclosing namespaces as C# does), and the types a file uses from its parent namespaces without a
/// <c>using</c> (C# makes every enclosing namespace's types visible, so <c>Sealer.Core.A.B</c> sees <c>Sealer.Core.A</c>'s).
/// </summary>
public sealed partial class SourceScanner
{
    private readonly List<(SourceFile File, string Code, string[] Lines, string? Namespace)> _files = [];
    private readonly Dictionary<string, HashSet<string>> _types = new(StringComparer.Ordinal);

    /// <param name="root">The namespace the scanned folder holds (<c>Sealer.Core</c>); a file under
    /// <c>&lt;folder&gt;/A/B/</c> must declare <c>root.A.B</c>.</param>
    /// <param name="folder">The scanned folder, repository-relative (<c>src/Sealer.Core</c>).</param>
    public SourceScanner(string root, string folder, IEnumerable<SourceFile> files)
    {
        Root = root;
        Folder = folder.TrimEnd('/');
        foreach (var f in files)
        {
            string code = CSharpText.CodeOnly(f.Text);
            string[] lines = code.Split('\n');
            var ns = NamespaceRegex().Match(code);
            string? name = ns.Success ? ns.Groups[1].Value : null;
            _files.Add((f, code, lines, name));
            if (name is null) continue;
            if (!_types.TryGetValue(name, out var set)) _types[name] = set = new HashSet<string>(StringComparer.Ordinal);
            foreach (var t in TopLevelTypes(code, fileScoped: ns.Groups[2].Value == ";")) set.Add(t);
        }
    }

    public string Root { get; }
    public string Folder { get; }

    /// <summary>Every namespace some scanned file declares.</summary>
    public IReadOnlyCollection<string> Namespaces => _types.Keys;

    public IEnumerable<NamespaceDeclaration> Declarations()
    {
        foreach (var (file, code, _, ns) in _files)
        {
            string dir = System.IO.Path.GetDirectoryName(file.Path)!.Replace('\\', '/');
            string rel = dir.Length > Folder.Length ? dir[(Folder.Length + 1)..] : "";
            string expected = rel.Length == 0 ? Root : Root + "." + rel.Replace('/', '.');
            int line = 0;
            if (ns is not null)
            {
                var m = NamespaceRegex().Match(code);
                line = LineOf(code, m.Index);
            }
            yield return new NamespaceDeclaration(file.Path, line, ns ?? "", expected);
        }
    }

    /// <summary>Every reference from a scanned file's namespace to another namespace under <see cref="Root"/>.</summary>
    public IEnumerable<NamespaceReference> References()
    {
        foreach (var (file, _, lines, ns) in _files)
        {
            if (ns is null) continue;
            var ancestors = Ancestors(ns).ToList();
            for (int n = 0; n < lines.Length; n++)
            {
                string line = lines[n];
                if (NamespaceRegex().IsMatch(line)) continue;
                var u = UsingRegex().Match(line);
                if (u.Success)
                {
                    if (Resolve(u.Groups["name"].Value) is { } target && target != ns)
                    {
                        yield return new(file.Path, n + 1, ns, target, ReferenceKind.Using, line.Trim());
                    }
                    continue;
                }
                foreach (Match m in ChainRegex().Matches(line))
                {
                    string chain = WhiteSpaceRegex().Replace(m.Groups["chain"].Value, "");
                    if (ResolveChain(chain, ns, ancestors) is { } target && target != ns)
                    {
                        yield return new(file.Path, n + 1, ns, target, ReferenceKind.Qualified, chain);
                    }
                }
                foreach (var parent in ancestors.Skip(1))
                {
                    if (!_types.TryGetValue(parent, out var parentTypes)) continue;
                    foreach (Match m in IdentifierRegex().Matches(line))
                    {
                        string id = m.Value;
                        if (parentTypes.Contains(id) && !DeclaredBetween(id, ns, parent))
                        {
                            yield return new(file.Path, n + 1, ns, parent, ReferenceKind.ParentType, id);
                        }
                    }
                }
            }
        }
    }

    // A type of the same name in a nearer namespace hides the parent's.
    private bool DeclaredBetween(string type, string ns, string parent)
    {
        for (string? n = ns; n is not null && n != parent; n = Parent(n))
        {
            if (_types.TryGetValue(n, out var set) && set.Contains(type)) return true;
        }
        return false;
    }

    /// <summary><paramref name="ns"/> and its parents down to <see cref="Root"/>, nearest first.</summary>
    private IEnumerable<string> Ancestors(string ns)
    {
        for (string? n = ns; n is not null && (n == Root || n.StartsWith(Root + ".", StringComparison.Ordinal)); n = Parent(n)) yield return n;
    }

    private static string? Parent(string ns)
    {
        int dot = ns.LastIndexOf('.');
        return dot < 0 ? null : ns[..dot];
    }

    // The longest known namespace a dotted name starts with (a using of a type, for using static and aliases, names its namespace).
    private string? Resolve(string name)
    {
        if (!name.StartsWith(Root + ".", StringComparison.Ordinal) && name != Root) return null;
        for (string? n = name; n is not null; n = Parent(n))
        {
            if (_types.ContainsKey(n)) return n;
        }
        return null;
    }

    // Sealer.Core.X.Type, or X.Type / X.Y.Type written inside Sealer.Core.Z (C# looks X up in every enclosing namespace,
    // nearest first). Counted only when the name after the namespace is a type declared there.
    private string? ResolveChain(string chain, string ns, List<string> ancestors)
    {
        chain = chain.StartsWith("global::", StringComparison.Ordinal) ? chain[8..] : chain;
        var candidates = new List<string>();
        if (chain.StartsWith(Root + ".", StringComparison.Ordinal)) candidates.Add(chain);
        else
        {
            string first = chain.Split('.')[0];
            foreach (var a in ancestors.Append(Parent(Root)).OfType<string>())
            {
                if (_types.ContainsKey(a + "." + first) || Namespaces.Any(k => k.StartsWith(a + "." + first + ".", StringComparison.Ordinal)))
                {
                    candidates.Add(a + "." + chain);
                    break;
                }
            }
        }
        foreach (var full in candidates)
        {
            var parts = full.Split('.');
            for (int k = parts.Length - 1; k > 0; k--)
            {
                string prefix = string.Join('.', parts[..k]);
                if (_types.TryGetValue(prefix, out var types)) return types.Contains(parts[k]) ? prefix : null;
            }
        }
        return null;
    }

    private static IEnumerable<string> TopLevelTypes(string code, bool fileScoped)
    {
        int topDepth = fileScoped ? 0 : 1;
        int depth = 0;
        foreach (var line in code.Split('\n'))
        {
            if (depth == topDepth && TypeDeclarationRegex().Match(line) is { Success: true } m) yield return m.Groups["name"].Value;
            depth += line.Count(c => c == '{') - line.Count(c => c == '}');
        }
    }

    private static int LineOf(string text, int index) => text.AsSpan(0, index).Count('\n') + 1;

    [GeneratedRegex(@"^\s*namespace\s+([\w.]+)\s*([;{]?)", RegexOptions.Multiline)]
    private static partial Regex NamespaceRegex();

    [GeneratedRegex(@"^\s*(?:global\s+)?using\s+(?:static\s+)?(?:\w+\s*=\s*)?(?:global::)?(?<name>[\w.]+)\s*(?:<[^;]*>)?\s*;")]
    private static partial Regex UsingRegex();

    [GeneratedRegex(@"(?<![\w.])(?<chain>(?:global::)?[A-Za-z_]\w*(?:\s*\.\s*[A-Za-z_]\w*)+)")]
    private static partial Regex ChainRegex();

    [GeneratedRegex(@"(?<![\w.@])[A-Za-z_]\w*\b")]
    private static partial Regex IdentifierRegex();

    [GeneratedRegex(@"\s+")]
    private static partial Regex WhiteSpaceRegex();

    [GeneratedRegex(@"^\s*(?:\[[^\]]*\]\s*)*(?:(?:public|internal|private|protected|static|sealed|abstract|partial|readonly|file|unsafe|ref|new)\s+)*(?:class|struct|interface|enum|record(?:\s+class|\s+struct)?|delegate\s+[\w<>\[\]?,.\s]+?)\s+(?<name>[A-Za-z_]\w*)")]
    private static partial Regex TypeDeclarationRegex();
}
