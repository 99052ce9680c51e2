using Sealer.Cli.Commands;
using Sealer.Core.Diagnostics;

namespace Sealer.Cli;

/// <summary>
/// The `sealer` binary. Each subcommand lives in Commands/ and is listed once in <see cref="Commands"/>.
/// Errors are printed as <c>file(line,col): error SEA1234: message</c>; Ctrl+C cancels cleanly (exit 130).
/// </summary>
internal static class Program
{
    /// <summary>name (may be two words, e.g. "registry serve"), one-line help, handler.</summary>
    internal static readonly List<CliCommand> Commands =
    [
        new("registry serve", "Serve OCI image layouts read-only over the distribution API (by original names)", RegistryCommands.ServeAsync),
        new("registry gen-certs", "Generate a CA and a server certificate with SANs for the registry", RegistryCommands.GenCertsAsync),
        new("registry config", "Generate containerd hosts.toml / Docker daemon.json to pull through the registry", RegistryCommands.ConfigAsync),
        new("registry unit", "Generate a systemd unit running 'sealer registry serve'", RegistryCommands.UnitAsync),
        new("images", "List cluster images in the local store", Sealer.Cli.Commands.ImageCommands.ImagesAsync),
        new("inspect", "Show a cluster image: platforms, labels, apps, images inside (-o json)", Sealer.Cli.Commands.ImageCommands.InspectAsync),
        new("tag", "Give a cluster image another name", Sealer.Cli.Commands.ImageCommands.TagAsync),
        new("rmi", "Remove cluster image names from the local store", Sealer.Cli.Commands.ImageCommands.RmiAsync),
        new("prune", "Free blobs no image references (store and image cache)", Sealer.Cli.Commands.ImageCommands.PruneAsync),
        new("save", "Write cluster images to one OCI archive (optionally zstd)", Sealer.Cli.Commands.ImageCommands.SaveAsync),
        new("load", "Load cluster images from an OCI archive or layout, verifying every blob", Sealer.Cli.Commands.ImageCommands.LoadAsync),
        new("push", "Push a cluster image (all platforms) to a registry", Sealer.Cli.Commands.ImageCommands.PushAsync),
        new("pull", "Pull a cluster image (all platforms) into the local store", Sealer.Cli.Commands.ImageCommands.PullAsync),
        new("attach", "Attach a signature/SBOM to a cluster image as an OCI referrer", Sealer.Cli.Commands.ImageCommands.AttachAsync),
        new("find-images", "Find the images charts, manifests and image lists need (offline, with provenance)", Sealer.Cli.Commands.FindImagesCommand.RunAsync),
        new("run", "Install (or resume, or extend) the cluster a Clusterfile describes, over SSH", DeliveryCommands.RunAsync),
        new("join", "Add masters or nodes to a cluster and update the Clusterfile", DeliveryCommands.JoinAsync),
        new("delete", "Remove a cluster, or some hosts from it", DeliveryCommands.DeleteAsync),
        new("check", "Check a cluster's hosts, rootfs, registry and runtime configuration", DeliveryCommands.CheckAsync),
    ];

    private static async Task<int> Main(string[] args)
    {
        using var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            PrintHelp(Console.Out);
            return args.Length == 0 ? 2 : 0;
        }
        if (args[0] is "--version" or "version")
        {
            Console.Out.WriteLine(typeof(Program).Assembly.GetName().Version?.ToString(3) ?? "0.0.0");
            return 0;
        }
        // Longest match first, so "registry serve" wins over "registry".
        foreach (var command in Commands.OrderByDescending(c => c.Words.Length))
        {
            if (args.Length >= command.Words.Length && command.Words.SequenceEqual(args.Take(command.Words.Length), StringComparer.Ordinal))
            {
                try
                {
                    return await command.Handler(args[command.Words.Length..], cts.Token).ConfigureAwait(false);
                }
                catch (SealerException ex)
                {
                    Console.Error.WriteLine(ex.ToDiagnosticString());
                    return 1;
                }
                catch (OperationCanceledException) when (cts.IsCancellationRequested)
                {
                    Console.Error.WriteLine($"error {ErrorCodes.Cancelled}: cancelled.");
                    return 130;
                }
            }
        }
        // A command group alone ("sealer registry"): list its commands.
        var group = Commands.Where(c => c.Words.Length > 1 && c.Words[0] == args[0]).OrderBy(c => c.Name, StringComparer.Ordinal).ToList();
        if (group.Count > 0 && (args.Length == 1 || args[1] is "-h" or "--help" or "help"))
        {
            Console.Out.WriteLine($"Usage: sealer {args[0]} <command> [options]   (sealer {args[0]} <command> --help for details)");
            Console.Out.WriteLine();
            foreach (var c in group) Console.Out.WriteLine($"  {c.Name,-22} {c.Help}");
            return args.Length == 1 ? 2 : 0;
        }
        Console.Error.WriteLine($"error {ErrorCodes.UnknownCommand}: unknown command '{string.Join(' ', args.Take(2))}'. Run 'sealer help' for the list.");
        return 2;
    }

    private static void PrintHelp(TextWriter w)
    {
        w.WriteLine("sealer — build, serve and deliver Kubernetes cluster images to air-gapped sites");
        w.WriteLine();
        w.WriteLine("Usage: sealer <command> [options]   (sealer <command> --help for details)");
        w.WriteLine();
        foreach (var c in Commands.OrderBy(c => c.Name, StringComparer.Ordinal)) w.WriteLine($"  {c.Name,-22} {c.Help}");
    }
}

/// <summary>A subcommand: handler gets the arguments after the command words and returns the exit code.</summary>
internal sealed record CliCommand(string Name, string Help, Func<string[], CancellationToken, Task<int>> Handler)
{
    public string[] Words { get; } = Name.Split(' ');
}
