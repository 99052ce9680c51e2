using System.Globalization;
using System.Text;
using Sealer.Core.Text;

namespace Sealer.Core.Templating.Helm;

/// <summary>A small TOML reader for Helm's fromToml: tables, dotted keys, strings, integers (int64), floats, booleans, arrays, inline tables.</summary>
internal static class Toml
{
    public static Dictionary<string, object?> Parse(string text)
    {
        var root = new Dictionary<string, object?>(StringComparer.Ordinal);
        var current = root;
        int lineNo = 0;
        var p = new Reader(text);
        while (!p.End)
        {
            p.SkipWhitespaceAndComments();
            if (p.End) break;
            lineNo = p.Line;
            if (p.Peek == '[')
            {
                bool array = p.Text.AsSpan(p.Pos).StartsWith("[[");
                p.Pos += array ? 2 : 1;
                var keys = p.ReadKeyPath();
                p.Expect(array ? "]]" : "]");
                var parent = root;
                for (int i = 0; i < keys.Count - 1; i++) parent = Child(parent, keys[i], lineNo);
                if (array)
                {
                    if (!parent.TryGetValue(keys[^1], out var l) || l is not List<object?> list)
                    {
                        list = [];
                        parent[keys[^1]] = list;
                    }
                    var t = new Dictionary<string, object?>(StringComparer.Ordinal);
                    list.Add(t);
                    current = t;
                }
                else current = Child(parent, keys[^1], lineNo);
                continue;
            }
            var path = p.ReadKeyPath();
            p.SkipInlineSpace();
            p.Expect("=");
            p.SkipInlineSpace();
            var value = p.ReadValue();
            var target = current;
            for (int i = 0; i < path.Count - 1; i++) target = Child(target, path[i], lineNo);
            if (target.ContainsKey(path[^1])) throw new GoFuncException($"toml: line {lineNo}: key {GoQuote.Quote(path[^1])} is already defined");
            target[path[^1]] = value;
        }
        return root;
    }

    private static Dictionary<string, object?> Child(Dictionary<string, object?> parent, string key, int line)
    {
        if (parent.TryGetValue(key, out var v))
        {
            if (v is Dictionary<string, object?> d) return d;
            if (v is List<object?> { Count: > 0 } l && l[^1] is Dictionary<string, object?> last) return last;
            throw new GoFuncException($"toml: line {line}: key {GoQuote.Quote(key)} is not a table");
        }
        var n = new Dictionary<string, object?>(StringComparer.Ordinal);
        parent[key] = n;
        return n;
    }

    private sealed class Reader(string text)
    {
        public string Text { get; } = text;
        public int Pos;
        public bool End => Pos >= Text.Length;
        public char Peek => Text[Pos];
        public int Line => 1 + Text.AsSpan(0, Math.Min(Pos, Text.Length)).Count('\n');

        public void SkipInlineSpace()
        {
            while (!End && (Peek == ' ' || Peek == '\t')) Pos++;
        }

        public void SkipWhitespaceAndComments()
        {
            while (!End)
            {
                if (char.IsWhiteSpace(Peek)) Pos++;
                else if (Peek == '#') { while (!End && Peek != '\n') Pos++; }
                else break;
            }
        }

        public void Expect(string s)
        {
            if (string.CompareOrdinal(Text, Pos, s, 0, s.Length) != 0) throw new GoFuncException($"toml: line {Line}: expected {GoQuote.Quote(s)}");
            Pos += s.Length;
        }

        public List<string> ReadKeyPath()
        {
            var keys = new List<string>();
            while (true)
            {
                SkipInlineSpace();
                if (End) throw new GoFuncException($"toml: line {Line}: expected a key");
                if (Peek is '"' or '\'') keys.Add(ReadString());
                else
                {
                    int s = Pos;
                    while (!End && (char.IsAsciiLetterOrDigit(Peek) || Peek is '_' or '-')) Pos++;
                    if (Pos == s) throw new GoFuncException($"toml: line {Line}: expected a key");
                    keys.Add(Text[s..Pos]);
                }
                SkipInlineSpace();
                if (!End && Peek == '.') { Pos++; continue; }
                return keys;
            }
        }

        public string ReadString()
        {
            char q = Peek;
            bool multi = string.CompareOrdinal(Text, Pos, new string(q, 3), 0, 3) == 0;
            Pos += multi ? 3 : 1;
            if (multi && !End && Peek == '\n') Pos++;
            var sb = new StringBuilder();
            while (true)
            {
                if (End) throw new GoFuncException($"toml: line {Line}: unterminated string");
                if (multi ? string.CompareOrdinal(Text, Pos, new string(q, 3), 0, 3) == 0 : Peek == q)
                {
                    Pos += multi ? 3 : 1;
                    return sb.ToString();
                }
                char c = Text[Pos++];
                if (c == '\n' && !multi) throw new GoFuncException($"toml: line {Line}: newline in string");
                if (c == '\\' && q == '"')
                {
                    char e = Text[Pos++];
                    switch (e)
                    {
                        case 'n': sb.Append('\n'); break;
                        case 't': sb.Append('\t'); break;
                        case 'r': sb.Append('\r'); break;
                        case 'b': sb.Append('\b'); break;
                        case 'f': sb.Append('\f'); break;
                        case '"': sb.Append('"'); break;
                        case '\\': sb.Append('\\'); break;
                        case 'u': sb.Append((char)int.Parse(Text.AsSpan(Pos, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture)); Pos += 4; break;
                        case 'U': sb.Append(char.ConvertFromUtf32(int.Parse(Text.AsSpan(Pos, 8), NumberStyles.HexNumber, CultureInfo.InvariantCulture))); Pos += 8; break;
                        default: throw new GoFuncException($"toml: line {Line}: invalid escape \\{e}");
                    }
                    continue;
                }
                sb.Append(c);
            }
        }

        public object? ReadValue()
        {
            if (End) throw new GoFuncException($"toml: line {Line}: expected a value");
            switch (Peek)
            {
                case '"' or '\'':
                    return ReadString();
                case '[':
                    {
                        Pos++;
                        var list = new List<object?>();
                        while (true)
                        {
                            SkipWhitespaceAndComments();
                            if (!End && Peek == ']') { Pos++; return list; }
                            list.Add(ReadValue());
                            SkipWhitespaceAndComments();
                            if (!End && Peek == ',') { Pos++; continue; }
                            SkipWhitespaceAndComments();
                            Expect("]");
                            return list;
                        }
                    }
                case '{':
                    {
                        Pos++;
                        var d = new Dictionary<string, object?>(StringComparer.Ordinal);
                        SkipInlineSpace();
                        if (!End && Peek == '}') { Pos++; return d; }
                        while (true)
                        {
                            var path = ReadKeyPath();
                            Expect("=");
                            SkipInlineSpace();
                            var target = d;
                            for (int i = 0; i < path.Count - 1; i++) target = Child(target, path[i], Line);
                            target[path[^1]] = ReadValue();
                            SkipInlineSpace();
                            if (!End && Peek == ',') { Pos++; continue; }
                            Expect("}");
                            return d;
                        }
                    }
            }
            int s = Pos;
            while (!End && !char.IsWhiteSpace(Peek) && Peek is not ',' and not ']' and not '}' and not '#') Pos++;
            var tok = Text[s..Pos];
            if (tok == "true") return true;
            if (tok == "false") return false;
            var clean = tok.Replace("_", "", StringComparison.Ordinal);
            if (GoNumbers.TryParseInt(clean.StartsWith("0") && clean.Length > 1 && char.IsAsciiDigit(clean[1]) ? "x" : clean, out var l)) return l;
            if (clean is "inf" or "+inf") return double.PositiveInfinity;
            if (clean == "-inf") return double.NegativeInfinity;
            if (clean is "nan" or "+nan" or "-nan") return double.NaN;
            if (double.TryParse(clean, NumberStyles.Float, CultureInfo.InvariantCulture, out var f)) return f;
            if (tok.Length > 0) return tok; // dates and times are kept as their text
            throw new GoFuncException($"toml: line {Line}: expected a value");
        }
    }
}
