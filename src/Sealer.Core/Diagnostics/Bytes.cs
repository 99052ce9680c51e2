using System.Globalization;

namespace Sealer.Core.Diagnostics;

/// <summary>Byte counts as messages show them: <c>512 B</c>, <c>1.5 MiB</c>, <c>20.1 GiB</c> (powers of 1024, one decimal, invariant).</summary>
public static class Bytes
{
    public static string Format(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.Length - 1) { v /= 1024; u++; }
        return u == 0 ? $"{bytes} B" : string.Create(CultureInfo.InvariantCulture, $"{v:F1} {units[u]}");
    }
}
