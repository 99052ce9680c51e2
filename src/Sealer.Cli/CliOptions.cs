using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Sealer.Core.Artifacts;

namespace Sealer.Cli;

/// <summary>
/// Factories for options, so every command spells a shared option (<c>--store</c>, <c>--cache-dir</c>, <c>--platform</c>,
/// <c>--json</c>, <c>--format</c>) and its help text the same way. Each call returns a new option: add it to one command
/// and read it back with <c>parseResult.GetValue(option)</c>.
/// </summary>
internal static class CliOptions
{
    private static readonly char[] Comma = [','];

    /// <summary>
    /// An option taking one value. Given twice, the last one wins (<c>--store a --store b</c> is b), as kubectl, helm,
    /// docker and zarf (Go's pflag) do, so a wrapper script can append an override; each occurrence takes one value.
    /// </summary>
    public static Option<string?> Text(string name, string description, string helpName, params string[] aliases) => new(name, aliases)
    {
        Description = description,
        HelpName = helpName,
        Arity = ArgumentArity.OneOrMore,
        AllowMultipleArgumentsPerToken = false,
        CustomParser = r => r.Tokens.Count == 0 ? null : r.Tokens[^1].Value,
    };

    /// <summary>
    /// A repeatable option (<c>--x a --x b</c>); one value per occurrence. With <paramref name="splitCommas"/> a value may
    /// also be a comma list (<c>--masters 10.0.0.1,10.0.0.2</c>); leave it off for values that contain commas (helm's --set).
    /// </summary>
    public static Option<List<string>> Repeatable(string name, string description, string helpName, bool splitCommas, params string[] aliases) => new(name, aliases)
    {
        Description = description + (splitCommas ? " (repeatable; comma lists too)" : " (repeatable)"),
        HelpName = helpName,
        Arity = ArgumentArity.OneOrMore,
        AllowMultipleArgumentsPerToken = false,
        CustomParser = r => splitCommas
            ? [.. r.Tokens.SelectMany(t => t.Value.Split(Comma, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))]
            : [.. r.Tokens.Select(t => t.Value)],
        DefaultValueFactory = _ => [],
    };

    /// <summary>A boolean flag: <c>--x</c>, or <c>--x=false</c>.</summary>
    public static Option<bool> Flag(string name, string description, params string[] aliases) => new(name, aliases) { Description = description };

    /// <summary>A whole number in [min, max]; anything else is a usage error naming the option and the range. Last one wins (every one is checked).</summary>
    public static Option<int> Int(string name, string description, int fallback, int min, int max, string helpName = "N", params string[] aliases) => new(name, aliases)
    {
        Description = description,
        HelpName = helpName,
        Arity = ArgumentArity.OneOrMore,
        AllowMultipleArgumentsPerToken = false,
        DefaultValueFactory = _ => fallback,
        CustomParser = r =>
        {
            int n = fallback;
            foreach (var token in r.Tokens)
            {
                string v = token.Value;
                if (!int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out n) || n < min || n > max)
                {
                    r.AddError($"{name} must be a number from {min} to {max}, not '{v}'.");
                    return fallback;
                }
            }
            return n;
        },
    };

    /// <summary>An option whose value is one of <paramref name="values"/>; the first is the default. Last one wins (every one is checked).</summary>
    public static Option<string> OneOf(string name, string description, string[] values, params string[] aliases)
    {
        var option = new Option<string>(name, aliases)
        {
            Description = description,
            HelpName = string.Join('|', values),
            Arity = ArgumentArity.OneOrMore,
            AllowMultipleArgumentsPerToken = false,
            DefaultValueFactory = _ => values[0],
            CustomParser = r => r.Tokens.Count == 0 ? values[0] : r.Tokens[^1].Value,
        };
        option.AcceptOnlyFromAmong(values);
        return option;
    }

    // ---- options several commands share ----

    /// <summary><c>--store DIR</c>: the local cluster image store.</summary>
    public static Option<string?> Store() =>
        Text("--store", $"cluster image store (default: ${ClusterImageStore.DirectoryVariable}, else ~/.sealer/images)", "DIR");

    /// <summary><c>--cache-dir DIR</c>: the image cache builds pull into and delivery reads image names from.</summary>
    public static Option<string?> CacheDir(params string[] aliases) =>
        Text("--cache-dir", "image cache (default: $SEALER_CACHE_DIR, else ~/.sealer/cache)", "DIR", aliases);

    /// <summary><c>--platform os/arch[/variant]</c>.</summary>
    public static Option<string?> Platform(string description) => Text("--platform", description, "OS/ARCH");

    /// <summary><c>--json</c>: machine-readable output instead of text.</summary>
    public static Option<bool> Json(string description) => Flag("--json", description);

    /// <summary><c>--format text|json</c> (or other names for the text form, e.g. <c>table</c>).</summary>
    public static Option<string> Format(string textName = "text") =>
        OneOf("--format", "output format", [textName, "json"]);
}
