using System.Globalization;
using System.Text;

namespace Sealer.Core.Text;

/// <summary>Go's strconv quoting rules (Quote, Unquote, %#U).</summary>
internal static class GoQuote
{
    public static string Quote(string s)
    {
        var sb = new StringBuilder(s.Length + 2);
        AppendQuoted(sb, s, asciiOnly: false);
        return sb.ToString();
    }

    public static void AppendQuoted(StringBuilder sb, string s, bool asciiOnly, char quote = '"')
    {
        sb.Append(quote);
        for (int i = 0; i < s.Length; i++)
        {
            int r = s[i];
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                r = char.ConvertToUtf32(s[i], s[i + 1]);
                i++;
            }
            else if (char.IsSurrogate(s[i]))
            {
                sb.Append("\\ufffd");
                continue;
            }
            AppendEscapedRune(sb, r, quote, asciiOnly);
        }
        sb.Append(quote);
    }

    public static void AppendEscapedRune(StringBuilder sb, int r, char quote, bool asciiOnly)
    {
        if (r == quote || r == '\\')
        {
            sb.Append('\\').Append((char)r);
            return;
        }
        if (asciiOnly ? (r < 0x7f && IsPrint(r)) : IsPrint(r))
        {
            sb.Append(char.ConvertFromUtf32(r));
            return;
        }
        switch (r)
        {
            case '\a': sb.Append("\\a"); return;
            case '\b': sb.Append("\\b"); return;
            case '\f': sb.Append("\\f"); return;
            case '\n': sb.Append("\\n"); return;
            case '\r': sb.Append("\\r"); return;
            case '\t': sb.Append("\\t"); return;
            case '\v': sb.Append("\\v"); return;
        }
        if (r < ' ' || r == 0x7f) sb.Append("\\x").Append(r.ToString("x2", CultureInfo.InvariantCulture));
        else if (r < 0x10000) sb.Append("\\u").Append(r.ToString("x4", CultureInfo.InvariantCulture));
        else sb.Append("\\U").Append(r.ToString("x8", CultureInfo.InvariantCulture));
    }

    public static bool IsPrint(int r)
    {
        if (r < 0x20 || r == 0x7f) return false;
        if (r < 0x7f) return true;
        if (r is >= 0x80 and < 0xa0) return false;
        if (r == 0xad) return false;
        var cat = CharUnicodeInfo.GetUnicodeCategory(r);
        return cat switch
        {
            UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse
                or UnicodeCategory.OtherNotAssigned or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator => false,
            UnicodeCategory.SpaceSeparator => r == 0x20,
            _ => true,
        };
    }

    /// <summary>%#U: <c>U+0023 '#'</c>.</summary>
    public static string RuneU(int r)
    {
        if (r < 0) return "U+FFFFFFFFFFFFFFFF";
        var hex = "U+" + r.ToString("X4", CultureInfo.InvariantCulture);
        return IsPrint(r) ? $"{hex} '{char.ConvertFromUtf32(r)}'" : hex;
    }

    /// <summary>strconv.Unquote for "..", `..` and '..'; null when malformed.</summary>
    public static string? Unquote(string s)
    {
        if (s.Length < 2) return null;
        char q = s[0];
        if (q != s[^1]) return null;
        var body = s.AsSpan(1, s.Length - 2);
        if (q == '`')
        {
            if (body.Contains('`')) return null;
            return body.Contains('\r') ? body.ToString().Replace("\r", "", StringComparison.Ordinal) : body.ToString();
        }
        if (q != '"' && q != '\'') return null;
        if (body.IndexOf('\\') < 0 && body.IndexOf(q) < 0 && body.IndexOf('\n') < 0) return body.ToString();
        var sb = new StringBuilder(body.Length);
        for (int i = 0; i < body.Length; i++)
        {
            char c = body[i];
            if (c == q || c == '\n') return null;
            if (c != '\\')
            {
                sb.Append(c);
                continue;
            }
            if (++i >= body.Length) return null;
            c = body[i];
            switch (c)
            {
                case 'a': sb.Append('\a'); break;
                case 'b': sb.Append('\b'); break;
                case 'f': sb.Append('\f'); break;
                case 'n': sb.Append('\n'); break;
                case 'r': sb.Append('\r'); break;
                case 't': sb.Append('\t'); break;
                case 'v': sb.Append('\v'); break;
                case '\\': sb.Append('\\'); break;
                case '\'' or '"':
                    if (c != q) return null;
                    sb.Append(c);
                    break;
                case 'x' or 'u' or 'U':
                    {
                        int n = c == 'x' ? 2 : c == 'u' ? 4 : 8;
                        if (i + n >= body.Length) return null;
                        if (!int.TryParse(body.Slice(i + 1, n), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int v)) return null;
                        i += n;
                        if (c == 'x') sb.Append((char)v); // a byte; treated as Latin-1
                        else
                        {
                            if (v > 0x10FFFF || (v >= 0xD800 && v < 0xE000)) return null;
                            sb.Append(char.ConvertFromUtf32(v));
                        }
                        break;
                    }
                case >= '0' and <= '7':
                    {
                        if (i + 2 >= body.Length) return null;
                        int v = 0;
                        for (int k = 0; k < 3; k++)
                        {
                            char d = body[i + k];
                            if (d is < '0' or > '7') return null;
                            v = v * 8 + (d - '0');
                        }
                        if (v > 255) return null;
                        i += 2;
                        sb.Append((char)v);
                        break;
                    }
                default:
                    return null;
            }
        }
        return sb.ToString();
    }
}

/// <summary>Go's number syntax (strconv.ParseInt base 0, ParseFloat) and formatting (FormatFloat).</summary>
internal static class GoNumbers
{
    public static bool IsIntegerSyntax(string s)
    {
        var t = s.TrimStart('+', '-');
        if (t.StartsWith("0x", StringComparison.OrdinalIgnoreCase)) return t.Length > 2 && t.AsSpan(2).ContainsAnyExcept("0123456789abcdefABCDEF") == false;
        return t.Length > 0 && !t.AsSpan().ContainsAnyExcept("0123456789");
    }

    public static bool TryParseInt(string s, out long value)
    {
        value = 0;
        if (s.Length == 0) return false;
        bool neg = false;
        int i = 0;
        if (s[0] is '+' or '-') { neg = s[0] == '-'; i = 1; }
        if (i >= s.Length) return false;
        int b = 10;
        if (s[i] == '0' && i + 1 < s.Length)
        {
            char p = char.ToLowerInvariant(s[i + 1]);
            if (p == 'x') { b = 16; i += 2; }
            else if (p == 'o') { b = 8; i += 2; }
            else if (p == 'b') { b = 2; i += 2; }
            else { b = 8; i += 1; }
        }
        if (i >= s.Length) return false;
        ulong acc = 0;
        for (; i < s.Length; i++)
        {
            int d = HexVal(s[i]);
            if (d < 0 || d >= b) return false;
            ulong next = acc * (ulong)b + (ulong)d;
            if (next / (ulong)b != acc && acc != 0) return false;
            if (acc > (ulong.MaxValue - (ulong)d) / (ulong)b) return false;
            acc = next;
        }
        if (neg)
        {
            if (acc > 9223372036854775808UL) return false;
            value = acc == 9223372036854775808UL ? long.MinValue : -(long)acc;
            return true;
        }
        if (acc > long.MaxValue) return false;
        value = (long)acc;
        return true;
    }

    private static int HexVal(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };

    public static bool TryParseFloat(string s, out double value)
    {
        value = 0;
        if (s.Length == 0) return false;
        var t = s.TrimStart('+', '-');
        if (t.StartsWith("0x", StringComparison.OrdinalIgnoreCase)) return TryParseHexFloat(t[2..], s[0] == '-', out value);
        var lower = t.ToLowerInvariant();
        if (lower is "inf" or "infinity") { value = s[0] == '-' ? double.NegativeInfinity : double.PositiveInfinity; return true; }
        if (lower == "nan") { value = double.NaN; return true; }
        if (t.AsSpan().ContainsAnyExcept("0123456789.eE+-")) return false;
        return double.TryParse(s, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>Go's hexadecimal floating-point literal after "0x": hex mantissa with optional '.', then a mandatory p exponent (0x1p60, 0x1.8p-3).</summary>
    private static bool TryParseHexFloat(string body, bool negative, out double value)
    {
        value = 0;
        int p = body.IndexOfAny(['p', 'P']);
        if (p <= 0) return false;
        string mant = body[..p], expText = body[(p + 1)..];
        if (!int.TryParse(expText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int exp)) return false;
        double m = 0;
        int fracDigits = 0;
        bool seenDot = false, anyDigit = false;
        foreach (char c in mant)
        {
            if (c == '.') { if (seenDot) return false; seenDot = true; continue; }
            int d = c is >= '0' and <= '9' ? c - '0' : c is >= 'a' and <= 'f' ? c - 'a' + 10 : c is >= 'A' and <= 'F' ? c - 'A' + 10 : -1;
            if (d < 0) return false;
            anyDigit = true;
            m = m * 16 + d;
            if (seenDot) fracDigits++;
        }
        if (!anyDigit) return false;
        value = m * Math.Pow(2, exp - 4 * fracDigits);
        if (negative) value = -value;
        return !double.IsInfinity(value);
    }

    /// <summary>The shortest decimal digits that round-trip <paramref name="f"/> (f finite, &gt; 0) and the decimal point position.</summary>
    public static (string Digits, int DecimalPoint) ShortestDigits(double f)
    {
        string r = f.ToString("R", CultureInfo.InvariantCulture);
        int exp = 0;
        int e = r.IndexOfAny(['E', 'e']);
        string mant = r;
        if (e >= 0)
        {
            exp = int.Parse(r.AsSpan(e + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            mant = r[..e];
        }
        int dot = mant.IndexOf('.');
        string digits;
        int dp;
        if (dot >= 0)
        {
            digits = mant[..dot] + mant[(dot + 1)..];
            dp = dot;
        }
        else
        {
            digits = mant;
            dp = mant.Length;
        }
        int lead = 0;
        while (lead < digits.Length - 1 && digits[lead] == '0') { lead++; dp--; }
        digits = digits[lead..].TrimEnd('0');
        if (digits.Length == 0) digits = "0";
        return (digits, dp + exp);
    }

    /// <summary>strconv.FormatFloat(f, fmt, prec, 64) for fmt in e E f g G with prec -1 (shortest) or &gt;= 0.</summary>
    public static string FormatFloat(double f, char fmt, int prec)
    {
        if (double.IsNaN(f)) return "NaN";
        if (double.IsPositiveInfinity(f)) return "+Inf";
        if (double.IsNegativeInfinity(f)) return "-Inf";
        var sb = new StringBuilder();
        bool neg = f < 0 || (f == 0 && double.IsNegative(f));
        if (neg) sb.Append('-');
        double a = Math.Abs(f);
        string digits;
        int dp;
        bool shortest = prec < 0;
        if (a == 0)
        {
            digits = "0";
            dp = 1;
        }
        else if (shortest)
        {
            (digits, dp) = ShortestDigits(a);
        }
        else
        {
            // exact rounding to the requested number of digits
            int nd = fmt switch { 'e' or 'E' => prec + 1, 'f' => -1, _ => prec == 0 ? 1 : prec };
            (digits, dp) = RoundedDigits(a, fmt == 'f' ? prec : -1, nd);
        }
        switch (fmt)
        {
            case 'e' or 'E':
                FmtE(sb, digits, dp, shortest ? digits.Length - 1 : prec, fmt);
                break;
            case 'f':
                FmtF(sb, digits, dp, shortest ? Math.Max(digits.Length - dp, 0) : prec);
                break;
            case 'g' or 'G':
                {
                    if (!shortest)
                    {
                        digits = digits.TrimEnd('0');
                        if (digits.Length == 0) digits = "0";
                    }
                    int nd = digits.Length;
                    int p = shortest ? nd : (prec == 0 ? 1 : prec);
                    int eprec = p;
                    if (eprec > nd && nd >= dp) eprec = nd;
                    if (shortest) eprec = 6;
                    int exp = dp - 1;
                    if (exp < -4 || exp >= eprec)
                    {
                        if (p > nd) p = nd;
                        FmtE(sb, digits, dp, p - 1, fmt == 'g' ? 'e' : 'E');
                    }
                    else
                    {
                        if (p > dp) p = nd;
                        FmtF(sb, digits, dp, Math.Max(p - dp, 0));
                    }
                    break;
                }
            default:
                sb.Append(a.ToString(CultureInfo.InvariantCulture));
                break;
        }
        return sb.ToString();
    }

    private static (string Digits, int DecimalPoint) RoundedDigits(double a, int fracDigits, int totalDigits)
    {
        // decimal expansion via BigInteger-free approach: use "E" formatting with enough precision (correctly rounded by .NET Core 3+).
        if (fracDigits >= 0)
        {
            string s = a.ToString("F" + fracDigits.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
            int dot = s.IndexOf('.');
            string digits = dot >= 0 ? s.Remove(dot, 1) : s;
            int dp = dot >= 0 ? dot : s.Length;
            int lead = 0;
            while (lead < digits.Length - 1 && digits[lead] == '0') { lead++; dp--; }
            digits = digits[lead..];
            if (digits.TrimEnd('0').Length == 0) return ("0", 1);
            return (digits, dp);
        }
        else
        {
            int n = Math.Max(totalDigits, 1);
            string s = a.ToString("E" + (n - 1).ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
            int e = s.IndexOf('E');
            int exp = int.Parse(s.AsSpan(e + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            string digits = s[..e].Replace(".", "", StringComparison.Ordinal);
            return (digits, exp + 1);
        }
    }

    private static void FmtE(StringBuilder sb, string digits, int dp, int prec, char fmt)
    {
        sb.Append(digits.Length > 0 ? digits[0] : '0');
        if (prec > 0)
        {
            sb.Append('.');
            int i = 1;
            int m = Math.Min(digits.Length, prec + 1);
            if (i < m) { sb.Append(digits, i, m - i); i = m; }
            for (; i <= prec; i++) sb.Append('0');
        }
        sb.Append(fmt);
        int exp = dp - 1;
        if (digits == "0") exp = 0;
        char ch = '+';
        if (exp < 0) { ch = '-'; exp = -exp; }
        sb.Append(ch);
        if (exp < 10) sb.Append('0').Append((char)('0' + exp));
        else sb.Append(exp.ToString(CultureInfo.InvariantCulture));
    }

    private static void FmtF(StringBuilder sb, string digits, int dp, int prec)
    {
        if (dp > 0)
        {
            int m = Math.Min(digits.Length, dp);
            sb.Append(digits, 0, m);
            for (; m < dp; m++) sb.Append('0');
        }
        else sb.Append('0');
        if (prec > 0)
        {
            sb.Append('.');
            for (int i = 1; i <= prec; i++)
            {
                int j = dp + i - 1;
                sb.Append(j >= 0 && j < digits.Length ? digits[j] : '0');
            }
        }
    }
}
