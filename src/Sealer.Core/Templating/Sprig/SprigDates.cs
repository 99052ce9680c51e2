using System.Globalization;
using System.Text;
using Sealer.Core.Text;

namespace Sealer.Core.Templating.Sprig;

/// <summary>sprig date functions with Go's reference-time layouts.</summary>
internal static class SprigDates
{
    public static void Register(Dictionary<string, GoFunc> m, SprigEnvironment env)
    {
        GoTime Now() => new(env.Now ?? DateTimeOffset.UtcNow);
        m["now"] = GoFunc.Create("now", [], _ => Now());
        m["date"] = GoFunc.Create("date", [GoType.String, GoType.Any], a => Format(ToTime(a[1], Now), (string)a[0]!));
        m["dateInZone"] = GoFunc.Create("dateInZone", [GoType.String, GoType.Any, GoType.String], a => Format(InZone(ToTime(a[1], Now), (string)a[2]!), (string)a[0]!));
        m["date_in_zone"] = GoFunc.Create("date_in_zone", [GoType.String, GoType.Any, GoType.String], a => Format(InZone(ToTime(a[1], Now), (string)a[2]!), (string)a[0]!));
        m["htmlDate"] = GoFunc.Create("htmlDate", [GoType.Any], a => Format(ToTime(a[0], Now), "2006-01-02"));
        m["htmlDateInZone"] = GoFunc.Create("htmlDateInZone", [GoType.Any, GoType.String], a => Format(InZone(ToTime(a[0], Now), (string)a[1]!), "2006-01-02"));
        m["unixEpoch"] = GoFunc.Create("unixEpoch", [GoType.Any], a => ((a[0] as GoTime) ?? throw new GoFuncException("unixEpoch needs a time")).Value.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
        m["dateModify"] = GoFunc.Create("dateModify", [GoType.String, GoType.Any], a => a[1] is GoTime t && ParseDuration((string)a[0]!) is { } d ? new GoTime(t.Value + d) : a[1]);
        m["date_modify"] = m["dateModify"];
        m["mustDateModify"] = GoFunc.Create("mustDateModify", [GoType.String, GoType.Any], a => a[1] is GoTime t ? new GoTime(t.Value + (ParseDuration((string)a[0]!) ?? throw new GoFuncException("time: invalid duration " + GoQuote.Quote((string)a[0]!)))) : a[1]);
        m["must_date_modify"] = m["mustDateModify"];
        m["toDate"] = GoFunc.Create("toDate", [GoType.String, GoType.String], a => TryParse((string)a[0]!, (string)a[1]!) ?? new GoTime(DateTimeOffset.MinValue));
        m["mustToDate"] = GoFunc.Create("mustToDate", [GoType.String, GoType.String], a => TryParse((string)a[0]!, (string)a[1]!) ?? throw new GoFuncException($"parsing time {GoQuote.Quote((string)a[1]!)} as {GoQuote.Quote((string)a[0]!)}: cannot parse"));
        m["ago"] = GoFunc.Create("ago", [GoType.Any], a => DurationString(TimeSpan.FromSeconds(Math.Round((Now().Value - ToTime(a[0], Now).Value).TotalSeconds))));
        // sprig's duration only reads int64 and string: Go ints (constants, len, ...) and float64 values give 0s.
        m["duration"] = GoFunc.Create("duration", [GoType.Any], a => DurationString(TimeSpan.FromSeconds(a[0] is string s && long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) ? l : 0)));
        m["durationRound"] = GoFunc.Create("durationRound", [GoType.Any], a => DurationRound(a[0], Now));
    }

    private static GoTime ToTime(object? v, Func<GoTime> now) => v switch
    {
        GoTime t => t,
        long l => new GoTime(DateTimeOffset.FromUnixTimeSeconds(l)),
        double d => new GoTime(DateTimeOffset.FromUnixTimeSeconds((long)d)),
        _ => now(),
    };

    private static GoTime InZone(GoTime t, string zone)
    {
        if (zone is "" or "UTC") return new GoTime(t.Value.ToUniversalTime(), "UTC");
        try
        {
            var tz = TimeZoneInfo.FindSystemTimeZoneById(zone);
            var local = TimeZoneInfo.ConvertTime(t.Value, tz);
            return new GoTime(local, tz.IsDaylightSavingTime(local) ? tz.DaylightName : tz.StandardName);
        }
        catch (TimeZoneNotFoundException)
        {
            return new GoTime(t.Value.ToUniversalTime(), "UTC");
        }
    }

    internal static TimeSpan? ParseDuration(string s)
    {
        if (s.Length == 0) return null;
        int i = 0;
        bool neg = false;
        if (s[0] is '+' or '-') { neg = s[0] == '-'; i++; }
        double totalNs = 0;
        bool any = false;
        while (i < s.Length)
        {
            int start = i;
            while (i < s.Length && (char.IsAsciiDigit(s[i]) || s[i] == '.')) i++;
            if (i == start) return null;
            var num = double.Parse(s.AsSpan(start, i - start), CultureInfo.InvariantCulture);
            int us = i;
            while (i < s.Length && !char.IsAsciiDigit(s[i]) && s[i] != '.') i++;
            double unit = s[us..i] switch
            {
                "ns" => 1, "us" or "µs" or "μs" => 1e3, "ms" => 1e6, "s" => 1e9, "m" => 60e9, "h" => 3600e9, _ => -1,
            };
            if (unit < 0) return null;
            totalNs += num * unit;
            any = true;
        }
        if (!any) return null;
        return TimeSpan.FromTicks((long)((neg ? -totalNs : totalNs) / 100));
    }

    /// <summary>Go's time.Duration.String().</summary>
    internal static string DurationString(TimeSpan d)
    {
        long ns = d.Ticks * 100;
        if (ns == 0) return "0s";
        var sb = new StringBuilder();
        bool neg = ns < 0;
        ulong u = neg ? (ulong)(-ns) : (ulong)ns;
        if (u < 1_000_000_000UL)
        {
            string unit;
            double v;
            if (u < 1000) { v = u; unit = "ns"; }
            else if (u < 1_000_000) { v = u / 1e3; unit = "µs"; }
            else { v = u / 1e6; unit = "ms"; }
            return (neg ? "-" : "") + GoNumbers.FormatFloat(v, 'g', -1) + unit;
        }
        ulong secs = u / 1_000_000_000UL;
        ulong frac = u % 1_000_000_000UL;
        ulong h = secs / 3600, mi = secs / 60 % 60, s = secs % 60;
        if (neg) sb.Append('-');
        if (h > 0) sb.Append(h).Append('h');
        if (h > 0 || mi > 0) sb.Append(mi).Append('m');
        sb.Append(s);
        if (frac > 0) sb.Append('.').Append(frac.ToString("D9", CultureInfo.InvariantCulture).TrimEnd('0'));
        sb.Append('s');
        return sb.ToString();
    }

    private static string DurationRound(object? v, Func<GoTime> now)
    {
        TimeSpan d = v switch
        {
            string s => ParseDuration(s) ?? TimeSpan.Zero,
            long l => TimeSpan.FromTicks(l / 100),
            GoTime t => now().Value - t.Value,
            _ => TimeSpan.Zero,
        };
        var u = d.Duration();
        long secs = (long)u.TotalSeconds;
        const long year = 31536000, month = 2592000, day = 86400, hour = 3600, minute = 60;
        if (secs >= year) return $"{secs / year}y";
        if (secs >= month) return $"{secs / month}mo";
        if (secs >= day) return $"{secs / day}d";
        if (secs >= hour) return $"{secs / hour}h";
        if (secs >= minute) return $"{secs / minute}m";
        return $"{secs}s";
    }

    private static string Format(GoTime t, string layout) => t.Format(layout);

    private static GoTime? TryParse(string layout, string value)
    {
        // Translate the Go layout to a .NET exact format.
        var sb = new StringBuilder();
        int i = 0;
        while (i < layout.Length)
        {
            string? tok = null;
            foreach (var s in GoTime.LayoutTokens)
            {
                if (string.CompareOrdinal(layout, i, s, 0, s.Length) == 0) { tok = s; break; }
            }
            if (tok is null)
            {
                char c = layout[i++];
                if (char.IsLetter(c) || c is '\'' or '"' or '%' or '\\' or ':' or '/') sb.Append('\\');
                sb.Append(c);
                continue;
            }
            i += tok.Length;
            sb.Append(tok switch
            {
                "January" => "MMMM", "Jan" => "MMM", "Monday" => "dddd", "Mon" => "ddd", "MST" => "\\U\\T\\C", "2006" => "yyyy", "06" => "yy",
                "01" => "MM", "1" => "M", "02" => "dd", "_2" => "d", "2" => "d", "15" => "HH", "03" => "hh", "3" => "h", "04" => "mm", "4" => "m",
                "05" => "ss", "5" => "s", "PM" => "tt", "pm" => "tt", "Z07:00" => "K", "-07:00" => "zzz", "-0700" => "zzz", "Z0700" => "K", _ => tok,
            });
        }
        if (DateTimeOffset.TryParseExact(value, sb.ToString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AllowWhiteSpaces, out var r))
        {
            return new GoTime(r);
        }
        return null;
    }
}
