using System.Globalization;
using System.Text;

namespace Sealer.Core.Templating;

/// <summary>Go's <c>time.Time</c> (from <c>now</c>, <c>toDate</c>, ...).</summary>
public sealed class GoTime(DateTimeOffset value, string? zoneName = null) : IGoObject
{
    public DateTimeOffset Value { get; } = value;
    public string ZoneName { get; } = zoneName ?? (value.Offset == TimeSpan.Zero ? "UTC" : "");
    public string GoTypeName => "time.Time";
    public GoFunc? GetMethod(string name) => name switch
    {
        "Unix" => GoFunc.Create(name, [], _ => Value.ToUnixTimeSeconds()),
        "Year" => GoFunc.Create(name, [], _ => (long)Value.Year),
        "UTC" => GoFunc.Create(name, [], _ => new GoTime(Value.ToUniversalTime())),
        "Format" => GoFunc.Create(name, [GoType.String], a => Format((string)a[0]!)),
        _ => null,
    };
    public bool TryGetField(string name, out object? value) { value = null; return false; }
    public override string ToString() => Format("2006-01-02 15:04:05.999999999 -0700 MST");

    /// <summary>The reference-time tokens of a layout, longest first where one is a prefix of another.</summary>
    internal static readonly string[] LayoutTokens =
    [
        "January", "Jan", "Monday", "Mon", "MST", "2006", "Z07:00:00", "Z07:00", "Z0700", "Z07", "-07:00:00", "-07:00", "-0700", "-07",
        "002", "01", "02", "03", "04", "05", "06", "15", "_2", "PM", "pm", "1", "2", "3", "4", "5",
    ];

    /// <summary>Formats with a Go reference-time layout (Mon Jan 2 15:04:05 MST 2006).</summary>
    public string Format(string layout)
    {
        var t = Value;
        var sb = new StringBuilder(layout.Length + 8);
        int i = 0;
        while (i < layout.Length)
        {
            // fractional seconds .000 / .999
            if ((layout[i] == '.' || layout[i] == ',') && i + 1 < layout.Length && (layout[i + 1] == '0' || layout[i + 1] == '9'))
            {
                char digit = layout[i + 1];
                int j = i + 1;
                while (j < layout.Length && layout[j] == digit) j++;
                if (j >= layout.Length || !char.IsAsciiDigit(layout[j]))
                {
                    int n = j - i - 1;
                    var frac = (t.Ticks % TimeSpan.TicksPerSecond).ToString("D7", CultureInfo.InvariantCulture) + "00";
                    var f = frac[..Math.Min(n, 9)].PadRight(n, '0');
                    if (digit == '9')
                    {
                        f = f.TrimEnd('0');
                        if (f.Length > 0) sb.Append(layout[i]).Append(f);
                    }
                    else sb.Append(layout[i]).Append(f);
                    i = j;
                    continue;
                }
            }
            string? tok = null;
            foreach (var s in LayoutTokens)
            {
                if (string.CompareOrdinal(layout, i, s, 0, s.Length) == 0)
                {
                    tok = s;
                    break;
                }
            }
            if (tok is null)
            {
                sb.Append(layout[i++]);
                continue;
            }
            // Go: "Jan"/"Mon" only when not followed by a lowercase letter; "January"/"Monday" checked first.
            i += tok.Length;
            var off = t.Offset;
            switch (tok)
            {
                case "January": sb.Append(t.ToString("MMMM", CultureInfo.InvariantCulture)); break;
                case "Jan": sb.Append(t.ToString("MMM", CultureInfo.InvariantCulture)); break;
                case "Monday": sb.Append(t.DayOfWeek.ToString()); break;
                case "Mon": sb.Append(t.DayOfWeek.ToString()[..3]); break;
                case "MST": sb.Append(ZoneName.Length > 0 ? ZoneName : FormatOffset(off, false, false)); break;
                case "2006": sb.Append(t.Year.ToString("D4", CultureInfo.InvariantCulture)); break;
                case "06": sb.Append((t.Year % 100).ToString("D2", CultureInfo.InvariantCulture)); break;
                case "01": sb.Append(t.Month.ToString("D2", CultureInfo.InvariantCulture)); break;
                case "1": sb.Append(t.Month); break;
                case "02": sb.Append(t.Day.ToString("D2", CultureInfo.InvariantCulture)); break;
                case "_2": sb.Append(t.Day.ToString(CultureInfo.InvariantCulture).PadLeft(2)); break;
                case "2": sb.Append(t.Day); break;
                case "002": sb.Append(t.DayOfYear.ToString("D3", CultureInfo.InvariantCulture)); break;
                case "15": sb.Append(t.Hour.ToString("D2", CultureInfo.InvariantCulture)); break;
                case "03": sb.Append(((t.Hour + 11) % 12 + 1).ToString("D2", CultureInfo.InvariantCulture)); break;
                case "3": sb.Append((t.Hour + 11) % 12 + 1); break;
                case "04": sb.Append(t.Minute.ToString("D2", CultureInfo.InvariantCulture)); break;
                case "4": sb.Append(t.Minute); break;
                case "05": sb.Append(t.Second.ToString("D2", CultureInfo.InvariantCulture)); break;
                case "5": sb.Append(t.Second); break;
                case "PM": sb.Append(t.Hour >= 12 ? "PM" : "AM"); break;
                case "pm": sb.Append(t.Hour >= 12 ? "pm" : "am"); break;
                case "Z07:00:00" or "Z07:00" or "Z0700" or "Z07":
                    if (off == TimeSpan.Zero) sb.Append('Z');
                    else sb.Append(FormatOffset(off, tok.Contains(':'), tok.Length == 3));
                    break;
                case "-07:00:00" or "-07:00" or "-0700" or "-07":
                    sb.Append(FormatOffset(off, tok.Contains(':'), tok.Length == 3));
                    break;
            }
        }
        return sb.ToString();
    }

    private static string FormatOffset(TimeSpan off, bool colon, bool hoursOnly)
    {
        var sign = off < TimeSpan.Zero ? "-" : "+";
        off = off.Duration();
        var h = off.Hours.ToString("D2", CultureInfo.InvariantCulture);
        if (hoursOnly) return sign + h;
        var m = off.Minutes.ToString("D2", CultureInfo.InvariantCulture);
        return sign + h + (colon ? ":" : "") + m;
    }
}
