using System.Runtime.CompilerServices;
using System.Text;
using Sealer.Core.Diagnostics;
using Sealer.Core.Templating.Parse;
using Sealer.Core.Text;

namespace Sealer.Core.Templating;

/// <summary>What a missing map key evaluates to (Go's <c>missingkey</c> option).</summary>
public enum MissingKeyMode
{
    /// <summary><c>missingkey=default</c>: "no value".</summary>
    Default,
    /// <summary><c>missingkey=zero</c>: the map's zero value (a nil interface). Helm's setting.</summary>
    Zero,
    /// <summary><c>missingkey=error</c>: execution stops (Helm's <c>--strict</c> lint).</summary>
    Error,
}

/// <summary>Per-execution options.</summary>
public sealed class ExecuteOptions
{
    /// <summary>State the function layers keep for one render (e.g. Helm's include counters).</summary>
    public object? State { get; init; }

    public CancellationToken CancellationToken { get; init; }

    /// <summary>Go 1.24+ ranges over integers; helm 3.17 (Go 1.23) does not, so the default is false.</summary>
    public bool RangeOverInt { get; init; }

    /// <summary>Go's maxExecDepth.</summary>
    public int MaxDepth { get; init; } = 100000;

    /// <summary>
    /// When set, printing "no value" (a missing map key or nil, which Go prints as <c>&lt;no value&gt;</c>) fails with this
    /// error code instead. Conditions, <c>default</c> and other functions still see the missing value as Go does; only
    /// writing it into the output is refused (delivery renders config files, where a silent <c>&lt;no value&gt;</c> is a bug).
    /// </summary>
    public string? NoValueErrorCode { get; init; }
}

/// <summary>
/// A set of named Go templates sharing one function table (Go's <c>template.Template</c> with its associated templates).
/// Parse each source once with <see cref="Parse"/>, then <see cref="Execute(string, object?, TextWriter, ExecuteOptions?)"/>
/// any template by name. Functions are layered by the caller: <see cref="Builtins.Functions"/>, then Sprig, then Helm.
/// </summary>
public sealed class TemplateSet
{
    private readonly Dictionary<string, Tree> _trees;
    private readonly TemplateSet? _parent;
    private readonly IReadOnlyDictionary<string, GoFunc> _funcs;

    /// <param name="functions">The function table; Go's builtins are always present and can be overridden.</param>
    public TemplateSet(IReadOnlyDictionary<string, GoFunc>? functions = null)
    {
        _trees = new Dictionary<string, Tree>(StringComparer.Ordinal);
        _funcs = functions is null ? Builtins.Functions : MergedFunctions.GetValue(functions, MergeWithBuiltins);
    }

    private TemplateSet(TemplateSet parent)
    {
        _trees = new Dictionary<string, Tree>(StringComparer.Ordinal);
        _parent = parent;
        _funcs = parent._funcs;
        MissingKey = parent.MissingKey;
    }

    // One merged table per caller's table, so the parse cache (keyed by the table) is shared by every set built from it.
    private static readonly ConditionalWeakTable<IReadOnlyDictionary<string, GoFunc>, IReadOnlyDictionary<string, GoFunc>> MergedFunctions = new();

    private static IReadOnlyDictionary<string, GoFunc> MergeWithBuiltins(IReadOnlyDictionary<string, GoFunc> functions)
    {
        var merged = new Dictionary<string, GoFunc>(Builtins.Functions, StringComparer.Ordinal);
        foreach (var (k, v) in functions) merged[k] = v;
        return merged;
    }

    public MissingKeyMode MissingKey { get; set; } = MissingKeyMode.Default;

    public IReadOnlyDictionary<string, GoFunc> Functions => _funcs;

    /// <summary>Names of every template in the set (files and {{define}}s).</summary>
    public IEnumerable<string> TemplateNames => _parent is null ? _trees.Keys : _trees.Keys.Union(_parent.TemplateNames, StringComparer.Ordinal);

    /// <summary>Parses <paramref name="text"/> as template <paramref name="name"/>; its {{define}}s join the set (later definitions win).</summary>
    /// <exception cref="TemplateException">SEA3000 with Go's message, the template name and line.</exception>
    public void Parse(string name, string text) => ParseTree(name, text);

    /// <summary>
    /// Parses <paramref name="text"/> as <paramref name="name"/> and executes exactly that text (Go's <c>t.New(name).Parse(text)</c>
    /// then <c>t.Execute</c>): an empty text runs as empty even if a template of that name exists. Helm's tpl.
    /// </summary>
    public void ParseAndExecute(string name, string text, object? data, TextWriter output, ExecuteOptions? options = null)
    {
        var tree = ParseTree(name, text);
        if (tree.Root is null) return;
        new Executor(this, output, options ?? DefaultOptions, tree).Run(data);
    }

    private Tree ParseTree(string name, string text)
    {
        Dictionary<string, Tree> local;
        try
        {
            local = ParseCache.Parse(name, text, _funcs, _funcs.ContainsKey);
        }
        catch (ParseException e)
        {
            throw new TemplateException(ErrorCodes.TemplateParseError, e.Message, e.TemplateName, e.Line, 0);
        }
        foreach (var (n, tree) in local)
        {
            // Go's associate: an empty definition never replaces an existing template.
            if (Tree.IsEmptyTree(tree.Root) && Lookup(n) is { Root: not null }) continue;
            _trees[n] = tree;
        }
        // The template just parsed, even when an empty body did not replace an existing one in the set (Go's t.Tree).
        return local[name];
    }

    public bool Has(string name) => Lookup(name) is { Root: not null };

    internal Tree? Lookup(string name)
    {
        for (var s = this; s is not null; s = s._parent)
        {
            if (s._trees.TryGetValue(name, out var t)) return t;
        }
        return null;
    }

    /// <summary>
    /// A set that sees every template of this one (and of later additions to it) and to which more templates can be added
    /// without changing this one (Helm's tpl clones the set; an overlay costs nothing per template).
    /// </summary>
    public TemplateSet Clone() => new(this);

    /// <summary>Executes template <paramref name="name"/> with <paramref name="data"/> as dot.</summary>
    /// <exception cref="TemplateException">SEA3001 (or SEA3005 for an unknown template) with Go's message and the location.</exception>
    public void Execute(string name, object? data, TextWriter output, ExecuteOptions? options = null)
    {
        var tree = Lookup(name);
        if (tree?.Root is null)
        {
            throw new TemplateException(ErrorCodes.TemplateNotDefined,
                $"template: no template {GoQuote.Quote(name)} associated with template {GoQuote.Quote(name)}", name, 0, 0);
        }
        var ex = new Executor(this, output, options ?? DefaultOptions, tree);
        ex.Run(data);
    }

    /// <summary>Executes template <paramref name="name"/> and returns the output.</summary>
    public string Execute(string name, object? data, ExecuteOptions? options = null)
    {
        var sw = new StringWriter(new StringBuilder(256));
        Execute(name, data, sw, options);
        return sw.ToString();
    }

    private static readonly ExecuteOptions DefaultOptions = new();
}
