using Sealer.Core.Diagnostics;

namespace Sealer.Core.Charts;

/// <summary>
/// <c>.helmignore</c> rules exactly as helm's pkg/ignore: one Go <c>filepath.Match</c> pattern a line, <c>#</c> comments,
/// <c>!</c> negation, a trailing <c>/</c> matches directories only, a leading <c>/</c> or any <c>/</c> matches the whole
/// relative path, otherwise the base name. <c>**</c> is an error. <c>templates/.?*</c> is always added.
/// </summary>
public sealed class HelmIgnore
{
    private readonly List<Pattern> _patterns = [];

    private sealed record Pattern(string Raw, string Rule, bool Negate, bool MustDir, MatchKind Kind);

    private enum MatchKind { Anchored, Path, BaseName }

    public static HelmIgnore Empty() => new();

    /// <summary>Parses a .helmignore file's text (<paramref name="file"/> for error messages).</summary>
    public static HelmIgnore Parse(string text, string? file = null)
    {
        var rules = new HelmIgnore();
        if (text.Length > 0 && text[0] == '\uFEFF') text = text[1..];
        int lineNo = 0;
        foreach (var raw in text.Split('\n'))
        {
            lineNo++;
            try
            {
                rules.AddRule(raw.TrimEnd('\r'));
            }
            catch (FormatException ex)
            {
                throw new SealerException(ErrorCodes.InvalidHelmIgnore, $"invalid .helmignore rule '{raw.Trim()}': {ex.Message}. Fix or remove the line.", file, lineNo);
            }
        }
        return rules;
    }

    /// <summary>Adds helm's default rule <c>templates/.?*</c> (hidden files in templates/ are never templates).</summary>
    public void AddDefaults() => AddRule("templates/.?*");

    public void AddRule(string rule)
    {
        rule = rule.Trim();
        if (rule.Length == 0 || rule.StartsWith('#')) return;
        if (rule.Contains("**", StringComparison.Ordinal)) throw new FormatException("double-star (**) syntax is not supported");
        GoPath.Match(rule, "abc"); // validates the pattern (throws FormatException like Go's ErrBadPattern)
        string raw = rule;
        bool negate = false, mustDir = false;
        if (rule.StartsWith('!')) { negate = true; rule = rule[1..]; }
        if (rule.EndsWith('/')) { mustDir = true; rule = rule.TrimEnd('/'); }
        MatchKind kind;
        if (rule.StartsWith('/')) { kind = MatchKind.Anchored; rule = rule[1..]; }
        else if (rule.Contains('/')) kind = MatchKind.Path;
        else kind = MatchKind.BaseName;
        _patterns.Add(new Pattern(raw, rule, negate, mustDir, kind));
    }

    /// <summary>True when <paramref name="path"/> (relative, '/' separators) is ignored.</summary>
    public bool Ignore(string path, bool isDirectory)
    {
        if (path is "" or "." or "./") return false;
        foreach (var p in _patterns)
        {
            if (p.Negate)
            {
                if (p.MustDir && !isDirectory) return true;
                if (!Matches(p, path)) return true;
                continue;
            }
            if (p.MustDir && !isDirectory) continue;
            if (Matches(p, path)) return true;
        }
        return false;
    }

    private static bool Matches(Pattern p, string path)
    {
        try
        {
            return p.Kind == MatchKind.BaseName ? GoPath.Match(p.Rule, GoPath.Base(path)) : GoPath.Match(p.Rule, path);
        }
        catch (FormatException)
        {
            return false;
        }
    }
}

/// <summary>Go's path/filepath Match and Base on '/' separated paths.</summary>
internal static class GoPath
{
    public static string Base(string path)
    {
        path = path.TrimEnd('/');
        if (path.Length == 0) return "/";
        int i = path.LastIndexOf('/');
        return i >= 0 ? path[(i + 1)..] : path;
    }

    /// <summary>filepath.Match: <c>*</c> any run of non-'/' characters, <c>?</c> one, <c>[...]</c> classes (<c>^</c> negates), <c>\</c> escapes.
    /// Throws <see cref="FormatException"/> on a malformed pattern.</summary>
    public static bool Match(string pattern, string name)
    {
        bool ok = MatchAt(pattern, 0, name, 0);
        ValidatePattern(pattern);
        return ok;
    }

    private static void ValidatePattern(string pattern)
    {
        for (int i = 0; i < pattern.Length; i++)
        {
            char c = pattern[i];
            if (c == '\\')
            {
                if (++i >= pattern.Length) throw new FormatException("syntax error in pattern");
            }
            else if (c == '[')
            {
                ParseClass(pattern, i, out int end, 'a', out _);
                i = end - 1;
            }
        }
    }

    private static bool MatchAt(string p, int pi, string s, int si)
    {
        while (pi < p.Length)
        {
            char c = p[pi];
            switch (c)
            {
                case '*':
                    while (pi < p.Length && p[pi] == '*') pi++;
                    if (pi == p.Length) return s.IndexOf('/', si) < 0;
                    for (int k = si; k <= s.Length; k++)
                    {
                        if (MatchAt(p, pi, s, k)) return true;
                        if (k < s.Length && s[k] == '/') return false;
                    }
                    return false;
                case '?':
                    if (si >= s.Length || s[si] == '/') return false;
                    pi++; si++;
                    break;
                case '[':
                    if (si >= s.Length) { ParseClass(p, pi, out _, 'a', out _); return false; }
                    ParseClass(p, pi, out int end, s[si], out bool matched);
                    if (!matched || s[si] == '/') return false;
                    pi = end; si++;
                    break;
                case '\\':
                    if (pi + 1 >= p.Length) throw new FormatException("syntax error in pattern");
                    if (si >= s.Length || s[si] != p[pi + 1]) return false;
                    pi += 2; si++;
                    break;
                default:
                    if (si >= s.Length || s[si] != c) return false;
                    pi++; si++;
                    break;
            }
        }
        return si == s.Length;
    }

    private static void ParseClass(string p, int start, out int end, char ch, out bool matched)
    {
        int i = start + 1;
        bool negate = false;
        if (i < p.Length && p[i] == '^') { negate = true; i++; }
        bool any = false;
        int n = 0;
        while (true)
        {
            if (i >= p.Length) throw new FormatException("syntax error in pattern");
            if (p[i] == ']' && n > 0) { i++; break; }
            char lo = ReadClassChar(p, ref i);
            char hi = lo;
            if (i < p.Length && p[i] == '-' && i + 1 < p.Length && p[i + 1] != ']')
            {
                i++;
                hi = ReadClassChar(p, ref i);
            }
            else if (i < p.Length && p[i] == '-') throw new FormatException("syntax error in pattern");
            if (lo <= ch && ch <= hi) any = true;
            n++;
        }
        end = i;
        matched = any != negate;
    }

    private static char ReadClassChar(string p, ref int i)
    {
        char c = p[i];
        if (c is '-' or ']') throw new FormatException("syntax error in pattern");
        if (c == '\\')
        {
            i++;
            if (i >= p.Length) throw new FormatException("syntax error in pattern");
            c = p[i];
        }
        i++;
        return c;
    }
}
