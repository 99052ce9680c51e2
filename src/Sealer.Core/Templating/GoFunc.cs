namespace Sealer.Core.Templating;

/// <summary>A Go parameter type, for the argument checks text/template makes before a call.</summary>
public enum GoType
{
    /// <summary>interface{}</summary>
    Any,
    String,
    /// <summary>int or int64 (both are <see cref="long"/> in the value model)</summary>
    Int,
    Float64,
    Bool,
    /// <summary>map[string]interface{}</summary>
    Map,
    /// <summary>[]interface{}</summary>
    List,
    /// <summary>reflect.Value (Go's builtins eq, lt, len, index, and, or, not ...): like interface{}, but a literal nil is rejected.</summary>
    Value,
}

/// <summary>An error a template function returns (Go: the function's error result or a panic).</summary>
public class GoFuncException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>What a function sees of the running template: the set, the render state, cancellation.</summary>
public sealed class FuncContext
{
    internal FuncContext(TemplateSet set, Executor executor)
    {
        Set = set;
        Executor = executor;
    }

    public TemplateSet Set { get; }
    internal Executor Executor { get; }

    /// <summary>Per-render state a function layer keeps (Helm's include counters).</summary>
    public object? State => Executor.Options.State;

    public CancellationToken CancellationToken => Executor.Options.CancellationToken;
}

/// <summary>A template function: Go's signature (for argument checks) and a body over the value model.</summary>
public sealed class GoFunc
{
    private GoFunc(string name, GoType[] parameters, GoType? variadic, Func<FuncContext, object?[], object?> body)
    {
        Name = name;
        Params = parameters;
        Variadic = variadic;
        Body = body;
    }

    public string Name { get; }
    public GoType[] Params { get; }

    /// <summary>The element type of the trailing <c>...T</c> parameter, or null.</summary>
    public GoType? Variadic { get; }

    public Func<FuncContext, object?[], object?> Body { get; }

    internal bool IsAndOr { get; private init; }

    public static GoFunc Create(string name, GoType[] parameters, Func<object?[], object?> body) =>
        new(name, parameters, null, (_, a) => body(a));

    public static GoFunc CreateVariadic(string name, GoType[] fixedParameters, GoType variadic, Func<object?[], object?> body) =>
        new(name, fixedParameters, variadic, (_, a) => body(a));

    public static GoFunc CreateWithContext(string name, GoType[] parameters, GoType? variadic, Func<FuncContext, object?[], object?> body) =>
        new(name, parameters, variadic, body);

    internal static GoFunc AndOr(string name) => new(name, [GoType.Value], GoType.Value, (_, _) => null) { IsAndOr = true };
}
