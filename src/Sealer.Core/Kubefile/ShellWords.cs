using System.Text;

namespace Sealer.Core.Kubefile;

/// <summary>
/// Docker's word rules (buildkit frontend/dockerfile/shell): words split at blanks outside quotes; single quotes keep
/// everything; double quotes keep blanks and expand variables; the escape character escapes the next one; <c>$VAR</c>,
/// <c>${VAR}</c>, <c>${VAR:-default}</c>, <c>${VAR-default}</c>, <c>${VAR:+alt}</c>, <c>${VAR+alt}</c>. An unknown variable is empty.
/// </summary>
public static class ShellWords
{
    /// <summary>Splits at blanks outside quotes; words keep their quotes (expand them with <see cref="Expand"/>).</summary>
    public static List<string> Split(string s, char escape = '\\')
    {
        var words = new List<string>();
        var sb = new StringBuilder();
        char quote = '\0';
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (c == escape && quote != '\'' && i + 1 < s.Length)
            {
                sb.Append(c).Append(s[++i]);
                continue;
            }
            if (quote != '\0')
            {
                if (c == quote) quote = '\0';
                sb.Append(c);
                continue;
            }
            if (c is '"' or '\'') { quote = c; sb.Append(c); continue; }
            if (char.IsWhiteSpace(c))
            {
                if (sb.Length > 0) { words.Add(sb.ToString()); sb.Clear(); }
                continue;
            }
            sb.Append(c);
        }
        if (quote != '\0') throw new FormatException($"unclosed {quote} quote");
        if (sb.Length > 0) words.Add(sb.ToString());
        return words;
    }

    /// <summary>Removes quotes and escapes and expands variables (<paramref name="lookup"/> returns null for unset).</summary>
    public static string Expand(string word, Func<string, string?> lookup, char escape = '\\')
    {
        var sb = new StringBuilder();
        char quote = '\0';
        for (int i = 0; i < word.Length; i++)
        {
            char c = word[i];
            if (quote == '\'')
            {
                if (c == '\'') quote = '\0';
                else sb.Append(c);
                continue;
            }
            if (c == escape && i + 1 < word.Length)
            {
                char n = word[++i];
                // inside double quotes the escape only escapes $, ", the escape char and a newline (POSIX); elsewhere anything
                if (quote == '"' && n is not ('$' or '"') && n != escape) sb.Append(c);
                sb.Append(n);
                continue;
            }
            if (c == '"') { quote = quote == '"' ? '\0' : '"'; continue; }
            if (c == '\'' && quote == '\0') { quote = '\''; continue; }
            if (c == '$' && i + 1 < word.Length)
            {
                i = Variable(word, i + 1, lookup, escape, sb) - 1;
                continue;
            }
            sb.Append(c);
        }
        if (quote != '\0') throw new FormatException($"unclosed {quote} quote");
        return sb.ToString();
    }

    /// <summary>Reads a variable reference starting after '$'; returns the index after it.</summary>
    private static int Variable(string s, int i, Func<string, string?> lookup, char escape, StringBuilder sb)
    {
        if (s[i] == '{')
        {
            int close = s.IndexOf('}', i);
            if (close < 0) throw new FormatException("missing '}' in a ${...} variable");
            string inner = s[(i + 1)..close];
            int op = inner.IndexOfAny([':', '-', '+']);
            string name = op < 0 ? inner : inner[..op];
            string? value = lookup(name);
            if (op < 0)
            {
                sb.Append(value);
            }
            else
            {
                bool colon = inner[op] == ':';
                if (colon && op + 1 >= inner.Length) throw new FormatException($"bad substitution ${{{inner}}}");
                char kind = colon ? inner[op + 1] : inner[op];
                string arg = Expand(inner[(op + (colon ? 2 : 1))..], lookup, escape);
                bool set = value is not null && (!colon || value.Length > 0);
                sb.Append(kind switch
                {
                    '-' => set ? value : arg,
                    '+' => set ? arg : "",
                    _ => throw new FormatException($"unsupported modifier '{kind}' in ${{{inner}}}"),
                });
            }
            return close + 1;
        }
        int j = i;
        while (j < s.Length && (char.IsAsciiLetterOrDigit(s[j]) || s[j] == '_')) j++;
        if (j == i)
        {
            sb.Append('$');
            return i;
        }
        sb.Append(lookup(s[i..j]));
        return j;
    }
}
