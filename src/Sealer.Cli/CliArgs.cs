using Sealer.Core.Diagnostics;

namespace Sealer.Cli;

/// <summary>
/// A small, strict option parser for subcommands: <c>--name value</c>, <c>--name=value</c>, repeatable options, boolean
/// flags, <c>-h/--help</c>. Unknown options are an error (SEA5001) naming the option, so a typo never silently does nothing.
/// </summary>
internal sealed class CliArgs
{
    private readonly Dictionary<string, List<string>> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _flags = new(StringComparer.Ordinal);

    public List<string> Positionals { get; } = [];

    public bool Help { get; private set; }

    /// <param name="options">options taking a value, without "--"</param>
    /// <param name="flags">boolean flags, without "--"</param>
    public static CliArgs Parse(string[] args, IReadOnlyCollection<string> options, IReadOnlyCollection<string> flags, string command)
    {
        var result = new CliArgs();
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            if (a is "-h" or "--help") { result.Help = true; continue; }
            if (!a.StartsWith("--", StringComparison.Ordinal) || a == "--")
            {
                result.Positionals.Add(a);
                continue;
            }
            string name = a[2..];
            string? value = null;
            int eq = name.IndexOf('=');
            if (eq >= 0) { value = name[(eq + 1)..]; name = name[..eq]; }
            if (flags.Contains(name))
            {
                if (value is not null && value is not ("true" or "false"))
                {
                    throw new SealerException(ErrorCodes.BadCommandLine, $"'{command}': --{name} is a flag; write --{name} or --{name}=false.");
                }
                if (value is not "false") result._flags.Add(name);
                continue;
            }
            if (!options.Contains(name))
            {
                throw new SealerException(ErrorCodes.BadCommandLine, $"'{command}': unknown option --{name}. Run 'sealer {command} --help'.");
            }
            if (value is null)
            {
                if (i + 1 >= args.Length) throw new SealerException(ErrorCodes.BadCommandLine, $"'{command}': --{name} needs a value.");
                value = args[++i];
            }
            if (!result._values.TryGetValue(name, out var list)) result._values[name] = list = [];
            list.Add(value);
        }
        return result;
    }

    public bool Flag(string name) => _flags.Contains(name);

    public string? Value(string name) => _values.TryGetValue(name, out var v) ? v[^1] : null;

    /// <summary>All values of a repeatable option; comma-separated values are split too.</summary>
    public IReadOnlyList<string> Values(string name)
        => _values.TryGetValue(name, out var v) ? v.SelectMany(x => x.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList() : [];

    public int Int(string name, int fallback, int min, int max, string command)
    {
        string? v = Value(name);
        if (v is null) return fallback;
        if (!int.TryParse(v, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int n) || n < min || n > max)
        {
            throw new SealerException(ErrorCodes.BadCommandLine, $"'{command}': --{name} must be a number from {min} to {max}, not '{v}'.");
        }
        return n;
    }
}
