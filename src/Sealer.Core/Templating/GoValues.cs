using System.Globalization;
using System.Text;
using Sealer.Core.Text;

namespace Sealer.Core.Templating;

/// <summary>An engine object with Go fields and methods (e.g. <c>.Files</c>, <c>.Capabilities</c>, a semver version).</summary>
public interface IGoObject
{
    /// <summary>Go's type name, as printed by <c>%T</c> and <c>typeOf</c> (e.g. <c>*chartutil.Capabilities</c>).</summary>
    string GoTypeName { get; }

    /// <summary>A method callable from a template (<c>.Files.Get "x"</c>), or null.</summary>
    GoFunc? GetMethod(string name);

    /// <summary>A field (<c>.Capabilities.KubeVersion</c>); false when there is none.</summary>
    bool TryGetField(string name, out object? value);
}

/// <summary>An engine object Go can range over (a map type such as Helm's <c>.Files</c>), in Go's key order.</summary>
public interface IGoRangeable
{
    IEnumerable<KeyValuePair<string, object?>> Entries();
}

/// <summary>Objects of a Go map or slice type (Helm's <c>engine.files</c>): truth is a non-zero length, as in Go.</summary>
public interface IGoSized
{
    int Count { get; }
}

/// <summary>Values that print and serialise as a plain value in toJson/toYaml (Go types with String methods or JSON forms).</summary>
public interface IGoPlainValue
{
    object? ToPlainValue();
}

/// <summary>Go's value semantics over the closed template value model.</summary>
public static class GoValues
{
    /// <summary>The "no value" of Go's reflect (an invalid Value), distinct from a nil interface.</summary>
    internal static readonly object NoValue = new NoValueMarker();

    /// <summary>A nil interface held in a slice or map element that is the receiver of a field access.</summary>
    internal static readonly object NilInterface = new NoValueMarker();

    private sealed class NoValueMarker { }

    internal static object? Norm(object? v) => ReferenceEquals(v, NoValue) || ReferenceEquals(v, NilInterface) ? null : v;

    /// <summary>Go's type name of a value.</summary>
    public static string TypeName(object? v) => v switch
    {
        null => "<nil>",
        string => "string",
        bool => "bool",
        long => "int",
        int => "int",
        double => "float64",
        byte => "uint8",
        Dictionary<string, object?> => "map[string]interface {}",
        IDictionary<string, object?> => "map[string]interface {}",
        List<object?> => "[]interface {}",
        IGoObject o => o.GoTypeName,
        byte[] => "[]uint8",
        _ => v.GetType().Name,
    };

    /// <summary>Go's reflect.Kind name (sprig kindOf).</summary>
    public static string KindName(object? v) => v switch
    {
        null => "invalid",
        string => "string",
        bool => "bool",
        long or int => "int",
        double => "float64",
        byte => "uint8",
        IDictionary<string, object?> => "map",
        List<object?> => "slice",
        byte[] => "slice",
        GoTime => "struct",
        IGoObject => "ptr",
        _ => "invalid",
    };

    /// <summary>Go template truth (isTrue).</summary>
    public static bool IsTrue(object? v) => v switch
    {
        null => false,
        bool b => b,
        string s => s.Length > 0,
        long l => l != 0,
        int i => i != 0,
        double d => d != 0,
        byte b => b != 0,
        IDictionary<string, object?> m => m.Count > 0,
        List<object?> l => l.Count > 0,
        byte[] b => b.Length > 0,
        IGoSized sized => sized.Count > 0,
        _ => !ReferenceEquals(v, NoValue) && !ReferenceEquals(v, NilInterface),
    };

    internal enum BasicKind { Invalid, Bool, Complex, Int, Float, String, Uint }

    internal static BasicKind Kind(object? v) => v switch
    {
        bool => BasicKind.Bool,
        long or int => BasicKind.Int,
        byte => BasicKind.Uint,
        double => BasicKind.Float,
        string => BasicKind.String,
        _ => BasicKind.Invalid,
    };

    private static long AsLong(object v) => v switch { long l => l, int i => i, byte b => b, _ => 0 };

    /// <summary>Go's builtin eq (arg1 == arg2 || arg1 == arg3 ...).</summary>
    public static bool Eq(object? arg1, IReadOnlyList<object?> arg2)
    {
        if (arg2.Count == 0) throw new GoFuncException("missing argument for comparison");
        var k1 = Kind(arg1);
        foreach (var arg in arg2)
        {
            var k2 = Kind(arg);
            bool truth;
            if (k1 != k2)
            {
                if (k1 == BasicKind.Int && k2 == BasicKind.Uint) truth = AsLong(arg1!) == AsLong(arg!);
                else if (k1 == BasicKind.Uint && k2 == BasicKind.Int) truth = AsLong(arg1!) == AsLong(arg!);
                else if (arg1 is not null && arg is not null) throw new GoFuncException("incompatible types for comparison");
                else truth = false;
            }
            else
            {
                switch (k1)
                {
                    case BasicKind.Bool: truth = (bool)arg1! == (bool)arg!; break;
                    case BasicKind.Float: truth = (double)arg1! == (double)arg!; break;
                    case BasicKind.Int: case BasicKind.Uint: truth = AsLong(arg1!) == AsLong(arg!); break;
                    case BasicKind.String: truth = (string)arg1! == (string)arg!; break;
                    default:
                        if (arg1 is null || arg is null) { truth = arg1 is null && arg is null; break; }
                        if (arg1 is IDictionary<string, object?> || arg1 is List<object?>)
                            throw new GoFuncException($"non-comparable type {FormatValue(arg1)}: {TypeName(arg1)}");
                        if (arg is IDictionary<string, object?> || arg is List<object?>)
                            throw new GoFuncException($"non-comparable type {FormatValue(arg)}: {TypeName(arg)}");
                        if (TypeName(arg1) != TypeName(arg))
                            throw new GoFuncException($"non-comparable types {FormatValue(arg1)}: {TypeName(arg1)}, {TypeName(arg)}: {FormatValue(arg)}");
                        truth = Equals(arg1, arg) || ReferenceEquals(arg1, arg);
                        break;
                }
            }
            if (truth) return true;
        }
        return false;
    }

    /// <summary>Go's builtin lt.</summary>
    public static bool Lt(object? arg1, object? arg2)
    {
        var k1 = Kind(arg1);
        if (k1 == BasicKind.Invalid) throw new GoFuncException("invalid type for comparison");
        var k2 = Kind(arg2);
        if (k2 == BasicKind.Invalid) throw new GoFuncException("invalid type for comparison");
        if (k1 != k2)
        {
            if ((k1 == BasicKind.Int && k2 == BasicKind.Uint) || (k1 == BasicKind.Uint && k2 == BasicKind.Int)) return AsLong(arg1!) < AsLong(arg2!);
            throw new GoFuncException("incompatible types for comparison");
        }
        return k1 switch
        {
            BasicKind.Bool or BasicKind.Complex => throw new GoFuncException("invalid type for comparison"),
            BasicKind.Float => (double)arg1! < (double)arg2!,
            BasicKind.Int or BasicKind.Uint => AsLong(arg1!) < AsLong(arg2!),
            BasicKind.String => string.CompareOrdinal((string)arg1!, (string)arg2!) < 0,
            _ => throw new GoFuncException("invalid type for comparison"),
        };
    }

    /// <summary>fmt's %v of a value, as printed by an action.</summary>
    public static string FormatValue(object? v)
    {
        switch (v)
        {
            case string s: return s;
            case null: return "<nil>";
            case long l: return l.ToString(CultureInfo.InvariantCulture);
            case double d: return GoNumbers.FormatFloat(d, 'g', -1);
            case bool b: return b ? "true" : "false";
        }
        var sb = new StringBuilder();
        AppendValue(sb, v);
        return sb.ToString();
    }

    internal static void AppendValue(StringBuilder sb, object? v)
    {
        switch (v)
        {
            case string s: sb.Append(s); break;
            case null: sb.Append("<nil>"); break;
            case long l: sb.Append(l); break;
            case int i: sb.Append(i); break;
            case byte b: sb.Append(b); break;
            case double d: sb.Append(GoNumbers.FormatFloat(d, 'g', -1)); break;
            case bool b: sb.Append(b ? "true" : "false"); break;
            case IDictionary<string, object?> m:
                sb.Append("map[");
                bool first = true;
                foreach (var k in SortedKeys(m))
                {
                    if (!first) sb.Append(' ');
                    first = false;
                    sb.Append(k).Append(':');
                    AppendValue(sb, m[k]);
                }
                sb.Append(']');
                break;
            case List<object?> list:
                sb.Append('[');
                for (int i = 0; i < list.Count; i++)
                {
                    if (i > 0) sb.Append(' ');
                    AppendValue(sb, list[i]);
                }
                sb.Append(']');
                break;
            case byte[] bytes:
                sb.Append('[');
                for (int i = 0; i < bytes.Length; i++)
                {
                    if (i > 0) sb.Append(' ');
                    sb.Append(bytes[i]);
                }
                sb.Append(']');
                break;
            default:
                if (ReferenceEquals(v, NoValue) || ReferenceEquals(v, NilInterface)) sb.Append("<no value>");
                else sb.Append(v.ToString());
                break;
        }
    }

    /// <summary>Map keys in Go's sorted order (byte-wise string order).</summary>
    public static string[] SortedKeys(IDictionary<string, object?> m)
    {
        var keys = new string[m.Count];
        m.Keys.CopyTo(keys, 0);
        Array.Sort(keys, StringComparer.Ordinal);
        return keys;
    }

    /// <summary>Deep copy of a value tree (maps and lists copied, scalars shared).</summary>
    public static object? DeepCopy(object? v) => v switch
    {
        IDictionary<string, object?> m => CopyMap(m),
        List<object?> l => l.ConvertAll(DeepCopy),
        _ => v,
    };

    private static Dictionary<string, object?> CopyMap(IDictionary<string, object?> m)
    {
        var d = new Dictionary<string, object?>(m.Count, StringComparer.Ordinal);
        foreach (var (k, val) in m) d[k] = DeepCopy(val);
        return d;
    }

    /// <summary>reflect.DeepEqual over the value model.</summary>
    public static bool DeepEqual(object? a, object? b)
    {
        switch (a)
        {
            case null: return b is null;
            case IDictionary<string, object?> ma:
                if (b is not IDictionary<string, object?> mb || ma.Count != mb.Count) return false;
                foreach (var (k, v) in ma)
                {
                    if (!mb.TryGetValue(k, out var w) || !DeepEqual(v, w)) return false;
                }
                return true;
            case List<object?> la:
                if (b is not List<object?> lb || la.Count != lb.Count) return false;
                for (int i = 0; i < la.Count; i++) if (!DeepEqual(la[i], lb[i])) return false;
                return true;
            default:
                return b is not null && a.GetType() == b.GetType() && a.Equals(b);
        }
    }
}
