using Sealer.Core.Semver;
using System.Globalization;

namespace Sealer.Core.Charts.Remote;

/// <summary>
/// Chart version choice as helm does it (<c>repo.IndexFile.Get</c>, used by <c>helm pull --version</c> and
/// <c>helm dependency update</c>): versions sorted newest first (SemVer 2 precedence, unparsable versions last), an exact
/// string match wins, else the newest version the constraint accepts; no constraint means the newest release (no
/// pre-release), like helm's <c>*</c>. Constraints are checked by <see cref="SemverConstraint"/>.
/// </summary>
public static class ChartVersions
{
    private readonly record struct Parsed(long Major, long Minor, long Patch, string Pre);

    /// <summary>True when <paramref name="version"/> parses as (lenient, Masterminds-style) SemVer.</summary>
    public static bool IsValid(string version) => TryParse(version, out _);

    /// <summary>Orders versions newest first, as helm sorts index entries.</summary>
    public static List<T> SortNewestFirst<T>(IEnumerable<T> items, Func<T, string> version)
        => items.Select((item, i) => (item, i, ok: TryParse(version(item), out var p), p))
            .OrderByDescending(x => x.ok)
            .ThenByDescending(x => x.p, Comparer<Parsed>.Create(Compare))
            .ThenBy(x => x.i)
            .Select(x => x.item)
            .ToList();

    /// <summary>The version helm would pick from <paramref name="newestFirst"/> for <paramref name="constraint"/>, or null.</summary>
    public static T? Select<T>(IReadOnlyList<T> newestFirst, Func<T, string> version, string? constraint) where T : class
    {
        if (!string.IsNullOrWhiteSpace(constraint))
        {
            foreach (var item in newestFirst)
            {
                if (version(item) == constraint) return item;
            }
        }
        string c = string.IsNullOrWhiteSpace(constraint) ? "*" : constraint.Trim();
        foreach (var item in newestFirst)
        {
            string v = version(item);
            if (!TryParse(v, out _)) continue;
            if (SemverConstraint.IsSatisfied(c, v)) return item;
        }
        return null;
    }

    /// <summary>Up to <paramref name="count"/> versions closest to what was asked (same major first, newest first), for error messages.</summary>
    public static IReadOnlyList<string> Nearest(IEnumerable<string> versions, string? asked, int count = 5)
    {
        var all = SortNewestFirst(versions.Distinct(StringComparer.Ordinal), v => v);
        // Pre-releases only when a pre-release was asked for, as helm's constraints do.
        bool pre = asked?.Contains('-') ?? false;
        var candidates = all.Where(v => TryParse(v, out var p) && (pre || p.Pre.Length == 0)).ToList();
        if (candidates.Count == 0) candidates = all;
        if (string.IsNullOrWhiteSpace(asked)) return candidates.Take(count).ToList();
        string digits = new(asked.TrimStart('v', '=', '^', '~', '>', '<', ' ').TakeWhile(ch => char.IsAsciiDigit(ch) || ch == '.').ToArray());
        if (!TryParse(digits.TrimEnd('.'), out var target)) return candidates.Take(count).ToList();
        // Closest major first, newest first within it.
        return candidates
            .Select((v, i) => (v, i, major: TryParse(v, out var p) ? Math.Abs(p.Major - target.Major) : long.MaxValue))
            .OrderBy(x => x.major).ThenBy(x => x.i)
            .Take(count)
            .Select(x => x.v)
            .ToList();
    }

    private static bool TryParse(string s, out Parsed v)
    {
        v = default;
        if (string.IsNullOrEmpty(s)) return false;
        var t = s.AsSpan().Trim();
        if (t.Length > 0 && t[0] == 'v') t = t[1..];
        int plus = t.IndexOf('+');
        if (plus >= 0) t = t[..plus];
        string pre = "";
        int dash = t.IndexOf('-');
        if (dash >= 0)
        {
            pre = t[(dash + 1)..].ToString();
            if (pre.Length == 0) return false;
            t = t[..dash];
        }
        var parts = t.ToString().Split('.');
        if (parts.Length is < 1 or > 3) return false;
        var nums = new long[3];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!long.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out nums[i])) return false;
        }
        v = new Parsed(nums[0], nums[1], nums[2], pre);
        return true;
    }

    private static int Compare(Parsed a, Parsed b)
    {
        int c = a.Major.CompareTo(b.Major);
        if (c == 0) c = a.Minor.CompareTo(b.Minor);
        if (c == 0) c = a.Patch.CompareTo(b.Patch);
        if (c != 0) return c;
        if (a.Pre == b.Pre) return 0;
        if (a.Pre.Length == 0) return 1;
        if (b.Pre.Length == 0) return -1;
        var ap = a.Pre.Split('.');
        var bp = b.Pre.Split('.');
        for (int i = 0; i < Math.Min(ap.Length, bp.Length); i++)
        {
            bool an = long.TryParse(ap[i], NumberStyles.None, CultureInfo.InvariantCulture, out var ai);
            bool bn = long.TryParse(bp[i], NumberStyles.None, CultureInfo.InvariantCulture, out var bi);
            int r = an && bn ? ai.CompareTo(bi) : an ? -1 : bn ? 1 : string.CompareOrdinal(ap[i], bp[i]);
            if (r != 0) return r;
        }
        return ap.Length.CompareTo(bp.Length);
    }
}
