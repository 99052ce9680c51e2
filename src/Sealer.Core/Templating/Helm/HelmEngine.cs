using System.Text;
using Sealer.Core.Diagnostics;
using Sealer.Core.Templating.Sprig;
using Sealer.Core.Text;

namespace Sealer.Core.Templating.Helm;

/// <summary>One chart in the tree; subcharts already filtered by condition/tags, alias applied to <see cref="Name"/>.</summary>
public sealed class HelmChartNode
{
    public required string Name { get; init; }

    /// <summary>.Chart: keys are Helm's Go field names (Name, Version, AppVersion, APIVersion, Type, Description, ...).</summary>
    public required IDictionary<string, object?> Metadata { get; init; }

    /// <summary>Templates; names relative to the chart, e.g. <c>templates/deployment.yaml</c>.</summary>
    public required IReadOnlyList<HelmTemplateFile> Templates { get; init; }

    /// <summary>Every non-template file, for .Files.</summary>
    public required IReadOnlyDictionary<string, byte[]> Files { get; init; }

    public IReadOnlyList<HelmChartNode> Dependencies { get; init; } = [];

    public bool IsLibrary => Metadata.TryGetValue("Type", out var t) && t is string s && s == "library";
}

/// <param name="SourcePath">The file on disk, for error locations.</param>
public sealed record HelmTemplateFile(string Name, string Text, string? SourcePath = null);

/// <summary>Options of one render.</summary>
public sealed class HelmRenderOptions
{
    /// <summary>Helm's --strict lint mode (missingkey=error).</summary>
    public bool Strict { get; init; }

    /// <summary>Fixes <c>now</c> and seeds the rand* functions so a lite build is reproducible.</summary>
    public SprigEnvironment Sprig { get; init; } = ReproducibleSprig;

    /// <summary>The default: <c>now</c> fixed at 2026-01-01T00:00:00Z and the rand* functions seeded, so builds are reproducible.</summary>
    public static SprigEnvironment ReproducibleSprig { get; } = new() { Now = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero), RandomSeed = 1 };

    /// <summary><see cref="ReproducibleSprig"/> with <see cref="SprigEnvironment.ReuseKeys"/>: for renders that are only
    /// read (image discovery), where a fresh RSA key per genCA/genSignedCert call would cost most of the render.</summary>
    public static SprigEnvironment DiscoverySprig { get; } = new() { Now = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero), RandomSeed = 1, ReuseKeys = true };

    /// <summary>The options of a render whose output is only read for images (see <see cref="DiscoverySprig"/>).</summary>
    public static HelmRenderOptions Discovery { get; } = new() { Sprig = DiscoverySprig };
}

/// <summary>Helm's pkg/engine: parses every template of a chart tree into one set, renders the non-partials.</summary>
public static class HelmEngine
{
    private const int RecursionMaxNums = 1000;

    private sealed record Renderable(string Text, Dictionary<string, object?> Vals, string BasePath, string? SourcePath);

    private sealed class RenderState
    {
        public readonly Dictionary<string, int> IncludedNames = new(StringComparer.Ordinal);
        public required TemplateSet Set;
        public required bool Strict;
    }

    // One table per environment object: the templates parsed with a table are cached per table (see TemplateSet).
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<SprigEnvironment, IReadOnlyDictionary<string, GoFunc>> FuncCache = new();

    /// <summary>The function table Helm installs: sprig minus env/expandenv, then Helm's own (one per environment object).</summary>
    public static IReadOnlyDictionary<string, GoFunc> CreateFunctions(SprigEnvironment env) => FuncCache.GetValue(env, static e =>
    {
        var m = SprigFunctions.Create(e);
        HelmFunctions.Register(m);
        m["include"] = GoFunc.CreateWithContext("include", [GoType.String, GoType.Any], null, Include);
        m["tpl"] = GoFunc.CreateWithContext("tpl", [GoType.String, GoType.Map], null, Tpl);
        return m;
    });

    private static object? Include(FuncContext ctx, object?[] a)
    {
        var state = ctx.State as RenderState ?? throw new GoFuncException("include is only available while rendering a chart");
        var name = (string)a[0]!;
        if (state.IncludedNames.TryGetValue(name, out var v))
        {
            if (v > RecursionMaxNums) throw new HelmUserError(ErrorCodes.TemplateRecursionLimit, $"unable to execute template: rendering template has a nested reference name: {name}");
            state.IncludedNames[name] = v + 1;
        }
        else state.IncludedNames[name] = 1;
        var sw = new StringWriter(new StringBuilder(256));
        try
        {
            ctx.Executor.ExecuteNested(name, a[1], sw);
        }
        catch (TemplateException e)
        {
            throw new GoFuncException(e.Message, e);
        }
        finally
        {
            state.IncludedNames[name]--;
        }
        return sw.ToString();
    }

    private static object? Tpl(FuncContext ctx, object?[] a)
    {
        var state = ctx.State as RenderState ?? throw new GoFuncException("tpl is only available while rendering a chart");
        var text = (string)a[0]!;
        if (!System.Runtime.CompilerServices.RuntimeHelpers.TryEnsureSufficientExecutionStack())
        {
            throw new GoFuncException("tpl nested too deeply");
        }
        var set = state.Set.Clone();
        var sw = new StringWriter(new StringBuilder(256));
        var inner = new RenderState { Set = set, Strict = state.Strict };
        foreach (var (k, v) in state.IncludedNames) inner.IncludedNames[k] = v;
        try
        {
            set.ParseAndExecute("gotpl", text, a[1], sw, new ExecuteOptions { State = inner, CancellationToken = ctx.CancellationToken });
        }
        catch (TemplateException e) when (e.Code == ErrorCodes.TemplateParseError)
        {
            throw new GoFuncException($"cannot parse template {GoQuote.Quote(text)}: {e.Message}", e);
        }
        catch (TemplateException e)
        {
            throw new GoFuncException($"error during tpl function execution for {GoQuote.Quote(text)}: {e.Message}", e);
        }
        return sw.ToString().Replace("<no value>", "", StringComparison.Ordinal);
    }

    /// <summary>
    /// Renders every non-partial template of the chart tree, as <c>helm template</c> does.
    /// </summary>
    /// <param name="values">{ "Values": coalesced values (subchart values nested under their names), "Release": {...}, "Capabilities": HelmCapabilities }.</param>
    /// <returns>Rendered text keyed "mychart/templates/x.yaml", "mychart/charts/sub/templates/y.yaml"; partials are not included.</returns>
    /// <exception cref="TemplateException">Parse (SEA3000) or execution (SEA3001..) errors with template name and line.</exception>
    public static IReadOnlyDictionary<string, string> Render(HelmChartNode root, IDictionary<string, object?> values, HelmRenderOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new HelmRenderOptions();
        IReadOnlyDictionary<string, string>? result = null;
        Exception? failure = null;
        // Deep template recursion needs a deep stack: run on a thread with room for Go's limits.
        var thread = new Thread(() =>
        {
            try { result = RenderCore(root, values, options, cancellationToken); }
            catch (Exception e) { failure = e; }
        }, 256 * 1024 * 1024);
        thread.Start();
        thread.Join();
        if (failure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
        return result!;
    }

    /// <summary>
    /// Builds the top-level render object as <c>helm template</c> does: { Values, Release {Name, Namespace, IsUpgrade=false,
    /// IsInstall=true, Revision=1, Service="Helm"}, Capabilities }.
    /// </summary>
    public static Dictionary<string, object?> TopLevelValues(IDictionary<string, object?> coalescedValues, string releaseName = "release-name",
        string releaseNamespace = "default", HelmCapabilities? capabilities = null, bool isUpgrade = false, long revision = 1) => new(StringComparer.Ordinal)
    {
        ["Values"] = coalescedValues,
        ["Release"] = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["Name"] = releaseName,
            ["Namespace"] = releaseNamespace,
            ["IsUpgrade"] = isUpgrade,
            ["IsInstall"] = !isUpgrade,
            ["Revision"] = revision,
            ["Service"] = "Helm",
        },
        ["Capabilities"] = capabilities ?? HelmCapabilities.Default,
    };

    private static IReadOnlyDictionary<string, string> RenderCore(HelmChartNode root, IDictionary<string, object?> values, HelmRenderOptions options, CancellationToken ct)
    {
        SprigFunctions.RenderRandom = options.Sprig.CreateRandom();
        try
        {
            return RenderTree(root, values, options, ct);
        }
        finally
        {
            SprigFunctions.RenderRandom = null;
        }
    }

    private static IReadOnlyDictionary<string, string> RenderTree(HelmChartNode root, IDictionary<string, object?> values, HelmRenderOptions options, CancellationToken ct)
    {
        var templates = new Dictionary<string, Renderable>(StringComparer.Ordinal);
        RecAllTpls(root, templates, values, null, isRoot: true);
        var keys = SortTemplates(templates.Keys);
        var set = new TemplateSet(CreateFunctions(options.Sprig)) { MissingKey = options.Strict ? MissingKeyMode.Error : MissingKeyMode.Zero };
        foreach (var name in keys)
        {
            ct.ThrowIfCancellationRequested();
            try
            {
                set.Parse(name, templates[name].Text);
            }
            catch (TemplateException e)
            {
                throw Relocate(e, templates[name].SourcePath, CleanupParseError(name, e.Message));
            }
        }
        var rendered = new Dictionary<string, string>(StringComparer.Ordinal);
        var state = new RenderState { Set = set, Strict = options.Strict };
        var sb = new StringBuilder(4096);
        foreach (var name in keys)
        {
            var slash = name.LastIndexOf('/');
            if (name[(slash + 1)..].StartsWith('_')) continue;
            ct.ThrowIfCancellationRequested();
            var r = templates[name];
            var vals = new Dictionary<string, object?>(r.Vals, StringComparer.Ordinal)
            {
                ["Template"] = new Dictionary<string, object?>(StringComparer.Ordinal) { ["Name"] = name, ["BasePath"] = r.BasePath },
            };
            sb.Clear();
            using var sw = new StringWriter(sb);
            try
            {
                set.Execute(name, vals, sw, new ExecuteOptions { State = state, CancellationToken = ct });
            }
            catch (TemplateException e)
            {
                throw Relocate(e, r.SourcePath, ReformatExecError(name, e, out var code), code);
            }
            var text = sb.ToString();
            rendered[name] = options.Strict ? text : text.Replace("<no value>", "", StringComparison.Ordinal);
        }
        return rendered;
    }

    private static TemplateException Relocate(TemplateException e, string? sourcePath, string message, string? code = null)
    {
        // Map "mychart/templates/x.yaml" errors to the file on disk when the caller gave one.
        return new TemplateException(code ?? e.Code, message, e.TemplateName, e.Line, e.Column, sourcePath ?? e.File, e);
    }

    /// <summary>Helm's reformatExecErrorMsg: fail/required anywhere in the include chain become "execution error at (loc): msg".</summary>
    private static string ReformatExecError(string filename, TemplateException e, out string code)
    {
        code = e.Code;
        HelmUserError? user = null;
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            if (x is HelmUserError h) user = h;
        }
        if (user is null) return e.Message;
        code = user.Code;
        var tokens = e.Message.Split(": ", 3);
        if (tokens.Length != 3) return $"execution error in ({filename}): {user.Message}";
        return $"execution error at ({tokens[1]}): {user.Message}";
    }

    private static string CleanupParseError(string filename, string message)
    {
        var tokens = message.Split(": ");
        if (tokens.Length == 1) return $"parse error in ({filename}): {message}";
        return $"parse error at ({tokens[1]}): {tokens[^1]}";
    }

    private static Dictionary<string, object?> RecAllTpls(HelmChartNode c, Dictionary<string, Renderable> templates, IDictionary<string, object?> vals, string? parentId, bool isRoot)
    {
        var subCharts = new Dictionary<string, object?>(StringComparer.Ordinal);
        var chartMeta = new Dictionary<string, object?>(c.Metadata, StringComparer.Ordinal) { ["IsRoot"] = isRoot };
        // *chart.Metadata always has every field; absent ones are Go zero values.
        foreach (var f in MetadataStringFields) chartMeta.TryAdd(f, "");
        foreach (var f in MetadataListFields) chartMeta.TryAdd(f, new List<object?>());
        chartMeta.TryAdd("Annotations", new Dictionary<string, object?>(StringComparer.Ordinal));
        chartMeta.TryAdd("Deprecated", false);
        var next = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["Chart"] = chartMeta,
            ["Files"] = new HelmFiles(c.Files),
            ["Release"] = vals.TryGetValue("Release", out var rel) ? rel : null,
            ["Capabilities"] = vals.TryGetValue("Capabilities", out var caps) ? caps : HelmCapabilities.Default,
            ["Values"] = new Dictionary<string, object?>(StringComparer.Ordinal),
            ["Subcharts"] = subCharts,
        };
        if (isRoot)
        {
            next["Values"] = vals.TryGetValue("Values", out var v) && v is IDictionary<string, object?> ? v : new Dictionary<string, object?>(StringComparer.Ordinal);
        }
        else if (vals.TryGetValue("Values", out var pv) && pv is IDictionary<string, object?> pm && pm.TryGetValue(c.Name, out var cv) && cv is IDictionary<string, object?>)
        {
            next["Values"] = cv;
        }
        foreach (var child in c.Dependencies)
        {
            subCharts[child.Name] = RecAllTpls(child, templates, next, FullPath(c, parentId), isRoot: false);
        }
        var newParentId = FullPath(c, parentId);
        foreach (var t in c.Templates)
        {
            if (c.IsLibrary)
            {
                var b = t.Name[(t.Name.LastIndexOf('/') + 1)..];
                if (!b.StartsWith('_')) continue;
            }
            templates[newParentId + "/" + t.Name] = new Renderable(t.Text, next, newParentId + "/templates", t.SourcePath);
        }
        return next;
    }

    private static readonly string[] MetadataStringFields = ["Name", "Home", "Version", "Description", "Icon", "APIVersion", "Condition", "Tags", "AppVersion", "KubeVersion", "Type"];
    private static readonly string[] MetadataListFields = ["Sources", "Keywords", "Maintainers", "Dependencies"];

    private static string FullPath(HelmChartNode c, string? parentId) => parentId is null ? c.Name : parentId + "/charts/" + c.Name;

    /// <summary>Helm's sortTemplates: deepest paths first, then reverse lexical order.</summary>
    internal static List<string> SortTemplates(IEnumerable<string> names)
    {
        var keys = names.ToList();
        keys.Sort((a, b) =>
        {
            int ca = a.Count(ch => ch == '/'), cb = b.Count(ch => ch == '/');
            if (ca != cb) return cb.CompareTo(ca);
            return string.CompareOrdinal(b, a);
        });
        return keys;
    }
}
