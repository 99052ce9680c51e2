using System.Globalization;
using System.Text;
using System.Text.Json;
using Sealer.Core.Text;

namespace Sealer.Core.Templating;

/// <summary>Go's encoding/json over the value model: sorted map keys, Go float formatting, HTML escaping.</summary>
public static class GoJson
{
    public static string Serialize(object? v, bool escapeHtml, bool indent = false)
    {
        var sb = new StringBuilder();
        Write(sb, v, escapeHtml, indent ? "" : null);
        return sb.ToString();
    }

    private static void Write(StringBuilder sb, object? v, bool escapeHtml, string? indent)
    {
        switch (v)
        {
            case null:
                sb.Append("null");
                return;
            case string s:
                WriteString(sb, s, escapeHtml);
                return;
            case bool b:
                sb.Append(b ? "true" : "false");
                return;
            case long l:
                sb.Append(l.ToString(CultureInfo.InvariantCulture));
                return;
            case int i:
                sb.Append(i.ToString(CultureInfo.InvariantCulture));
                return;
            case byte by:
                sb.Append(by.ToString(CultureInfo.InvariantCulture));
                return;
            case double d:
                sb.Append(FormatFloat(d));
                return;
            case IDictionary<string, object?> m:
                {
                    if (m.Count == 0) { sb.Append("{}"); return; }
                    sb.Append('{');
                    string? inner = indent is null ? null : indent + "  ";
                    bool first = true;
                    foreach (var k in GoValues.SortedKeys(m))
                    {
                        if (!first) sb.Append(',');
                        first = false;
                        if (inner is not null) sb.Append('\n').Append(inner);
                        WriteString(sb, k, escapeHtml);
                        sb.Append(inner is null ? ":" : ": ");
                        Write(sb, m[k], escapeHtml, inner);
                    }
                    if (indent is not null) sb.Append('\n').Append(indent);
                    sb.Append('}');
                    return;
                }
            case List<object?> list:
                {
                    if (list.Count == 0) { sb.Append("[]"); return; }
                    sb.Append('[');
                    string? inner = indent is null ? null : indent + "  ";
                    for (int i = 0; i < list.Count; i++)
                    {
                        if (i > 0) sb.Append(',');
                        if (inner is not null) sb.Append('\n').Append(inner);
                        Write(sb, list[i], escapeHtml, inner);
                    }
                    if (indent is not null) sb.Append('\n').Append(indent);
                    sb.Append(']');
                    return;
                }
            case byte[] bytes:
                WriteString(sb, Convert.ToBase64String(bytes), escapeHtml);
                return;
            case GoTime t:
                WriteString(sb, t.Format("2006-01-02T15:04:05.999999999Z07:00"), escapeHtml);
                return;
            case IGoPlainValue pv:
                Write(sb, pv.ToPlainValue(), escapeHtml, indent);
                return;
            default:
                if (ReferenceEquals(v, GoValues.NoValue) || ReferenceEquals(v, GoValues.NilInterface)) { sb.Append("null"); return; }
                sb.Append("{}");
                return;
        }
    }

    /// <summary>encoding/json float64: 'f' unless the exponent is &lt; -6 or &gt;= 21, then 'e' with a trimmed exponent.</summary>
    public static string FormatFloat(double f)
    {
        if (double.IsNaN(f) || double.IsInfinity(f)) throw new GoFuncException($"json: unsupported value: {GoNumbers.FormatFloat(f, 'g', -1)}");
        double abs = Math.Abs(f);
        char fmt = 'f';
        if (abs != 0 && (abs < 1e-6 || abs >= 1e21)) fmt = 'e';
        var s = GoNumbers.FormatFloat(f, fmt, -1);
        if (fmt == 'e')
        {
            int n = s.Length;
            if (n >= 4 && s[n - 4] == 'e' && s[n - 3] == '-' && s[n - 2] == '0') s = s[..(n - 2)] + s[(n - 1)..];
        }
        return s;
    }

    private static void WriteString(StringBuilder sb, string s, bool escapeHtml)
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

    /// <summary>Parses JSON into the value model (numbers are float64, as Go decodes into interface{}).</summary>
    public static bool TryParse(string json, out object? value)
    {
        value = null;
        try
        {
            var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json), new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
            if (!reader.Read()) return false;
            value = ReadValue(ref reader);
            if (reader.Read()) return false;
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>Parses JSON; throws <see cref="GoFuncException"/> with the reason when invalid.</summary>
    public static object? Parse(string json)
    {
        try
        {
            var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json));
            if (!reader.Read()) throw new GoFuncException("unexpected end of JSON input");
            var v = ReadValue(ref reader);
            if (reader.Read()) throw new GoFuncException("invalid character after top-level value");
            return v;
        }
        catch (JsonException e)
        {
            throw new GoFuncException(e.Message);
        }
    }

    private static object? ReadValue(ref Utf8JsonReader r)
    {
        switch (r.TokenType)
        {
            case JsonTokenType.Null: return null;
            case JsonTokenType.True: return true;
            case JsonTokenType.False: return false;
            case JsonTokenType.String: return r.GetString();
            case JsonTokenType.Number: return r.GetDouble();
            case JsonTokenType.StartObject:
                {
                    var d = new Dictionary<string, object?>(StringComparer.Ordinal);
                    while (r.Read() && r.TokenType != JsonTokenType.EndObject)
                    {
                        var key = r.GetString()!;
                        r.Read();
                        d[key] = ReadValue(ref r);
                    }
                    return d;
                }
            case JsonTokenType.StartArray:
                {
                    var l = new List<object?>();
                    while (r.Read() && r.TokenType != JsonTokenType.EndArray) l.Add(ReadValue(ref r));
                    return l;
                }
        }
        throw new JsonException("unexpected token");
    }
}
