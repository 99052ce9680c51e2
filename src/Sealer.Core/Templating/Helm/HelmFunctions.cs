using System.Text;
using Sealer.Core.Diagnostics;
using Sealer.Core.Text;

namespace Sealer.Core.Templating.Helm;

/// <summary>Helm's own template functions (pkg/engine/funcs.go) layered over sprig.</summary>
public static class HelmFunctions
{
    public static void Register(Dictionary<string, GoFunc> m)
    {
        m.Remove("env");
        m.Remove("expandenv");
        void Add(GoFunc f) => m[f.Name] = f;
        Add(GoFunc.Create("toYaml", [GoType.Any], a => ToYaml(a[0])));
        Add(GoFunc.Create("mustToYaml", [GoType.Any], a => TrimOneNewline(GoYaml.Marshal(a[0]))));
        Add(GoFunc.Create("toYamlPretty", [GoType.Any], a =>
        {
            try { return TrimOneNewline(GoYaml.Marshal(a[0], indentSequences: true)); }
            catch (GoFuncException) { return ""; }
        }));
        Add(GoFunc.Create("fromToml", [GoType.String], a =>
        {
            try { return Toml.Parse((string)a[0]!); }
            catch (GoFuncException e) { return new Dictionary<string, object?>(StringComparer.Ordinal) { ["Error"] = e.Message }; }
        }));
        Add(GoFunc.Create("fromYaml", [GoType.String], a => FromYaml((string)a[0]!)));
        Add(GoFunc.Create("fromYamlArray", [GoType.String], a => FromYamlArray((string)a[0]!)));
        Add(GoFunc.Create("toJson", [GoType.Any], a =>
        {
            try { return GoJson.Serialize(a[0], escapeHtml: true); }
            catch (GoFuncException) { return ""; }
        }));
        Add(GoFunc.Create("mustToJson", [GoType.Any], a => GoJson.Serialize(a[0], escapeHtml: true)));
        Add(GoFunc.Create("fromJson", [GoType.String], a =>
        {
            try
            {
                return GoJson.Parse((string)a[0]!) is IDictionary<string, object?> d ? d : new Dictionary<string, object?>(StringComparer.Ordinal) { ["Error"] = "json: cannot unmarshal into Go value of type map[string]interface {}" };
            }
            catch (GoFuncException e)
            {
                return new Dictionary<string, object?>(StringComparer.Ordinal) { ["Error"] = e.Message };
            }
        }));
        Add(GoFunc.Create("fromJsonArray", [GoType.String], a =>
        {
            try
            {
                return GoJson.Parse((string)a[0]!) is List<object?> l ? l : new List<object?> { "json: cannot unmarshal into Go value of type []interface {}" };
            }
            catch (GoFuncException e)
            {
                return new List<object?> { e.Message };
            }
        }));
        Add(GoFunc.Create("toToml", [GoType.Any], a => ToToml(a[0])));
        Add(GoFunc.Create("required", [GoType.String, GoType.Any], a =>
        {
            if (a[1] is null || a[1] is string { Length: 0 }) throw new HelmUserError(ErrorCodes.TemplateRequiredValue, (string)a[0]!);
            return a[1];
        }));
        Add(GoFunc.Create("fail", [GoType.String], a => throw new HelmUserError(ErrorCodes.TemplateFail, (string)a[0]!)));
        Add(GoFunc.Create("lookup", [GoType.String, GoType.String, GoType.String, GoType.String],
            _ => new Dictionary<string, object?>(StringComparer.Ordinal)));
    }

    private static string ToYaml(object? v)
    {
        try { return TrimOneNewline(GoYaml.Marshal(v)); }
        catch (GoFuncException) { return ""; }
    }

    private static Dictionary<string, object?> FromYaml(string s)
    {
        try
        {
            return GoYaml.Unmarshal(s) switch
            {
                IDictionary<string, object?> d => new Dictionary<string, object?>(d, StringComparer.Ordinal),
                null => new Dictionary<string, object?>(StringComparer.Ordinal),
                _ => new Dictionary<string, object?>(StringComparer.Ordinal) { ["Error"] = "error unmarshaling JSON: json: cannot unmarshal into Go value of type map[string]interface {}" },
            };
        }
        catch (GoFuncException e)
        {
            return new Dictionary<string, object?>(StringComparer.Ordinal) { ["Error"] = e.Message };
        }
    }

    private static List<object?> FromYamlArray(string s)
    {
        try
        {
            return GoYaml.Unmarshal(s) switch
            {
                List<object?> l => l,
                null => [],
                _ => ["error unmarshaling JSON: json: cannot unmarshal into Go value of type []interface {}"],
            };
        }
        catch (GoFuncException e)
        {
            return [e.Message];
        }
    }

    private static string ToToml(object? v)
    {
        var sb = new StringBuilder();
        if (v is IDictionary<string, object?> m) WriteTomlTable(sb, m, "", "");
        return sb.ToString();
    }

    // BurntSushi/toml encoder: plain keys first, then sub-tables, each nesting level indented by two spaces.
    private static void WriteTomlTable(StringBuilder sb, IDictionary<string, object?> m, string prefix, string indent)
    {
        var keys = GoValues.SortedKeys(m);
        foreach (var k in keys)
        {
            if (m[k] is IDictionary<string, object?> || m[k] is null) continue;
            sb.Append(indent).Append(TomlKey(k)).Append(" = ").Append(TomlValue(m[k])).Append('\n');
        }
        foreach (var k in keys)
        {
            if (m[k] is not IDictionary<string, object?> sub) continue;
            var name = prefix.Length == 0 ? TomlKey(k) : prefix + "." + TomlKey(k);
            sb.Append('\n').Append(indent).Append('[').Append(name).Append("]\n");
            WriteTomlTable(sb, sub, name, indent + "  ");
        }
    }

    private static string TomlFloat(double d)
    {
        if (double.IsNaN(d)) return "nan";
        if (double.IsInfinity(d)) return d > 0 ? "inf" : "-inf";
        var s = GoNumbers.FormatFloat(d, 'f', -1);
        return s.Contains('.') ? s : s + ".0";
    }

    private static string TomlKey(string k) => k.Length > 0 && k.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-') ? k : GoQuote.Quote(k);

    private static string TomlValue(object? v) => v switch
    {
        string s => GoQuote.Quote(s),
        bool b => b ? "true" : "false",
        long l => l.ToString(System.Globalization.CultureInfo.InvariantCulture),
        double d => TomlFloat(d),
        List<object?> l => "[" + string.Join(", ", l.Select(TomlValue)) + "]",
        null => "\"\"",
        _ => GoQuote.Quote(GoValues.FormatValue(v)),
    };

    /// <summary>Helm's strings.TrimSuffix(s, "\n"): exactly one line break, so a "|+" literal keeps its trailing blank lines.</summary>
    private static string TrimOneNewline(string s) => s.EndsWith('\n') ? s[..^1] : s;
}
