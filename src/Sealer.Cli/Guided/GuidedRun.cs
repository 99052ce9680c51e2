using Microsoft.Extensions.Logging;
using Sealer.Core.Delivery;
using Sealer.Core.Delivery.Clusterfile;
using Sealer.Core.Delivery.Guided;
using Sealer.Core.Delivery.Install;
using Sealer.Core.Delivery.Ssh;
using Sealer.Core.Diagnostics;
using Sealer.Core.Layout;
using Spectre.Console;

namespace Sealer.Cli.Guided;

/// <summary>What a guided run installs and where it keeps its Clusterfile.</summary>
/// <param name="Image">the cluster image given to the run (the bundle file itself, or --image)</param>
/// <param name="ImageName">its name, for spec.image and the title</param>
/// <param name="SealerBinary">the sealer for the registry hosts (the bundle's embedded one); null: the default</param>
/// <param name="Template">the bundle's Clusterfile template, if any</param>
/// <param name="Directory">where the Clusterfile and the log are written (next to the bundle)</param>
/// <param name="Command">how the user started this run, to say how to run it again</param>
internal sealed record GuidedTarget(string Image, string ImageName, string? SealerBinary, string? Template, string Directory, string Command);

/// <summary>
/// The guided run: a bundle started with no arguments (or <c>sealer run --image IMAGE</c> without a Clusterfile) on a
/// terminal. It asks for the hosts, SSH and the template's values (Spectre.Console prompts, checked by Core's
/// <see cref="HostList"/> and <see cref="ClusterfileTemplate"/>), writes the Clusterfile next to the bundle, asks to trust
/// each new host key (its SHA256 fingerprint shown as ssh shows it), runs the preflight on every host at once and stops
/// there unless all pass, then runs the install with a <see cref="LiveView"/> and ends with <c>sealer check</c>'s result.
/// Without a terminal it never asks: <see cref="NoTerminal"/>.
/// </summary>
internal static class GuidedRun
{
    /// <summary>Whether a person can be asked: stdin and stdout are terminals.</summary>
    public static bool CanAsk => !Console.IsInputRedirected && !Console.IsOutputRedirected;

    public static SealerException NoTerminal(string self) => new(ErrorCodes.GuidedAnswerMissing,
        $"No terminal to ask on (stdin or stdout is not a terminal), so the guided run cannot start. Give a Clusterfile: '{self} clusterfile > Clusterfile', fill in hosts and ssh, then '{self} run -f Clusterfile'.");

    public static async Task<int> RunAsync(GuidedTarget target, CancellationToken cancellationToken)
    {
        // interactive by what CanAsk found (Spectre alone would call a terminal under a CI variable non-interactive)
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Interactive = InteractionSupport.Yes });
        console.Write(new Rule($"[bold]{Markup.Escape(target.ImageName)}[/] — guided install").LeftJustified());
        string clusterfile = Path.Combine(target.Directory, "Clusterfile");
        string runText;
        string? secretFree = null; // what master0 keeps: the Clusterfile as written, never a password given only at a prompt
        if (File.Exists(clusterfile) && await ReuseAsync(console, clusterfile, cancellationToken).ConfigureAwait(false) is { } reused)
        {
            runText = reused;
            secretFree = File.ReadAllText(clusterfile);
        }
        else
        {
            var answers = await AskAsync(console, target, cancellationToken).ConfigureAwait(false);
            var (write, run) = SiteClusterfile.Build(answers, target.Template, clusterfile);
            AtomicFile.WriteAllText(clusterfile, write);
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(clusterfile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            console.MarkupLine($"Wrote [bold]{Markup.Escape(clusterfile)}[/]{(write == run ? "" : " (without the password)")}: the next run and 'join' use it.");
            runText = run;
            secretFree = write;
        }
        var doc = ClusterfileReader.Parse(runText, clusterfile);

        // host keys: asked one by one, known_hosts changed only for the keys the user trusts
        var knownHosts = KnownHosts.Load(KnownHosts.DefaultPath);
        await TrustHostKeysAsync(console, doc, knownHosts, cancellationToken).ConfigureAwait(false);

        string log = Path.Combine(target.Directory, $"{doc.Cluster.Name}-run.log");
        using var logFile = new RunLog(log);
        var options = new RunOptions
        {
            Image = target.Image,
            SealerBinary = target.SealerBinary,
            Ssh = new SshOptions { KnownHostsPath = KnownHosts.DefaultPath, Logger = logFile },
            Logger = logFile,
            Status = logFile.Line,
            Output = logFile.Line,
        };

        // preflight: every host at once; nothing changes unless all pass
        PreflightReport report = null!;
        await console.Status().StartAsync($"Checking {doc.Cluster.Hosts.Count} host(s): SSH, OS/arch, disk, ports, clock, tools...", async _ =>
        {
            report = await new ClusterInstaller(doc, options, runText).PreflightAsync(cancellationToken).ConfigureAwait(false);
        }).ConfigureAwait(false);
        console.Write(new Rule("preflight").LeftJustified());
        WriteReport(console, report);
        if (!report.Passed)
        {
            throw new SealerException(ErrorCodes.PreflightFailed,
                $"Preflight found {report.Problems.Count} problem(s) (listed above); nothing was changed on any host. Fix them and run '{target.Command}' again (it offers the Clusterfile you answered).");
        }

        // the install, with a live view fed by the pipeline's own step and transfer reports
        console.Write(new Rule("install").LeftJustified());
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var view = new LiveView(doc.Cluster.Hosts.Select(h => h.Ip).ToList());
        RunResult result;
        try
        {
            result = await view.RunAsync(console, options, o => new ClusterInstaller(doc, o, secretFree ?? runText).RunAsync(cancellationToken)).ConfigureAwait(false);
        }
        catch (SealerException ex)
        {
            logFile.Line($"error {ex.Code}: {ex.Message}");
            var failed = view.LastFailure;
            console.MarkupLine(failed is null
                ? $"[red]The run failed[/] ({ex.Code})."
                : $"[red]The run failed[/] on [bold]{Markup.Escape(failed.Host)}[/] in step [bold]{Markup.Escape(failed.Step)}[/] ({ex.Code}):");
            console.WriteLine(ex.Message);
            console.MarkupLine($"Logs: [bold]{Markup.Escape(log)}[/]. Fix the cause and run [bold]{Markup.Escape(target.Command)}[/] again: it resumes where it stopped (finished steps are skipped).");
            return SealerCli.ErrorExitCode;
        }

        // summary: sealer check's result and where the logs are
        var check = await new ClusterInstaller(doc, options, runText).CheckAsync(cancellationToken).ConfigureAwait(false);
        console.Write(new Rule("summary").LeftJustified());
        long sent = result.Transfers.Sum(t => t.BytesFromController), relayed = result.Transfers.Sum(t => t.BytesRelayed);
        console.MarkupLine($"cluster [bold]{Markup.Escape(doc.Cluster.Name)}[/] is up: {result.StepsRun.Count} steps run, {result.StepsSkipped.Count} already done; " +
            $"sent {Bytes.Format(sent)} from here, {Bytes.Format(relayed)} host-to-host; {sw.Elapsed.TotalSeconds:0.0} s");
        foreach (var ok in check.Ok) console.MarkupLine($"[green]ok[/]    {Markup.Escape(ok)}");
        foreach (var problem in check.Problems) console.MarkupLine($"[red]FAIL[/]  {Markup.Escape(problem.ToString())}");
        console.MarkupLine(check.Problems.Count == 0 ? $"check: cluster '{Markup.Escape(doc.Cluster.Name)}' is healthy" : $"check: {check.Problems.Count} problem(s)");
        console.MarkupLine($"Clusterfile: [bold]{Markup.Escape(clusterfile)}[/] (add hosts with '{Markup.Escape(target.Command)} join --nodes IPS -f Clusterfile'); logs: [bold]{Markup.Escape(log)}[/]");
        return check.Problems.Count == 0 ? 0 : SealerCli.ErrorExitCode;
    }

    /// <summary>An earlier run's Clusterfile: used again when the user says so (asking for the password or key passphrase it was written without).</summary>
    private static async Task<string?> ReuseAsync(IAnsiConsole console, string path, CancellationToken cancellationToken)
    {
        string text = File.ReadAllText(path);
        var doc = ClusterfileReader.Parse(text, path);
        var c = doc.Cluster;
        bool yes = console.Prompt(new ConfirmationPrompt(
            $"Found [bold]{Markup.Escape(path)}[/] (cluster {Markup.Escape(c.Name)}: masters {Markup.Escape(HostList.Format(c.Masters.Select(h => h.Ip).ToList()))}" +
            $"{(c.Nodes.Any() ? ", nodes " + Markup.Escape(HostList.Format(c.Nodes.Select(h => h.Ip).ToList())) : "")}). Use it?") { DefaultValue = true });
        if (!yes) return null;
        if (c.Ssh.Password is null && c.Ssh.PrivateKeyPath is null && c.Hosts.All(h => h.Ssh.Password is null && h.Ssh.PrivateKeyPath is null))
        {
            string pw = await new LivePrompt($"SSH password of {c.Ssh.User} on the hosts (not shown, not saved):", a => AnswerCheck.From(a.Length == 0 ? "give the password" : null)) { Secret = true }
                .AskAsync(console, cancellationToken).ConfigureAwait(false);
            return SiteClusterfile.WithPassword(text, pw, path);
        }
        if (c.Ssh is { PrivateKeyPath: { } key, PrivateKeyPassphrase: null } && await AskPassphraseAsync(console, key, cancellationToken).ConfigureAwait(false) is { } passphrase)
        {
            return SiteClusterfile.WithKeyPassphrase(text, passphrase, path);
        }
        return text;
    }

    private static async Task<SiteAnswers> AskAsync(IAnsiConsole console, GuidedTarget target, CancellationToken cancellationToken)
    {
        console.MarkupLine("Answer a few questions ([grey]Enter[/] takes the value in brackets; each answer is checked as you type). Addresses: 192.168.0.5, or ranges 192.168.0.5-192.168.0.7, separated by commas.");
        var masters = HostList.Parse(await new LivePrompt("Masters (control plane; 1 or 3 hosts):", a => HostList.Check(a, allowEmpty: false)).AskAsync(console, cancellationToken).ConfigureAwait(false));
        var nodes = HostList.Parse(await new LivePrompt("Nodes (workers; empty for none):", a => HostList.Check(a, allowEmpty: true, masters)) { Hint = "empty for none" }
            .AskAsync(console, cancellationToken).ConfigureAwait(false), masters);
        string user = (await new LivePrompt("SSH user:", a => AnswerCheck.From(a.Trim().Length == 0 || a.Trim().Any(char.IsWhiteSpace) ? "give a user name without spaces" : null)) { Default = "root" }
            .AskAsync(console, cancellationToken).ConfigureAwait(false)).Trim();
        int port = int.Parse(await new LivePrompt("SSH port:", a => AnswerCheck.From(HostList.ValidatePort(a))) { Default = "22" }.AskAsync(console, cancellationToken).ConfigureAwait(false),
            System.Globalization.CultureInfo.InvariantCulture);
        const string ByKey = "a private key file (recommended)", ByPassword = "a password";
        string how = console.Prompt(new SelectionPrompt<string>().Title("Log in with:").AddChoices(ByKey, ByPassword));
        console.MarkupLine($"Log in with: {how}");
        string? key = null, passphrase = null, password = null;
        bool store = false;
        if (how == ByKey)
        {
            string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            string? found = new[] { "id_ed25519", "id_ecdsa", "id_rsa" }.Select(n => Path.Combine(home, ".ssh", n)).FirstOrDefault(File.Exists);
            key = Path.GetFullPath(Expand((await new LivePrompt("Private key file:", KeyFileCheck) { Default = found, Hint = "the path of the private key (e.g. ~/.ssh/id_ed25519)" }
                .AskAsync(console, cancellationToken).ConfigureAwait(false)).Trim()));
            passphrase = await AskPassphraseAsync(console, key, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            password = await new LivePrompt($"Password of {user}:", a => AnswerCheck.From(a.Length == 0 ? "give the password" : null)) { Secret = true }
                .AskAsync(console, cancellationToken).ConfigureAwait(false);
            store = console.Prompt(new ConfirmationPrompt("Write the password into the Clusterfile in clear (anyone who can read the file sees it)? Otherwise the next run asks again") { DefaultValue = false });
        }
        const string AllMasters = "every master (the registry survives losing one; default)", FirstMaster = "the first master only (less disk on the others)";
        var registry = RegistryPlacement.AllMasters;
        if (masters.Count > 1)
        {
            string where = console.Prompt(new SelectionPrompt<string>().Title("Which hosts run the registry the cluster pulls its images from?").AddChoices(AllMasters, FirstMaster));
            console.MarkupLine($"Registry on: {Markup.Escape(where)}");
            registry = where == AllMasters ? RegistryPlacement.AllMasters : RegistryPlacement.FirstMaster;
        }
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in target.Template is null ? [] : ClusterfileTemplate.Placeholders(target.Template))
        {
            values[p.Name] = await new LivePrompt($"{p.Name} (asked by the bundle's Clusterfile, line {p.Line}):", a => AnswerCheck.From(a.Length == 0 ? $"give a value for {p.Name}" : null))
            {
                Default = p.Default,
            }.AskAsync(console, cancellationToken).ConfigureAwait(false);
        }
        return new SiteAnswers
        {
            Image = target.ImageName, Masters = masters, Nodes = nodes, User = user, Port = port,
            KeyFile = key, KeyPassphrase = passphrase, Password = password, StoreSecrets = store, Registry = registry, Values = values,
        };
    }

    /// <summary>
    /// The passphrase of an encrypted key: asked (never echoed, checked against the key on Enter, never written); null
    /// for a key without one. <see cref="PrivateKeys.PassphraseVariable"/>, when set, is used without asking.
    /// </summary>
    private static async Task<string?> AskPassphraseAsync(IAnsiConsole console, string key, CancellationToken cancellationToken)
    {
        if (!PrivateKeys.IsEncrypted(key)) return null;
        if (Environment.GetEnvironmentVariable(PrivateKeys.PassphraseVariable) is { Length: > 0 } fromEnvironment && PrivateKeys.PassphraseProblem(key, fromEnvironment) is null)
        {
            console.MarkupLine($"The key is encrypted: its passphrase is taken from {PrivateKeys.PassphraseVariable}.");
            return fromEnvironment;
        }
        return await new LivePrompt("Passphrase of the key (not shown, not saved):", a => AnswerCheck.From(PrivateKeys.PassphraseProblem(key, a))) { Secret = true }
            .AskAsync(console, cancellationToken).ConfigureAwait(false);
    }

    private static string Expand(string path) =>
        path.StartsWith("~/", StringComparison.Ordinal) ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), path[2..]) : path;

    private static AnswerCheck KeyFileCheck(string answer) =>
        KeyFileProblem(answer) is { } problem ? AnswerCheck.Bad(problem)
        : AnswerCheck.Good(PrivateKeys.IsEncrypted(Expand(answer.Trim())) ? "a private key, encrypted (its passphrase is asked next)" : "a private key");

    private static string? KeyFileProblem(string answer)
    {
        string path = Expand(answer.Trim());
        if (path.Length == 0) return "give the path of the private key (e.g. ~/.ssh/id_ed25519)";
        if (!File.Exists(path)) return $"'{path}' does not exist";
        try
        {
            using var f = File.OpenRead(path);
            Span<byte> head = stackalloc byte[11];
            return f.ReadAtLeast(head, head.Length, throwOnEndOfStream: false) == head.Length && head.SequenceEqual("-----BEGIN "u8) ? null : $"'{path}' is not a private key file (it does not start with -----BEGIN)";
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return $"cannot read '{path}': {ex.Message}";
        }
    }

    /// <summary>Every host's key read at once; each new one shown with its fingerprint and trusted only when the user says so.</summary>
    private static async Task TrustHostKeysAsync(IAnsiConsole console, ClusterfileDocument doc, KnownHosts knownHosts, CancellationToken cancellationToken)
    {
        var byPort = doc.Cluster.Hosts.GroupBy(h => h.Ssh.Port);
        var scanned = new List<(string Host, ScannedHostKey? Key, SealerException? Error)>();
        foreach (var g in byPort)
        {
            scanned.AddRange(await HostKeyScan.ScanAllAsync(g.Select(h => h.Ip).ToList(), g.Key, knownHosts, TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false));
        }
        foreach (var (host, key, error) in scanned)
        {
            if (key is null || key.Status != HostKeyStatus.Unknown) continue; // unreachable and changed keys: the preflight reports them
            console.WriteLine($"The authenticity of host '{KnownHosts.HostName(host, key.Port)}' can't be established.");
            console.WriteLine($"{key.KeyKind} key fingerprint is {key.Fingerprint}.");
            bool trust = console.Prompt(new ConfirmationPrompt($"Trust this key and add it to {Markup.Escape(knownHosts.Path ?? "known_hosts")}?") { DefaultValue = false });
            if (!trust)
            {
                throw new SealerException(ErrorCodes.GuidedHostKeyDeclined,
                    $"The key of {host} ({key.Fingerprint}) was not trusted; nothing was changed on any host. Compare it with the host's own (ssh-keygen -lf /etc/ssh/ssh_host_{key.KeyKind.ToLowerInvariant()}_key.pub, run on the host) and run again.");
            }
            knownHosts.Add(host, key.Port, key.Key);
        }
    }

    private static void WriteReport(IAnsiConsole console, PreflightReport report)
    {
        foreach (var line in report.ToText().TrimEnd('\n').Split('\n'))
        {
            string esc = Markup.Escape(line);
            console.MarkupLine(line.StartsWith("ok ", StringComparison.Ordinal) ? "[green]" + esc[..2] + "[/]" + esc[2..]
                : line.StartsWith("FAIL", StringComparison.Ordinal) ? "[red]" + esc[..4] + "[/]" + esc[4..] : esc);
        }
    }

    /// <summary>The run's log next to the Clusterfile: every step line, remote output line and warning, with a time.</summary>
    private sealed class RunLog : ILogger, IDisposable
    {
        private readonly StreamWriter _writer;
        private readonly object _gate = new();

        public RunLog(string path)
        {
            _writer = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read)) { AutoFlush = true };
            Line($"---- {DateTimeOffset.UtcNow:O} guided run");
        }

        public void Line(string line)
        {
            lock (_gate) _writer.WriteLine($"{DateTimeOffset.UtcNow:HH:mm:ss} {line}");
        }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel)) Line($"{logLevel.ToString().ToLowerInvariant()}: {formatter(state, exception)}");
        }

        public void Dispose() => _writer.Dispose();
    }
}
