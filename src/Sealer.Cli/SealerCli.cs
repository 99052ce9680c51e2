using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using Sealer.Cli.Commands;
using Sealer.Core.Diagnostics;
using Sealer.Core.Layout;

namespace Sealer.Cli;

/// <summary>
/// The command tree (System.CommandLine) and the rules every command shares: exit codes, how usage errors read,
/// <c>help</c>/<c>version</c> words, help with a details paragraph, no response files. See Program.cs for how to add a command.
/// </summary>
internal static class SealerCli
{
    /// <summary>Exit code of a usage error that names no command (<c>sealer</c> alone, an unknown command, a group alone).</summary>
    public const int UnknownCommandExitCode = 2;

    /// <summary>Exit code of every other error: a bad option or argument (SEA5001) and every SEAnnnn error of a command.</summary>
    public const int ErrorExitCode = 1;

    /// <summary>Exit code after Ctrl+C (SEA0002).</summary>
    public const int CancelledExitCode = 130;

    private static readonly ParserConfiguration ParserConfig = new()
    {
        // '@file' stays a plain argument (System.CommandLine would read it as a response file).
        ResponseFileTokenReplacer = null,
    };

    /// <summary>
    /// The command groups, in the order <c>sealer --help</c> lists them: the top-level names each group creates, and its
    /// factory. A new group is one line here (CliHelpTests checks that the names match what the factory creates).
    /// </summary>
    /// <summary>This sealer's version (<c>sealer --version</c>, the version a bundle records).</summary>
    internal static string Version => typeof(SealerCli).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    internal static readonly (string[] Names, Func<IEnumerable<Command>> Create)[] Groups =
    [
        (["find-images"], FindImagesCommand.Create),
        (["images", "inspect", "tag", "rmi", "prune", "save", "load", "push", "mirror", "pull", "attach"], ImageCommands.Create),
        (["run", "rollback", "join", "delete", "check", "support-bundle"], DeliveryCommands.Create),
        (["sign", "verify"], SigningCommands.Create),
        (["bundle"], BundleCommands.Create),
        (["registry"], () => [RegistryCommands.Create()]),
        (["build"], () => [BuildCommand.Create()]),
        (["convert"], () => [ConvertCommand.Create()]),
        (["completion"], () => [CompletionCommand.Create()]),
    ];

    /// <summary>The whole command tree; each group file adds its commands.</summary>
    public static RootCommand CreateRootCommand() => CreateRootCommand(null);

    /// <summary>
    /// The command tree a command line needs: only the group its first word names (start-up builds ~150 options
    /// otherwise), no group for a lone <c>--version</c>, and the whole tree for everything else (<c>--help</c>, completion
    /// directives, unknown words), so help, completion and errors see every command.
    /// </summary>
    private static RootCommand CreateRootCommand(string[]? args)
    {
        var root = new RootCommand("sealer — build, serve and deliver Kubernetes cluster images to air-gapped sites");
        var groups = args switch
        {
            ["--version"] => [],
            [var first, ..] when Array.FindIndex(Groups, g => Array.IndexOf(g.Names, first) >= 0) is var i and >= 0 => Groups.AsSpan(i, 1).ToArray(),
            _ => Groups,
        };
        foreach (var group in groups)
        {
            foreach (var command in group.Create()) root.Subcommands.Add(command);
        }

        foreach (var option in root.Options)
        {
            if (option is HelpOption help)
            {
                help.Action = new DetailedHelpAction((HelpAction)help.Action!);
                // Windows spellings: on Linux '/h' is a path (sealer find-images /h must not print help).
                help.Aliases.Remove("/h");
                help.Aliases.Remove("/?");
            }
            if (option is VersionOption version) version.Action = new VersionAction();
        }
        ForEachCommand(root, command =>
        {
            // A command group alone ('sealer', 'sealer registry') prints its commands and fails as before.
            if (command.Action is null && command.Subcommands.Count > 0)
            {
                command.SetAction(parseResult =>
                {
                    WriteHelp(parseResult, Console.Out);
                    return UnknownCommandExitCode;
                });
            }
        });
        return root;
    }

    /// <summary>Every command of the tree, depth first (the root first).</summary>
    public static void ForEachCommand(Command command, Action<Command> visit)
    {
        visit(command);
        foreach (var sub in command.Subcommands) ForEachCommand(sub, visit);
    }

    /// <summary>Parses and runs a command line; returns the exit code. Errors go to <paramref name="error"/> (default stderr).</summary>
    public static async Task<int> InvokeAsync(string[] args, CancellationToken cancellationToken = default, TextWriter? error = null)
    {
        error ??= Console.Error;
        args = Normalize(args);
        var parseResult = CreateRootCommand(args).Parse(args, ParserConfig);
        if (UsageError(parseResult) is { } usage)
        {
            error.WriteLine($"error {usage.Code}: {usage.Message}");
            return usage.Code == ErrorCodes.UnknownCommand ? UnknownCommandExitCode : ErrorExitCode;
        }
        try
        {
            var config = new InvocationConfiguration
            {
                // Errors keep their SEA format and exit codes (below); Ctrl+C and SIGTERM are handled by the caller and
                // 'registry serve' (System.CommandLine's own handler would end the process after 2 s).
                EnableDefaultExceptionHandler = false,
                ProcessTerminationTimeout = null,
            };
            return await parseResult.InvokeAsync(config, cancellationToken).ConfigureAwait(false);
        }
        catch (SealerException ex)
        {
            error.WriteLine(ex.ToDiagnosticString());
            return ErrorExitCode;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            error.WriteLine($"error {ErrorCodes.Cancelled}: cancelled.");
            return CancelledExitCode;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return Unexpected(ex, error);
        }
    }

    /// <summary>
    /// What no command turned into a coded error still gets a code instead of a crash: a full disk SEA1506 (what to do is
    /// the same wherever it surfaced), anything else SEA0001 with the exception, to be reported.
    /// </summary>
    public static int Unexpected(Exception ex, TextWriter error)
    {
        if (ex is IOException io && AtomicFile.IsDiskFull(io))
        {
            error.WriteLine($"error {ErrorCodes.DiskWriteFailed}: the disk is full ({io.Message}). Free some space and run again.");
        }
        else
        {
            error.WriteLine($"error {ErrorCodes.Internal}: sealer failed unexpectedly: {ex.GetType().Name}: {ex.Message}. Please report it with this output.");
            error.WriteLine(ex.ToString());
        }
        return ErrorExitCode;
    }

    /// <summary>
    /// Parses <paramref name="args"/> (a whole command line, e.g. <c>["registry", "serve", ...]</c>) and throws the usage
    /// error as a <see cref="SealerException"/>; for code that needs a command's options without running it.
    /// </summary>
    public static ParseResult ParseOrThrow(string[] args)
    {
        args = Normalize(args);
        var parseResult = CreateRootCommand(args).Parse(args, ParserConfig);
        if (UsageError(parseResult) is { } error) throw new SealerException(error.Code, error.Message);
        return parseResult;
    }

    /// <summary>Writes the help of the command <paramref name="parseResult"/> names to <paramref name="writer"/>.</summary>
    public static void WriteHelp(ParseResult parseResult, TextWriter writer) => Help(parseResult, writer);

    private static int Help(ParseResult parseResult, TextWriter writer)
    {
        string path = CommandPath(parseResult.CommandResult);
        string[] args = path.Length == 0 ? ["--help"] : [.. path.Split(' '), "--help"];
        return parseResult.RootCommandResult.Command.Parse(args, ParserConfig).Invoke(new InvocationConfiguration { Output = writer });
    }

    /// <summary>Sealer's words for help and version: <c>sealer help [command]</c>, <c>sealer registry help</c>, <c>sealer version</c>.</summary>
    private static string[] Normalize(string[] args)
    {
        if (args is ["help", .. var rest]) return [.. rest, "--help"];
        if (args is ["version"]) return ["--version"];
        if (args is [var group, "help"] && !group.StartsWith('-')) return [group, "--help"];
        return args;
    }

    /// <summary>The first usage error, in Sealer's words: SEA5000 for an unknown command, SEA5001 for the rest.</summary>
    private static (string Code, string Message)? UsageError(ParseResult parseResult)
    {
        if (parseResult.Action is { ClearsParseErrors: true }) return null; // --help, [suggest]
        var command = parseResult.CommandResult.Command;
        string name = CommandPath(parseResult.CommandResult);
        string hint = $"Run 'sealer {name}{(name.Length > 0 ? " " : "")}--help'.";
        // An argument that looks like an option and is none (System.CommandLine would take it as a value of IMAGE...).
        if (UnknownOptionToken(parseResult) is { } unknown)
        {
            return (ErrorCodes.BadCommandLine, $"'{name}': unknown option '{unknown}'. {hint}");
        }
        if (parseResult.Errors.Count == 0) return null;
        if (parseResult.UnmatchedTokens.Count > 0)
        {
            string token = parseResult.UnmatchedTokens[0];
            if (token.StartsWith('-') && token.Length > 1)
            {
                return (ErrorCodes.BadCommandLine, $"'{(name.Length == 0 ? "sealer" : name)}': unknown option '{token}'. {hint}");
            }
            if (command.Subcommands.Count > 0 && command.Arguments.Count == 0)
            {
                string words = name.Length == 0 ? token : name + " " + token;
                return (ErrorCodes.UnknownCommand, $"unknown command '{words}'. Run 'sealer {name}{(name.Length > 0 ? " " : "")}help' for the list.");
            }
            return (ErrorCodes.BadCommandLine, $"'{name}': unexpected argument '{token}'. {hint}");
        }
        return (ErrorCodes.BadCommandLine, $"'{name}': {OneLine(parseResult.Errors[0].Message)} {hint}");
    }

    /// <summary>System.CommandLine's message on one line: "Argument 'x' not recognized. Must be one of: 'a', 'b'."</summary>
    private static string OneLine(string message)
    {
        var lines = message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        string text = lines.Length == 1 ? lines[0] : lines[0] + " " + string.Join(", ", lines[1..]);
        return text.EndsWith('.') ? text : text + ".";
    }

    /// <summary>A command argument token starting with '-' (not '-' alone, not after '--') that is no option of the command.</summary>
    private static string? UnknownOptionToken(ParseResult parseResult)
    {
        int doubleDash = -1;
        for (int i = 0; i < parseResult.Tokens.Count; i++)
        {
            if (parseResult.Tokens[i].Type == TokenType.DoubleDash) { doubleDash = i; break; }
        }
        for (CommandResult? r = parseResult.CommandResult; r is not null; r = r.Parent as CommandResult)
        {
            foreach (var token in r.Tokens)
            {
                if (token.Type != TokenType.Argument || !token.Value.StartsWith('-') || token.Value.Length < 2) continue;
                if (doubleDash >= 0 && IndexOf(parseResult.Tokens, token) > doubleDash) continue;
                return token.Value;
            }
        }
        return null;
    }

    private static int IndexOf(IReadOnlyList<Token> tokens, Token token)
    {
        for (int i = 0; i < tokens.Count; i++) if (ReferenceEquals(tokens[i], token)) return i;
        return -1;
    }

    private static string CommandPath(CommandResult result)
    {
        var words = new List<string>();
        for (CommandResult? r = result; r?.Parent is CommandResult parent; r = parent) words.Insert(0, r.Command.Name);
        return string.Join(' ', words);
    }

    /// <summary>System.CommandLine's help, with a <see cref="SealerCommand.Details"/> paragraph under the description.</summary>
    private sealed class DetailedHelpAction(HelpAction inner) : SynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parseResult)
        {
            var output = parseResult.InvocationConfiguration.Output;
            if (output is CaptureWriter || parseResult.CommandResult.Command is not SealerCommand { Details: { } details })
            {
                return inner.Invoke(parseResult);
            }
            using var capture = new CaptureWriter();
            int rc = Help(parseResult, capture);
            string help = capture.ToString();
            int usage = help.IndexOf("\nUsage:", StringComparison.Ordinal);
            string indented = string.Join('\n', details.TrimEnd().Split('\n').Select(l => l.Length == 0 ? "" : "  " + l));
            output.Write(usage < 0 ? help + "\n" + indented + "\n" : help[..usage] + "\n" + indented + "\n" + help[usage..]);
            return rc;
        }

        private sealed class CaptureWriter : StringWriter;
    }

    private sealed class VersionAction : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            parseResult.InvocationConfiguration.Output.WriteLine(Version);
            return 0;
        }
    }
}

/// <summary>A command with a one-line summary (shown in its group's list) and an optional details paragraph (its --help).</summary>
internal class SealerCommand(string name, string summary, string? details = null) : Command(name, summary)
{
    public string? Details { get; } = details;
}
