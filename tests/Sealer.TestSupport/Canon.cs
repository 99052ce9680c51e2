using System.Globalization;
using System.Text;

namespace Sealer.TestSupport;

/// <summary>Canonical text of template values / parsed YAML, for structural comparison (numbers compared as double).</summary>
public static class Canon
{
    public static string Of(object? v)
    {
        var sb = new StringBuilder();
        Write(sb, v);
        return sb.ToString();
    }

    private static void Write(StringBuilder sb, object? v)
    {
        switch (v)
        {
            case null: sb.Append("null"); break;
            case bool b: sb.Append(b ? "true" : "false"); break;
            case string s: sb.Append('"').Append(s.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n")).Append('"'); break;
            case long l: sb.Append(((double)l).ToString("R", CultureInfo.InvariantCulture)); break;
            case int i: sb.Append(((double)i).ToString("R", CultureInfo.InvariantCulture)); break;
            case double d: sb.Append(d.ToString("R", CultureInfo.InvariantCulture)); break;
            case Dictionary<string, object?> m:
                sb.Append('{');
                bool first = true;
                foreach (var (k, val) in m.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                {
                    if (!first) sb.Append(',');
                    first = false;
                    Write(sb, k);
                    sb.Append(':');
                    Write(sb, val);
                }
                sb.Append('}');
                break;
            case List<object?> l:
                sb.Append('[');
                for (int i = 0; i < l.Count; i++)
                {
                    if (i > 0) sb.Append(',');
                    Write(sb, l[i]);
                }
                sb.Append(']');
                break;
            default: sb.Append('?').Append(v); break;
        }
    }
}
