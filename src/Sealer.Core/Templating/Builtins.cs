using System.Net;
using System.Text;
using Sealer.Core.Text;

namespace Sealer.Core.Templating;

/// <summary>Go text/template's builtin functions (funcs.go).</summary>
public static class Builtins
{
    public static IReadOnlyDictionary<string, GoFunc> Functions { get; } = Build();

    private static Dictionary<string, GoFunc> Build()
    {
        var m = new Dictionary<string, GoFunc>(StringComparer.Ordinal);
        void Add(GoFunc f) => m[f.Name] = f;
        Add(GoFunc.AndOr("and"));
        Add(GoFunc.AndOr("or"));
        Add(GoFunc.Create("not", [GoType.Value], a => !GoValues.IsTrue(a[0])));
        Add(GoFunc.Create("len", [GoType.Value], a => Len(a[0])));
        Add(GoFunc.CreateVariadic("index", [GoType.Value], GoType.Value, a => Index(a[0], a.AsSpan(1))));
        Add(GoFunc.CreateVariadic("slice", [GoType.Value], GoType.Value, a => Slice(a[0], a.AsSpan(1))));
        Add(GoFunc.CreateVariadic("print", [], GoType.Any, a => GoFmt.Sprint(a)));
        Add(GoFunc.CreateVariadic("println", [], GoType.Any, a => GoFmt.Sprintln(a)));
        Add(GoFunc.CreateVariadic("printf", [GoType.String], GoType.Any, a => GoFmt.Sprintf((string)a[0]!, a.AsSpan(1).ToArray())));
        Add(GoFunc.CreateVariadic("html", [], GoType.Any, a => HtmlEscape(EvalArgs(a))));
        Add(GoFunc.CreateVariadic("js", [], GoType.Any, a => JsEscape(EvalArgs(a))));
        Add(GoFunc.CreateVariadic("urlquery", [], GoType.Any, a => WebUtility.UrlEncode(EvalArgs(a))));
        Add(GoFunc.CreateVariadic("eq", [GoType.Value], GoType.Value, a => GoValues.Eq(a[0], a.AsSpan(1).ToArray())));
        Add(GoFunc.Create("ne", [GoType.Value, GoType.Value], a => !GoValues.Eq(a[0], [a[1]])));
        Add(GoFunc.Create("lt", [GoType.Value, GoType.Value], a => GoValues.Lt(a[0], a[1])));
        Add(GoFunc.Create("le", [GoType.Value, GoType.Value], a => GoValues.Lt(a[0], a[1]) || GoValues.Eq(a[0], [a[1]])));
        Add(GoFunc.Create("gt", [GoType.Value, GoType.Value], a => !GoValues.Lt(a[0], a[1]) && !GoValues.Eq(a[0], [a[1]])));
        Add(GoFunc.Create("ge", [GoType.Value, GoType.Value], a => !GoValues.Lt(a[0], a[1])));
        Add(GoFunc.CreateVariadic("call", [GoType.Value], GoType.Value, a => a[0] is null
            ? throw new GoFuncException("call of nil")
            : throw new GoFuncException($"non-function {GoValues.FormatValue(a[0])} of type {GoValues.TypeName(a[0])}")));
        return m;
    }

    private static string EvalArgs(object?[] a) => a.Length == 1 && a[0] is string s ? s : GoFmt.Sprint(a);

    internal static long Len(object? item) => item switch
    {
        null => throw new GoFuncException("len of nil pointer"),
        string s => Encoding.UTF8.GetByteCount(s),
        IDictionary<string, object?> m => m.Count,
        List<object?> l => l.Count,
        byte[] b => b.Length,
        IGoRangeable r => r.Entries().LongCount(),
        _ => throw new GoFuncException($"len of type {GoValues.TypeName(item)}"),
    };

    private static long IndexArg(object? index, int cap) => index switch
    {
        long l when l >= 0 && l <= cap => l,
        byte b when b <= cap => b,
        long l => throw new GoFuncException($"index out of range: {l}"),
        null => throw new GoFuncException("cannot index slice/array with nil"),
        _ => throw new GoFuncException($"cannot index slice/array with type {GoValues.TypeName(index)}"),
    };

    internal static object? Index(object? item, ReadOnlySpan<object?> indexes)
    {
        if (item is null) throw new GoFuncException("index of untyped nil");
        foreach (var index in indexes)
        {
            switch (item)
            {
                case null:
                    throw new GoFuncException("index of nil pointer");
                case List<object?> list:
                    {
                        long x = IndexArg(index, list.Count);
                        if (x >= list.Count) throw new GoFuncException($"reflect: slice index out of range");
                        item = list[(int)x];
                        break;
                    }
                case string s:
                    {
                        var bytes = Encoding.UTF8.GetBytes(s);
                        long x = IndexArg(index, bytes.Length);
                        if (x >= bytes.Length) throw new GoFuncException("reflect: string index out of range");
                        item = bytes[x];
                        break;
                    }
                case IDictionary<string, object?> map:
                    if (index is null) throw new GoFuncException("value is nil; should be of type string");
                    if (index is not string key) throw new GoFuncException($"value has type {GoValues.TypeName(index)}; should be string");
                    item = map.TryGetValue(key, out var v) ? v : null;
                    break;
                default:
                    throw new GoFuncException($"can't index item of type {GoValues.TypeName(item)}");
            }
        }
        return item;
    }

    private static object? Slice(object? item, ReadOnlySpan<object?> indexes)
    {
        if (item is null) throw new GoFuncException("slice of untyped nil");
        if (indexes.Length > 3) throw new GoFuncException($"too many slice indexes: {indexes.Length}");
        int cap;
        switch (item)
        {
            case string s:
                if (indexes.Length == 3) throw new GoFuncException("cannot 3-index slice a string");
                cap = Encoding.UTF8.GetByteCount(s);
                break;
            case List<object?> l:
                cap = l.Count;
                break;
            default:
                throw new GoFuncException($"can't slice item of type {GoValues.TypeName(item)}");
        }
        var idx = new long[] { 0, cap };
        for (int i = 0; i < indexes.Length; i++)
        {
            long x = IndexArg(indexes[i], cap);
            if (i < 2) idx[i] = x;
        }
        if (idx[0] > idx[1]) throw new GoFuncException($"invalid slice index: {idx[0]} > {idx[1]}");
        if (item is string str)
        {
            var b = Encoding.UTF8.GetBytes(str);
            return Encoding.UTF8.GetString(b, (int)idx[0], (int)(idx[1] - idx[0]));
        }
        return ((List<object?>)item).GetRange((int)idx[0], (int)(idx[1] - idx[0]));
    }

    internal static string HtmlEscape(string s)
    {
        if (s.AsSpan().IndexOfAny("'\"&<>\0") < 0) return s;
        var sb = new StringBuilder(s.Length + 16);
        foreach (char c in s)
        {
            sb.Append(c switch
            {
                '"' => "&#34;",
                '\'' => "&#39;",
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '\0' => "\uFFFD",
                _ => c.ToString(),
            });
        }
        return sb.ToString();
    }

    internal static string JsEscape(string s)
    {
        var sb = new StringBuilder(s.Length + 16);
        foreach (char c in s)
        {
            switch (c)
            {
                case '\\': sb.Append(@"\\"); break;
                case '\'': sb.Append(@"\'"); break;
                case '"': sb.Append("\\\""); break;
                case '<': sb.Append(@"\u003C"); break;
                case '>': sb.Append(@"\u003E"); break;
                case '&': sb.Append(@"\u0026"); break;
                case '=': sb.Append(@"\u003D"); break;
                case '\n': sb.Append(@"\u000A"); break;
                case '\r': sb.Append(@"\u000D"); break;
                case '\t': sb.Append(@"\u0009"); break;
                default:
                    if (c < ' ' || (c >= 0x7f && !char.IsSurrogate(c) && !GoQuote.IsPrint(c))) sb.Append(@"\u").Append(((int)c).ToString("X4", System.Globalization.CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        return sb.ToString();
    }
}
