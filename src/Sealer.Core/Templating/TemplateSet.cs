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
    private readonly IReadOnlyDictionary<string, GoFunc> _funcs;

    /// <param name="functions">The function table; Go's builtins are always present and can be overridden.</param>
    public TemplateSet(IReadOnlyDictionary<string, GoFunc>? functions = null)
    {
        _trees = new Dictionary<string, Tree>(StringComparer.Ordinal);
        if (functions is null) _funcs = Builtins.Functions;
        else
        {
            var merged = new Dictionary<string, GoFunc>(Builtins.Functions, StringComparer.Ordinal);
            foreach (var (k, v) in functions) merged[k] = v;
            _funcs = merged;
        }
    }

    private TemplateSet(Dictionary<string, Tree> trees, IReadOnlyDictionary<string, GoFunc> funcs, MissingKeyMode mode)
    {
        _trees = trees;
        _funcs = funcs;
        MissingKey = mode;
    }

    public MissingKeyMode MissingKey { get; set; } = MissingKeyMode.Default;

    public IReadOnlyDictionary<string, GoFunc> Functions => _funcs;

    /// <summary>Names of every template in the set (files and {{define}}s).</summary>
    public IEnumerable<string> TemplateNames => _trees.Keys;

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
        try
        {
            return Parser.Parse(name, text, _funcs.ContainsKey, _trees);
        }
        catch (ParseException e)
        {
            throw new TemplateException(ErrorCodes.TemplateParseError, e.Message, e.TemplateName, e.Line, 0);
        }
    }

    public bool Has(string name) => _trees.TryGetValue(name, out var t) && t.Root is not null;

    internal Tree? Lookup(string name) => _trees.TryGetValue(name, out var t) ? t : null;

    /// <summary>A copy sharing the parsed trees and functions, to which more templates can be added (Helm's tpl).</summary>
    public TemplateSet Clone() => new(new Dictionary<string, Tree>(_trees, StringComparer.Ordinal), _funcs, MissingKey);

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
