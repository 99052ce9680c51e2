using System.Text.RegularExpressions;
using Sealer.Core.Diagnostics;
using Sealer.Core.Yaml;

namespace Sealer.Core.Discovery;

/// <summary>A YAML document cut out of a larger text, with the 1-based line where it starts in that text.</summary>
internal sealed record TextDocument(string Text, int StartLine);

/// <summary>Splits and parses Kubernetes manifests.</summary>
internal static partial class ManifestDocuments
{
    // helm's releaseutil.SplitManifests separator.
    [GeneratedRegex(@"(?:^|\s*\n)---\s*", RegexOptions.CultureInvariant)]
    private static partial Regex HelmSeparator();

    /// <summary>
    /// Splits rendered template output exactly as helm does (releaseutil.SplitManifests: trim, split on
    /// <c>(?:^|\s*\n)---\s*</c>, trim each piece, drop empty ones), keeping each piece's start line in <paramref name="text"/>.
    /// </summary>
    public static List<TextDocument> SplitLikeHelm(string text)
    {
        var result = new List<TextDocument>();
        // TrimSpace, remembering the offset of the trimmed text.
        int start = 0, end = text.Length;
        while (start < end && char.IsWhiteSpace(text[start])) start++;
        while (end > start && char.IsWhiteSpace(text[end - 1])) end--;
        if (start == end) return result;
        string trimmed = text[start..end];
        int pos = 0;
        foreach (Match m in HelmSeparator().Matches(trimmed))
        {
            Add(result, text, start + pos, start + m.Index);
            pos = m.Index + m.Length;
        }
        Add(result, text, start + pos, end);
        return result;
    }

    private static void Add(List<TextDocument> result, string text, int from, int to)
    {
        while (from < to && char.IsWhiteSpace(text[from])) from++;
        while (to > from && char.IsWhiteSpace(text[to - 1])) to--;
        if (from >= to) return;
        int line = 1;
        for (int i = 0; i < from; i++) if (text[i] == '\n') line++;
        result.Add(new TextDocument(text[from..to], line));
    }

    /// <summary>Parses one split document; line numbers in the result are relative to the enclosing text.</summary>
    public static YNode? ParseDocument(TextDocument doc, string file)
    {
        // helm prints each (trimmed) manifest followed by a newline; a block scalar ending the document keeps its final line break.
        var docs = YamlReader.ParseStream(doc.Text + "\n", file, ErrorCodes.InvalidManifest, doc.StartLine - 1);
        return docs.FirstOrDefault()?.Root;
    }

    /// <summary>Parses a whole manifest file (every YAML document, or JSON) with lines as in the file.</summary>
    public static List<YNode> ParseFile(string text, string file)
    {
        var docs = YamlReader.ParseStream(text, file, ErrorCodes.InvalidManifest);
        return docs.Where(d => d.Root is not null).Select(d => d.Root!).ToList();
    }
}
