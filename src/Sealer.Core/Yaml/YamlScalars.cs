using System.Globalization;
using System.Numerics;
using System.Text.RegularExpressions;

namespace Sealer.Core.Yaml;

/// <summary>What a plain YAML 1.1 scalar means to go-yaml v2.</summary>
internal enum YamlScalarKind { Null, Bool, Int, Float, Timestamp, String }

/// <summary>
/// The one YAML 1.1 scalar resolver: go-yaml v2's <c>resolve()</c>, the YAML of sigs.k8s.io/yaml, Helm and Kubernetes
/// (<c>yes</c>/<c>on</c> are booleans, <c>0777</c> is octal, <c>1_000</c> an int, timestamps stay text). Readers (values
/// files, manifests, <c>fromYaml</c>) take the value; the writer (<c>toYaml</c>) quotes every string that would not read
/// back as a string.
/// </summary>
internal static partial class YamlScalars
{
    public const string TagPrefix = "tag:yaml.org,2002:";

    /// <summary>Resolves a scalar: plain text by its form, a quoted or tagged one by its tag (<c>!!int "3"</c> is 3).</summary>
    /// <returns>null, a bool, a double (ints and floats: Helm reads them through JSON), or the text.</returns>
    public static object? Resolve(string text, bool isPlain, string? tag)
    {
        if (isPlain)
        {
            Resolve(text, out var value);
            return value;
        }
        return tag switch
        {
            TagPrefix + "null" => null,
            TagPrefix + "bool" => Resolve(text, out var b) == YamlScalarKind.Bool ? b : text,
            TagPrefix + "int" or TagPrefix + "float" => Resolve(text, out var d) is YamlScalarKind.Int or YamlScalarKind.Float ? d : text,
            _ => text,
        };
    }

    /// <summary>go-yaml v2 <c>resolve("", text)</c>: the kind, and the value as <see cref="Resolve(string, bool, string?)"/> gives it
    /// (timestamps stay their text: go-yaml v2 decodes them into interface{} as strings).</summary>
    public static YamlScalarKind Resolve(string text, out object? value)
    {
        value = text;
        switch (text)
        {
            case "" or "~" or "null" or "Null" or "NULL":
                value = null;
                return YamlScalarKind.Null;
            case "y" or "Y" or "yes" or "Yes" or "YES" or "on" or "On" or "ON" or "true" or "True" or "TRUE":
                value = true;
                return YamlScalarKind.Bool;
            case "n" or "N" or "no" or "No" or "NO" or "off" or "Off" or "OFF" or "false" or "False" or "FALSE":
                value = false;
                return YamlScalarKind.Bool;
            case ".nan" or ".NaN" or ".NAN":
                value = double.NaN;
                return YamlScalarKind.Float;
            case ".inf" or ".Inf" or ".INF" or "+.inf" or "+.Inf" or "+.INF":
                value = double.PositiveInfinity;
                return YamlScalarKind.Float;
            case "-.inf" or "-.Inf" or "-.INF":
                value = double.NegativeInfinity;
                return YamlScalarKind.Float;
        }
        char c = text[0];
        if (c == '.')
        {
            // strconv.ParseFloat: Go's float literal syntax, underscores only between digits (".5_0" is 0.5).
            if (!UnderscoresBetweenDigits(text) || !TryParseFloat(text.Replace("_", "", StringComparison.Ordinal), out var f)) return YamlScalarKind.String;
            value = f;
            return YamlScalarKind.Float;
        }
        if (c is '+' or '-' or (>= '0' and <= '9'))
        {
            if (IsTimestamp(text)) return YamlScalarKind.Timestamp;
            string plain = text.Replace("_", "", StringComparison.Ordinal);
            if (TryParseInt(plain, out var i))
            {
                value = i;
                return YamlScalarKind.Int;
            }
            if (YamlStyleFloat().IsMatch(plain) && TryParseFloat(plain, out var f))
            {
                value = f;
                return YamlScalarKind.Float;
            }
        }
        return YamlScalarKind.String;
    }

    /// <summary>True for the texts a plain scalar reads as null.</summary>
    public static bool IsNullText(string text) => text is "" or "~" or "null" or "Null" or "NULL";

    /// <summary>Would <paramref name="text"/>, written as a plain scalar, read back as this string? go-yaml's encoder
    /// (<c>stringv</c>) quotes it otherwise, and also quotes base-60 floats (<c>1:20</c>), which YAML 1.1 readers take as numbers.</summary>
    public static bool CanBePlain(string text) => Resolve(text, out _) == YamlScalarKind.String && !IsBase60Float(text);

    private static bool IsBase60Float(string s) => s.Length > 0 && (char.IsAsciiDigit(s[0]) || s[0] is '+' or '-' or '.') && Base60Float().IsMatch(s);

    /// <summary>strconv.ParseInt(s, 0, 64), else ParseUint(s, 0, 64): sign, <c>0x</c>/<c>0o</c>/<c>0b</c>/leading-0 octal; as a double.</summary>
    private static bool TryParseInt(string s, out double value)
    {
        value = 0;
        if (s.Length == 0) return false;
        bool neg = false;
        string body = s;
        if (body[0] is '+' or '-') { neg = body[0] == '-'; body = body[1..]; }
        if (body.Length == 0) return false;
        int radix = 10;
        if (body.Length > 1 && body[0] == '0')
        {
            switch (body[1])
            {
                case 'x' or 'X': radix = 16; body = body[2..]; break;
                case 'o' or 'O': radix = 8; body = body[2..]; break;
                case 'b' or 'B': radix = 2; body = body[2..]; break;
                default: radix = 8; body = body[1..]; break;
            }
            if (body.Length == 0) return false;
        }
        BigInteger acc = 0;
        foreach (char ch in body)
        {
            int d = ch switch { >= '0' and <= '9' => ch - '0', >= 'a' and <= 'f' => ch - 'a' + 10, >= 'A' and <= 'F' => ch - 'A' + 10, _ => 99 };
            if (d >= radix) return false;
            acc = acc * radix + d;
        }
        if (neg) acc = -acc;
        if (acc > ulong.MaxValue || acc < long.MinValue) return false;
        // Go converts int64/uint64 to float64 rounding to nearest; BigInteger's conversion would truncate.
        value = acc <= long.MaxValue ? (long)acc : (double)(ulong)acc;
        return true;
    }

    private static bool UnderscoresBetweenDigits(string s)
    {
        for (int i = s.IndexOf('_'); i >= 0; i = s.IndexOf('_', i + 1))
        {
            if (i == 0 || i == s.Length - 1 || !char.IsAsciiDigit(s[i - 1]) || !char.IsAsciiDigit(s[i + 1])) return false;
        }
        return true;
    }

    private static bool TryParseFloat(string s, out double value) => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out value);

    /// <summary>go-yaml v2 parseTimestamp: <c>YYYY-M-D</c>, <c>YYYY-M-DTh:m:s[.f](Z|±hh:mm)</c> (or <c>t</c>), or
    /// <c>YYYY-M-D h:m:s[.f]</c>, with Go's time.Parse range checks (month, day of that month, hour, minute, second).</summary>
    private static bool IsTimestamp(string s)
    {
        if (s.Length < 8 || !char.IsAsciiDigit(s[0])) return false;
        var m = Timestamp().Match(s);
        if (!m.Success) return false;
        int year = int.Parse(m.Groups["y"].ValueSpan, CultureInfo.InvariantCulture);
        int month = int.Parse(m.Groups["mo"].ValueSpan, CultureInfo.InvariantCulture);
        int day = int.Parse(m.Groups["d"].ValueSpan, CultureInfo.InvariantCulture);
        if (month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(Math.Max(year, 1), month)) return false;
        if (!m.Groups["h"].Success) return true;
        bool tz = m.Groups["tz"].Success, t = m.Groups["sep"].Value is "T" or "t";
        if (t != tz) return false; // the T layouts need a zone; the space layout has none
        return int.Parse(m.Groups["h"].ValueSpan, CultureInfo.InvariantCulture) < 24
            && int.Parse(m.Groups["mi"].ValueSpan, CultureInfo.InvariantCulture) < 60
            && int.Parse(m.Groups["s"].ValueSpan, CultureInfo.InvariantCulture) < 60;
    }

    [GeneratedRegex(@"^(?<y>[0-9]{4})-(?<mo>[0-9]{1,2})-(?<d>[0-9]{1,2})(?:(?<sep>[Tt ])(?<h>[0-9]{1,2}):(?<mi>[0-9]{1,2}):(?<s>[0-9]{1,2})(?:[.,][0-9]+)?(?<tz>Z|[-+][0-9]{2}:[0-9]{2})?)?$", RegexOptions.CultureInvariant)]
    private static partial Regex Timestamp();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex YamlStyleFloat();

    [GeneratedRegex(@"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$", RegexOptions.CultureInvariant)]
    private static partial Regex Base60Float();
}
