namespace Sealer.Cli;

// The `sealer` binary: one System.CommandLine tree (SealerCli.CreateRootCommand), one file a command group.
//
// Adding a command or an option:
// - A command group is a static class in Commands/ with `Create()` returning its commands (ImageCommands: images, inspect,
//   ...; RegistryCommands: the `registry` group and its subcommands). A new group is one line in SealerCli.CreateRootCommand.
// - A command is a `SealerCommand(name, summary, details)`: the summary is its line in `sealer --help`, the details a
//   paragraph in its own --help. Give it `Argument<T>`s and options, then `SetAction(p => ...)` (or `(p, ct) => ...Async`)
//   that reads them with `p.GetValue(option)` and returns the exit code.
// - Options come from CliOptions: Text/Repeatable/Flag/Int/OneOf, and the shared ones (Store, CacheDir, Platform, Json,
//   Format) so every command spells and documents them alike. Options several commands share live in one small class
//   (DeliveryCommands.CommonOptions, RegistryCommands.ServeOptions) with AddTo(command) and a builder of the Core options.
// - Every option needs a description: --help, docs/cli.md (bash build/gen-cli-doc.sh) and the tests that compare them
//   (CliHelpTests) are built from it; completion (`sealer completion bash|zsh`) follows the tree by itself.
//
// Exit codes (SealerCli): 0 success; 1 an error with a code (SEAnnnn on stderr, e.g. SEA5001 for a bad option or a
// missing argument; `check` also when the cluster has problems); 2 `sealer` alone, an unknown command (SEA5000), a command
// group without its command, find-images without inputs; 130 Ctrl+C (SEA0002).
internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        using var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };
        // a site bundle is this binary with a cluster image appended: it answers its own words first (BundleMode)
        return await BundleMode.TryRunAsync(args, cts.Token).ConfigureAwait(false)
            ?? await SealerCli.InvokeAsync(args, cts.Token).ConfigureAwait(false);
    }
}
