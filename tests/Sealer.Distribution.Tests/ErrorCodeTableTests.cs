using System.Reflection;
using System.Text.RegularExpressions;
using Sealer.Core.Diagnostics;

namespace Sealer.Distribution.Tests;

/// <summary>The one code table: every code is SEA + 4 digits, no two names share a code, and docs/errors.md lists them all.</summary>
public class ErrorCodeTableTests
{
    private static readonly (string Name, string Code)[] Codes = typeof(ErrorCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.IsLiteral && f.FieldType == typeof(string))
        .Select(f => (f.Name, (string)f.GetRawConstantValue()!))
        .ToArray();

    [Fact]
    public void Codes_are_well_formed_and_unique()
    {
        Assert.True(Codes.Length > 50, $"only {Codes.Length} codes found");
        Assert.All(Codes, c => Assert.Matches(new Regex("^SEA[0-9]{4}$"), c.Code));
        var duplicates = Codes.GroupBy(c => c.Code).Where(g => g.Count() > 1).Select(g => $"{g.Key}: {string.Join(", ", g.Select(c => c.Name))}").ToList();
        Assert.True(duplicates.Count == 0, "codes used twice: " + string.Join("; ", duplicates));
    }

    [Fact]
    public void Docs_list_every_code()
    {
        string doc = File.ReadAllText(Repo.Path("docs", "errors.md"));
        var missing = Codes.Where(c => !doc.Contains($"| {c.Code} | `{c.Name}` |", StringComparison.Ordinal)).Select(c => $"{c.Code} {c.Name}").ToList();
        Assert.True(missing.Count == 0, "docs/errors.md is stale (run python3 build/gen-errors-doc.py); missing: " + string.Join(", ", missing));
    }
}
