using Sealer.Core.Bundle;
using Sealer.Core.Diagnostics;

namespace Sealer.Cli;

/// <summary>
/// What a site bundle does when it is run (<c>./shop-1.4.0.run ...</c>): the file is the sealer binary with a cluster
/// image appended (<see cref="SiteBundle"/>), so the same program looks at its own file first. Bundle words:
/// <c>--help</c>, <c>inspect</c>, <c>clusterfile</c>, <c>extract -o DIR</c>, <c>verify</c>, <c>push DEST</c>, <c>mirror REGISTRY</c>, <c>load</c>; <c>run</c>, <c>join</c>,
/// <c>check</c> and <c>delete</c> are sealer's commands with <c>--image</c> set to the bundle (its archive is read in
/// place) and <c>--sealer-binary</c> set to the embedded sealer; any other word is plain sealer.
/// </summary>
internal static class BundleMode
{
    /// <summary>Null when this executable is a plain sealer; else the exit code of the bundle's command.</summary>
    public static async Task<int?> TryRunAsync(string[] args, CancellationToken cancellationToken)
    {
        string? self = Environment.ProcessPath;
        if (self is null || Path.GetFileNameWithoutExtension(self) == "dotnet") return null;
        SiteBundle? bundle;
        try
        {
            bundle = SiteBundle.TryOpen(self);
        }
        catch (SealerException ex)
        {
            await Console.Error.WriteLineAsync(ex.ToDiagnosticString()).ConfigureAwait(false);
            return SealerCli.ErrorExitCode;
        }
        catch (IOException)
        {
            return null; // our own file is unreadable: behave as the plain sealer we are
        }
        if (bundle is null) return null;
        try
        {
            return await RunAsync(bundle, args, cancellationToken).ConfigureAwait(false);
        }
        catch (SealerException ex)
        {
            await Console.Error.WriteLineAsync(ex.ToDiagnosticString()).ConfigureAwait(false);
            return SealerCli.ErrorExitCode;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync($"error {ErrorCodes.Cancelled}: cancelled.").ConfigureAwait(false);
            return SealerCli.CancelledExitCode;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return SealerCli.Unexpected(ex, Console.Error);
        }
    }

    private static async Task<int> RunAsync(SiteBundle bundle, string[] args, CancellationToken cancellationToken)
    {
        string self = bundle.Path;
        switch (args)
        {
            case []:
                // on a terminal: the guided run; otherwise never wait for input (help, and the coded error saying what to give)
                if (Guided.GuidedRun.CanAsk)
                {
                    return await Guided.GuidedRun.RunAsync(new Guided.GuidedTarget(self, bundle.Manifest.Image, await EmbeddedSealerAsync(bundle, cancellationToken).ConfigureAwait(false), bundle.ReadClusterfileTemplate(),
                        Path.GetDirectoryName(Path.GetFullPath(self))!, "./" + Path.GetFileName(self)), cancellationToken).ConfigureAwait(false);
                }
                Help(bundle, Console.Out);
                await Console.Error.WriteLineAsync(Guided.GuidedRun.NoTerminal("./" + Path.GetFileName(self)).ToDiagnosticString()).ConfigureAwait(false);
                return SealerCli.UnknownCommandExitCode;
            case ["--help"] or ["-h"] or ["help"]:
                Help(bundle, Console.Out);
                return 0;
            case ["--version"] or ["version"]:
                Console.Out.WriteLine($"{bundle.Manifest.SealerVersion ?? SealerCli.Version} (bundle of {bundle.Manifest.Image})");
                return 0;
            case ["clusterfile", .. var rest]:
                if (rest.Length > 0) throw Usage($"'clusterfile' takes no arguments (got '{rest[0]}')");
                Console.Out.Write(bundle.ReadClusterfileTemplate()
                    ?? throw new SealerException(ErrorCodes.NotABundle, $"This bundle carries no Clusterfile template. Write a Clusterfile (kind: Cluster, spec.hosts, spec.ssh; see './{Path.GetFileName(self)} help run') and run './{Path.GetFileName(self)} run -f Clusterfile'."));
                return 0;
            case ["verify", .. var rest]:
                if (rest.Length > 0) throw Usage($"'verify' takes no arguments (got '{rest[0]}')");
                var sw = System.Diagnostics.Stopwatch.StartNew();
                long total = bundle.Manifest.Sections().Sum(s => s.Section.Length);
                await bundle.VerifyAsync(Progress("verified", total), cancellationToken).ConfigureAwait(false);
                ClearProgress();
                Console.Out.WriteLine($"{Path.GetFileName(self)}: every part matches its digest ({total} bytes{(bundle.IsSplit ? $" in {bundle.Manifest.ArchiveParts!.Count} files" : "")} in {sw.Elapsed.TotalSeconds:F1}s)");
                return 0;
            case ["extract", .. var rest]:
                string dir = OutputDir(rest);
                long bytes = bundle.Manifest.Sections().Sum(s => s.Section.Length);
                var files = await bundle.ExtractAsync(dir, Progress("extracted", bytes), cancellationToken).ConfigureAwait(false);
                ClearProgress();
                foreach (var f in files) Console.Out.WriteLine(f);
                return 0;
            case ["inspect", .. var rest]:
                return await SealerCli.InvokeAsync(["inspect", self, .. rest], cancellationToken).ConfigureAwait(false);
            case ["push", .. var rest]:
                // the bundle is the source: './shop.run push harbor.site/shop:1.4' (a site's own registry)
                return await SealerCli.InvokeAsync(["push", self, .. rest], cancellationToken).ConfigureAwait(false);
            case ["mirror", .. var rest]:
                // the app images into the site's own registry: './shop.run mirror harbor.site'
                return await SealerCli.InvokeAsync(["mirror", self, .. rest], cancellationToken).ConfigureAwait(false);
            case ["load", .. var rest]:
                if (HasOption(rest, "-i") || HasOption(rest, "--input")) throw Usage("'load' loads this bundle; it takes no -i");
                return await SealerCli.InvokeAsync(["load", "-i", self, .. rest], cancellationToken).ConfigureAwait(false);
            case [("run" or "join" or "check" or "delete" or "support-bundle") and var command, .. var rest]:
                var extra = new List<string>();
                if (!HasOption(rest, "--image")) extra.AddRange(["--image", self]);
                if (command is "run" or "join" && !HasOption(rest, "--sealer-binary")) extra.AddRange(["--sealer-binary", await EmbeddedSealerAsync(bundle, cancellationToken).ConfigureAwait(false)]);
                return await SealerCli.InvokeAsync([command, .. extra, .. rest], cancellationToken).ConfigureAwait(false);
            default:
                return await SealerCli.InvokeAsync(args, cancellationToken).ConfigureAwait(false);
        }
    }

    private static void Help(SiteBundle bundle, TextWriter w)
    {
        var m = bundle.Manifest;
        string me = "./" + Path.GetFileName(bundle.Path);
        w.WriteLine($"{m.Image} — a site bundle: the cluster image ({string.Join(", ", m.Platforms)}) and sealer {m.SealerVersion} for {m.SealerPlatform}.");
        if (m.ArchiveParts is { Count: > 1 } parts)
        {
            w.WriteLine($"It is split in {parts.Count} files, kept together in one folder: {Path.GetFileName(bundle.Path)}, {string.Join(", ", parts.Skip(1).Select(p => p.File))}.");
        }
        w.WriteLine();
        w.WriteLine("Usage:");
        w.WriteLine($"  {me}                             on a terminal: the guided install (asks for hosts and SSH, checks every host, installs)");
        w.WriteLine($"  {me} clusterfile > Clusterfile   write the Clusterfile template{(m.ClusterfileTemplate is null ? " (this bundle has none)" : "")}; fill in hosts and SSH");
        w.WriteLine($"  {me} run -f Clusterfile          install (or resume) the cluster: the same as 'sealer run'");
        w.WriteLine($"  {me} join|check|delete ...       the same as sealer's commands, with this bundle's image");
        w.WriteLine($"  {me} support-bundle [-f Clusterfile]  collect logs, state and configuration of every host into one .tar.gz for the vendor");
        w.WriteLine($"  {me} inspect [-o json]           what is inside: apps, images, platforms, Kubernetes version, size");
        w.WriteLine($"  {me} verify                      re-check every part of this file against its digest");
        w.WriteLine($"  {me} push REGISTRY/NAME:TAG      push the cluster image to a registry (the site's Harbor), read in place");
        w.WriteLine($"  {me} mirror REGISTRY             push its app images into a registry under their own paths (run does it for an externalRegistry)");
        w.WriteLine($"  {me} load [--store DIR]          load the cluster image into a sealer image store, read in place");
        w.WriteLine($"  {me} extract -o DIR              write the sealer binary, the image archive and the template as files");
        w.WriteLine($"  {me} help COMMAND                help of a sealer command (every sealer command works here)");
    }

    private static string OutputDir(string[] rest) => rest switch
    {
        ["-o" or "--output", var d] => d,
        [var o] when o.StartsWith("--output=", StringComparison.Ordinal) => o["--output=".Length..],
        _ => throw Usage("'extract' needs -o DIR"),
    };

    private static bool HasOption(string[] args, string name)
        => args.TakeWhile(a => a != "--").Any(a => a == name || a.StartsWith(name + "=", StringComparison.Ordinal));

    /// <summary>
    /// The embedded sealer as a file of its own (registry hosts get it): ~/.sealer/bin/sealer-SHA12, written once, verified,
    /// renamed into place (<see cref="SiteBundle.ExtractSectionAsync"/>).
    /// </summary>
    private static async Task<string> EmbeddedSealerAsync(SiteBundle bundle, CancellationToken cancellationToken)
    {
        var section = bundle.Manifest.Sealer;
        string dir = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".sealer", "bin");
        string file = Path.Combine(dir, "sealer-" + section.Sha256[..12]);
        if (File.Exists(file) && new FileInfo(file).Length == section.Length) return file;
        Directory.CreateDirectory(dir);
        await bundle.ExtractSectionAsync("sealer", section, file, cancellationToken: cancellationToken).ConfigureAwait(false);
        return file;
    }

    private static SealerException Usage(string message) => new(ErrorCodes.BadCommandLine, message + ". Run with --help for usage.");

    private static long _done, _lastTick;

    private static IProgress<long> Progress(string verb, long total) => new Reporter(n =>
    {
        long done = Interlocked.Add(ref _done, n);
        if (Console.IsErrorRedirected) return;
        long now = Environment.TickCount64;
        if (now - _lastTick < 200) return;
        _lastTick = now;
        Console.Error.Write($"\r{verb} {done * 100 / Math.Max(1, total)}% ({done >> 20} / {total >> 20} MiB)        ");
    });

    private static void ClearProgress()
    {
        if (!Console.IsErrorRedirected) Console.Error.Write("\r" + new string(' ', 70) + "\r");
    }

    private sealed class Reporter(Action<long> report) : IProgress<long>
    {
        public void Report(long value) => report(value);
    }
}
