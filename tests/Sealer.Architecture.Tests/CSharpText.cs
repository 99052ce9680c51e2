namespace Sealer.Architecture.Tests;

/// <summary>
/// C# source with comments, string and character literals blanked out (newlines kept, so offsets and line numbers stay),
/// and the code inside interpolation holes kept: what is left is only code, for the regular expressions of
/// <see cref="SourceScanner"/>.
/// </summary>
internal static class CSharpText
{
    public static string CodeOnly(string source)
    {
        var code = source.ToCharArray();
        int i = 0;
        ScanCode(source, code, ref i, stopAtBrace: false);
        return new string(code);
    }

    // Code until the end, or until the '}' that closes an interpolation hole (when stopAtBrace).
    private static void ScanCode(string s, char[] code, ref int i, bool stopAtBrace)
    {
        int depth = 0;
        while (i < s.Length)
        {
            char c = s[i];
            if (c == '/' && Next(s, i) == '/')
            {
                while (i < s.Length && s[i] != '\n') Blank(code, i++);
                continue;
            }
            if (c == '/' && Next(s, i) == '*')
            {
                int end = s.IndexOf("*/", i + 2, StringComparison.Ordinal);
                end = end < 0 ? s.Length : end + 2;
                while (i < end) Blank(code, i++);
                continue;
            }
            if (c == '\'')
            {
                SkipCharLiteral(s, code, ref i);
                continue;
            }
            if (IsStringStart(s, i, out int dollars, out bool verbatim, out int quotes, out int prefixLength))
            {
                ScanString(s, code, ref i, dollars, verbatim, quotes, prefixLength);
                continue;
            }
            if (stopAtBrace)
            {
                if (c == '{') depth++;
                else if (c == '}')
                {
                    if (depth == 0) return;
                    depth--;
                }
            }
            i++;
        }
    }

    private static char Next(string s, int i) => i + 1 < s.Length ? s[i + 1] : '\0';

    private static void Blank(char[] code, int i)
    {
        if (code[i] != '\n' && code[i] != '\r') code[i] = ' ';
    }

    private static void SkipCharLiteral(string s, char[] code, ref int i)
    {
        int j = i + 1;
        while (j < s.Length && s[j] != '\'' && s[j] != '\n')
        {
            if (s[j] == '\\') j++;
            j++;
        }
        j = Math.Min(j + 1, s.Length);
        while (i < j) Blank(code, i++);
    }

    // "...", @"...", $"...", $@"...", @$"...", """...""", $$"""...""".
    private static bool IsStringStart(string s, int i, out int dollars, out bool verbatim, out int quotes, out int prefixLength)
    {
        dollars = 0;
        verbatim = false;
        quotes = 0;
        int j = i;
        while (j < s.Length && (s[j] == '$' || s[j] == '@'))
        {
            if (s[j] == '$') dollars++;
            else verbatim = true;
            j++;
        }
        int q = j;
        while (q < s.Length && s[q] == '"') q++;
        quotes = q - j;
        prefixLength = j - i;
        if (quotes == 0) return false;
        if (quotes < 3) quotes = 1; // "" is an empty literal, not the start of a raw one
        return true;
    }

    private static void ScanString(string s, char[] code, ref int i, int dollars, bool verbatim, int quotes, int prefixLength)
    {
        int start = i;
        i += prefixLength + quotes;
        string closing = new('"', quotes);
        while (i < s.Length)
        {
            char c = s[i];
            if (quotes == 1 && !verbatim && c == '\\')
            {
                i += 2;
                continue;
            }
            if (quotes == 1 && !verbatim && c == '\n') break; // unterminated: stop at the line end
            if (c == '"')
            {
                if (quotes == 1 && verbatim && Next(s, i) == '"')
                {
                    i += 2;
                    continue;
                }
                if (string.CompareOrdinal(s, i, closing, 0, quotes) == 0)
                {
                    i += quotes;
                    break;
                }
                i++;
                continue;
            }
            if (dollars > 0 && c == '{')
            {
                int braces = 0;
                while (i < s.Length && s[i] == '{') { braces++; i++; }
                if (dollars == 1 && braces % 2 == 0) continue; // {{ is a literal brace in $"..."
                if (dollars > 1 && braces < dollars) continue;  // fewer braces than dollars: literal text
                for (int k = start; k < i; k++) Blank(code, k);
                ScanCode(s, code, ref i, stopAtBrace: true); // the hole is code
                while (i < s.Length && s[i] == '}') i++;
                start = i;
                continue;
            }
            i++;
        }
        for (int k = start; k < Math.Min(i, s.Length); k++) Blank(code, k);
    }
}
