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
        : Spec.JumpHost is not null ? "it is reached through a jump host"
        : null;

    /// <summary>
    /// Like <see cref="RunWithInputAsync"/>, through the system ssh client: runs <paramref name="command"/> (as root: sudo -n for
    /// other users) and streams <paramref name="writeInput"/> to its stdin. Throws <see cref="SystemSshUnavailableException"/> when
    /// ssh cannot be used (the caller falls back to <see cref="RunWithInputAsync"/>), <see cref="ErrorCodes.SshHostKeyChanged"/>
    /// when the host does not present the key verified at connect.
    /// </summary>
    public async Task<CommandResult> RunWithSystemSshAsync(string command, Func<Stream, CancellationToken, Task> writeInput, CommandOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new CommandOptions();
        if (SystemSshUnusableReason is { } reason) throw new SystemSshUnavailableException(reason);
        cancellationToken.ThrowIfCancellationRequested();
        string description = options.Description ?? FirstLine(command);
        var timeout = options.Timeout ?? _options.CommandTimeout;
        var dir = Directory.CreateTempSubdirectory("sealer-ssh-"); // 0700
        try
        {
            string knownHosts = Path.Combine(dir.FullName, "known_hosts");
            await File.WriteAllTextAsync(knownHosts, (PinnedKnownHostsLine ?? KnownHostsLine) + "\n", cancellationToken).ConfigureAwait(false);
            var psi = new ProcessStartInfo(SystemSshPath!)
            {
                RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            };
            foreach (var arg in SystemSshArguments(knownHosts)) psi.ArgumentList.Add(arg);
            psi.ArgumentList.Add(Elevate("sh -c " + ShellQuote(command)));
            psi.Environment["LC_ALL"] = "C";
            psi.Environment.Remove("SSH_AUTH_SOCK");
            psi.Environment.Remove("SSH_ASKPASS");
            psi.Environment.Remove("DISPLAY");
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
                string err = stderr.ToString();
                if (exit == 255 && IsHostKeyFailure(err))
                {
                    string name = KnownHosts.HostName(Address, Spec.Port);
                    throw new SealerException(ErrorCodes.SshHostKeyChanged,
                        $"The host key {name} presented to the system ssh client is not the key verified at connect ({KnownHosts.Fingerprint(HostKey)}); it may be a man-in-the-middle attack, or the host was reinstalled in between. Nothing was sent. Check the host, then run again.");
                }
                if (exit == 255)
                {
                    // ssh itself failed (our receive commands never exit 255): login refused, connection broken, option unknown
                    throw new SystemSshUnavailableException($"ssh exited 255: {string.Join(" | ", tail.Lines.TakeLast(3))}");
                }
                var result = new CommandResult(exit, stdout.ToString(), err, tail.Lines, sw.Elapsed);
                if (exit != 0 && options.Check)
                {
                    throw new SealerException(ErrorCodes.RemoteCommandFailed, $"{Address}: '{description}' failed with exit code {exit}. Last output:\n{tail}");
                }
                return result;
            }
        }
        finally
        {
            try { dir.Delete(true); } catch (IOException) { }
        }
    }

    /// <summary>Test hook: a known_hosts line to pin instead of the key verified at connect (a host whose key changed).</summary>
    internal string? PinnedKnownHostsLine { get; set; }

    private static bool IsHostKeyFailure(string stderr) =>
        stderr.Contains("Host key verification failed", StringComparison.Ordinal)
        || stderr.Contains("REMOTE HOST IDENTIFICATION HAS CHANGED", StringComparison.Ordinal)
        || stderr.Contains("host key is known", StringComparison.OrdinalIgnoreCase);

    private List<string> SystemSshArguments(string knownHosts)
    {
        string keyType = KnownHosts.KeyType(HostKey);
        string hostKeyAlgorithms = keyType == "ssh-rsa" ? "rsa-sha2-512,rsa-sha2-256,ssh-rsa" : keyType;
        var args = new List<string> { "-F", "/dev/null", "-T", "-x", "-a" };
        foreach (var option in new[]
        {
            "BatchMode=yes", "StrictHostKeyChecking=yes", "UserKnownHostsFile=" + knownHosts, "GlobalKnownHostsFile=/dev/null",
            "HostKeyAlgorithms=" + hostKeyAlgorithms, "CheckHostIP=no", "UpdateHostKeys=no", "VerifyHostKeyDNS=no",
            "IdentitiesOnly=yes", "IdentityAgent=none", "PubkeyAuthentication=yes", "PasswordAuthentication=no", "KbdInteractiveAuthentication=no",
            "ControlMaster=no", "ControlPath=none", "ClearAllForwardings=yes", "ForwardAgent=no", "PermitLocalCommand=no", "LogLevel=ERROR",
            $"ConnectTimeout={Math.Max(1, (int)_options.ConnectTimeout.TotalSeconds)}", "ServerAliveInterval=15", "ServerAliveCountMax=4",
            // AES-GCM first: with AES-NI it costs a fraction of chacha20-poly1305 (OpenSSH's default first choice)
            "Ciphers=aes128-gcm@openssh.com,aes256-gcm@openssh.com,chacha20-poly1305@openssh.com,aes128-ctr,aes256-ctr",
        })
        {
            args.Add("-o");
            args.Add(option);
        }
        foreach (var key in _keyFiles)
        {
            args.Add("-i");
            args.Add(key);
        }
        args.AddRange(["-p", Spec.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-l", Spec.User, "--", Address]);
        return args;
    }
}
