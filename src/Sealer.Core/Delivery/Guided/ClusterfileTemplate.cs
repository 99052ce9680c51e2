using System.Text.RegularExpressions;
using Sealer.Core.Diagnostics;

namespace Sealer.Core.Delivery.Guided;

/// <summary>A value a bundle's Clusterfile template asks for: <c>${{ NAME }}</c> or <c>${{ NAME = default }}</c>, first seen at <paramref name="Line"/>.</summary>
public sealed record TemplatePlaceholder(string Name, string? Default, int Line);

/// <summary>
/// The placeholders of a Clusterfile template carried by a site bundle (<c>sealer bundle --clusterfile</c>):
/// <c>${{ NAME }}</c> asks for a value, <c>${{ NAME = default }}</c> offers a default. The form cannot be mistaken for a
/// shell's <c>${NAME}</c> in plugin scripts or for Go templates in the rootfs, which the template keeps as they are.
/// </summary>
public static partial class ClusterfileTemplate
{
    [GeneratedRegex(@"\$\{\{\s*(?<name>[A-Za-z_][A-Za-z0-9_]*)\s*(?:=\s*(?<default>[^}\r\n]*?))?\s*\}\}")]
    private static partial Regex Placeholder();

    [GeneratedRegex(@"\$\{\{")]
    private static partial Regex Opening();

    /// <summary>The placeholders of <paramref name="template"/> in the order they first appear (a name once; its first default wins).</summary>
    public static IReadOnlyList<TemplatePlaceholder> Placeholders(string template, string? file = null)
    {
        var found = new List<TemplatePlaceholder>();
        var matches = Placeholder().Matches(template);
        foreach (Match m in matches)
        {
            string name = m.Groups["name"].Value;
            if (found.Any(p => p.Name == name)) continue;
            found.Add(new TemplatePlaceholder(name, m.Groups["default"].Success ? m.Groups["default"].Value.Trim() : null, LineOf(template, m.Index)));
        }
        // an opening that no placeholder explains is a typo the user would otherwise get into the Clusterfile
        foreach (Match o in Opening().Matches(template))
        {
            if (!matches.Any(m => m.Index == o.Index))
            {
                int line = LineOf(template, o.Index);
                throw new SealerException(ErrorCodes.GuidedBadAnswer, $"The Clusterfile template has '${{{{' at line {line} that is no placeholder: write ${{{{ NAME }}}} or ${{{{ NAME = default }}}} (NAME: letters, digits, _).", file, line);
            }
        }
        return found;
    }

    /// <summary><paramref name="template"/> with every placeholder replaced by its value (or its default); a placeholder with neither is SEA4100.</summary>
    public static string Fill(string template, IReadOnlyDictionary<string, string> values, string? file = null)
    {
        _ = Placeholders(template, file);
        return Placeholder().Replace(template, m =>
        {
            string name = m.Groups["name"].Value;
            if (values.TryGetValue(name, out var v)) return v;
            if (m.Groups["default"].Success) return m.Groups["default"].Value.Trim();
            int line = LineOf(template, m.Index);
            throw new SealerException(ErrorCodes.GuidedAnswerMissing, $"The Clusterfile template asks for {name} (line {line}) and no value was given: answer it in the guided run, or write the Clusterfile yourself (BUNDLE clusterfile > Clusterfile) and run with -f Clusterfile.", file, line);
        });
    }

    private static int LineOf(string text, int index)
    {
        int line = 1;
        for (int i = 0; i < index; i++) if (text[i] == '\n') line++;
        return line;
    }
}
