using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Sealer.Core.Diagnostics;

namespace Sealer.Core.Kubefile;

/// <summary>One instruction: keyword (upper case), flags (<c>--platform=...</c>), the argument text, where it was.</summary>
public sealed record KubefileInstruction(string Keyword, IReadOnlyList<string> Flags, string Arguments, int Line, int EndLine)
{
    /// <summary>A comment written after the arguments (<c>COPY a b  # why</c>), kept for <c>sealer convert</c>.</summary>
    public string? TrailingComment { get; init; }

    /// <summary>The <c># comment</c> lines just above the instruction.</summary>
    public IReadOnlyList<string> Comments { get; init; } = [];
}

/// <summary>
/// Reads a Kubefile into instructions with Docker's line rules, as Sealer's parser (a copy of buildkit's) applies them:
/// a UTF-8 BOM is dropped; the <c># escape=</c> directive is honoured; a line ending in the escape character (then only
/// blanks) continues on the next one; <c>#</c> at the start of a line (after blanks) is a comment, also between
/// continued lines, and empty continuation lines are skipped; a file without a final newline is fine. Keywords are
/// case-insensitive. Unlike Docker (which makes it an argument), a <c>#</c> word after an instruction's arguments is a
/// trailing comment for every instruction except shell-form commands (<c>CMD</c>, <c>CMDS</c>, <c>APPCMDS</c>, which
/// keep it: the shell reads it as a comment), because Kubefiles in the wild write them and Sealer either ignored
/// those words (COPY) or failed on them (JSON forms, LABEL).
/// </summary>
public static partial class KubefileParser
{
    public static readonly IReadOnlySet<string> Keywords = new HashSet<string>(StringComparer.Ordinal)
    {
        "FROM", "COPY", "ADD", "ARG", "ENV", "LABEL", "MAINTAINER", "RUN", "APP", "APPCMDS", "APPENV", "LAUNCH", "CMDS", "CMD",
        "CNI", "CSI", "KUBEVERSION",
    };

    public static IReadOnlyList<KubefileInstruction> Parse(string text, string? file = null)
    {
        if (text.Length > 0 && text[0] == '\uFEFF') text = text[1..];
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        char escape = '\\';
        int i = 0;
        // Parser directives: only at the very top, before any other line.
        for (; i < lines.Length; i++)
        {
            var m = EscapeDirective().Match(lines[i]);
            if (!m.Success) break;
            escape = m.Groups[1].Value[0];
            if (escape is not ('\\' or '`'))
            {
                throw new SealerException(ErrorCodes.KubefileSyntax, $"The escape directive must be \\ or `, not '{escape}'.", file, i + 1, 1);
            }
        }
        var result = new List<KubefileInstruction>();
        var comments = new List<string>();
        for (; i < lines.Length; i++)
        {
            string line = lines[i].TrimStart();
            if (line.Length == 0)
            {
                comments.Clear();
                continue;
            }
            if (line[0] == '#')
            {
                comments.Add(line[1..].Trim());
                continue;
            }
            int start = i + 1;
            var sb = new StringBuilder();
            bool continues = EndsWithEscape(line, escape, out string body);
            sb.Append(body);
            while (continues && i + 1 < lines.Length)
            {
                i++;
                string next = lines[i];
                string trimmed = next.TrimStart();
                if (trimmed.Length == 0 || trimmed[0] == '#') continue; // empty and comment lines inside a continuation are skipped
                continues = EndsWithEscape(next, escape, out body);
                sb.Append(body);
            }
            result.Add(Instruction(sb.ToString(), start, i + 1, file, escape) with { Comments = comments.ToList() });
            comments.Clear();
        }
        return result;
    }

    private static bool EndsWithEscape(string line, char escape, out string body)
    {
        string t = line.TrimEnd(' ', '\t', '\r');
        if (t.Length > 0 && t[^1] == escape)
        {
            body = t[..^1];
            return true;
        }
        body = line.TrimEnd('\r');
        return false;
    }

    private static KubefileInstruction Instruction(string text, int line, int endLine, string? file, char escape)
    {
        text = text.Trim();
        int sp = 0;
        while (sp < text.Length && !char.IsWhiteSpace(text[sp])) sp++;
        string keyword = text[..sp].ToUpperInvariant();
        if (!Keywords.Contains(keyword))
        {
            throw new SealerException(ErrorCodes.KubefileSyntax, $"Unknown instruction '{text[..sp]}'. A Kubefile has FROM, COPY, ARG, ENV, LABEL, APP, APPCMDS, APPENV, LAUNCH, CMDS, CMD, CNI, CSI, KUBEVERSION (and RUN/ADD, which a lite build refuses).", file, line, 1);
        }
        string rest = text[sp..].TrimStart();
        var flags = new List<string>();
        while (rest.StartsWith("--", StringComparison.Ordinal))
        {
            int end = 0;
            while (end < rest.Length && !char.IsWhiteSpace(rest[end])) end++;
            flags.Add(rest[..end]);
            rest = rest[end..].TrimStart();
        }
        string? trailing = null;
        if (keyword is not ("RUN" or "CMD" or "CMDS" or "APPCMDS" or "MAINTAINER") || rest.StartsWith('['))
        {
            (rest, trailing) = SplitTrailingComment(rest, escape);
        }
        else if (keyword == "APPCMDS")
        {
            // APPCMDS name ["..."] # comment: the JSON array may carry a trailing comment too.
            int bracket = rest.IndexOf('[', StringComparison.Ordinal);
            if (bracket > 0)
            {
                var (json, c) = SplitTrailingComment(rest[bracket..], escape);
                rest = rest[..bracket] + json;
                trailing = c;
            }
        }
        return new KubefileInstruction(keyword, flags, rest, line, endLine) { TrailingComment = trailing };
    }

    /// <summary>Splits <c>args # comment</c> at a '#' that starts a word outside quotes and JSON strings.</summary>
    private static (string Args, string? Comment) SplitTrailingComment(string s, char escape)
    {
        char quote = '\0';
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (c == escape && i + 1 < s.Length) { i++; continue; }
            if (quote != '\0')
            {
                if (c == quote) quote = '\0';
                continue;
            }
            if (c is '"' or '\'') { quote = c; continue; }
            if (c == '#' && i > 0 && char.IsWhiteSpace(s[i - 1])) return (s[..i].TrimEnd(), s[(i + 1)..].Trim());
        }
        return (s, null);
    }

    /// <summary>A JSON array of strings (<c>["a", "b"]</c>), or null when the text is not one (then it is a shell/word form).</summary>
    public static List<string>? JsonArray(string args)
    {
        string t = args.Trim();
        if (!t.StartsWith('[') || !t.EndsWith(']')) return null;
        try
        {
            using var doc = JsonDocument.Parse(t);
            if (doc.RootElement.ValueKind != JsonValueKind.Array) return null;
            var list = new List<string>();
            foreach (var e in doc.RootElement.EnumerateArray())
            {
                if (e.ValueKind != JsonValueKind.String) return null;
                list.Add(e.GetString()!);
            }
            return list;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    [GeneratedRegex(@"^#[ \t]*escape[ \t]*=[ \t]*(\S)[ \t]*$", RegexOptions.IgnoreCase)]
    private static partial Regex EscapeDirective();
}
