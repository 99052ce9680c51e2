using System.Globalization;
using System.Text.RegularExpressions;

namespace Sealer.Core.Templating.Sprig;

/// <summary>A Masterminds/semver v3 version (<c>semver "1.2.3"</c>).</summary>
public sealed partial class SemverVersion : IGoObject, IGoPlainValue, IComparable<SemverVersion>
{
    public long Major { get; private init; }
    public long Minor { get; private init; }
    public long Patch { get; private init; }
    public string Prerelease { get; private init; } = "";
    public string Metadata { get; private init; } = "";
    public string Original { get; private init; } = "";

    [GeneratedRegex(@"^v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?$")]
    private static partial Regex VersionRegex();

    public static bool TryParse(string v, out SemverVersion version)
    {
        version = null!;
        var m = VersionRegex().Match(v);
        if (!m.Success) return false;
        if (!ulong.TryParse(m.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var major)) return false;
        long minor = 0, patch = 0;
        if (m.Groups[2].Success && !long.TryParse(m.Groups[2].Value[1..], NumberStyles.None, CultureInfo.InvariantCulture, out minor)) return false;
        if (m.Groups[3].Success && !long.TryParse(m.Groups[3].Value[1..], NumberStyles.None, CultureInfo.InvariantCulture, out patch)) return false;
        string pre = m.Groups[5].Success ? m.Groups[5].Value : "";
        foreach (var part in pre.Split('.', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part.Length > 1 && part[0] == '0' && part.All(char.IsAsciiDigit)) return false;
        }
        version = new SemverVersion
        {
            Major = (long)major, Minor = minor, Patch = patch, Prerelease = pre,
            Metadata = m.Groups[8].Success ? m.Groups[8].Value : "", Original = v,
        };
        return true;
    }

    public static SemverVersion Parse(string v) =>
        TryParse(v, out var r) ? r : throw new GoFuncException("Invalid Semantic Version");

    public int CompareTo(SemverVersion? o)
    {
        if (o is null) return 1;
        int c = Major.CompareTo(o.Major);
        if (c != 0) return c;
        c = Minor.CompareTo(o.Minor);
        if (c != 0) return c;
        c = Patch.CompareTo(o.Patch);
        if (c != 0) return c;
        return ComparePrerelease(Prerelease, o.Prerelease);
    }

    private static int ComparePrerelease(string a, string b)
    {
        if (a == b) return 0;
        if (a.Length == 0) return 1;
        if (b.Length == 0) return -1;
        var pa = a.Split('.');
        var pb = b.Split('.');
        for (int i = 0; i < Math.Max(pa.Length, pb.Length); i++)
        {
            if (i >= pa.Length) return -1;
            if (i >= pb.Length) return 1;
            bool na = long.TryParse(pa[i], NumberStyles.None, CultureInfo.InvariantCulture, out var ia);
            bool nb = long.TryParse(pb[i], NumberStyles.None, CultureInfo.InvariantCulture, out var ib);
            int c = na && nb ? ia.CompareTo(ib) : na ? -1 : nb ? 1 : string.CompareOrdinal(pa[i], pb[i]);
            if (c != 0) return Math.Sign(c);
        }
        return 0;
    }

    public override string ToString()
    {
        var s = $"{Major}.{Minor}.{Patch}";
        if (Prerelease.Length > 0) s += "-" + Prerelease;
        if (Metadata.Length > 0) s += "+" + Metadata;
        return s;
    }

    public string GoTypeName => "*semver.Version";

    /// <summary>JSON/YAML form: the version string (Masterminds' MarshalJSON).</summary>
    public object? ToPlainValue() => ToString();

    public GoFunc? GetMethod(string name) => name switch
    {
        "Major" => GoFunc.Create(name, [], _ => Major),
        "Minor" => GoFunc.Create(name, [], _ => Minor),
        "Patch" => GoFunc.Create(name, [], _ => Patch),
        "Prerelease" => GoFunc.Create(name, [], _ => Prerelease),
        "Metadata" => GoFunc.Create(name, [], _ => Metadata),
        "Original" => GoFunc.Create(name, [], _ => Original),
        "String" => GoFunc.Create(name, [], _ => ToString()),
        "Compare" => GoFunc.Create(name, [GoType.Any], a => (long)Math.Sign(CompareTo(a[0] as SemverVersion))),
        "LessThan" => GoFunc.Create(name, [GoType.Any], a => CompareTo(a[0] as SemverVersion) < 0),
        "GreaterThan" => GoFunc.Create(name, [GoType.Any], a => CompareTo(a[0] as SemverVersion) > 0),
        "Equal" => GoFunc.Create(name, [GoType.Any], a => CompareTo(a[0] as SemverVersion) == 0),
        "IncMajor" => GoFunc.Create(name, [], _ => new SemverVersion { Major = Major + 1, Original = $"{Major + 1}.0.0" }),
        "IncMinor" => GoFunc.Create(name, [], _ => new SemverVersion { Major = Major, Minor = Minor + 1, Original = $"{Major}.{Minor + 1}.0" }),
        "IncPatch" => GoFunc.Create(name, [], _ => new SemverVersion { Major = Major, Minor = Minor, Patch = Prerelease.Length > 0 ? Patch : Patch + 1, Original = $"{Major}.{Minor}.{Patch + 1}" }),
        _ => null,
    };

    public bool TryGetField(string name, out object? value)
    {
        value = null;
        return false;
    }
}

/// <summary>Masterminds/semver v3 constraints: <c>^ ~ ~&gt; = != &gt; &lt; &gt;= &lt;=</c>, wildcards, hyphen ranges, <c>,</c> (and) and <c>||</c> (or).</summary>
public static partial class SemverConstraint
{
    [GeneratedRegex(@"^\s*(\^|~>|~|!=|>=|=>|<=|=<|>|<|=)?\s*v?([0-9xX*]+(\.[0-9xX*]+)?(\.[0-9xX*]+)?(-[0-9A-Za-z\-\.]+)?(\+[0-9A-Za-z\-\.]+)?)\s*$")]
    private static partial Regex TermRegex();

    [GeneratedRegex(@"\s*([0-9xX*v][^\s]*)\s+-\s+([0-9xX*v][^\s]*)\s*")]
    private static partial Regex HyphenRegex();

    [GeneratedRegex(@"(\^|~>|~|!=|>=|=>|<=|=<|>|<|=)\s+")]
    private static partial Regex OpSpaceRegex();

    /// <summary>True when <paramref name="version"/> satisfies <paramref name="constraint"/>.</summary>
    public static bool Check(string constraint, string version)
    {
        var v = SemverVersion.TryParse(version, out var ver) ? ver : throw new GoFuncException("Invalid Semantic Version");
        foreach (var orPart in constraint.Split("||"))
        {
            var s = HyphenRegex().Replace(orPart, m => $" >= {m.Groups[1].Value}, <= {m.Groups[2].Value} ");
            s = OpSpaceRegex().Replace(s, "$1");
            var terms = s.Split([',', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (terms.Length == 0) throw new GoFuncException($"improper constraint: {constraint}");
            bool all = true;
            bool anyPre = false;
            foreach (var t in terms)
            {
                var m = TermRegex().Match(t);
                if (!m.Success) throw new GoFuncException($"improper constraint: {t}");
                if (m.Groups[5].Success) anyPre = true;
                if (!CheckTerm(m.Groups[1].Value, m.Groups[2].Value, v)) { all = false; break; }
            }
            // v3: a prerelease version only satisfies constraints that carry a prerelease themselves.
            if (all && v.Prerelease.Length > 0 && !anyPre) all = false;
            if (all) return true;
        }
        return false;
    }

    private static bool CheckTerm(string op, string ver, SemverVersion v)
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
        var c = SemverVersion.Parse($"{P(0)}.{P(1)}.{P(2)}" + (pre.Length > 0 ? "-" + pre : ""));
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
        throw new GoFuncException($"improper constraint: {op}{ver}");
    }
}

internal static class SprigSemver
{
    public static void Register(Dictionary<string, GoFunc> m)
    {
        m["semver"] = GoFunc.Create("semver", [GoType.String], a => SemverVersion.Parse((string)a[0]!));
        m["semverCompare"] = GoFunc.Create("semverCompare", [GoType.String, GoType.String], a => SemverConstraint.Check((string)a[0]!, (string)a[1]!));
    }
}
