using System.Text;
using Sealer.Core.Diagnostics;

namespace Sealer.Core.Charts;

/// <summary>
/// <c>--set</c>, <c>--set-string</c> and <c>--set-file</c> expressions parsed exactly like helm's pkg/strvals:
/// <c>a.b=c,d[0]=e,list={x,y}</c>, <c>\</c> escapes, <c>null</c> deletes (the coalescer removes it), integers become
/// <c>long</c> (not double: helm does not pass --set values through JSON), <c>true</c>/<c>false</c> bools.
/// </summary>
public static class StrVals
{
    public const int MaxIndex = 65536;
    public const int MaxNestedNameLevel = 30;

    /// <summary>Parses <paramref name="s"/> into <paramref name="dest"/> (helm's ParseInto).</summary>
    public static void ParseInto(string s, Dictionary<string, object?> dest) => Run(s, dest, rs => TypedVal(rs, false));

    /// <summary>helm's ParseIntoString: every value a string.</summary>
    public static void ParseIntoString(string s, Dictionary<string, object?> dest) => Run(s, dest, rs => TypedVal(rs, true));

    /// <summary>helm's ParseIntoFile: each value is a file path whose content becomes the string value.</summary>
    public static void ParseIntoFile(string s, Dictionary<string, object?> dest, Func<string, string> readFile) => Run(s, dest, rs => readFile(rs));

    public static Dictionary<string, object?> Parse(string s)
    {
        var d = new Dictionary<string, object?>(StringComparer.Ordinal);
        ParseInto(s, d);
        return d;
    }

    private static void Run(string s, Dictionary<string, object?> dest, Func<string, object?> reader)
    {
        var p = new Parser(s, reader);
        try
        {
            while (true)
            {
                if (!p.Key(dest, 0)) return; // EOF
            }
        }
        catch (StrValsException ex)
        {
            throw new SealerException(ErrorCodes.InvalidSetValue, $"failed parsing --set data '{s}': {ex.Message}");
        }
    }

    private sealed class StrValsException(string message) : Exception(message);

    private sealed class EofException() : Exception("EOF");

    private sealed class NotListException() : Exception("not a list");

    internal static object? TypedVal(string val, bool st)
    {
        if (st) return val;
        if (val.Equals("true", StringComparison.OrdinalIgnoreCase)) return true;
        if (val.Equals("false", StringComparison.OrdinalIgnoreCase)) return false;
        if (val.Equals("null", StringComparison.OrdinalIgnoreCase)) return null;
        if (val == "0") return 0L;
        if (val.Length > 0 && val[0] != '0' && TryParseGoInt64(val, out long iv)) return iv;
        return val;
    }

    /// <summary>strconv.ParseInt(val, 10, 64): optional sign, decimal digits only.</summary>
    private static bool TryParseGoInt64(string val, out long result)
        => long.TryParse(val, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out result)
           && val.Trim() == val;

    private sealed class Parser(string text, Func<string, object?> reader)
    {
        private int _pos;

        private bool TryRead(out char c)
        {
            if (_pos >= text.Length) { c = '\0'; return false; }
            c = text[_pos++];
            return true;
        }

        private void Unread() => _pos--;

        /// <summary>runesUntil: reads until a stop rune (consumed, returned as last); EOF returns (value, '\0', eof=true).</summary>
        private (string Value, char Last, bool Eof) RunesUntil(string stop)
        {
            var sb = new StringBuilder();
            while (true)
            {
                if (!TryRead(out char r)) return (sb.ToString(), '\0', true);
                if (stop.Contains(r)) return (sb.ToString(), r, false);
                if (r == '\\')
                {
                    if (!TryRead(out char next)) return (sb.ToString(), '\0', true);
                    sb.Append(next);
                    continue;
                }
                sb.Append(r);
            }
        }

        /// <summary>Returns false at clean EOF; throws on errors.</summary>
        public bool Key(Dictionary<string, object?> data, int nestedNameLevel)
        {
            try
            {
                KeyInner(data, nestedNameLevel);
                return true;
            }
            catch (EofException)
            {
                return false;
            }
            catch (InvalidCastException)
            {
                throw new StrValsException("unable to parse key: a key is used both as a map and as a list or scalar");
            }
        }

        private void KeyInner(Dictionary<string, object?> data, int nestedNameLevel)
        {
            var (k, last, eof) = RunesUntil("=[,.");
            if (eof)
            {
                if (k.Length == 0) throw new EofException();
                throw new StrValsException($"key \"{k}\" has no value");
            }
            switch (last)
            {
                case '[':
                {
                    int i = KeyIndex();
                    var list = data.TryGetValue(k, out var existing) ? (List<object?>)existing! : [];
                    try
                    {
                        list = ListItem(list, i, nestedNameLevel);
                    }
                    finally
                    {
                        Set(data, k, list);
                    }
                    return;
                }
                case '=':
                {
                    List<object?> vl;
                    try
                    {
                        vl = ValList();
                    }
                    catch (EofException)
                    {
                        Set(data, k, "");
                        throw;
                    }
                    catch (NotListException)
                    {
                        Set(data, k, reader(Val()));
                        return;
                    }
                    Set(data, k, vl);
                    return;
                }
                case ',':
                    Set(data, k, "");
                    throw new StrValsException($"key \"{k}\" has no value (cannot end with ,)");
                case '.':
                {
                    nestedNameLevel++;
                    if (nestedNameLevel > MaxNestedNameLevel)
                    {
                        throw new StrValsException($"value name nested level is greater than maximum supported nested level of {MaxNestedNameLevel}");
                    }
                    var inner = data.TryGetValue(k, out var ex) ? (Dictionary<string, object?>)ex! : new Dictionary<string, object?>(StringComparer.Ordinal);
                    bool eofInner = false;
                    try
                    {
                        KeyInner(inner, nestedNameLevel);
                    }
                    catch (EofException) { eofInner = true; }
                    if (!eofInner && inner.Count == 0) throw new StrValsException($"key map \"{k}\" has no value");
                    if (inner.Count != 0) Set(data, k, inner);
                    if (eofInner) throw new EofException();
                    return;
                }
            }
        }

        private static void Set(Dictionary<string, object?> data, string key, object? val)
        {
            if (key.Length == 0) return;
            data[key] = val;
        }

        private static List<object?> SetIndex(List<object?> list, int index, object? val)
        {
            if (index < 0) throw new StrValsException($"negative {index} index not allowed");
            if (index > MaxIndex) throw new StrValsException($"index of {index} is greater than maximum supported index of {MaxIndex}");
            while (list.Count <= index) list.Add(null);
            list[index] = val;
            return list;
        }

        private int KeyIndex()
        {
            var (v, _, eof) = RunesUntil("]");
            if (eof) throw new StrValsException("error parsing index: EOF");
            if (!int.TryParse(v, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out int i))
            {
                throw new StrValsException($"error parsing index: strconv.Atoi: parsing \"{v}\": invalid syntax");
            }
            return i;
        }

        private List<object?> ListItem(List<object?> list, int i, int nestedNameLevel)
        {
            if (i < 0) throw new StrValsException($"negative {i} index not allowed");
            var (k, last, eof) = RunesUntil("[.=");
            if (k.Length > 0) throw new StrValsException($"unexpected data at end of array index: \"{k}\"");
            if (eof) throw new EofException();
            switch (last)
            {
                case '=':
                {
                    List<object?> vl;
                    try
                    {
                        vl = ValList();
                    }
                    catch (EofException)
                    {
                        return SetIndex(list, i, "");
                    }
                    catch (NotListException)
                    {
                        return SetIndex(list, i, reader(Val()));
                    }
                    return SetIndex(list, i, vl);
                }
                case '[':
                {
                    int nextI = KeyIndex();
                    List<object?> crt = [];
                    if (list.Count > i && list[i] is not null) crt = (List<object?>)list[i]!;
                    var list2 = ListItem(crt, nextI, nestedNameLevel);
                    return SetIndex(list, i, list2);
                }
                case '.':
                {
                    var inner = new Dictionary<string, object?>(StringComparer.Ordinal);
                    if (list.Count > i)
                    {
                        if (list[i] is Dictionary<string, object?> d) inner = d;
                        else list[i] = inner;
                    }
                    KeyInner(inner, nestedNameLevel); // EOF propagates: helm keeps the list as it was
                    return SetIndex(list, i, inner);
                }
                default:
                    throw new StrValsException($"parse error: unexpected token {last}");
            }
        }

        private string Val() => RunesUntil(",").Value;

        private List<object?> ValList()
        {
            if (!TryRead(out char r)) throw new EofException();
            if (r != '{')
            {
                Unread();
                throw new NotListException();
            }
            var list = new List<object?>();
            while (true)
            {
                var (rs, last, eof) = RunesUntil(",}");
                if (eof) throw new StrValsException("list must terminate with '}'");
                if (last == '}')
                {
                    if (TryRead(out char nx) && nx != ',') Unread();
                    list.Add(reader(rs));
                    return list;
                }
                list.Add(reader(rs));
            }
        }
    }
}
