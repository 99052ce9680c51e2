using System.Security.Cryptography;
using Sealer.Core.Delivery.Clusterfile;
using Sealer.Core.Delivery.Ssh;
using Sealer.Core.Diagnostics;

namespace Sealer.Delivery.Tests;

[Collection(HostsCollection.Name)]
public class SshHostTests(TestHosts hosts)
{
    private SshOptions Options(string knownHosts, bool tofu = false) =>
        new() { KnownHostsPath = knownHosts, TrustOnFirstUse = tofu, ConnectTimeout = TimeSpan.FromSeconds(3) };

    private async Task<SshHost> ConnectAsync(int i, SshSpec spec, string? knownHosts = null, bool tofu = false)
    {
        var kh = knownHosts ?? hosts.KnownHostsFile;
        return await SshHost.ConnectAsync(hosts.Hosts[i].Ip, spec, Options(kh, tofu), KnownHosts.Load(kh));
    }

    [Fact]
    public async Task The_managed_client_negotiates_AES_GCM_with_a_real_sshd_and_still_offers_every_cipher()
    {
        // SSH.NET's own order would pick aes128-ctr + hmac-sha2-256 (its first): ~1.5x the CPU per byte of AES-GCM (RESULTS.md)
        await using var rsaHost = await ConnectAsync(0, hosts.KeySsh);
        await using var edHost = await ConnectAsync(1, hosts.KeySsh);
        foreach (var h in new[] { rsaHost, edHost })
        {
            var (kex, cipher, mac) = h.Negotiated;
            Assert.Equal("aes256-gcm@openssh.com", cipher);
            Assert.Equal("", mac); // AEAD: no separate MAC
            Assert.NotEqual("", kex);
            Assert.Equal(0, (await h.RunAsync("true")).ExitCode);
        }
        // only the order changes: a server without AES-GCM still finds every cipher SSH.NET supports
        var stock = new Renci.SshNet.ConnectionInfo("x", "root", new Renci.SshNet.PasswordAuthenticationMethod("root", "x"));
        var names = stock.Encryptions.Keys.ToList();
        SshHost.PreferFastCiphers(stock);
        Assert.Equal(["aes256-gcm@openssh.com", "aes128-gcm@openssh.com", "aes128-ctr"], stock.Encryptions.Keys.Take(3));
        Assert.Equal(names.Order(StringComparer.Ordinal), stock.Encryptions.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Key_auth_runs_commands_with_env_streamed_output_and_exit_codes()
    {
        await using var h = await ConnectAsync(0, hosts.KeySsh);
        var lines = new List<string>();
        var r = await h.RunAsync("echo \"$A|$B\"; hostname; echo err >&2", new CommandOptions
        {
            Env = [new("A", "it's \"quoted\"; a,b"), new("B", "$HOME `x`"), new("bad-name", "skipped")],
            OnOutputLine = l => { lock (lines) lines.Add(l); },
        });
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("it's \"quoted\"; a,b|$HOME `x`\nsealer-h1\n", r.Stdout);
        Assert.Equal("err\n", r.Stderr);
        Assert.Contains("sealer-h1", lines);
        Assert.Contains("err", lines);

        var failed = await h.RunAsync("echo before; exit 7", new CommandOptions { Check = false });
        Assert.Equal(7, failed.ExitCode);
        var ex = await Assert.ThrowsAsync<SealerException>(() => h.RunAsync("echo last-words; false", new CommandOptions { Description = "phase test" }));
        Assert.Equal(ErrorCodes.RemoteCommandFailed, ex.Code);
        Assert.Contains("10.200.0.11", ex.Message, StringComparison.Ordinal);
        Assert.Contains("phase test", ex.Message, StringComparison.Ordinal);
        Assert.Contains("last-words", ex.Message, StringComparison.Ordinal);

        // the command exits while its input is still being sent (bash -s runs `false` before the rest of the script arrived):
        // its exit status counts (SEA4005), not the broken input stream (this raced into SEA4007 on short scripts)
        var padding = string.Concat(Enumerable.Repeat("# " + new string('x', 1000) + "\n", 4096));
        for (int i = 0; i < 3; i++)
        {
            ex = await Assert.ThrowsAsync<SealerException>(() => h.RunAsync("false\n" + padding));
            Assert.True(ex.Code == ErrorCodes.RemoteCommandFailed, ex.ToString());
            var early = await h.RunWithInputAsync("exit 3", (input, ct) => input.WriteAsync(new byte[8 << 20], ct).AsTask(), new CommandOptions { Check = false });
            Assert.Equal(3, early.ExitCode);
        }
    }

    [Fact]
    public async Task Passphrase_key_RSA_key_password_and_custom_port_work()
    {
        await using (var h = await ConnectAsync(1, new SshSpec { PrivateKeyPath = hosts.PassphraseKey, PrivateKeyPassphrase = hosts.Passphrase }))
            Assert.Equal("sealer-h2\n", (await h.RunAsync("hostname")).Stdout);
        await using (var h = await ConnectAsync(1, new SshSpec { PrivateKeyPath = hosts.RsaKey }))
            Assert.Equal("sealer-h2\n", (await h.RunAsync("hostname")).Stdout);
        await using (var h = await ConnectAsync(2, new SshSpec { Password = hosts.Password, Port = 2222 }))
            Assert.Equal("sealer-h3\n", (await h.RunAsync("hostname")).Stdout);
    }

    [Fact]
    public async Task Missing_or_wrong_passphrase_is_a_coded_error()
    {
        // (SEALER_SSH_KEY_PASSPHRASE is not set in the test process; GuidedRunTests give it to the CLI)
        var ex = await Assert.ThrowsAsync<SealerException>(() => ConnectAsync(1, new SshSpec { PrivateKeyPath = hosts.PassphraseKey }));
        Assert.Equal(ErrorCodes.SshKeyPassphraseMissing, ex.Code);
        Assert.Contains("pkPasswd", ex.Message, StringComparison.Ordinal);
        Assert.Contains(PrivateKeys.PassphraseVariable, ex.Message, StringComparison.Ordinal);
        Assert.True(PrivateKeys.IsEncrypted(hosts.PassphraseKey));
        Assert.False(PrivateKeys.IsEncrypted(hosts.PrivateKey));
        Assert.Null(PrivateKeys.PassphraseProblem(hosts.PassphraseKey, hosts.Passphrase));
        Assert.DoesNotContain("wrong-pass", PrivateKeys.PassphraseProblem(hosts.PassphraseKey, "wrong-pass"), StringComparison.Ordinal);
        var ex2 = await Assert.ThrowsAsync<SealerException>(() => ConnectAsync(1, new SshSpec { PrivateKeyPath = hosts.PassphraseKey, PrivateKeyPassphrase = "wrong-pass" }));
        Assert.Equal(ErrorCodes.SshBadPrivateKey, ex2.Code);
        Assert.DoesNotContain("wrong-pass", ex2.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Wrong_password_is_auth_failed_without_the_password()
    {
        var ex = await Assert.ThrowsAsync<SealerException>(() => ConnectAsync(0, new SshSpec { Password = "not-the-password-42" }));
        Assert.Equal(ErrorCodes.SshAuthFailed, ex.Code);
        Assert.DoesNotContain("not-the-password-42", ex.ToDiagnosticString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Changed_host_key_is_refused_before_authentication()
    {
        var kh = Path.GetTempFileName();
        try
        {
            // a different ed25519 key for h1
            var other = File.ReadAllLines(hosts.KnownHostsFile).First(l => l.StartsWith("10.200.0.12 ssh-ed25519", StringComparison.Ordinal));
            File.WriteAllText(kh, "10.200.0.11" + other["10.200.0.12".Length..] + "\n");
            var ex = await Assert.ThrowsAsync<SealerException>(() => ConnectAsync(0, hosts.KeySsh, kh, tofu: true));
            Assert.Equal(ErrorCodes.SshHostKeyChanged, ex.Code);
            Assert.Contains("ssh-keygen -R", ex.Message, StringComparison.Ordinal);
            Assert.Single(File.ReadAllLines(kh)); // trust-on-first-use never replaces a changed key
        }
        finally { File.Delete(kh); }
    }

    [Fact]
    public async Task Unknown_host_needs_opt_in_and_trust_on_first_use_records_a_hashed_key()
    {
        var kh = Path.Combine(Path.GetTempPath(), "sealer-kh-" + Guid.NewGuid().ToString("N"));
        try
        {
            var ex = await Assert.ThrowsAsync<SealerException>(() => ConnectAsync(3, hosts.KeySsh, kh));
            Assert.Equal(ErrorCodes.SshHostKeyUnknown, ex.Code);
            Assert.False(File.Exists(kh));
            await using (var h = await ConnectAsync(3, hosts.KeySsh, kh, tofu: true)) await h.RunAsync("true");
            var line = Assert.Single(File.ReadAllLines(kh));
            Assert.StartsWith("|1|", line, StringComparison.Ordinal);
            Assert.DoesNotContain("10.200.0.14", line, StringComparison.Ordinal);
            await using (var h = await ConnectAsync(3, hosts.KeySsh, kh)) await h.RunAsync("true"); // now known, no opt-in needed
        }
        finally { File.Delete(kh); }
    }

    [Fact]
    public async Task Hashed_known_hosts_entries_verify()
    {
        await using var h = await ConnectAsync(2, hosts.KeySsh, hosts.HashedKnownHostsFile);
        Assert.Equal("sealer-h3\n", (await h.RunAsync("hostname")).Stdout);
    }

    [Fact]
    public async Task A_dropped_connection_is_a_coded_error_and_the_next_command_connects_again_with_the_key_checked()
    {
        await using var h = await ConnectAsync(1, hosts.KeySsh);
        // the sshd process serving this connection goes away (as when sshd drops a connection): this command is lost ...
        var ex = await Assert.ThrowsAsync<SealerException>(() => h.RunAsync("kill -9 $PPID; sleep 5", new CommandOptions { Timeout = TimeSpan.FromSeconds(20) }));
        Assert.True(ex.Code is ErrorCodes.SshConnectionLost, ex.ToString());
        Assert.Contains("10.200.0.12", ex.Message, StringComparison.Ordinal);
        // ... and the next one runs on a new connection, the host key checked against known_hosts again
        var r = await h.RunAsync("hostname");
        Assert.Equal("sealer-h2\n", r.Stdout);
    }

    [Fact]
    public async Task A_connection_dropped_between_commands_is_opened_again_for_the_next_one()
    {
        // sshd's process for this connection killed from another connection while none of ours runs: the client may not
        // have seen it yet (the channel's open then fails on the socket, before anything ran on the host) or may have
        // (the connection reads as closed): either way the next command connects again and runs, the key checked again.
        var log = new ListLogger();
        await using var h = await SshHost.ConnectAsync(hosts.Hosts[1].Ip, hosts.KeySsh, Options(hosts.KnownHostsFile) with { Logger = log }, KnownHosts.Load(hosts.KnownHostsFile));
        for (int round = 0; round < 3; round++)
        {
            string pid = (await h.RunAsync("echo $PPID")).Stdout.Trim();
            await using (var other = await ConnectAsync(1, hosts.KeySsh)) await other.RunAsync($"kill -9 {pid}");
            Assert.Equal("sealer-h2\n", (await h.RunAsync("hostname")).Stdout);
        }
        Assert.True(log.Lines.Count(m => m.Contains("connected again", StringComparison.Ordinal)) == 3, string.Join("\n", log.Lines));
    }

    [Fact]
    public async Task Unreachable_host_is_a_coded_error_quickly()
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<SealerException>(() => SshHost.ConnectAsync("10.200.0.99", hosts.KeySsh,
            Options(hosts.KnownHostsFile), KnownHosts.Load(hosts.KnownHostsFile)));
        Assert.Equal(ErrorCodes.SshUnreachable, ex.Code);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(15), sw.Elapsed.ToString());
        var refused = await Assert.ThrowsAsync<SealerException>(() => ConnectAsync(0, hosts.KeySsh with { Port = 2999 }));
        Assert.Equal(ErrorCodes.SshUnreachable, refused.Code);
    }

    [Fact]
    public async Task Timeout_and_cancellation_stop_the_remote_command()
    {
        await using var h = await ConnectAsync(1, hosts.KeySsh);
        var ex = await Assert.ThrowsAsync<SealerException>(() => h.RunAsync("echo started; sleep 30", new CommandOptions { Timeout = TimeSpan.FromSeconds(1) }));
        Assert.Equal(ErrorCodes.RemoteCommandTimeout, ex.Code);
        Assert.Contains("started", ex.Message, StringComparison.Ordinal);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => h.RunAsync("sleep 30", cancellationToken: cts.Token));
        Assert.Equal("ok\n", (await h.RunAsync("echo ok")).Stdout); // the connection is still usable
    }

    [Fact]
    public async Task Jump_host_reaches_the_target_and_checks_its_key()
    {
        await using var h = await ConnectAsync(2, hosts.KeySsh with { JumpHost = "root@10.200.0.11:22" });
        Assert.Equal("sealer-h3\n", (await h.RunAsync("hostname")).Stdout);
    }

    [Fact]
    public async Task Stdin_streams_large_data()
    {
        await using var h = await ConnectAsync(0, hosts.KeySsh);
        var data = RandomNumberGenerator.GetBytes(8 * 1024 * 1024 + 17);
        var r = await h.RunWithInputAsync("cat > /tmp/blob && sha256sum /tmp/blob | cut -d' ' -f1 && rm /tmp/blob",
            async (s, ct) => await s.WriteAsync(data, ct));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(data)) + "\n", r.Stdout);
    }

    [Fact]
    public async Task Write_files_writes_every_file_with_its_mode_and_private_directories_are_root_only()
    {
        await using var h = await ConnectAsync(0, hosts.KeySsh with { User = "sealer" }); // through sudo
        string dir = $"/tmp/sealer-write-files-{Guid.NewGuid():N}";
        try
        {
            await h.WriteFilesAsync(dir, [new RemoteFile("b/run.sh", "echo hi\n"u8.ToArray(), (UnixFileMode)0b111_101_101), new RemoteFile("a.txt", "x"u8.ToArray(), (UnixFileMode)0b110_100_100)]);
            var r = await h.RunAsync($"cd {dir} && stat -c '%n %a %U' a.txt b b/run.sh && cat a.txt && bash b/run.sh");
            Assert.Equal("a.txt 644 root\nb 755 root\nb/run.sh 755 root\nxhi\n", r.Stdout);
            await h.WriteFilesAsync(dir + "/private", [new RemoteFile("certs/server.key", "k"u8.ToArray(), (UnixFileMode)0b110_000_000)], privateDirectories: true);
            r = await h.RunAsync($"stat -c '%a' {dir}/private {dir}/private/certs {dir}/private/certs/server.key");
            Assert.Equal("700\n700\n600\n", r.Stdout);
        }
        finally
        {
            await h.RunAsync($"rm -rf {dir}");
        }
    }

    [Fact]
    public async Task Non_root_users_run_through_sudo()
    {
        // passwordless sudo, key login
        await using (var h = await ConnectAsync(0, hosts.KeySsh with { User = "sealer" }))
        {
            Assert.False(h.IsRoot);
            Assert.Equal("0 sealer\n", (await h.RunAsync("echo \"$(id -u) $SUDO_USER\"")).Stdout);
            var r = await h.RunWithInputAsync("cat > /root/from-sudo && stat -c %U /root/from-sudo", (s, ct) => s.WriteAsync("x"u8.ToArray(), ct).AsTask());
            Assert.Equal("root\n", r.Stdout);
        }
        // sudo that asks for the password: it gets the login password on stdin, never on a command line
        await using (var h = await ConnectAsync(1, new SshSpec { User = "sealerpw", Password = hosts.Password }))
        {
            var r = await h.RunAsync("id -u; echo \"$A\"", new CommandOptions { Env = [new("A", "after-the-password")] });
            Assert.Equal("0\nafter-the-password\n", r.Stdout);
            var r2 = await h.RunWithInputAsync("cat | wc -c", (s, ct) => s.WriteAsync("12345"u8.ToArray(), ct).AsTask());
            Assert.Equal("5\n", r2.Stdout);
        }
        // sudo needs a password that was not given: a coded error saying what to do
        await using (var h = await ConnectAsync(1, hosts.KeySsh with { User = "sealerpw" }))
        {
            var ex = await Assert.ThrowsAsync<SealerException>(() => h.RunAsync("id -u"));
            Assert.Equal(ErrorCodes.SudoFailed, ex.Code);
            Assert.Contains("passwordless sudo", ex.Message, StringComparison.Ordinal);
        }
    }
}
