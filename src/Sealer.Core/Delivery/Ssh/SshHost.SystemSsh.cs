using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using Sealer.Core.Diagnostics;

namespace Sealer.Core.Delivery.Ssh;

/// <summary>The system OpenSSH client could not carry a stream (not started, login refused, connection broke): use SSH.NET.</summary>
public sealed class SystemSshUnavailableException(string message) : Exception(message);

/// <summary>
/// Bulk streams through the system OpenSSH client. SSH.NET's managed crypto moves ~155 MB/s on a small box where OpenSSH
/// moves ~300 MB/s and more, so big blobs go through <c>ssh</c> when the host logs in by key, with exactly the host key
/// SSH.NET verified at connect pinned in a temporary known_hosts (<c>StrictHostKeyChecking=yes</c>, no global or user
/// known_hosts, no ~/.ssh/config, no agent, batch mode). A different key there is <see cref="ErrorCodes.SshHostKeyChanged"/>,
/// never a reason to trust it; any other failure of ssh itself is a <see cref="SystemSshUnavailableException"/> for the
/// caller to fall back to SSH.NET. Only key file paths and our own fixed command go on the command line, never a secret.
/// </summary>
public sealed partial class SshHost
{
    private static readonly Lazy<string?> s_systemSsh = new(FindSystemSsh);

    /// <summary>The ssh client on PATH (<c>SEALER_SYSTEM_SSH</c>: a path to use, or <c>0</c>/<c>false</c> to never use one).</summary>
    internal static string? SystemSshPath => s_systemSsh.Value;

    private static string? FindSystemSsh()
    {
        string? setting = Environment.GetEnvironmentVariable("SEALER_SYSTEM_SSH");
        if (setting is "0" or "false" or "no" or "off") return null;
        if (!string.IsNullOrEmpty(setting)) return File.Exists(setting) ? setting : null;
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(dir, "ssh");
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>Why bulk streams to this host cannot use the system ssh client, or null when they can.</summary>
    public string? SystemSshUnusableReason =>
        SystemSshPath is null ? "no ssh client on PATH (or SEALER_SYSTEM_SSH=0)"
        : _keyFiles.Count == 0 ? "it logs in with a password"
        : Spec.PrivateKeyPassphrase is { Length: > 0 } ? "its private key has a passphrase"
        : _sudoPassword is not null ? "sudo needs the login password"
        : Spec.JumpHost is not null && _jumpPin is null ? "its jump host's key was not verified"
        : null;

    private readonly SemaphoreSlim _masterLock = new(1, 1);
    private Process? _master;
    private DirectoryInfo? _masterDir;

    /// <summary>
    /// Like <see cref="RunWithInputAsync"/>, through the system ssh client: runs <paramref name="command"/> (as root: sudo -n for
    /// other users) and streams <paramref name="writeInput"/> to its stdin. The first call opens one master connection to the
    /// host (<c>ssh -M</c>, host key checked there); every call is a session multiplexed over it, so a blob costs no new
    /// handshake. Throws <see cref="SystemSshUnavailableException"/> when ssh cannot be used (the caller falls back to
    /// <see cref="RunWithInputAsync"/>), <see cref="ErrorCodes.SshHostKeyChanged"/> when the host does not present the key
    /// verified at connect.
    /// </summary>
    public async Task<CommandResult> RunWithSystemSshAsync(string command, Func<Stream, CancellationToken, Task> writeInput, CommandOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new CommandOptions();
        if (SystemSshUnusableReason is { } reason) throw new SystemSshUnavailableException(reason);
        cancellationToken.ThrowIfCancellationRequested();
        string control = await EnsureMasterAsync(cancellationToken).ConfigureAwait(false);
        string description = options.Description ?? FirstLine(command);
        var timeout = options.Timeout ?? _options.CommandTimeout;
        var psi = NewSshStartInfo();
        foreach (var arg in SystemSshArguments(_masterDir!.FullName, control, master: false)) psi.ArgumentList.Add(arg);
        psi.ArgumentList.Add(Elevate("sh -c " + ShellQuote(command)));
        Process process;
        try
        {
            process = Process.Start(psi) ?? throw new SystemSshUnavailableException($"{SystemSshPath} did not start");
        }
        catch (Exception ex) when (ex is Win32Exception or InvalidOperationException or IOException)
        {
            throw new SystemSshUnavailableException($"cannot start {SystemSshPath}: {ex.Message}");
        }
        using (process)
        {
            var sw = Stopwatch.StartNew();
            var tail = new Tail(30);
            var stdout = new StringBuilder();
            var stderr = new StringBuilder();
            var readOut = PumpAsync(process.StandardOutput.BaseStream, stdout, tail, options.OnOutputLine);
            var readErr = PumpAsync(process.StandardError.BaseStream, stderr, tail, options.OnOutputLine);
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            cts.CancelAfter(timeout);
            try
            {
                try
                {
                    await writeInput(process.StandardInput.BaseStream, cts.Token).ConfigureAwait(false);
                }
                catch (IOException)
                {
                    // ssh or the remote command stopped reading (exited early): the exit code and stderr say why
                }
                finally
                {
                    try { process.StandardInput.Close(); } catch (IOException) { }
                }
                await process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
                await Task.WhenAll(readOut, readErr).WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cts.IsCancellationRequested)
            {
                try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
                if (cancellationToken.IsCancellationRequested) throw new OperationCanceledException(cancellationToken);
                throw new SealerException(ErrorCodes.RemoteCommandTimeout, $"{Address}: '{description}' did not finish within {timeout.TotalSeconds:0} s. Last output:\n{tail}");
            }
            catch (TimeoutException)
            {
                // the output pipes stayed open (a child kept them): what was read is kept
            }
            int exit = process.ExitCode;
            if (exit == 255)
            {
                // ssh itself failed (our receive commands never exit 255): the master connection broke, a session was refused
                throw new SystemSshUnavailableException($"ssh exited 255: {string.Join(" | ", tail.Lines.TakeLast(3))}");
            }
            var result = new CommandResult(exit, stdout.ToString(), stderr.ToString(), tail.Lines, sw.Elapsed);
            if (exit != 0 && options.Check)
            {
                throw new SealerException(ErrorCodes.RemoteCommandFailed, $"{Address}: '{description}' failed with exit code {exit}. Last output:\n{tail}");
            }
            return result;
        }
    }

    /// <summary>Starts (once) the master connection: <c>ssh -M</c> with the pinned known_hosts; returns its control socket.</summary>
    private async Task<string> EnsureMasterAsync(CancellationToken cancellationToken)
    {
        await _masterLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_master is { HasExited: false } && _masterDir is not null) return Path.Combine(_masterDir.FullName, "cm");
            StopSystemSshLocked();
            _masterDir = Directory.CreateTempSubdirectory("sealer-ssh-"); // 0700; the control socket path stays short
            string control = Path.Combine(_masterDir.FullName, "cm");
            await File.WriteAllTextAsync(Path.Combine(_masterDir.FullName, "known_hosts"),
                (PinnedKnownHostsLine ?? KnownHostsLine) + "\n" + (_jumpPin is { } j ? $"{KnownHosts.HostName(j.Host, j.Port)} {KnownHosts.KeyType(j.Key)} {Convert.ToBase64String(j.Key)}\n" : ""),
                cancellationToken).ConfigureAwait(false);
            await File.WriteAllTextAsync(Path.Combine(_masterDir.FullName, "config"), SystemSshConfig(_masterDir.FullName), cancellationToken).ConfigureAwait(false);
            var psi = NewSshStartInfo();
            foreach (var arg in SystemSshArguments(_masterDir.FullName, control, master: true)) psi.ArgumentList.Add(arg);
            // the master's own session reads our pipe: if this process dies, the pipe closes, the session ends and the master
            // exits (with -N an orphaned master would stay connected)
            psi.ArgumentList.Add("exec cat >/dev/null");
            try
            {
                _master = Process.Start(psi) ?? throw new SystemSshUnavailableException($"{SystemSshPath} did not start");
            }
            catch (Exception ex) when (ex is Win32Exception or InvalidOperationException or IOException)
            {
                throw new SystemSshUnavailableException($"cannot start {SystemSshPath}: {ex.Message}");
            }
            var stderr = new StringBuilder();
            var stderrPump = PumpAsync(_master.StandardError.BaseStream, stderr, new Tail(30), null);
            _ = PumpAsync(_master.StandardOutput.BaseStream, new StringBuilder(), new Tail(1), null);
            var deadline = Stopwatch.StartNew();
            var limit = _options.ConnectTimeout + TimeSpan.FromSeconds(5);
            while (!File.Exists(control))
            {
                if (_master.HasExited)
                {
                    await _master.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
                    try
                    {
                        await stderrPump.WaitAsync(TimeSpan.FromSeconds(2), cancellationToken).ConfigureAwait(false);
                    }
                    catch (TimeoutException)
                    {
                    }
                    string err = stderr.ToString();
                    int code = _master.ExitCode;
                    StopSystemSshLocked();
                    if (IsHostKeyFailure(err))
                    {
                        string name = KnownHosts.HostName(Address, Spec.Port);
                        throw new SealerException(ErrorCodes.SshHostKeyChanged,
                            $"The host key {name}{(_jumpPin is { } jp ? $" (or its jump host {KnownHosts.HostName(jp.Host, jp.Port)})" : "")} presented to the system ssh client is not the key verified at connect ({KnownHosts.Fingerprint(HostKey)}); it may be a man-in-the-middle attack, or the host was reinstalled in between. Nothing was sent. Check the host, then run again.");
                    }
                    throw new SystemSshUnavailableException($"ssh exited {code}: {err.Trim().Replace('\n', ' ')}");
                }
                if (deadline.Elapsed > limit)
                {
                    StopSystemSshLocked();
                    throw new SystemSshUnavailableException($"no master connection within {limit.TotalSeconds:0} s");
                }
                await Task.Delay(10, cancellationToken).ConfigureAwait(false);
            }
            return control;
        }
        finally
        {
            _masterLock.Release();
        }
    }

    /// <summary>Closes the master connection of the system ssh client, if one is open (also on Dispose).</summary>
    public void StopSystemSsh()
    {
        _masterLock.Wait();
        try
        {
            StopSystemSshLocked();
        }
        finally
        {
            _masterLock.Release();
        }
    }

    private void StopSystemSshLocked()
    {
        if (_master is not null)
        {
            try
            {
                if (!_master.HasExited)
                {
                    try { _master.StandardInput.Close(); } catch (IOException) { }
                    _master.Kill();
                    _master.WaitForExit(5000);
                }
            }
            catch (InvalidOperationException)
            {
            }
            _master.Dispose();
            _master = null;
        }
        if (_masterDir is not null)
        {
            try { _masterDir.Delete(true); } catch (IOException) { }
            _masterDir = null;
        }
    }

    private static ProcessStartInfo NewSshStartInfo()
    {
        var psi = new ProcessStartInfo(SystemSshPath!)
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        psi.Environment["LC_ALL"] = "C";
        psi.Environment.Remove("SSH_AUTH_SOCK");
        psi.Environment.Remove("SSH_ASKPASS");
        psi.Environment.Remove("DISPLAY");
        return psi;
    }

    /// <summary>Test hook: a known_hosts line to pin instead of the key verified at connect (a host whose key changed).</summary>
    internal string? PinnedKnownHostsLine { get; set; }

    private static bool IsHostKeyFailure(string stderr) =>
        stderr.Contains("Host key verification failed", StringComparison.Ordinal)
        || stderr.Contains("REMOTE HOST IDENTIFICATION HAS CHANGED", StringComparison.Ordinal)
        || stderr.Contains("host key is known", StringComparison.OrdinalIgnoreCase);

    /// <summary>A jump host as SSH.NET reached it: user, address, port and the host key it verified.</summary>
    private sealed record JumpPin(string User, string Host, int Port, byte[] Key);

    private static string HostKeyAlgorithmsFor(byte[] key) => KnownHosts.KeyType(key) is var t && t == "ssh-rsa" ? "rsa-sha2-512,rsa-sha2-256,ssh-rsa" : KnownHosts.KeyType(key);

    private static string ConfigValue(string value) => "\"" + value.Replace("\"", "", StringComparison.Ordinal) + "\"";

    /// <summary>
    /// The ssh_config every ssh process of ours reads (<c>-F</c>), the jump host's too (ProxyJump passes <c>-F</c> on, not
    /// <c>-o</c>): only the pinned known_hosts, batch mode, our key files, no agent, no user or system config.
    /// </summary>
    private string SystemSshConfig(string dir)
    {
        var sb = new StringBuilder();
        // first obtained value wins: host-specific blocks first
        sb.Append("Host ").Append(Address).Append("\n  HostKeyAlgorithms ").Append(HostKeyAlgorithmsFor(HostKey)).Append('\n');
        if (_jumpPin is { } j && j.Host != Address) sb.Append("Host ").Append(j.Host).Append("\n  HostKeyAlgorithms ").Append(HostKeyAlgorithmsFor(j.Key)).Append('\n');
        sb.Append("Host *\n");
        foreach (var option in new[]
        {
            "BatchMode yes", "StrictHostKeyChecking yes", "UserKnownHostsFile " + ConfigValue(Path.Combine(dir, "known_hosts")), "GlobalKnownHostsFile /dev/null",
            "CheckHostIP no", "UpdateHostKeys no", "VerifyHostKeyDNS no",
            "IdentitiesOnly yes", "IdentityAgent none", "PubkeyAuthentication yes", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
            "HostbasedAuthentication no", "GSSAPIAuthentication no", "ControlMaster no", "ControlPath none", "ForwardAgent no", "ForwardX11 no",
            "PermitLocalCommand no", "LogLevel ERROR",
            $"ConnectTimeout {Math.Max(1, (int)_options.ConnectTimeout.TotalSeconds)}", 
            // the same liveness rule as commands over SSH.NET (SshOptions.AliveInterval x AliveCountMax)
            $"ServerAliveInterval {Math.Max(1, (int)Math.Ceiling(_options.AliveInterval.TotalSeconds))}", $"ServerAliveCountMax {Math.Max(1, _options.AliveCountMax)}",
            // AES-GCM first (AES-NI; OpenSSH prefers chacha20-poly1305, which is not faster on such CPUs)
            "Ciphers aes128-gcm@openssh.com,aes256-gcm@openssh.com,chacha20-poly1305@openssh.com,aes128-ctr,aes256-ctr",
        })
        {
            sb.Append("  ").Append(option).Append('\n');
        }
        foreach (var key in _keyFiles) sb.Append("  IdentityFile ").Append(ConfigValue(key)).Append('\n');
        return sb.ToString();
    }

    private List<string> SystemSshArguments(string dir, string control, bool master)
    {
        var args = new List<string> { "-F", Path.Combine(dir, "config"), "-T", "-x", "-a" };
        if (master) args.Add("-M");
        // on the command line: for this process only (they win over the config), not for a jump host's
        foreach (var option in new[] { master ? "ControlMaster=yes" : "ControlMaster=no", "ControlPath=" + control, "ControlPersist=no", "ClearAllForwardings=yes" })
        {
            args.Add("-o");
            args.Add(option);
        }
        if (_jumpPin is { } j) args.AddRange(["-J", $"{j.User}@{(j.Host.Contains(':', StringComparison.Ordinal) ? "[" + j.Host + "]" : j.Host)}:{j.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)}"]);
        args.AddRange(["-p", Spec.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-l", Spec.User, "--", Address]);
        return args;
    }
}
