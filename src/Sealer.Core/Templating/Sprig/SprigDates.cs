namespace Sealer.Core.Templating.Sprig;

internal static partial class SprigDates
{
    public static string Format(GoTime t, string layout) => t.Value.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture);
}
