using System.Globalization;
using System.Text.RegularExpressions;

namespace Sealer.Core.Charts;

/// <summary>
/// Semantic version constraints as helm checks them (Masterminds/semver v3): <c>||</c> alternatives of space/comma
/// separated comparisons (<c>= != &gt; &lt; &gt;= &lt;= ~ ~&gt; ^</c>), hyphen ranges, <c>x</c>/<c>*</c> wildcards,
/// and pre-release versions matching only constraints that name a pre-release.
/// </summary>
internal static class SemverRange
{
    private static readonly Regex VersionRx = new(
        @"^v?(?<maj>0|[1-9]\d*|[xX*])(\.(?<min>0|[1-9]\d*|[xX*]))?(\.(?<pat>0|[1-9]\d*|[xX*]))?(-(?<pre>[0-9A-Za-z\-.]+))?(\+(?<meta>[0-9A-Za-z\-.]+))?$",
        RegexOptions.CultureInvariant);

    private readonly record struct Ver(long Major, long Minor, long Patch, string Pre, bool WildMinor, bool WildPatch, bool WildMajor, bool HasMinor, bool HasPatch);

    /// <summary>True when <paramref name="version"/> satisfies <paramref name="constraint"/>; false when either does not parse.</summary>
    public static bool IsCompatibleRange(string constraint, string version)
    {
        if (!TryParse(version, out var v) || v.WildMajor || v.WildMinor || v.WildPatch) return false;
        if (string.IsNullOrWhiteSpace(constraint)) return false;
        foreach (var alt in constraint.Split("||"))
        {
            var parts = Tokenize(alt);
            if (parts is null) return false;
            if (parts.Count == 0) return false;
            bool all = true;
            foreach (var (op, operand) in parts)
            {
                if (!TryParse(operand, out var c)) return false;
                if (!Check(op, c, v)) { all = false; break; }
            }
            if (all) return true;
        }
        return false;
    }

    private static List<(string Op, string Operand)>? Tokenize(string alt)
    {
        var s = alt.Replace(",", " ", StringComparison.Ordinal).Trim();
        // hyphen range "a - b"
        var hy = Regex.Match(s, @"^(\S+)\s+-\s+(\S+)$");
        if (hy.Success) return [(">=", hy.Groups[1].Value), ("<=", hy.Groups[2].Value)];
        var tokens = Regex.Matches(s, @"(!=|>=|=>|<=|=<|~>|[=<>~^])?\s*([^\s<>=!~^]+)");
        var list = new List<(string, string)>();
        int consumed = 0;
        foreach (Match m in tokens)
        {
            consumed += m.Length;
            list.Add((m.Groups[1].Value, m.Groups[2].Value));
        }
        return s.Replace(" ", "", StringComparison.Ordinal).Length == string.Concat(list.Select(t => t.Item1 + t.Item2)).Length ? list : null;
    }

    private static bool TryParse(string s, out Ver v)
    {
        v = default;
        var m = VersionRx.Match(s.Trim());
        if (!m.Success) return false;
        static (long, bool, bool) Part(Group g) => !g.Success ? (0, false, false) : g.Value is "x" or "X" or "*" ? (0, true, true) : (long.Parse(g.Value, CultureInfo.InvariantCulture), false, true);
        var (maj, wmaj, _) = Part(m.Groups["maj"]);
        var (min, wmin, hmin) = Part(m.Groups["min"]);
        var (pat, wpat, hpat) = Part(m.Groups["pat"]);
        v = new Ver(maj, min, pat, m.Groups["pre"].Success ? m.Groups["pre"].Value : "", wmin || wmaj, wpat || wmin || wmaj, wmaj, hmin, hpat);
        return true;
    }

    private static int Compare(Ver a, Ver b)
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

    private static bool Check(string op, Ver c, Ver v)
    {
        // A pre-release version only satisfies constraints that carry a pre-release themselves.
        if (v.Pre.Length > 0 && c.Pre.Length == 0) return false;
        bool dirty = c.WildMajor || c.WildMinor || c.WildPatch || !c.HasMinor || !c.HasPatch;
        switch (op)
        {
            case "" or "=":
                if (dirty) return Tilde(c, v);
                return Compare(v, c) == 0;
            case "!=":
                if (dirty) return !Tilde(c, v);
                return Compare(v, c) != 0;
            case ">":
                if (c.WildMajor) return false;
                if (!c.HasMinor || c.WildMinor) return v.Major > c.Major;
                if (!c.HasPatch || c.WildPatch) return v.Major > c.Major || (v.Major == c.Major && v.Minor > c.Minor);
                return Compare(v, c) > 0;
            case ">=" or "=>":
                if (c.WildMajor) return true;
                return Compare(v, c) >= 0;
            case "<":
                if (c.WildMajor) return false;
                return Compare(v, c) < 0;
            case "<=" or "=<":
                if (c.WildMajor) return true;
                if (!c.HasMinor || c.WildMinor) return v.Major <= c.Major;
                if (!c.HasPatch || c.WildPatch) return v.Major < c.Major || (v.Major == c.Major && v.Minor <= c.Minor);
                return Compare(v, c) <= 0;
            case "~" or "~>":
                return Tilde(c, v);
            case "^":
                if (Compare(v, c) < 0) return false;
                if (c.WildMajor) return true;
                if (c.Major > 0 || !c.HasMinor || c.WildMinor) return v.Major == c.Major;
                if (c.Minor > 0 || !c.HasPatch || c.WildPatch) return v.Major == 0 && v.Minor == c.Minor;
                return v.Major == 0 && v.Minor == 0 && v.Patch == c.Patch;
        }
        return false;
    }

    private static bool Tilde(Ver c, Ver v)
    {
        if (c.WildMajor) return true;
        if (Compare(v, c) < 0) return false;
        if (v.Major != c.Major) return false;
        if (c.HasMinor && !c.WildMinor && v.Minor != c.Minor) return false;
        return true;
    }
}
