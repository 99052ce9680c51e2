using System.Globalization;
using System.Text.RegularExpressions;

namespace Sealer.Core.Semver;

/// <summary>A Masterminds/semver v3 version: <c>v</c> prefix, missing minor/patch as 0, pre-release and build metadata.</summary>
public sealed partial class SemanticVersion : IComparable<SemanticVersion>
{
    public long Major { get; init; }
    public long Minor { get; init; }
    public long Patch { get; init; }
    public string Prerelease { get; init; } = "";
    public string Metadata { get; init; } = "";
    public string Original { get; init; } = "";

    [GeneratedRegex(@"^v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?$")]
    private static partial Regex VersionRegex();

    public static bool TryParse(string v, out SemanticVersion version)
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
        version = new SemanticVersion
        {
            Major = (long)major, Minor = minor, Patch = patch, Prerelease = pre,
            Metadata = m.Groups[8].Success ? m.Groups[8].Value : "", Original = v,
        };
        return true;
    }

    public static SemanticVersion Parse(string v) =>
        TryParse(v, out var r) ? r : throw new FormatException("Invalid Semantic Version");

    public int CompareTo(SemanticVersion? o)
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
}
