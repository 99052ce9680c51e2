using System.Diagnostics;
using System.Globalization;
using System.Formats.Tar;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Renci.SshNet;
using Renci.SshNet.Common;
using Sealer.Core.Delivery.Clusterfile;
using Sealer.Core.Diagnostics;

namespace Sealer.Core.Delivery.Ssh;

/// <summary>How hosts are reached: known_hosts, trust on first use, timeouts.</summary>
public sealed record SshOptions
{
    /// <summary>known_hosts to verify host keys against (default <c>~/.ssh/known_hosts</c>).</summary>
    public string KnownHostsPath { get; init; } = KnownHosts.DefaultPath;

    /// <summary>Explicit opt-in: accept and record the key of a host that known_hosts does not list. A changed key is never accepted.</summary>
    public bool TrustOnFirstUse { get; init; }

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Default per-command timeout.</summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>
    /// While a command runs, how often the host is asked whether it still answers (a no-op channel that needs a reply),
    /// like OpenSSH's ServerAliveInterval: a host that dies or drops off the network is noticed in
    /// <see cref="AliveInterval"/> × <see cref="AliveCountMax"/>, not after TCP gives up (minutes) or the step timeout.
    /// </summary>
    public TimeSpan AliveInterval { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Unanswered checks in a row after which the host counts as gone (OpenSSH's ServerAliveCountMax).</summary>
    public int AliveCountMax { get; init; } = 3;

    public ILogger Logger { get; init; } = NullLogger.Instance;
}

/// <summary>How to run one remote command.</summary>
public sealed record CommandOptions
{
    /// <summary>Exported before the script runs (values never logged; keys that are not shell names are skipped).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Env { get; init; } = [];

    /// <summary>Null: <see cref="SshOptions.CommandTimeout"/>.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>Each output line (stdout and stderr) as it arrives.</summary>
    public Action<string>? OnOutputLine { get; init; }

    /// <summary>Throw <see cref="ErrorCodes.RemoteCommandFailed"/> on a non-zero exit (default), or return the result.</summary>
    public bool Check { get; init; } = true;

    /// <summary>What the command does, for messages (e.g. "phase init-registry: scripts/init-registry.sh"). Default: its first line.</summary>
    public string? Description { get; init; }
}

/// <summary>A file for <see cref="SshHost.WriteFilesAsync"/>: its path under the target directory, its bytes and its mode.</summary>
public sealed record RemoteFile(string Path, byte[] Content, UnixFileMode Mode);

public sealed record CommandResult(int ExitCode, string Stdout, string Stderr, IReadOnlyList<string> LastLines, TimeSpan Duration)
{
    public bool Succeeded => ExitCode == 0;
}

/// <summary>
/// One SSH connection to a host (SSH.NET): key (with passphrase) or password auth, custom port, optional jump host,
/// sudo for non-root users, host keys verified against known_hosts before authentication. Commands run through
/// bash with the script on stdin (read whole before it runs, see <see cref="ScriptRunner"/>), so env values (which may be secrets) never appear on a command line.
/// Thread-safe: commands may run concurrently (each is its own channel).
/// </summary>
public sealed partial class SshHost : IAsyncDisposable, IDisposable
{
    private readonly SshClient _client;
    private readonly SshClient? _jump;
    private readonly ForwardedPortLocal? _forward;
    private readonly SshOptions _options;
    private readonly string? _sudoPassword;
    private readonly IReadOnlyList<string> _keyFiles;
    private readonly JumpPin? _jumpPin;

    private SshHost(string address, SshSpec spec, SshClient client, SshClient? jump, ForwardedPortLocal? forward, SshOptions options, byte[] hostKey, IReadOnlyList<string> keyFiles,
        JumpPin? jumpPin)
    {
        _keyFiles = keyFiles;
        _jumpPin = jumpPin;
        Address = address;
        HostKey = hostKey;
        Spec = spec;
        _client = client;
        _jump = jump;
        _forward = forward;
        _options = options;
        _sudoPassword = spec.User == "root" ? null : spec.Password;
    }

    public string Address { get; }

    public SshSpec Spec { get; }

    public bool IsRoot => Spec.User == "root";

    /// <summary>The host's public key blob, as verified at connect (used to pin it for host-to-host relays).</summary>
    public byte[] HostKey { get; }

    /// <summary>A known_hosts line for this host, with the key verified at connect.</summary>
    public string KnownHostsLine => $"{KnownHosts.HostName(Address, Spec.Port)} {KnownHosts.KeyType(HostKey)} {Convert.ToBase64String(HostKey)}";

    /// <summary>Connects, verifies the host key and authenticates; every failure is a coded <see cref="SealerException"/>.</summary>
    public static async Task<SshHost> ConnectAsync(string address, SshSpec spec, SshOptions options, KnownHosts knownHosts, CancellationToken cancellationToken = default)
    {
        spec = WithKeyPassphrase(address, spec);
        var auth = AuthMethods(address, spec);
        SshClient? jump = null;
        ForwardedPortLocal? forward = null;
        JumpPin? jumpPin = null;
        try
        {
            string connectHost = address;
            int connectPort = spec.Port;
            if (spec.JumpHost is { } jumpSpec)
            {
                var (ju, jh, jp) = ParseJump(jumpSpec, spec);
                jump = new SshClient(NewInfo(jh, jp, ju, AuthMethods(jh, spec), options));
                jumpPin = new JumpPin(ju, jh, jp, await ConnectVerifiedAsync(jump, jh, jp, options, knownHosts, cancellationToken).ConfigureAwait(false));
                forward = new ForwardedPortLocal("127.0.0.1", 0, address, (uint)spec.Port);
                jump.AddForwardedPort(forward);
                forward.Start();
                connectHost = "127.0.0.1";
                connectPort = (int)forward.BoundPort;
            }
            var client = new SshClient(NewInfo(connectHost, connectPort, spec.User, auth, options));
            byte[] hostKey;
            try
            {
                // the key is checked under the target's real name, also through a jump host
                hostKey = await ConnectVerifiedAsync(client, address, spec.Port, options, knownHosts, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                client.Dispose();
                throw;
            }
            client.KeepAliveInterval = TimeSpan.FromSeconds(15);
            return new SshHost(address, spec, client, jump, forward, options, hostKey, KeyPaths(spec), jumpPin);
        }
        catch
        {
            forward?.Dispose();
            jump?.Dispose();
            throw;
        }
    }

    private static (string User, string Host, int Port) ParseJump(string value, SshSpec spec)
    {
        string user = spec.User;
        int at = value.LastIndexOf('@');
        if (at >= 0)
        {
            user = value[..at];
            value = value[(at + 1)..];
        }
        int port = 22;
        int colon = value.LastIndexOf(':');
        if (colon > 0 && int.TryParse(value[(colon + 1)..], out int p))
        {
            port = p;
            value = value[..colon];
        }
        return (user, value.Trim('[', ']'), port);
    }

    private static ConnectionInfo NewInfo(string host, int port, string user, AuthenticationMethod[] auth, SshOptions options)
    {
        var info = new ConnectionInfo(host, port, user, auth) { Timeout = options.ConnectTimeout, RetryAttempts = 1 };
        PreferFastCiphers(info);
        return info;
    }

    /// <summary>
    /// The client's cipher preference, fastest first where the server offers it (the first of ours it supports is used):
    /// SSH.NET's own order starts with aes128-ctr + hmac-sha2-256 (a managed counter mode and a MAC per packet), while its
    /// AES-GCM runs on the platform's AesGcm (AES-NI, no MAC). Measured one channel into `cat > /dev/null` on the test hosts
    /// (build/bench/ssh-throughput-bench.sh, build/bench/RESULTS.md, four rounds): client CPU per GiB aes256-gcm 1.7-2.5,
    /// aes128-gcm 1.8-2.2 (the two within noise), aes128-ctr 2.6-3.7, chacha20-poly1305 5.9-7.3 s (managed). The rest keeps
    /// SSH.NET's order: every algorithm it offered stays offered.
    /// </summary>
    internal static readonly string[] CipherPreference = ["aes256-gcm@openssh.com", "aes128-gcm@openssh.com", "aes128-ctr", "aes192-ctr", "aes256-ctr"];

    internal static void PreferFastCiphers(ConnectionInfo info)
    {
        var all = info.Encryptions.ToList();
        var first = CipherPreference.Select(name => all.FirstOrDefault(a => a.Key == name)).Where(a => a.Key is not null).ToList();
        info.Encryptions.Clear();
        foreach (var a in first.Concat(all.Where(a => !CipherPreference.Contains(a.Key)))) info.Encryptions.Add(a.Key, a.Value);
    }

    /// <summary>What the SSH.NET connection negotiated (this machine to the host): key exchange, cipher, MAC (empty with an AEAD cipher).</summary>
    public (string KeyExchange, string Cipher, string Mac) Negotiated =>
        (_client.ConnectionInfo.CurrentKeyExchangeAlgorithm ?? "", _client.ConnectionInfo.CurrentClientEncryption ?? "", _client.ConnectionInfo.CurrentClientHmacAlgorithm ?? "");

    /// <summary>The private key files used to log in: ssh.pk, else (no password either) Sealer's default ~/.ssh/id_rsa, plus ed25519 and ecdsa.</summary>
    private static List<string> KeyPaths(SshSpec spec)
    {
        var keyPaths = new List<string>();
        if (spec.PrivateKeyPath is { } pk) keyPaths.Add(pk);
        else if (spec.Password is null)
        {
            string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            keyPaths.AddRange(new[] { "id_rsa", "id_ed25519", "id_ecdsa" }.Select(n => Path.Combine(home, ".ssh", n)).Where(File.Exists));
        }
        return keyPaths;
    }

    /// <summary>
    /// <paramref name="spec"/> with the passphrase of its encrypted key: ssh.pkPasswd when set, else the environment variable
    /// <see cref="PrivateKeys.PassphraseVariable"/>; neither is <see cref="ErrorCodes.SshKeyPassphraseMissing"/>. An
    /// unencrypted key is used without one (the variable does not turn off the system ssh client for it).
    /// </summary>
    private static SshSpec WithKeyPassphrase(string address, SshSpec spec)
    {
        if (spec.PrivateKeyPassphrase is { Length: > 0 }) return spec;
        foreach (var path in KeyPaths(spec))
        {
            if (!PrivateKeys.IsEncrypted(path)) continue;
            string? fromEnvironment = Environment.GetEnvironmentVariable(PrivateKeys.PassphraseVariable);
            if (string.IsNullOrEmpty(fromEnvironment))
            {
                throw new SealerException(ErrorCodes.SshKeyPassphraseMissing,
                    $"The private key '{path}' (for {address}) is encrypted and no passphrase was given. Run on a terminal to be asked for it, or set the environment variable {PrivateKeys.PassphraseVariable} for runs without one " +
                    "(ssh.pkPasswd in the Clusterfile works too, but keeps the passphrase in clear: not recommended).");
            }
            return spec with { PrivateKeyPassphrase = fromEnvironment };
        }
        return spec;
    }

    private static AuthenticationMethod[] AuthMethods(string address, SshSpec spec)
    {
        var methods = new List<AuthenticationMethod>();
        var keyPaths = KeyPaths(spec);
        var keys = new List<IPrivateKeySource>();
        foreach (var path in keyPaths)
        {
            try
            {
                keys.Add(spec.PrivateKeyPassphrase is { Length: > 0 } pass ? new PrivateKeyFile(path, pass) : new PrivateKeyFile(path));
            }
            catch (SshPassPhraseNullOrEmptyException ex)
            {
                throw new SealerException(ErrorCodes.SshBadPrivateKey, $"The private key '{path}' (for {address}) is encrypted: set ssh.pkPasswd in the Clusterfile.", inner: ex);
            }
            catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException)
            {
                throw new SealerException(ErrorCodes.SshBadPrivateKey, $"Cannot read the private key '{path}' (for {address}): {ex.Message}. Check ssh.pk.", inner: ex);
            }
            catch (Exception ex) when (ex is SshException or InvalidOperationException or ArgumentException or FormatException or System.Security.Cryptography.CryptographicException)
            {
                throw new SealerException(ErrorCodes.SshBadPrivateKey,
                    $"Cannot load the private key '{path}' (for {address}): {(spec.PrivateKeyPassphrase is null ? "" : $"the passphrase (ssh.pkPasswd or {PrivateKeys.PassphraseVariable}) may be wrong, or ")}the key format is not supported ({ex.GetType().Name}).", inner: ex);
            }
        }
        if (keys.Count > 0) methods.Add(new PrivateKeyAuthenticationMethod(spec.User, keys.ToArray()));
        if (spec.Password is { } pw)
        {
            methods.Add(new PasswordAuthenticationMethod(spec.User, pw));
            var kbd = new KeyboardInteractiveAuthenticationMethod(spec.User);
            kbd.AuthenticationPrompt += (_, e) =>
            {
                foreach (var prompt in e.Prompts) prompt.Response = pw;
            };
            methods.Add(kbd);
        }
        if (methods.Count == 0)
        {
            throw new SealerException(ErrorCodes.SshBadPrivateKey, $"No way to log in to {address}: set ssh.passwd or ssh.pk in the Clusterfile (no ~/.ssh/id_rsa either).");
        }
        return methods.ToArray();
    }

    private static async Task<byte[]> ConnectVerifiedAsync(SshClient client, string host, int port, SshOptions options, KnownHosts knownHosts, CancellationToken cancellationToken)
    {
        // Offer the key types known_hosts holds for this host first, as OpenSSH does, so a known host is checked against its known key.
        var known = knownHosts.KnownKeyTypes(host, port);
        if (known.Count > 0)
        {
            var algos = client.ConnectionInfo.HostKeyAlgorithms;
            var preferred = algos.Where(a => known.Contains(AlgorithmKeyType(a.Key), StringComparer.Ordinal)).ToList();
            if (preferred.Count > 0)
            {
                var rest = algos.Where(a => !preferred.Contains(a)).ToList();
                algos.Clear();
                foreach (var a in preferred.Concat(rest)) algos.Add(a.Key, a.Value);
            }
        }
        HostKeyStatus? rejected = null;
        string? fingerprint = null;
        byte[] seen = [];
        client.HostKeyReceived += (_, e) =>
        {
            var blob = e.HostKey;
            seen = blob;
            fingerprint = KnownHosts.Fingerprint(blob);
            var status = knownHosts.Check(host, port, blob);
            if (status == HostKeyStatus.Trusted)
            {
                e.CanTrust = true;
            }
            else if (status == HostKeyStatus.Unknown && options.TrustOnFirstUse)
            {
                knownHosts.Add(host, port, blob);
                options.Logger.LogWarning("Trusting {Host} on first use: recorded {KeyType} key {Fingerprint} in {Path}", KnownHosts.HostName(host, port), KnownHosts.KeyType(blob), fingerprint, knownHosts.Path);
                e.CanTrust = true;
            }
            else
            {
                rejected = status;
                e.CanTrust = false;
            }
        };
        string name = KnownHosts.HostName(host, port);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(options.ConnectTimeout + TimeSpan.FromSeconds(5));
            await client.ConnectAsync(timeout.Token).ConfigureAwait(false);
            return seen;
        }
        catch (Exception ex) when (rejected is not null && ex is SshException or SshConnectionException or InvalidOperationException)
        {
            throw rejected == HostKeyStatus.Changed
                ? new SealerException(ErrorCodes.SshHostKeyChanged,
                    $"The host key of {name} has CHANGED (now {fingerprint}); it may be a man-in-the-middle attack, or the host was reinstalled. Nothing was changed on it. If the change is expected, remove the old key with: ssh-keygen -R '{name}' -f '{knownHosts.Path}'.", inner: ex)
                : new SealerException(ErrorCodes.SshHostKeyUnknown,
                    $"The host key of {name} ({fingerprint}) is not in '{knownHosts.Path}'. Add it (ssh-keyscan {(port == 22 ? "" : $"-p {port} ")}{host} >> known_hosts, after checking the fingerprint) or pass --trust-on-first-use to record it.", inner: ex);
        }
        catch (SshAuthenticationException ex)
        {
            throw new SealerException(ErrorCodes.SshAuthFailed, $"SSH login to {name} as '{client.ConnectionInfo.Username}' failed: {ex.Message} Check ssh.user, ssh.passwd / ssh.pk for this host.", inner: ex);
        }
        catch (SocketException ex)
        {
            throw new SealerException(ErrorCodes.SshUnreachable, $"Cannot reach {name}: {ex.Message}. Check the address, the port (ssh.port) and that sshd runs.", inner: ex);
        }
        catch (Exception ex) when (ex is SshOperationTimeoutException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new SealerException(ErrorCodes.SshUnreachable, $"Cannot reach {name}: no answer within {options.ConnectTimeout.TotalSeconds:0} s. Check the address, firewalls and that sshd runs.", inner: ex);
        }
        catch (SshConnectionException ex)
        {
            throw new SealerException(ErrorCodes.SshConnectionLost, $"The SSH connection to {name} failed: {ex.Message}", inner: ex);
        }
    }

    private static string AlgorithmKeyType(string algorithm) => algorithm switch
    {
        "rsa-sha2-512" or "rsa-sha2-256" or "ssh-rsa" => "ssh-rsa",
        _ => algorithm,
    };

    /// <summary>
    /// How a script sent on stdin runs: bash reads it whole (trailing newlines kept), then evaluates it. With <c>bash -s</c>
    /// each line runs as it arrives, so a script that exits early (a failing command under set -e) closed the channel while
    /// its last bytes were still being sent; data that reaches OpenSSH after the channel is gone makes sshd drop the whole
    /// connection ("packet referred to nonexistent channel"), and every later command on it failed as SEA4007. Reading
    /// first means nothing runs before the input ended, and the script's commands see an empty stdin.
    /// </summary>
    internal const string ScriptRunner = "bash -c 's=$(cat; echo .); eval \"${s%.}\"'";

    /// <summary>Runs a bash script (sent on stdin) with the env exported; output streams to <see cref="CommandOptions.OnOutputLine"/>.</summary>
    public Task<CommandResult> RunAsync(string script, CommandOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new CommandOptions();
        var text = new StringBuilder();
        text.Append("set -e\n");
        foreach (var (k, v) in options.Env)
        {
            if (IsShellName(k)) text.Append("export ").Append(k).Append('=').Append(ShellQuote(v)).Append('\n');
        }
        text.Append(script).Append('\n');
        byte[] stdin = Encoding.UTF8.GetBytes(text.ToString());
        return ExecuteAsync(Elevate(ScriptRunner), async (input, ct) => await input.WriteAsync(stdin, ct).ConfigureAwait(false),
            options with { Description = options.Description ?? FirstLine(script) }, cancellationToken);
    }

    /// <summary>
    /// Runs <paramref name="command"/> (our own fixed command line: no secrets in it) and streams <paramref name="writeInput"/> to its stdin,
    /// e.g. a blob into <c>cat &gt;&gt; file</c> or a tar stream into <c>tar -x</c>.
    /// </summary>
    public Task<CommandResult> RunWithInputAsync(string command, Func<Stream, CancellationToken, Task> writeInput, CommandOptions? options = null, CancellationToken cancellationToken = default) =>
        ExecuteAsync(Elevate("sh -c " + ShellQuote(command)), writeInput, (options ?? new CommandOptions()) with { Description = options?.Description ?? FirstLine(command) }, cancellationToken);

    /// <summary>
    /// Runs <paramref name="command"/> (our own fixed command line) and hands its stdout, as it arrives, to
    /// <paramref name="readOutput"/> (e.g. <c>cat FILE</c> into a verifying ingest); waits for both. Stderr is kept as usual.
    /// </summary>
    public Task<CommandResult> ReadOutputAsync(string command, Func<Stream, CancellationToken, Task> readOutput, CommandOptions? options = null, CancellationToken cancellationToken = default) =>
        ExecuteAsync(Elevate("sh -c " + ShellQuote(command)), null, (options ?? new CommandOptions()) with { Description = options?.Description ?? FirstLine(command) }, cancellationToken, readOutput);

    /// <summary>
    /// Writes <paramref name="files"/> under <paramref name="directory"/> in one command: an in-memory PAX tar of them (sorted
    /// by path, each with its mode) extracted by <c>tar -x --no-same-owner</c>; the directory is created when missing. With
    /// <paramref name="privateDirectories"/> it runs under <c>umask 077</c>, so the directories it creates are root-only.
    /// </summary>
    public Task<CommandResult> WriteFilesAsync(string directory, IEnumerable<RemoteFile> files, CommandOptions? options = null, bool privateDirectories = false, CancellationToken cancellationToken = default)
    {
        using var ms = new MemoryStream();
        using (var tar = new TarWriter(ms, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var f in files.OrderBy(f => f.Path, StringComparer.Ordinal))
            {
                tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, f.Path.TrimStart('/')) { DataStream = new MemoryStream(f.Content), Mode = f.Mode });
            }
        }
        var data = ms.ToArray();
        string dir = ShellQuote(directory);
        return RunWithInputAsync($"{(privateDirectories ? "umask 077; " : "")}mkdir -p {dir} && tar -x -C {dir} --no-same-owner",
            (s, c) => s.WriteAsync(data, c).AsTask(), options, cancellationToken);
    }

    private string Elevate(string command) => IsRoot ? command : _sudoPassword is null ? "sudo -n " + command : "sudo -S -p '' " + command;

    private async Task<CommandResult> ExecuteAsync(string commandLine, Func<Stream, CancellationToken, Task>? writeInput, CommandOptions options, CancellationToken cancellationToken,
        Func<Stream, CancellationToken, Task>? readOutput = null)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var timeout = options.Timeout ?? _options.CommandTimeout;
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        var sw = Stopwatch.StartNew();
        await EnsureConnectedAsync(cts.Token).ConfigureAwait(false);
        var (cmd, exec) = await StartCommandAsync(commandLine, cts.Token).ConfigureAwait(false);
        using var commandScope = cmd;
        var tail = new Tail(30);
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        var readOut = readOutput is null ? PumpAsync(cmd.OutputStream, stdout, tail, options.OnOutputLine) : readOutput(cmd.OutputStream, cts.Token);
        var readErr = PumpAsync(cmd.ExtendedOutputStream, stderr, tail, options.OnOutputLine);
        using var watchStop = new CancellationTokenSource();
        var lost = new StrongBox<bool>();
        var watch = WatchAliveAsync(cts, lost, watchStop.Token);
        Exception? inputBroke = null;
        try
        {
            async Task WriteAllAsync()
            {
                using var input = new CommandInputStream(cmd.CreateInputStream(), exec);
                if (_sudoPassword is not null && !IsRoot)
                {
                    await input.WriteAsync(Encoding.UTF8.GetBytes(_sudoPassword + "\n"), cts.Token).ConfigureAwait(false);
                }
                if (writeInput is not null) await writeInput(input, cts.Token).ConfigureAwait(false);
            }
            var writing = WriteAllAsync();
            if (await Task.WhenAny(writing, exec).ConfigureAwait(false) == exec && !writing.IsCompleted)
            {
                // The command finished before it read all its input (e.g. `cat > file` on a full disk). The input stream
                // refuses further writes now (CommandInputStream), so no data follows the channel's close; a write blocked on
                // channel window space that never comes is left behind (it fails once the command is disposed).
                _ = writing.ContinueWith(static t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            }
            else
            {
                try
                {
                    await writing.ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is SshException or IOException or ObjectDisposedException or InvalidOperationException && ex is not SshConnectionException && !cts.IsCancellationRequested)
                {
                    // (InvalidOperationException: "The input stream can be used only during execution" — the command had
                    // already finished when its input was opened.)
                    // The command may finish before it read all its input (a failing `cat > file`): the server closes the
                    // channel while data or the EOF are still being sent. Writing (or closing) the input then fails, though the
                    // command ran and has an exit status.
                    // Its exit status decides; only when there is none did the connection break.
                    inputBroke = ex;
                }
            }
            await exec.ConfigureAwait(false);
            if (inputBroke is InvalidOperationException && cmd.ExitStatus is null)
            {
                throw new SealerException(ErrorCodes.SshConnectionLost, $"{Address}: the SSH channel for '{options.Description}' closed before it ran ({inputBroke.Message}); run again to resume.", inner: inputBroke);
            }
            if (inputBroke is not null && cmd.ExitStatus is null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(inputBroke);
        }
        catch (InvalidOperationException) when (cts.IsCancellationRequested)
        {
            // cancelled before the channel was open: the input stream is refused
            if (cancellationToken.IsCancellationRequested) throw new OperationCanceledException(cancellationToken);
            throw new SealerException(ErrorCodes.RemoteCommandTimeout, $"{Address}: '{options.Description}' did not start within {timeout.TotalSeconds:0} s.");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && cts.IsCancellationRequested && Volatile.Read(ref lost.Value))
        {
            var silent = _options.AliveInterval * _options.AliveCountMax;
            throw new SealerException(ErrorCodes.SshConnectionLost,
                $"{Address}: the host stopped answering during '{options.Description}' (no reply to {_options.AliveCountMax} checks in {silent.TotalSeconds:0} s): " +
                $"check that it is up and reachable, then run again to resume. Last output:\n{tail}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && cts.IsCancellationRequested)
        {
            throw new SealerException(ErrorCodes.RemoteCommandTimeout,
                $"{Address}: '{options.Description}' did not finish within {timeout.TotalSeconds:0} s. Last output:\n{tail}");
        }
        catch (Exception ex) when (ex is SshConnectionException or SshException or IOException or ObjectDisposedException && ex is not SealerException)
        {
            if (cancellationToken.IsCancellationRequested) throw new OperationCanceledException(cancellationToken);
            throw new SealerException(ErrorCodes.SshConnectionLost, $"{Address}: the SSH connection broke during '{options.Description}' ({ex.Message}); run again to resume.", inner: ex);
        }
        finally
        {
            await watchStop.CancelAsync().ConfigureAwait(false);
            try
            {
                await watch.WaitAsync(TimeSpan.FromSeconds(2), CancellationToken.None).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // a probe stuck on a dead connection: it holds nothing of this command's
            }
            // the output streams end when the channel closes; after a cancellation they may never: do not wait long for them
            try
            {
                await Task.WhenAll(readErr, readOutput is null ? readOut : Task.CompletedTask).WaitAsync(cts.IsCancellationRequested ? TimeSpan.FromMilliseconds(500) : TimeSpan.FromSeconds(5), CancellationToken.None).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
            }
        }
        int exit = cmd.ExitStatus ?? -1;
        // a caller's reader (a download) is waited for to its end, and its failure (a digest mismatch) is the result
        if (readOutput is not null && exit == 0) await readOut.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        var result = new CommandResult(exit, stdout.ToString(), stderr.ToString(), tail.Lines, sw.Elapsed);
        if (exit != 0 && options.Check)
        {
            if (!IsRoot && (result.Stderr.Contains("sudo: a password is required", StringComparison.Ordinal) || result.Stderr.Contains("sudo: command not found", StringComparison.Ordinal)
                || result.Stderr.Contains("incorrect password", StringComparison.Ordinal)))
            {
                throw new SealerException(ErrorCodes.SudoFailed, $"{Address}: user '{Spec.User}' is not root and sudo failed: {tail}. Allow passwordless sudo, give ssh.passwd, or log in as root.");
            }
            throw new SealerException(ErrorCodes.RemoteCommandFailed, $"{Address}: '{options.Description}' failed with exit code {exit}. Last output:\n{tail}");
        }
        return result;
    }

    private readonly SemaphoreSlim _reconnect = new(1, 1);

    /// <summary>Opens the command's channel and starts it. A connection the server dropped can still look connected
    /// until SSH.NET reads from it: the channel's open then fails on the socket (broken pipe, reset) before anything ran
    /// on the host, so it is safe to connect again (the host key checked again) and start it once more.</summary>
    private async Task<(SshCommand Command, Task Exec)> StartCommandAsync(string commandLine, CancellationToken cancellationToken)
    {
        for (int attempt = 0; ; attempt++)
        {
            var cmd = _client.CreateCommand(commandLine);
            try
            {
                return (cmd, cmd.ExecuteAsync(cancellationToken));
            }
            catch (Exception ex) when (ex is SshConnectionException or SocketException or ObjectDisposedException or InvalidOperationException)
            {
                cmd.Dispose();
                if (attempt > 0 || ex is not (SocketException or SshConnectionException))
                {
                    throw new SealerException(ErrorCodes.SshConnectionLost, $"{Address}: the SSH connection is gone ({ex.Message}); run again to resume.", inner: ex);
                }
                _options.Logger.LogWarning("{Host}: the SSH connection had dropped ({Message}); connecting again", Address, ex.Message);
                TryDisconnect();
                await EnsureConnectedAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Closes the connection, whatever state its socket is in (already dropped, disposed).</summary>
    private void TryDisconnect()
    {
        try { _client.Disconnect(); } catch (Exception ex) when (ex is SshException or ObjectDisposedException or InvalidOperationException or SocketException) { }
    }

    /// <summary>
    /// Connects again when the connection was dropped between commands (sshd drops a whole connection when data for a
    /// channel it already freed arrives, which a command that exits before reading all its input can cause), with the same
    /// host-key check against known_hosts as the first connect. A host that is really gone still fails here, as SEA4007.
    /// </summary>
    private async Task EnsureConnectedAsync(CancellationToken cancellationToken)
    {
        if (_client.IsConnected) return;
        await _reconnect.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_client.IsConnected) return;
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_options.ConnectTimeout + TimeSpan.FromSeconds(5));
            await _client.ConnectAsync(timeout.Token).ConfigureAwait(false);
            _options.Logger.LogWarning("{Host}: the SSH connection had closed; connected again", Address);
        }
        catch (Exception ex) when (ex is SshException or SocketException or OperationCanceledException or InvalidOperationException && !cancellationToken.IsCancellationRequested)
        {
            throw new SealerException(ErrorCodes.SshConnectionLost, $"{Address}: the SSH connection is gone and connecting again failed ({ex.Message}); check the host, then run again to resume.", inner: ex);
        }
        finally
        {
            _reconnect.Release();
        }
    }

    /// <summary>
    /// Until <paramref name="stop"/>, opens a no-op channel every <see cref="SshOptions.AliveInterval"/>; after
    /// <see cref="SshOptions.AliveCountMax"/> unanswered ones in a row it sets <paramref name="lost"/>, then cancels <paramref name="command"/>.
    /// </summary>
    private async Task WatchAliveAsync(CancellationTokenSource command, StrongBox<bool> lost, CancellationToken stop)
    {
        if (_options.AliveInterval <= TimeSpan.Zero || _options.AliveCountMax <= 0) return;
        int misses = 0;
        try
        {
            while (true)
            {
                await Task.Delay(_options.AliveInterval, stop).ConfigureAwait(false);
                using var probeCts = CancellationTokenSource.CreateLinkedTokenSource(stop);
                probeCts.CancelAfter(_options.AliveInterval);
                try
                {
                    using var probe = _client.CreateCommand("true");
                    await probe.ExecuteAsync(probeCts.Token).ConfigureAwait(false);
                    misses = 0;
                }
                catch (Exception ex) when (!stop.IsCancellationRequested && ex is OperationCanceledException or SshException or IOException or ObjectDisposedException or InvalidOperationException)
                {
                    if (++misses < _options.AliveCountMax) continue;
                    _options.Logger.LogWarning("{Host}: no answer to {Count} liveness checks; giving up on the running command", Address, misses);
                    Volatile.Write(ref lost.Value, true);
                    await command.CancelAsync().ConfigureAwait(false);
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// A command's stdin that writes in pieces of at most 32 KiB (one SSH data message each) and refuses to write once the
    /// command has finished: SSH.NET checks that the channel is open only when a write starts, so one large write kept
    /// sending after the server closed the channel, and OpenSSH drops the whole connection on data for a channel it freed.
    /// </summary>
    private sealed class CommandInputStream(Stream inner, Task command) : Stream
    {
        private const int Piece = 32 * 1024;

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            while (buffer.Length > 0)
            {
                Ensure();
                int n = Math.Min(Piece, buffer.Length);
                inner.Write(buffer[..n]);
                buffer = buffer[n..];
            }
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            while (buffer.Length > 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                Ensure();
                int n = Math.Min(Piece, buffer.Length);
                await inner.WriteAsync(buffer[..n], cancellationToken).ConfigureAwait(false);
                buffer = buffer[n..];
            }
        }

        private void Ensure()
        {
            if (command.IsCompleted) throw new IOException("the remote command has finished and reads no more input");
        }

        public override void Flush()
        {
            if (!command.IsCompleted) inner.Flush();
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            // closing sends EOF; after the command finished the channel is gone and an EOF would be data for a freed channel
            if (disposing && !command.IsCompleted) inner.Dispose();
            base.Dispose(disposing);
        }
    }

    private static async Task PumpAsync(Stream stream, StringBuilder all, Tail tail, Action<string>? onLine)
    {
        try
        {
            using var reader = new StreamReader(stream, Encoding.UTF8, false, 16 * 1024, leaveOpen: true);
            while (await reader.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                if (all.Length < 4 * 1024 * 1024) all.Append(line).Append('\n');
                tail.Add(line);
                onLine?.Invoke(line);
            }
        }
        catch (Exception ex) when (ex is ObjectDisposedException or IOException)
        {
            // the channel closed under us; what was read is kept
        }
    }

    private static string FirstLine(string script)
    {
        var line = script.Trim().Split('\n')[0].Trim();
        return line.Length > 120 ? line[..117] + "..." : line;
    }

    public static bool IsShellName(string name) =>
        name.Length > 0 && (char.IsAsciiLetter(name[0]) || name[0] == '_') && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');

    /// <summary>Single-quotes a value for sh.</summary>
    public static string ShellQuote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    /// <summary>Items a host script hands one process at a time (<see cref="ForEachChunk"/>): a process is ~5 ms on a small
    /// VM, so a command per blob cost seconds per thousand (build/bench/RESULTS.md, 2026-12-05), while 500 names stay far
    /// under any argument-length limit.</summary>
    public const int ChunkSize = 500;

    /// <summary>
    /// A bash line that runs <paramref name="command"/> once per <see cref="ChunkSize"/> items of the bash array
    /// <paramref name="array"/> (nothing when it is empty), the items put where <c>{}</c> is, quoted, as find's <c>-exec</c>:
    /// <c>ForEachChunk("d", "stat -c '%n %s' -- {} || true")</c>. Uses <c>i</c>; for <see cref="RunAsync"/> (bash), not
    /// sh.
    /// </summary>
    public static string ForEachChunk(string array, string command)
    {
        if (!IsShellName(array)) throw new ArgumentException($"'{array}' is not a shell name.", nameof(array));
        if (!command.Contains("{}", StringComparison.Ordinal)) throw new ArgumentException("The command has no {} for the items.", nameof(command));
        string items = "\"${" + array + "[@]:i:" + ChunkSize.ToString(CultureInfo.InvariantCulture) + "}\"";
        return "for ((i = 0; i < ${#" + array + "[@]}; i += " + ChunkSize.ToString(CultureInfo.InvariantCulture) + ")); do " + command.Replace("{}", items, StringComparison.Ordinal) + "; done";
    }

    public void Dispose()
    {
        StopSystemSsh();
        TryDisconnect();
        _client.Dispose();
        if (_forward is not null)
        {
            try { _forward.Stop(); } catch (Exception ex) when (ex is SshException or ObjectDisposedException or InvalidOperationException) { }
            _forward.Dispose();
        }
        _jump?.Dispose();
        _reconnect.Dispose();
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    private sealed class Tail(int max)
    {
        private readonly Queue<string> _lines = new();

        public IReadOnlyList<string> Lines
        {
            get { lock (_lines) return _lines.ToList(); }
        }

        public void Add(string line)
        {
            lock (_lines)
            {
                _lines.Enqueue(line);
                while (_lines.Count > max) _lines.Dequeue();
            }
        }

        public override string ToString()
        {
            var lines = Lines;
            return lines.Count == 0 ? "  (no output)" : string.Join('\n', lines.TakeLast(15).Select(l => "  | " + l));
        }
    }
}
