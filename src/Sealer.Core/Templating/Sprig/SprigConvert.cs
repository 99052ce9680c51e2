using System.Globalization;
using Sealer.Core.Text;

namespace Sealer.Core.Templating.Sprig;

/// <summary>spf13/cast conversions as sprig uses them.</summary>
internal static class Cast
{
    public static string StrVal(object? v) => v switch
    {
        string s => s,
        byte[] b => System.Text.Encoding.UTF8.GetString(b),
        _ => GoValues.FormatValue(v),
    };

    private static string TrimZeroDecimal(string s)
    {
        bool foundZero = false;
        for (int i = s.Length - 1; i >= 0; i--)
        {
            switch (s[i])
            {
                case '.':
                    if (foundZero) return s[..i];
                    return s;
                case '0':
                    foundZero = true;
                    break;
                default:
                    return s;
            }
        }
        return s;
    }

    public static long ToInt64(object? v) => v switch
    {
        long l => l,
        int i => i,
        byte b => b,
        double d => double.IsNaN(d) ? long.MinValue : d >= 9.2233720368547758e18 ? long.MinValue : d <= -9.2233720368547758e18 ? long.MinValue : (long)d,
        bool b => b ? 1 : 0,
        string s => GoNumbers.TryParseInt(TrimZeroDecimal(s), out var l) ? l : 0,
        _ => 0,
    };

    public static double ToFloat64(object? v) => v switch
    {
        long l => l,
        int i => i,
        byte b => b,
        double d => d,
        bool b => b ? 1 : 0,
        string s => GoNumbers.TryParseFloat(s, out var d) ? d : 0,
        _ => 0,
    };

    /// <summary>sprig's toStrings / strslice.</summary>
    public static List<object?> StrSlice(object? v)
    {
        switch (v)
        {
            case List<object?> l:
                {
                    var r = new List<object?>(l.Count);
                    foreach (var x in l) if (x is not null) r.Add(StrVal(x));
                    return r;
                }
            case null:
                return [];
            default:
                return [StrVal(v)];
        }
    }

    public static List<object?> MustList(object? v, string fn)
    {
        if (v is List<object?> l) return l;
        throw new GoFuncException($"Cannot {fn} on type {GoValues.TypeName(v)}");
    }

    public static string FormatFloatG(double d) => GoNumbers.FormatFloat(d, 'g', -1);

    public static string Invariant(long l) => l.ToString(CultureInfo.InvariantCulture);
}
