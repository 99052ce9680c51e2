using System.Runtime.CompilerServices;
using Sealer.Core.Diagnostics;
using Sealer.Core.Templating.Parse;
using Sealer.Core.Text;

namespace Sealer.Core.Templating;

/// <summary>Go's exec.go <c>state</c>: walks a tree over the closed value model, writing text.</summary>
internal sealed class Executor
{
    private enum Control { None, Break, Continue }

    private static readonly object Missing = new();

    // A one-element argument list: "no arguments besides the operand itself" (only its Count is read).
    private static readonly List<Node> NoArgs = [new DotNode(0)];

    private readonly TemplateSet _set;
    private readonly TextWriter _wr;
    private readonly List<KeyValuePair<string, object?>> _vars = new(16);
    private readonly FuncContext _ctx;
    private Tree _tmpl;
    private Node? _node;
    private int _depth;
    private int _ticks;

    public Executor(TemplateSet set, TextWriter wr, ExecuteOptions options, Tree tmpl)
    {
        _set = set;
        _wr = wr;
        Options = options;
        _tmpl = tmpl;
        _ctx = new FuncContext(set, this);
    }

    public ExecuteOptions Options { get; }

    public int Depth => _depth;

    public void Run(object? data)
    {
        _vars.Add(new("$", data));
        Walk(data, _tmpl.Root!);
    }

    // ---- errors ----

    private void At(Node n) => _node = n;

    private TemplateException Errorf(string message, string code = ErrorCodes.TemplateExecError, Exception? inner = null)
    {
        string name = _tmpl.Name;
        if (_node is null)
        {
            return new TemplateException(code, $"template: {name}: {message}", name, 0, 0, inner: inner);
        }
        var (location, line, col, context) = _tmpl.ErrorContext(_node);
        return new TemplateException(code, $"template: {location}: executing {GoQuote.Quote(name)} at <{context}>: {message}",
            _tmpl.ParseName, line, col + 1, inner: inner);
    }

    // ---- variables ----

    private int Mark() => _vars.Count;

    private void Pop(int mark) => _vars.RemoveRange(mark, _vars.Count - mark);

    private void Push(string name, object? value) => _vars.Add(new(name, value));

    private void SetVar(string name, object? value)
    {
        for (int i = _vars.Count - 1; i >= 0; i--)
        {
            if (_vars[i].Key == name)
            {
                _vars[i] = new(name, value);
                return;
            }
        }
        throw Errorf($"undefined variable: {name}");
    }

    private void SetTopVar(int n, object? value) => _vars[_vars.Count - n] = new(_vars[_vars.Count - n].Key, value);

    private object? VarValue(string name)
    {
        for (int i = _vars.Count - 1; i >= 0; i--)
        {
            if (_vars[i].Key == name) return _vars[i].Value;
        }
        throw Errorf($"undefined variable: {name}");
    }

    // ---- walk ----

    private Control Walk(object? dot, Node node)
    {
        At(node);
        switch (node)
        {
            case TextNode t:
                _wr.Write(t.Text);
                return Control.None;
            case ActionNode a:
                {
                    var val = EvalPipeline(dot, a.Pipe);
                    if (a.Pipe.Decl.Count == 0) PrintValue(a, val);
                    return Control.None;
                }
            case ListNode l:
                foreach (var n in l.Nodes)
                {
                    var c = Walk(dot, n);
                    if (c != Control.None) return c;
                }
                return Control.None;
            case BranchNode b:
                return b.Type == NodeType.Range ? WalkRange(dot, b) : WalkIfOrWith(dot, b);
            case TemplateNode t:
                WalkTemplate(dot, t);
                return Control.None;
            case BreakNode:
                return Control.Break;
            case ContinueNode:
                return Control.Continue;
            default:
                throw Errorf($"unknown node: {node}");
        }
    }

    private Control WalkIfOrWith(object? dot, BranchNode b)
    {
        int mark = Mark();
        try
        {
            var val = EvalPipeline(dot, b.Pipe);
            bool truth = GoValues.IsTrue(val);
            if (truth)
            {
                return b.Type == NodeType.With ? Walk(val, b.List) : Walk(dot, b.List);
            }
            if (b.ElseList is not null) return Walk(dot, b.ElseList);
            return Control.None;
        }
        finally
        {
            Pop(mark);
        }
    }

    private Control WalkRange(object? dot, BranchNode r)
    {
        At(r);
        int outer = Mark();
        try
        {
            var val = GoValues.Norm(EvalPipeline(dot, r.Pipe));
            int mark = Mark();
            var decl = r.Pipe.Decl;
            switch (val)
            {
                case List<object?> list when list.Count > 0:
                    for (int i = 0; i < list.Count; i++)
                    {
                        if (OneIteration(r, (long)i, list[i] ?? GoValues.NilInterface, mark) == Control.Break) break;
                    }
                    return Control.None;
                case IDictionary<string, object?> map when map.Count > 0:
                    foreach (var k in GoValues.SortedKeys(map))
                    {
                        if (OneIteration(r, k, map[k] ?? GoValues.NilInterface, mark) == Control.Break) break;
                    }
                    return Control.None;
                case IGoRangeable rg:
                    {
                        bool any = false;
                        foreach (var (k, v) in rg.Entries())
                        {
                            any = true;
                            if (OneIteration(r, k, v ?? GoValues.NilInterface, mark) == Control.Break) break;
                        }
                        if (any) return Control.None;
                        break;
                    }
                case long n when Options.RangeOverInt:
                    if (decl.Count > 1) throw Errorf($"can't use {n} to iterate over more than one variable");
                    for (long i = 0; i < n; i++)
                    {
                        if (OneIteration(r, i, i, mark) == Control.Break) break;
                    }
                    if (n > 0) return Control.None;
                    break;
                case List<object?>:
                case IDictionary<string, object?>:
                case null:
                    break;
                default:
                    throw Errorf($"range can't iterate over {GoValues.FormatValue(val)}");
            }
            if (r.ElseList is not null) return Walk(dot, r.ElseList);
            return Control.None;
        }
        finally
        {
            Pop(outer);
        }
    }

    private Control OneIteration(BranchNode r, object? index, object? elem, int mark)
    {
        var decl = r.Pipe.Decl;
        if (decl.Count > 0)
        {
            if (r.Pipe.IsAssign)
            {
                if (decl.Count > 1) SetVar(decl[0].Ident[0], index);
                else SetVar(decl[0].Ident[0], elem);
            }
            else
            {
                SetTopVar(1, elem);
            }
        }
        if (decl.Count > 1)
        {
            if (r.Pipe.IsAssign) SetVar(decl[1].Ident[0], elem);
            else SetTopVar(2, index);
        }
        if ((++_ticks & 0x3ff) == 0) Options.CancellationToken.ThrowIfCancellationRequested();
        try
        {
            var c = Walk(elem, r.List);
            return c == Control.Break ? Control.Break : Control.None;
        }
        finally
        {
            Pop(mark);
        }
    }

    private void WalkTemplate(object? dot, TemplateNode t)
    {
        At(t);
        var tmpl = _set.Lookup(t.Name);
        if (tmpl?.Root is null) throw Errorf($"template {GoQuote.Quote(t.Name)} not defined", ErrorCodes.TemplateNotDefined);
        if (_depth >= Options.MaxDepth) throw Errorf($"exceeded maximum template depth ({Options.MaxDepth})", ErrorCodes.TemplateRecursionLimit);
        if (!RuntimeHelpers.TryEnsureSufficientExecutionStack())
        {
            throw Errorf($"exceeded maximum template depth ({_depth})", ErrorCodes.TemplateRecursionLimit);
        }
        var newDot = t.Pipe is null ? null : GoValues.Norm(EvalPipeline(dot, t.Pipe));
        var saveTmpl = _tmpl;
        var saveVars = _vars.ToArray();
        _vars.Clear();
        _vars.Add(new("$", newDot));
        _tmpl = tmpl;
        _depth++;
        try
        {
            Walk(newDot, tmpl.Root);
        }
        finally
        {
            _depth--;
            _tmpl = saveTmpl;
            _vars.Clear();
            _vars.AddRange(saveVars);
        }
    }

    /// <summary>Runs another template of the set from a function (Helm's include), sharing depth and options.</summary>
    internal void ExecuteNested(string name, object? data, TextWriter wr)
    {
        var tree = _set.Lookup(name);
        if (tree?.Root is null) throw new GoFuncException($"template: no template {GoQuote.Quote(name)} associated with template {GoQuote.Quote(_tmpl.Name)}");
        if (!RuntimeHelpers.TryEnsureSufficientExecutionStack()) throw new GoFuncException($"exceeded maximum template depth ({_depth})");
        var inner = new Executor(_set, wr, Options, tree) { _depth = _depth + 1 };
        inner.Run(data);
    }

    // ---- evaluation ----

    private object? EvalPipeline(object? dot, PipeNode pipe)
    {
        At(pipe);
        object? value = Missing;
        foreach (var cmd in pipe.Cmds)
        {
            value = EvalCommand(dot, cmd, value);
            // interface{} results are "dug down": a nil interface becomes no value.
            if (value is null || ReferenceEquals(value, GoValues.NilInterface)) value = GoValues.NoValue;
        }
        foreach (var variable in pipe.Decl)
        {
            if (pipe.IsAssign) SetVar(variable.Ident[0], value);
            else Push(variable.Ident[0], value);
        }
        return value;
    }

    private void NotAFunction(List<Node> args, object? final)
    {
        if (args.Count > 1 || !ReferenceEquals(final, Missing)) throw Errorf($"can't give argument to non-function {args[0]}");
    }

    private object? EvalCommand(object? dot, CommandNode cmd, object? final)
    {
        var first = cmd.Args[0];
        switch (first)
        {
            case FieldNode f:
                return EvalFieldNode(dot, f, cmd.Args, final);
            case ChainNode c:
                return EvalChainNode(dot, c, cmd.Args, final);
            case IdentifierNode id:
                return EvalFunction(dot, id, cmd, cmd.Args, final);
            case PipeNode p:
                NotAFunction(cmd.Args, final);
                return EvalPipeline(dot, p);
            case VariableNode v:
                return EvalVariableNode(dot, v, cmd.Args, final);
        }
        At(first);
        NotAFunction(cmd.Args, final);
        switch (first)
        {
            case BoolNode b: return b.True;
            case DotNode: return dot;
            case NilNode: throw Errorf("nil is not a command");
            case NumberNode n: return n.IdealError is null ? n.Ideal : throw Errorf(n.IdealError);
            case StringNode s: return s.Text;
        }
        throw Errorf($"can't evaluate command {GoQuote.Quote(first.ToString())}");
    }

    private object? EvalFieldNode(object? dot, FieldNode field, List<Node> args, object? final)
    {
        At(field);
        return EvalFieldChain(dot, dot, field, field.Ident, args, final);
    }

    private object? EvalChainNode(object? dot, ChainNode chain, List<Node> args, object? final)
    {
        At(chain);
        if (chain.Field.Count == 0) throw Errorf("internal error: no fields in evalChainNode");
        if (chain.Node is NilNode) throw Errorf($"indirection through explicit nil in {chain}");
        var pipe = EvalArg(dot, GoType.Any, chain.Node);
        return EvalFieldChain(dot, pipe ?? GoValues.NoValue, chain, chain.Field, args, final);
    }

    private object? EvalVariableNode(object? dot, VariableNode variable, List<Node> args, object? final)
    {
        At(variable);
        var value = VarValue(variable.Ident[0]);
        if (variable.Ident.Length == 1)
        {
            NotAFunction(args, final);
            return value;
        }
        return EvalFieldChain(dot, value, variable, variable.Ident.AsSpan(1), args, final);
    }

    private object? EvalFieldChain(object? dot, object? receiver, Node node, ReadOnlySpan<string> ident, List<Node> args, object? final)
    {
        int n = ident.Length;
        // A nil receiver that did not come from a map lookup in this chain is Go's invalid Value: no error.
        if (receiver is null) receiver = GoValues.NoValue;
        for (int i = 0; i < n - 1; i++)
        {
            receiver = EvalField(dot, ident[i], node, null, Missing, receiver);
        }
        return EvalField(dot, ident[n - 1], node, args, final, receiver);
    }

    private object? EvalFieldChain(object? dot, object? receiver, Node node, List<string> ident, List<Node> args, object? final)
    {
        int n = ident.Count;
        if (receiver is null) receiver = GoValues.NoValue;
        for (int i = 0; i < n - 1; i++)
        {
            receiver = EvalField(dot, ident[i], node, null, Missing, receiver);
        }
        return EvalField(dot, ident[n - 1], node, args, final, receiver);
    }

    private object? EvalField(object? dot, string fieldName, Node node, List<Node>? args, object? final, object? receiver)
    {
        if (ReferenceEquals(receiver, GoValues.NoValue))
        {
            if (_set.MissingKey == MissingKeyMode.Error) throw Errorf($"nil data; no entry for key {GoQuote.Quote(fieldName)}");
            return GoValues.NoValue;
        }
        if (receiver is null || ReferenceEquals(receiver, GoValues.NilInterface))
        {
            throw Errorf($"nil pointer evaluating interface {{}}.{fieldName}");
        }
        bool hasArgs = (args is not null && args.Count > 1) || !ReferenceEquals(final, Missing);
        switch (receiver)
        {
            case IDictionary<string, object?> map:
                if (hasArgs) throw Errorf($"{fieldName} is not a method but has arguments");
                if (map.TryGetValue(fieldName, out var v)) return v;
                return _set.MissingKey switch
                {
                    MissingKeyMode.Zero => null,
                    MissingKeyMode.Error => throw Errorf($"map has no entry for key {GoQuote.Quote(fieldName)}"),
                    _ => GoValues.NoValue,
                };
            case IGoObject obj:
                var method = obj.GetMethod(fieldName);
                if (method is not null) return EvalCall(dot, method, node, fieldName, args, final);
                if (obj.TryGetField(fieldName, out var fv))
                {
                    if (hasArgs) throw Errorf($"{fieldName} has arguments but cannot be invoked as function");
                    return fv;
                }
                throw Errorf($"can't evaluate field {fieldName} in type {obj.GoTypeName}");
        }
        throw Errorf($"can't evaluate field {fieldName} in type interface {{}}");
    }

    private object? EvalFunction(object? dot, IdentifierNode node, CommandNode cmd, List<Node> args, object? final)
    {
        At(node);
        string name = node.Ident;
        if (!_set.Functions.TryGetValue(name, out var fn)) throw Errorf($"{GoQuote.Quote(name)} is not a defined function");
        return EvalCall(dot, fn, cmd, name, args, final);
    }

    private object? EvalCall(object? dot, GoFunc fn, Node node, string name, List<Node>? args, object? final)
    {
        int argCount = args is null ? 0 : args.Count - 1;
        bool hasFinal = !ReferenceEquals(final, Missing);
        int numIn = argCount + (hasFinal ? 1 : 0);
        int numFixed = fn.Params.Length;
        if (fn.Variadic is not null)
        {
            if (numIn < numFixed) throw Errorf($"wrong number of args for {name}: want at least {numFixed} got {numIn}");
        }
        else if (numIn != numFixed)
        {
            throw Errorf($"wrong number of args for {name}: want {numFixed} got {numIn}");
        }

        if (fn.IsAndOr)
        {
            bool isOr = name == "or";
            object? v = null;
            for (int k = 0; k < argCount; k++)
            {
                v = EvalArg(dot, GoType.Value, args![k + 1]);
                if (GoValues.IsTrue(v) == isOr) return v;
            }
            if (hasFinal) v = GoValues.Norm(final);
            return v;
        }

        var argv = numIn == 0 ? [] : new object?[numIn];
        int i = 0;
        for (; i < numFixed && i < argCount; i++) argv[i] = EvalArg(dot, fn.Params[i], args![i + 1]);
        if (fn.Variadic is { } vt)
        {
            for (; i < argCount; i++) argv[i] = EvalArg(dot, vt, args![i + 1]);
        }
        if (hasFinal)
        {
            GoType t = fn.Variadic is { } vt2 && numIn - 1 >= numFixed ? vt2 : fn.Params[numIn - 1];
            argv[i] = ValidateType(final, t);
        }
        try
        {
            return fn.Body(_ctx, argv);
        }
        catch (TemplateException)
        {
            throw;
        }
        catch (OperationCanceledException)
        {
            throw;
        }
        catch (Exception e) when (e is GoFuncException or InvalidCastException or ArgumentException or FormatException
                                      or OverflowException or IndexOutOfRangeException or KeyNotFoundException
                                      or InvalidOperationException or NullReferenceException or DivideByZeroException
                                      or System.Security.Cryptography.CryptographicException or NotSupportedException)
        {
            At(node);
            string code = e is HelmUserError h ? h.Code : ErrorCodes.TemplateExecError;
            throw Errorf($"error calling {name}: {e.Message}", code, e);
        }
    }

    private static string TypeString(GoType t) => t switch
    {
        GoType.String => "string",
        GoType.Int => "int",
        GoType.Float64 => "float64",
        GoType.Bool => "bool",
        GoType.Map => "map[string]interface {}",
        GoType.List => "[]interface {}",
        GoType.Value => "reflect.Value",
        _ => "interface {}",
    };

    private object? ValidateType(object? value, GoType typ)
    {
        if (ReferenceEquals(value, GoValues.NoValue) || ReferenceEquals(value, Missing))
        {
            if (typ is GoType.Any or GoType.Map or GoType.List or GoType.Value) return null;
            throw Errorf($"invalid value; expected {TypeString(typ)}");
        }
        if (ReferenceEquals(value, GoValues.NilInterface)) value = null;
        switch (typ)
        {
            case GoType.Any or GoType.Value:
                return value;
            case GoType.String when value is string:
            case GoType.Int when value is long:
            case GoType.Float64 when value is double:
            case GoType.Bool when value is bool:
            case GoType.Map when value is IDictionary<string, object?> or null:
            case GoType.List when value is List<object?> or null:
                return value;
            case GoType.Int when value is int i:
                return (long)i;
        }
        throw Errorf($"wrong type for value; expected {TypeString(typ)}; got {(value is null ? "interface {}" : GoValues.TypeName(value))}");
    }

    private object? EvalArg(object? dot, GoType typ, Node n)
    {
        At(n);
        switch (n)
        {
            case DotNode:
                return ValidateType(dot, typ);
            case NilNode:
                if (typ is GoType.Any or GoType.Map or GoType.List or GoType.Value) return null;
                throw Errorf($"cannot assign nil to {TypeString(typ)}");
            case FieldNode f:
                return ValidateType(EvalFieldNode(dot, f, NoArgs, Missing), typ);
            case VariableNode v:
                return ValidateType(EvalVariableNode(dot, v, NoArgs, Missing), typ);
            case PipeNode p:
                return ValidateType(EvalPipeline(dot, p), typ);
            case IdentifierNode id:
                {
                    if (!_set.Functions.TryGetValue(id.Ident, out var fn)) throw Errorf($"{GoQuote.Quote(id.Ident)} is not a defined function");
                    return ValidateType(EvalCall(dot, fn, id, id.Ident, null, Missing), typ);
                }
            case ChainNode c:
                return ValidateType(EvalChainNode(dot, c, NoArgs, Missing), typ);
        }
        switch (typ)
        {
            case GoType.Bool:
                if (n is BoolNode b) return b.True;
                throw Errorf($"expected bool; found {n}");
            case GoType.String:
                if (n is StringNode s) return s.Text;
                throw Errorf($"expected string; found {n}");
            case GoType.Int:
                if (n is NumberNode { IsInt: true } ni) return ni.Int64;
                throw Errorf($"expected integer; found {n}");
            case GoType.Float64:
                if (n is NumberNode { IsFloat: true } nf) return nf.Float64;
                throw Errorf($"expected float; found {n}");
            case GoType.Any or GoType.Value:
                switch (n)
                {
                    case BoolNode b2: return b2.True;
                    case NumberNode num: return num.IdealError is null ? num.Ideal : throw Errorf(num.IdealError);
                    case StringNode s2: return s2.Text;
                }
                break;
        }
        throw Errorf($"can't handle {n} for arg of type {TypeString(typ)}");
    }

    private void NoValue()
    {
        if (Options.NoValueErrorCode is { } code) throw Errorf("no value to print (a missing key or nil)", code);
        _wr.Write("<no value>");
    }

    private void PrintValue(Node n, object? v)
    {
        At(n);
        switch (v)
        {
            case string s:
                _wr.Write(s);
                return;
            case null:
                NoValue();
                return;
        }
        if (ReferenceEquals(v, GoValues.NoValue) || ReferenceEquals(v, GoValues.NilInterface))
        {
            NoValue();
            return;
        }
        _wr.Write(GoValues.FormatValue(v));
    }
}

/// <summary>An error a template raised on purpose (Helm's fail / required): carries its own code.</summary>
public sealed class HelmUserError(string code, string message) : GoFuncException(message)
{
    public string Code { get; } = code;
}
