using System.Diagnostics;
using System.Text.Json;
using Sealer.Core.Delivery.Clusterfile;
using Sealer.Core.Delivery.Ssh;

namespace Sealer.Delivery.Tests;

/// <summary>
/// Real sshd hosts in network namespaces, created by build/test-hosts.sh for this test run and removed after it.
/// Needs root (CI runs as root) and openssh-server (build/install-test-deps.sh).
/// </summary>
public sealed class TestHosts : IDisposable
{
    public const int Count = 4;

    public TestHosts()
    {
        StateDir = Repo.Path("artifacts", "test-hosts");
        Script = Repo.Path("build", "test-hosts.sh");
        if (Environment.UserName != "root" && !string.Equals(Environment.GetEnvironmentVariable("USER"), "root", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("The delivery tests create network namespaces and need root (CI runs as root).");
        }
        Run(Script, $"up {Count}");
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(StateDir, "hosts.json")));
        var r = json.RootElement;
        PrivateKey = r.GetProperty("privateKey").GetString()!;
        RsaKey = r.GetProperty("rsaKey").GetString()!;
        PassphraseKey = r.GetProperty("passphraseKey").GetString()!;
        Passphrase = r.GetProperty("passphrase").GetString()!;
        Password = r.GetProperty("password").GetString()!;
        KnownHostsFile = r.GetProperty("knownHosts").GetString()!;
        HashedKnownHostsFile = r.GetProperty("hashedKnownHosts").GetString()!;
        Hosts = r.GetProperty("hosts").EnumerateArray().Select(h => new Host(h.GetProperty("name").GetString()!, h.GetProperty("ip").GetString()!, h.GetProperty("root").GetString()!)).ToList();
    }

    public sealed record Host(string Name, string Ip, string Root)
    {
        /// <summary>A path on the host, seen from this machine (the host's private bind-mount source).</summary>
        public string OnHost(string absolute) => Root + absolute;
    }

    public string StateDir { get; }
    public string Script { get; }
    public string PrivateKey { get; }
    public string RsaKey { get; }
    public string PassphraseKey { get; }
    public string Passphrase { get; }
    public string Password { get; }
    public string KnownHostsFile { get; }
    public string HashedKnownHostsFile { get; }
    public IReadOnlyList<Host> Hosts { get; }

    public SshSpec KeySsh => new() { PrivateKeyPath = PrivateKey };

    private static readonly object CliCopyLock = new();
    private static bool s_cliCopied;

    /// <summary>An SSH connection to a test host as root by key, its host key checked against the hosts' known_hosts.</summary>
    public Task<SshHost> ConnectAsync(string ip) => SshHost.ConnectAsync(ip, KeySsh, new SshOptions { KnownHostsPath = KnownHostsFile }, KnownHosts.Load(KnownHostsFile));

    /// <summary>
    /// Writes into <paramref name="dir"/> a `sealer` wrapper that runs the real CLI (built with the tests) through the dotnet
    /// host the test hosts share with this machine. The CLI is copied under the state directory and addressed through
    /// /run/sealer-test-hosts (build/test-hosts.sh), because a clone under /tmp or /root is hidden inside the hosts.
    /// </summary>
    public string SealerWrapper(string dir)
    {
        var bin = Path.GetDirectoryName(SealerCli.Dll)!;
        Assert.True(File.Exists(Path.Combine(bin, "sealer.dll")), $"{bin}/sealer.dll is missing: build the solution first");
        var copy = Path.Combine(StateDir, "cli");
        lock (CliCopyLock)
        {
            if (!s_cliCopied) // once per test run, so a stale copy from an earlier build is never used
            {
                s_cliCopied = true;
                foreach (var file in Directory.EnumerateFiles(bin, "*", SearchOption.AllDirectories))
                {
                    var target = Path.Combine(copy, Path.GetRelativePath(bin, file));
                    Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                    File.Copy(file, target, overwrite: true);
                }
            }
        }
        var wrapper = Path.Combine(dir, "sealer");
        File.WriteAllText(wrapper, "#!/bin/sh\nexport DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1\nexec dotnet '/run/sealer-test-hosts/cli/sealer.dll' \"$@\"\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(wrapper, (UnixFileMode)0b111_101_101);
        return wrapper;
    }

    /// <summary>Stops what earlier tests started on the hosts (all but sshd) and clears their private directories.</summary>
    public void Wipe(params string[] dirs)
    {
        for (int i = 1; i <= Hosts.Count; i++)
        {
            Run("-c", $"s=$(cat '{StateDir}/h{i}/sshd.pid'); for p in $(ip netns pids sealer-h{i}); do [ \"$p\" = \"$s\" ] || kill -9 $p 2>/dev/null; done; true");
            // in place: the host's /etc/hosts is a bind mount of this file
            File.WriteAllText(Hosts[i - 1].OnHost("/etc/hosts"), $"127.0.0.1 localhost\n{Hosts[i - 1].Ip} {Hosts[i - 1].Name}\n");
        }
        foreach (var h in Hosts)
        {
            foreach (var d in dirs)
            {
                var p = h.OnHost(d);
                if (!Directory.Exists(p)) continue;
                foreach (var e in Directory.EnumerateFileSystemEntries(p))
                {
                    if (Directory.Exists(e) && !File.GetAttributes(e).HasFlag(FileAttributes.ReparsePoint)) Directory.Delete(e, true); else File.Delete(e);
                }
            }
        }
    }

    public string CopyKnownHosts(bool hashed = false)
    {
        var path = Path.Combine(Path.GetTempPath(), "sealer-kh-" + Guid.NewGuid().ToString("N"));
        File.Copy(hashed ? HashedKnownHostsFile : KnownHostsFile, path);
        return path;
    }

    public void Dispose() => Run(Script, "down");

    public static string Run(string file, string args)
    {
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(file);
        if (file == "-c") psi.ArgumentList.Add(args);
        else foreach (var a in args.Split(' ')) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(120_000)) { p.Kill(true); throw new TimeoutException($"{file} {args} timed out"); }
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {args} failed ({p.ExitCode}):\n{stdout.Result}\n{stderr.Result}");
        return stdout.Result;
    }
}

[CollectionDefinition(Name)]
public sealed class HostsCollection : ICollectionFixture<TestHosts>, ICollectionFixture<PackedSdk>
{
    public const string Name = "ssh hosts";
}
