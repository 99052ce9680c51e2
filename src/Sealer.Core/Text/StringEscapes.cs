using System.Globalization;
using System.Text;

namespace Sealer.Core.Text;

/// <summary>
/// The string-escaping family, one place for each format's rules: Go's strconv quoting is <see cref="GoQuote"/>; this
/// class holds JSON (Go's encoding/json) and YAML (libyaml's double-quoted scalars), which toJson, toYaml and the
/// registry/JSON writers share.
/// </summary>
internal static class StringEscapes
{
    /// <summary>Go's encoding/json string: quotes, <c>\"</c> <c>\\</c> <c>\n</c> <c>\r</c> <c>\t</c> <c>\b</c> <c>\f</c>, other control characters and
    /// U+2028/U+2029 as <c>\u00XX</c>/<c>\u20XX</c>, and <c>&lt; &gt; &amp;</c> as <c>\u003c</c>... when <paramref name="escapeHtml"/>.</summary>
    public static void AppendJson(StringBuilder sb, string s, bool escapeHtml)
    {
        sb.Append('"');
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                case '<' or '>' or '&' when escapeHtml:
                    sb.Append("\\u00").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
                    break;
                case '\u2028': sb.Append("\\u2028"); break;
                case '\u2029': sb.Append("\\u2029"); break;
                default:
                    if (c < 0x20) sb.Append("\\u00").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
    }

    /// <summary>A double-quoted YAML scalar on one line, every character as <see cref="AppendYamlEscaped"/> writes it
    /// (libyaml's escapes, so line breaks such as NEL/LS/PS and a BOM never reach the text raw); no folding.</summary>
    public static void AppendYamlDoubleQuoted(StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (char c in s) AppendYamlEscaped(sb, c);
        sb.Append('"');
    }

    /// <summary>One character as libyaml writes it inside a double-quoted scalar: <c>\0 \a \b \t \n \v \f \r \e \" \\ \N \_ \L \P</c>,
    /// other non-printable characters as <c>\xXX</c>/<c>\uXXXX</c>, everything else as itself.</summary>
    public static void AppendYamlEscaped(StringBuilder sb, char c)
    {
        switch (c)
        {
            case '\0': sb.Append("\\0"); break;
            case '\a': sb.Append("\\a"); break;
            case '\b': sb.Append("\\b"); break;
            case '\t': sb.Append("\\t"); break;
            case '\n': sb.Append("\\n"); break;
            case '\v': sb.Append("\\v"); break;
            case '\f': sb.Append("\\f"); break;
            case '\r': sb.Append("\\r"); break;
            case '\x1b': sb.Append("\\e"); break;
            case '"': sb.Append("\\\""); break;
            case '\\': sb.Append("\\\\"); break;
            case '\u0085': sb.Append("\\N"); break;
            case '\u00a0': sb.Append("\\_"); break;
            case '\u2028': sb.Append("\\L"); break;
            case '\u2029': sb.Append("\\P"); break;
            default:
                if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == 0xfeff)
                {
                    sb.Append(c <= 0xff ? "\\x" + ((int)c).ToString("X2", CultureInfo.InvariantCulture) : "\\u" + ((int)c).ToString("X4", CultureInfo.InvariantCulture));
                }
                else sb.Append(c);
                break;
        }
    }
}
