using System.Globalization;
using System.Text.RegularExpressions;

namespace Sealer.Core.Semver;

/// <summary>Masterminds/semver v3 constraints: <c>^ ~ ~&gt; = != &gt; &lt; &gt;= &lt;=</c>, wildcards, hyphen ranges, <c>,</c> (and) and <c>||</c> (or).</summary>
public static partial class SemverConstraint
{
    [GeneratedRegex(@"^\s*(\^|~>|~|!=|>=|=>|<=|=<|>|<|=)?\s*v?([0-9xX*]+(\.[0-9xX*]+)?(\.[0-9xX*]+)?(-[0-9A-Za-z\-\.]+)?(\+[0-9A-Za-z\-\.]+)?)\s*$")]
    private static partial Regex TermRegex();

    [GeneratedRegex(@"\s*([0-9xX*v][^\s]*)\s+-\s+([0-9xX*v][^\s]*)\s*")]
    private static partial Regex HyphenRegex();

    [GeneratedRegex(@"(\^|~>|~|!=|>=|=>|<=|=<|>|<|=)\s+")]
    private static partial Regex OpSpaceRegex();

    /// <summary>True when <paramref name="version"/> satisfies <paramref name="constraint"/> (helm's dependency and kubeVersion checks).
    /// False when either does not parse.</summary>
    public static bool IsSatisfied(string constraint, string version)
    {
        try
        {
            return Check(constraint, version, prereleasePerComparison: true);
        }
        catch (FormatException)
        {
            return false;
        }
    }

    /// <summary>True when <paramref name="version"/> satisfies <paramref name="constraint"/> (sprig's <c>semverCompare</c>).</summary>
    /// <param name="prereleasePerComparison">How a pre-release version is matched: false (Masterminds 3.3+, helm 4's
    /// semverCompare) when some comparison of the <c>,</c>-group names a pre-release; true (Masterminds 3.2, helm 3's
    /// dependency and kubeVersion checks) only by comparisons that name one themselves: <c>&gt;=1.0.0-0 &lt;2.0.0</c>
    /// takes <c>1.5.0-beta</c> in the first way, not in the second.</param>
    /// <exception cref="FormatException">The version or the constraint does not parse; the message is Masterminds'.</exception>
    public static bool Check(string constraint, string version, bool prereleasePerComparison = false)
    {
        var v = SemanticVersion.TryParse(version, out var ver) ? ver : throw new FormatException("Invalid Semantic Version");
        foreach (var orPart in constraint.Split("||"))
        {
            var s = HyphenRegex().Replace(orPart, m => $" >= {m.Groups[1].Value}, <= {m.Groups[2].Value} ");
            s = OpSpaceRegex().Replace(s, "$1");
            var terms = s.Split([',', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (terms.Length == 0) throw new FormatException($"improper constraint: {constraint}");
            bool all = true;
            bool anyPre = false;
            foreach (var t in terms)
            {
                var m = TermRegex().Match(t);
                if (!m.Success) throw new FormatException($"improper constraint: {t}");
                if (m.Groups[5].Success) anyPre = true;
                else if (prereleasePerComparison && v.Prerelease.Length > 0) { all = false; break; }
                if (!CheckTerm(m.Groups[1].Value, m.Groups[2].Value, v)) { all = false; break; }
            }
            // v3: a prerelease version only satisfies constraints that carry a prerelease themselves.
            if (all && v.Prerelease.Length > 0 && !anyPre) all = false;
            if (all) return true;
        }
        return false;
    }

    private static bool CheckTerm(string op, string ver, SemanticVersion v)
    {
        var main = ver;
        string pre = "";
        int plus = main.IndexOf('+');
        if (plus >= 0) main = main[..plus];
        int dash = main.IndexOf('-');
        if (dash >= 0) { pre = main[(dash + 1)..]; main = main[..dash]; }
        var parts = main.Split('.');
        bool Wild(int i) => i >= parts.Length || parts[i] is "x" or "X" or "*";
        long P(int i) => Wild(i) ? 0 : long.Parse(parts[i], CultureInfo.InvariantCulture);
        bool dirty = Wild(0) || Wild(1) || Wild(2);
        var c = SemanticVersion.Parse($"{P(0)}.{P(1)}.{P(2)}" + (pre.Length > 0 ? "-" + pre : ""));
        int cmp = v.CompareTo(c);
        switch (op)
        {
            case "" or "=":
                if (dirty)
                {
                    if (!Wild(0) && v.Major != c.Major) return false;
                    if (!Wild(1) && v.Minor != c.Minor) return false;
                    if (!Wild(2) && v.Patch != c.Patch) return false;
                    return true;
                }
                return cmp == 0;
            case "!=":
                if (dirty)
                {
                    if (!Wild(0) && v.Major != c.Major) return true;
                    if (!Wild(1) && v.Minor != c.Minor) return true;
                    if (!Wild(2) && v.Patch != c.Patch) return true;
                    return false;
                }
                return cmp != 0;
            case ">":
                if (dirty)
                {
                    if (Wild(0)) return false;
                    if (Wild(1)) return v.Major > c.Major;
                    if (Wild(2)) return v.Major > c.Major || (v.Major == c.Major && v.Minor > c.Minor);
                }
                return cmp > 0;
            case "<":
                return cmp < 0;
            case ">=" or "=>":
                return cmp >= 0;
            case "<=" or "=<":
                if (dirty)
                {
                    if (Wild(0)) return true;
                    if (Wild(1)) return v.Major <= c.Major;
                    if (Wild(2)) return v.Major < c.Major || (v.Major == c.Major && v.Minor <= c.Minor);
                }
                return cmp <= 0;
            case "~" or "~>":
                if (cmp < 0) return false;
                if (Wild(0)) return true;
                if (v.Major != c.Major) return false;
                if (!Wild(1) && v.Minor != c.Minor) return false;
                return true;
            case "^":
                if (cmp < 0) return false;
                if (c.Major > 0 || Wild(1)) return v.Major == c.Major;
                if (c.Minor > 0 || Wild(2)) return v.Major == 0 && v.Minor == c.Minor;
                return v.Major == 0 && v.Minor == 0 && v.Patch == c.Patch;
        }
        throw new FormatException($"improper constraint: {op}{ver}");
    }
}
