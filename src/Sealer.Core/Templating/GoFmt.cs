using System.Globalization;
using System.Text;
using Sealer.Core.Text;

namespace Sealer.Core.Templating;

/// <summary>Go's fmt (Sprint, Sprintln, Sprintf) over the value model.</summary>
public static class GoFmt
{
    /// <summary>fmt.Sprint: spaces between operands when neither is a string.</summary>
    public static string Sprint(IReadOnlyList<object?> args)
    {
        if (args.Count == 1 && args[0] is string s0) return s0;
        var sb = new StringBuilder();
        for (int i = 0; i < args.Count; i++)
        {
            if (i > 0 && args[i] is not string && args[i - 1] is not string) sb.Append(' ');
            GoValues.AppendValue(sb, args[i]);
        }
        return sb.ToString();
    }

    /// <summary>fmt.Sprintln: always spaces, then a newline.</summary>
    public static string Sprintln(IReadOnlyList<object?> args)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < args.Count; i++)
        {
            if (i > 0) sb.Append(' ');
            GoValues.AppendValue(sb, args[i]);
        }
        sb.Append('\n');
        return sb.ToString();
    }

    private struct Spec
    {
        public bool Minus, Plus, Sharp, Space, Zero, PlusV, SharpV;
        public int Width, Prec;
        public bool HasWidth, HasPrec;
    }

    /// <summary>fmt.Sprintf with Go's verbs, flags, width and precision, and Go's %!verb(type=value) error forms.</summary>
    public static string Sprintf(string format, IReadOnlyList<object?> a)
    {
        var sb = new StringBuilder(format.Length + 16);
        int argNum = 0;
        int end = format.Length;
        bool reordered = false;
        for (int i = 0; i < end;)
        {
            int lasti = i;
            while (i < end && format[i] != '%') i++;
            if (i > lasti) sb.Append(format, lasti, i - lasti);
            if (i >= end) break;
            i++; // skip %
            var p = new Spec();
            // flags
            for (; i < end; i++)
            {
                char c = format[i];
                if (c == '#') p.Sharp = true;
                else if (c == '0') p.Zero = true;
                else if (c == '+') p.Plus = true;
                else if (c == '-') p.Minus = true;
                else if (c == ' ') p.Space = true;
                else break;
            }
            // argument index
            (argNum, i, bool found) = ArgNumber(argNum, format, i, a.Count);
            reordered |= found;
            // width
            if (i < end && format[i] == '*')
            {
                i++;
                if (argNum < a.Count && a[argNum] is long w)
                {
                    p.Width = (int)w;
                    p.HasWidth = true;
                    if (p.Width < 0) { p.Minus = true; p.Width = -p.Width; }
                }
                else sb.Append("%!(BADWIDTH)");
                argNum++;
            }
            else
            {
                int start = i;
                while (i < end && char.IsAsciiDigit(format[i])) i++;
                if (i > start)
                {
                    p.Width = int.Parse(format.AsSpan(start, i - start), CultureInfo.InvariantCulture);
                    p.HasWidth = true;
                }
            }
            // precision
            if (i + 1 <= end && i < end && format[i] == '.')
            {
                i++;
                (argNum, i, found) = ArgNumber(argNum, format, i, a.Count);
                reordered |= found;
                if (i < end && format[i] == '*')
                {
                    i++;
                    if (argNum < a.Count && a[argNum] is long pr)
                    {
                        p.Prec = (int)pr;
                        p.HasPrec = p.Prec >= 0;
                    }
                    else sb.Append("%!(BADPREC)");
                    argNum++;
                }
                else
                {
                    int start = i;
                    while (i < end && char.IsAsciiDigit(format[i])) i++;
                    p.Prec = i > start ? int.Parse(format.AsSpan(start, i - start), CultureInfo.InvariantCulture) : 0;
                    p.HasPrec = true;
                }
            }
            if (!found) (argNum, i, found) = ArgNumber(argNum, format, i, a.Count);
            if (i >= end)
            {
                sb.Append("%!(NOVERB)");
                break;
            }
            int verb = char.ConvertToUtf32(format, i);
            i += verb > 0xffff ? 2 : 1;
            if (p.Minus) p.Zero = false;
            if (verb == '%')
            {
                sb.Append('%');
                continue;
            }
            if (argNum >= a.Count)
            {
                sb.Append("%!").Append(char.ConvertFromUtf32(verb)).Append("(MISSING)");
                continue;
            }
            if (verb == 'w') verb = 'v';
            if (verb == 'v')
            {
                if (p.Sharp) { p.Sharp = false; p.SharpV = true; }
                if (p.Plus) { p.Plus = false; p.PlusV = true; }
            }
            PrintArg(sb, a[argNum], verb, p);
            argNum++;
        }
        if (!reordered && argNum < a.Count)
        {
            sb.Append("%!(EXTRA ");
            for (int k = argNum; k < a.Count; k++)
            {
                if (k > argNum) sb.Append(", ");
                if (a[k] is null) sb.Append("<nil>");
                else
                {
                    sb.Append(GoValues.TypeName(a[k])).Append('=');
                    PrintArg(sb, a[k], 'v', default);
                }
            }
            sb.Append(')');
        }
        return sb.ToString();
    }

    private static (int, int, bool) ArgNumber(int argNum, string format, int i, int numArgs)
    {
        if (i >= format.Length || format[i] != '[') return (argNum, i, false);
        int close = format.IndexOf(']', i);
        if (close < 0) return (argNum, i, false);
        if (int.TryParse(format.AsSpan(i + 1, close - i - 1), NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= 1 && n <= numArgs)
        {
            return (n - 1, close + 1, true);
        }
        return (argNum, close + 1, true);
    }

    private static void BadVerb(StringBuilder sb, object? arg, int verb)
    {
        sb.Append("%!").Append(char.ConvertFromUtf32(verb)).Append('(');
        if (arg is null) sb.Append("<nil>");
        else
        {
            sb.Append(GoValues.TypeName(arg)).Append('=');
            PrintArg(sb, arg, 'v', default);
        }
        sb.Append(')');
    }

    private static void PrintArg(StringBuilder sb, object? arg, int verb, Spec p)
    {
        if (arg is null)
        {
            switch (verb)
            {
                case 'T' or 'v': Pad(sb, "<nil>", p); break;
                default: BadVerb(sb, arg, verb); break;
            }
            return;
        }
        if (verb == 'T')
        {
            Pad(sb, GoValues.TypeName(arg), p);
            return;
        }
        switch (arg)
        {
            case bool b:
                if (verb is 't' or 'v') Pad(sb, b ? "true" : "false", p);
                else BadVerb(sb, arg, verb);
                return;
            case long l:
                FmtInteger(sb, l, verb, p, arg);
                return;
            case int i32:
                FmtInteger(sb, i32, verb, p, arg);
                return;
            case byte u8:
                FmtInteger(sb, u8, verb, p, arg);
                return;
            case double d:
                FmtFloat(sb, d, verb, p, arg);
                return;
            case string s:
                FmtString(sb, s, verb, p, arg);
                return;
            case IDictionary<string, object?> m:
                if (p.SharpV)
                {
                    sb.Append("map[string]interface {}{");
                    bool first = true;
                    foreach (var k in GoValues.SortedKeys(m))
                    {
                        if (!first) sb.Append(", ");
                        first = false;
                        PrintArg(sb, k, 'v', p);
                        sb.Append(':');
                        PrintArg(sb, m[k], 'v', p);
                    }
                    sb.Append('}');
                    return;
                }
                sb.Append("map[");
                {
                    bool first = true;
                    foreach (var k in GoValues.SortedKeys(m))
                    {
                        if (!first) sb.Append(' ');
                        first = false;
                        PrintArg(sb, k, verb, p);
                        sb.Append(':');
                        PrintArg(sb, m[k], verb, p);
                    }
                }
                sb.Append(']');
                return;
            case List<object?> list:
                if (p.SharpV)
                {
                    sb.Append("[]interface {}{");
                    for (int k = 0; k < list.Count; k++)
                    {
                        if (k > 0) sb.Append(", ");
                        PrintArg(sb, list[k], 'v', p);
                    }
                    sb.Append('}');
                    return;
                }
                sb.Append('[');
                for (int k = 0; k < list.Count; k++)
                {
                    if (k > 0) sb.Append(' ');
                    PrintArg(sb, list[k], verb, p);
                }
                sb.Append(']');
                return;
            default:
                if (verb is 'v' or 's') Pad(sb, GoValues.FormatValue(arg), p);
                else BadVerb(sb, arg, verb);
                return;
        }
    }

    private static void Pad(StringBuilder sb, string s, Spec p)
    {
        if (!p.HasWidth || p.Width <= s.Length)
        {
            sb.Append(s);
            return;
        }
        int n = p.Width - RuneCount(s);
        if (n <= 0) { sb.Append(s); return; }
        if (p.Minus) sb.Append(s).Append(' ', n);
        else sb.Append(p.Zero ? '0' : ' ', n).Append(s);
    }

    private static int RuneCount(string s)
    {
        int n = 0;
        for (int i = 0; i < s.Length; i++) if (!char.IsLowSurrogate(s[i])) n++;
        return n;
    }

    private static void FmtString(StringBuilder sb, string s, int verb, Spec p, object arg)
    {
        switch (verb)
        {
            case 'v':
                if (p.SharpV) { Pad(sb, GoQuote.Quote(s), p); return; }
                goto case 's';
            case 's':
                if (p.HasPrec) s = TruncateRunes(s, p.Prec);
                Pad(sb, s, p);
                return;
            case 'q':
                if (p.HasPrec) s = TruncateRunes(s, p.Prec);
                if (p.Sharp && !s.Contains('`') && CanBackquote(s)) { Pad(sb, "`" + s + "`", p); return; }
                var q = new StringBuilder();
                GoQuote.AppendQuoted(q, s, asciiOnly: p.Plus);
                Pad(sb, q.ToString(), p);
                return;
            case 'x' or 'X':
                {
                    var bytes = Encoding.UTF8.GetBytes(s);
                    if (p.HasPrec && p.Prec < bytes.Length) bytes = bytes[..p.Prec];
                    var hex = new StringBuilder();
                    for (int i = 0; i < bytes.Length; i++)
                    {
                        if (p.Space && i > 0) hex.Append(' ');
                        if (p.Sharp && (p.Space || i == 0)) hex.Append(verb == 'x' ? "0x" : "0X");
                        hex.Append(bytes[i].ToString(verb == 'x' ? "x2" : "X2", CultureInfo.InvariantCulture));
                    }
                    Pad(sb, hex.ToString(), p);
                    return;
                }
            default:
                BadVerb(sb, arg, verb);
                return;
        }
    }

    private static bool CanBackquote(string s)
    {
        foreach (char c in s)
        {
            if (c == '`' || c == '\ufeff') return false;
            if (c < ' ' && c != '\t') return false;
        }
        return true;
    }

    private static string TruncateRunes(string s, int n)
    {
        int runes = 0;
        for (int i = 0; i < s.Length; i++)
        {
            if (char.IsLowSurrogate(s[i])) continue;
            if (runes == n) return s[..i];
            runes++;
        }
        return s;
    }

    private static void FmtInteger(StringBuilder sb, long v, int verb, Spec p, object arg)
    {
        string digits;
        bool neg = v < 0;
        ulong u = neg ? (ulong)(-(v + 1)) + 1 : (ulong)v;
        string prefix = "";
        switch (verb)
        {
            case 'v' or 'd':
                if (p.SharpV && arg is byte) { digits = "0x" + u.ToString("x", CultureInfo.InvariantCulture); break; }
                digits = u.ToString(CultureInfo.InvariantCulture);
                break;
            case 'b':
                digits = Convert.ToString((long)u, 2);
                if (p.Sharp) prefix = "0b";
                break;
            case 'o' or 'O':
                digits = Convert.ToString((long)u, 8);
                if (verb == 'O') prefix = "0o";
                else if (p.Sharp && digits != "0") prefix = "0";
                break;
            case 'x':
                digits = u.ToString("x", CultureInfo.InvariantCulture);
                if (p.Sharp) prefix = "0x";
                break;
            case 'X':
                digits = u.ToString("X", CultureInfo.InvariantCulture);
                if (p.Sharp) prefix = "0X";
                break;
            case 'c':
                Pad(sb, v is >= 0 and <= 0x10FFFF and not (>= 0xD800 and < 0xE000) ? char.ConvertFromUtf32((int)v) : "\ufffd", p);
                return;
            case 'q':
                {
                    var q = new StringBuilder("'");
                    int r = v is >= 0 and <= 0x10FFFF and not (>= 0xD800 and < 0xE000) ? (int)v : 0xfffd;
                    GoQuote.AppendEscapedRune(q, r, '\'', p.Plus);
                    q.Append('\'');
                    Pad(sb, q.ToString(), p);
                    return;
                }
            case 'U':
                {
                    var s = "U+" + u.ToString("X4", CultureInfo.InvariantCulture);
                    if (p.Sharp && v is >= 0 and <= 0x10FFFF && GoQuote.IsPrint((int)v)) s += " '" + char.ConvertFromUtf32((int)v) + "'";
                    Pad(sb, s, p);
                    return;
                }
            case 'e' or 'E' or 'f' or 'F' or 'g' or 'G':
                BadVerb(sb, arg, verb);
                return;
            default:
                BadVerb(sb, arg, verb);
                return;
        }
        if (p.HasPrec)
        {
            if (p.Prec == 0 && v == 0) digits = "";
            else if (digits.Length < p.Prec) digits = new string('0', p.Prec - digits.Length) + digits;
        }
        string sign = neg ? "-" : p.Plus ? "+" : p.Space ? " " : "";
        string body = prefix + digits;
        if (p.Zero && p.HasWidth && !p.HasPrec && !p.Minus)
        {
            int n = p.Width - sign.Length - body.Length;
            if (n > 0) body = prefix + new string('0', n) + digits;
            sb.Append(sign).Append(body);
            return;
        }
        Pad(sb, sign + body, p with { Zero = false });
    }

    private static void FmtFloat(StringBuilder sb, double v, int verb, Spec p, object arg)
    {
        char fmt;
        int prec = p.HasPrec ? p.Prec : -1;
        switch (verb)
        {
            case 'v':
                fmt = 'g';
                break;
            case 'g' or 'G':
                fmt = (char)verb;
                break;
            case 'e' or 'E' or 'f':
                fmt = (char)verb;
                if (!p.HasPrec) prec = 6;
                break;
            case 'F':
                fmt = 'f';
                if (!p.HasPrec) prec = 6;
                break;
            default:
                BadVerb(sb, arg, verb);
                return;
        }
        string num = GoNumbers.FormatFloat(v, fmt, prec);
        if (p.Sharp && verb != 'v' && !num.Contains('.') && !double.IsInfinity(v) && !double.IsNaN(v))
        {
            int e = num.IndexOfAny(['e', 'E']);
            num = e >= 0 ? num[..e] + "." + num[e..] : num + ".";
        }
        bool neg = num.StartsWith('-');
        string unsigned = neg ? num[1..] : num;
        if (unsigned.StartsWith('+')) unsigned = unsigned[1..];
        string sign = neg ? "-" : p.Plus ? "+" : p.Space ? " " : "";
        if (double.IsInfinity(v) || double.IsNaN(v))
        {
            if (double.IsNaN(v)) sign = p.Plus ? "+" : p.Space ? " " : "";
            Pad(sb, sign + unsigned, p with { Zero = false });
            return;
        }
        if (p.Zero && p.HasWidth && !p.Minus)
        {
            int n = p.Width - sign.Length - unsigned.Length;
            sb.Append(sign);
            if (n > 0) sb.Append('0', n);
            sb.Append(unsigned);
            return;
        }
        Pad(sb, sign + unsigned, p);
    }
}
