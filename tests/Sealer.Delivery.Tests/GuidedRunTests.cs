using System.Diagnostics;
using Sealer.Core.Delivery.Clusterfile;
using Sealer.Core.Delivery.Install;
using Sealer.Core.Delivery.Ssh;
using Sealer.Core.Diagnostics;

namespace Sealer.Delivery.Tests;

/// <summary>
/// The guided run of a site bundle on the sshd hosts: in a real terminal (tmux: keys sent, the screen read back) it asks,
/// trusts the host keys the user accepts, checks every host, delivers and writes the Clusterfile next to the bundle;
/// without a terminal it never waits for input; its preflight runs alone too (<c>sealer run --preflight-only</c>).
/// </summary>
[Collection(HostsCollection.Name)]
public class GuidedRunTests(TestHosts hosts, Xunit.Abstractions.ITestOutputHelper log) : HostsTest(hosts, "sealer-guided-")
{
    private const string Template = """
        apiVersion: sealer.io/v2
        kind: Cluster
        metadata:
          name: ${{ CLUSTER_NAME = fixture }}
        spec:
          image: example.com/fixture/kubernetes:v1
          env:
            - "GREETING=${{ GREETING }}"
        """;

    /// <summary>A bundle of the fixture image made by the NativeAOT sealer, in its own directory (the "site").</summary>
    private (string Bundle, FixtureImage Image) MakeBundle()
    {
        var image = FixtureImage.Build(Path.Combine(Work, "image"), appLayerBytes: 4 * 1024 * 1024);
        string archive = Path.Combine(Work, "fixture.tar");
        var tar = SealerCli.RunExecutable("tar", ["-C", image.Dir, "-cf", archive, "oci-layout", "index.json", "blobs"]);
        Assert.True(tar.ExitCode == 0, tar.Output);
        string template = Path.Combine(Work, "Clusterfile.template");
        File.WriteAllText(template, Template);
        string site = Directory.CreateDirectory(Path.Combine(Work, "site")).FullName;
        string run = Path.Combine(site, "fixture-linux-amd64.run");
        var made = SealerCli.RunExecutable(SealerCli.Aot(), ["bundle", archive, "-o", run, "--clusterfile", template]);
        Assert.True(made.ExitCode == 0, made.Output);
        return (run, image);
    }

    /// <summary>A fresh bundle run in a new terminal (tmux) with an empty HOME (no known_hosts, no keys); the shell prints
    /// <c>guided-exit=N</c> when it ends.</summary>
    private (string Run, FixtureImage Image, string Site, string Home, Tmux Tmux) StartGuided()
    {
        var (run, image) = MakeBundle();
        string site = Path.GetDirectoryName(run)!;
        string home = Directory.CreateDirectory(Path.Combine(Work, "home")).FullName;
        var tmux = new Tmux(Path.Combine(Work, "tmux.sock"), log);
        try
        {
            tmux.Start(site, $"HOME='{home}' '{run}'; echo \"guided-exit=$?\"; sleep 600");
        }
        catch
        {
            tmux.Dispose();
            throw;
        }
        return (run, image, site, home, tmux);
    }

    [Fact]
    public void A_bundle_without_a_terminal_never_waits_for_input_and_says_what_to_give()
    {
        var (run, _) = MakeBundle();
        var sw = Stopwatch.StartNew();
        // stdin from /dev/null, stdout a pipe; 'timeout' would end a run that waited for input
        var r = Processes.Run("bash", ["-c", $"timeout 30 '{run}' < /dev/null | cat; echo \"exit=${{PIPESTATUS[0]}}\""], Work, env: null);
        log.WriteLine(r.Output);
        Assert.Contains("exit=2", r.StdOut, StringComparison.Ordinal);
        Assert.Contains($"error {ErrorCodes.GuidedAnswerMissing}", r.StdErr, StringComparison.Ordinal);
        Assert.Contains("run -f Clusterfile", r.StdErr, StringComparison.Ordinal);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(20), $"took {sw.Elapsed}");
        Assert.False(File.Exists(Path.Combine(Path.GetDirectoryName(run)!, "Clusterfile")));

        // the plain sealer the same way: run --image without a Clusterfile, no terminal
        var plain = Processes.Run("bash", ["-c", $"HOME='{Work}' timeout 30 '{SealerCli.Aot()}' run --image '{run}' < /dev/null | cat; echo \"exit=${{PIPESTATUS[0]}}\""], Work, env: null);
        Assert.Contains("exit=1", plain.StdOut, StringComparison.Ordinal);
        Assert.Contains($"error {ErrorCodes.GuidedAnswerMissing}", plain.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Preflight_alone_reports_every_host_in_plain_words_and_an_unknown_key_is_a_problem()
    {
        Lab.Wipe("/var/lib/sealer", "/etc/containerd", "/etc/kubernetes", "/tmp", "/usr/local/bin");
        var image = FixtureImage.Build(Path.Combine(Work, "image"), appLayerBytes: 1024 * 1024);
        string text = """
            apiVersion: sealer.io/v2
            kind: Cluster
            metadata: {name: fixture}
            spec:
              image: example.com/fixture/kubernetes:v1
              hosts:
                - ips: [10.200.0.11]
                  roles: [master]
                - ips: [10.200.0.12]
                  roles: [node]
            """ + $"\n  ssh: {{pk: {Lab.PrivateKey}}}\n";
        var doc = ClusterfileReader.Parse(text);
        var report = await new ClusterInstaller(doc, RunOptionsFor(image.Dir), text).PreflightAsync();
        string said = report.ToText();
        log.WriteLine(said);
        Assert.True(report.Passed, said);
        Assert.Contains("ok    10.200.0.11: reachable, host key trusted, logged in;", said, StringComparison.Ordinal);
        Assert.Contains("linux/amd64", said, StringComparison.Ordinal);
        Assert.Contains("ports 5000, 6443 free", said, StringComparison.Ordinal);
        Assert.Contains("ok    10.200.0.12:", said, StringComparison.Ordinal);
        Assert.Contains("preflight passed on 2 host(s)", said, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Lab.Hosts[0].OnHost("/var/lib/sealer/data")));

        // a known_hosts without the hosts: the scan shows the key ssh would show, preflight reports it, nothing is recorded
        string empty = Path.Combine(Work, "known_hosts");
        File.WriteAllText(empty, "");
        var scanned = await HostKeyScan.ScanAsync("10.200.0.11", 22, KnownHosts.Load(empty), TimeSpan.FromSeconds(5));
        Assert.Equal(HostKeyStatus.Unknown, scanned.Status);
        Assert.Equal(HostKeyStatus.Trusted, KnownHosts.Load(Lab.KnownHostsFile).Check("10.200.0.11", 22, scanned.Key));
        Assert.StartsWith("SHA256:", scanned.Fingerprint, StringComparison.Ordinal);
        var unknown = await new ClusterInstaller(doc, RunOptionsFor(image.Dir) with { Ssh = new SshOptions { KnownHostsPath = empty, ConnectTimeout = TimeSpan.FromSeconds(3) } }, text).PreflightAsync();
        Assert.False(unknown.Passed);
        Assert.Contains(unknown.Problems, p => p.Host == "10.200.0.12" && p.Message.Contains(ErrorCodes.SshHostKeyUnknown, StringComparison.Ordinal));
        Assert.Contains("FAIL  10.200.0.11", unknown.ToText(), StringComparison.Ordinal);
        Assert.Equal("", File.ReadAllText(empty));

        // an unreachable host: reported, not thrown
        var gone = await HostKeyScan.ScanAllAsync(["10.200.0.99"], 22, KnownHosts.Load(empty), TimeSpan.FromSeconds(2));
        Assert.Equal(ErrorCodes.SshUnreachable, gone[0].Error?.Code);
    }

    [Fact]
    public void Guided_run_in_a_terminal_asks_trusts_the_keys_delivers_and_writes_the_clusterfile()
    {
        Lab.Wipe("/var/lib/sealer", "/etc/containerd", "/etc/kubernetes", "/tmp", "/usr/local/bin");
        var (run, image, site, home, tmux) = StartGuided(); // no known_hosts, no keys: everything is asked
        using var terminal = tmux;                   // closed (with the session) when the test ends

        // every answer is checked as it is typed: the problem shows under the line before Enter, Enter is refused while it lasts
        tmux.WaitFor("Masters");
        tmux.Type("10.200.0.");
        tmux.WaitFor("'10.200.0.' is not an IP address");
        tmux.Keys("Enter");
        tmux.WaitFor("fix it, then Enter");
        tmux.Type("11");
        tmux.WaitFor("1 host: 10.200.0.11");
        tmux.Keys("Enter");
        tmux.WaitFor("Nodes");
        tmux.Type("10.200.0.11");
        tmux.WaitFor("10.200.0.11 is already a master");
        tmux.Keys("BSpace");
        tmux.Type("2");
        tmux.WaitFor("1 host: 10.200.0.12");
        tmux.Keys("Enter");
        tmux.WaitFor("Enter takes root");
        tmux.Keys("Enter");                          // root
        tmux.WaitFor("SSH port");
        tmux.Type("99999");
        tmux.WaitFor("'99999' is not a port");
        tmux.Keys("C-u");                            // the whole line away: the default again
        tmux.WaitFor("Enter takes 22");
        tmux.Keys("Enter");
        tmux.Answer("Log in with", "");              // the first choice: a private key file
        tmux.WaitFor("Private key file");
        tmux.Type("not-a-key");
        tmux.WaitFor("does not exist");
        tmux.Keys("Enter");
        tmux.WaitFor("fix it, then Enter");
        tmux.Keys("C-u");
        tmux.Type(Lab.PrivateKey);
        tmux.WaitFor("a private key");
        tmux.Keys("Enter");
        tmux.Answer("CLUSTER_NAME", "");             // the template's default: fixture
        tmux.Answer("GREETING", "hello");
        for (int i = 0; i < 2; i++)
        {
            tmux.WaitFor("Trust this key", occurrence: i + 1);
            tmux.Keys("y", "Enter");
        }
        string screen = tmux.WaitFor("guided-exit=", TimeSpan.FromMinutes(8));
        File.WriteAllText(Path.Combine(Work, "..", "sealer-guided-capture.txt"), screen); // the README's capture
        Assert.Contains("guided-exit=0", screen, StringComparison.Ordinal);
        Assert.Contains("key fingerprint is SHA256:", screen, StringComparison.Ordinal);
        Assert.Contains("preflight passed on 2 host(s)", screen, StringComparison.Ordinal);
        Assert.Contains("check: cluster 'fixture' is healthy", screen, StringComparison.Ordinal);

        // the same evidence as the delivery tests
        Assert.Contains("kubeadm init", Evidence(0), StringComparison.Ordinal);
        Assert.Contains("kubeadm join", Evidence(1), StringComparison.Ordinal);
        foreach (var d in image.RegistryContentDigests.Append(image.RootfsDigest))
        {
            Assert.True(File.Exists(Lab.Hosts[0].OnHost("/var/lib/sealer/data/.store/blobs/sha256/" + d["sha256:".Length..])), $"master0 lacks {d}");
        }
        // the Clusterfile next to the bundle: the answers, the template's values, no secret; the trusted keys recorded
        var doc = ClusterfileReader.Parse(File.ReadAllText(Path.Combine(site, "Clusterfile")));
        Assert.Equal("fixture", doc.Cluster.Name);
        Assert.Equal(["10.200.0.11"], doc.Cluster.Masters.Select(h => h.Ip));
        Assert.Equal(["10.200.0.12"], doc.Cluster.Nodes.Select(h => h.Ip));
        Assert.Equal(Lab.PrivateKey, doc.Cluster.Ssh.PrivateKeyPath);
        Assert.Contains(new KeyValuePair<string, string>("GREETING", "hello"), doc.Cluster.Env);
        var known = KnownHosts.Load(Path.Combine(home, ".ssh", "known_hosts"));
        Assert.Equal(2, File.ReadAllLines(Path.Combine(home, ".ssh", "known_hosts")).Length);
        Assert.Equal(["ssh-ed25519"], known.KnownKeyTypes("10.200.0.12", 22));
        Assert.True(File.Exists(Path.Combine(site, "fixture-run.log")));

        // the same bundle again offers that Clusterfile and resumes: nothing is done twice
        tmux.Start(site, $"HOME='{home}' '{run}'; echo \"again-exit=$?\"; sleep 600", window: "again");
        tmux.Answer("Use it?", "", window: "again");
        string again = tmux.WaitFor("again-exit=", TimeSpan.FromMinutes(5), window: "again");
        Assert.Contains("again-exit=0", again, StringComparison.Ordinal);
        Assert.DoesNotContain("Trust this key", again, StringComparison.Ordinal);
        Assert.Equal(1, Evidence(0).Split('\n').Count(l => l.StartsWith("kubeadm init ", StringComparison.Ordinal)));
    }

    [Fact]
    public void The_answer_is_edited_where_the_cursor_is_and_Ctrl_C_at_a_question_ends_the_guided_run_and_writes_nothing()
    {
        var (_, _, site, _, tmux) = StartGuided();
        using var terminal = tmux;                   // closed (with the session) when the test ends
        tmux.WaitFor("Masters");
        tmux.Type("10.200.0.1");
        tmux.WaitFor("1 host: 10.200.0.1");
        // edited as in a shell: a character typed at the start, removed again, one inserted before the last
        tmux.Keys("Home");
        tmux.Type("9");
        tmux.WaitFor("'910.200.0.1' is not an IP address");
        tmux.Keys("BSpace");
        tmux.WaitFor("1 host: 10.200.0.1");
        tmux.Keys("End", "Left");
        tmux.Type("2");
        tmux.WaitFor("1 host: 10.200.0.21");
        tmux.Keys("C-a", "Delete");                  // the character under the cursor
        tmux.WaitFor("1 host: 0.200.0.21");
        tmux.Keys("Right", "Right", "C-k");          // the rest of the line
        tmux.WaitFor("'0.' is not an IP address");
        tmux.Keys("C-c");
        string screen = tmux.WaitFor("guided-exit=", TimeSpan.FromSeconds(20));
        Assert.Contains("guided-exit=130", screen, StringComparison.Ordinal);
        Assert.Contains("cancelled", screen, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(site, "Clusterfile")));
    }

    [Fact]
    public void Guided_run_with_a_password_never_shows_or_writes_it_and_delivers()
    {
        Lab.Wipe("/var/lib/sealer", "/etc/containerd", "/etc/kubernetes", "/tmp", "/usr/local/bin");
        var (run, image, site, home, tmux) = StartGuided();
        using var terminal = tmux;                   // closed (with the session) when the test ends
        tmux.Answer("Masters", "10.200.0.11");
        tmux.Answer("Nodes", "10.200.0.12");
        tmux.Answer("SSH user", "");                 // root: password login allowed on the test hosts (build/test-hosts.sh)
        tmux.Answer("SSH port", "");
        tmux.WaitFor("Log in with");
        tmux.Keys("Down");                           // the second choice: a password
        tmux.Keys("Enter");
        tmux.WaitFor("Password of root");
        tmux.Type(Lab.Password);
        tmux.WaitFor("not shown; Enter when done");
        tmux.Keys("Enter");
        tmux.Answer("Write the password into the Clusterfile", ""); // no (the default)
        tmux.Answer("CLUSTER_NAME", "");
        tmux.Answer("GREETING", "hello");
        for (int i = 0; i < 2; i++)
        {
            tmux.WaitFor("Trust this key", occurrence: i + 1);
            tmux.Keys("y");
            tmux.Keys("Enter");
        }
        string screen = tmux.WaitFor("guided-exit=", TimeSpan.FromMinutes(8));
        Assert.Contains("guided-exit=0", screen, StringComparison.Ordinal);
        Assert.Contains("(without the password)", screen, StringComparison.Ordinal);
        Assert.Contains("check: cluster 'fixture' is healthy", screen, StringComparison.Ordinal);
        Assert.DoesNotContain(Lab.Password, screen, StringComparison.Ordinal);
        Assert.Contains("kubeadm init", Evidence(0), StringComparison.Ordinal);
        Assert.Contains("kubeadm join", Evidence(1), StringComparison.Ordinal);
        string written = File.ReadAllText(Path.Combine(site, "Clusterfile"));
        Assert.DoesNotContain(Lab.Password, written, StringComparison.Ordinal);
        var doc = ClusterfileReader.Parse(written);
        Assert.Null(doc.Cluster.Ssh.Password);
        Assert.Null(doc.Cluster.Ssh.PrivateKeyPath);
        Assert.Equal(["10.200.0.12"], doc.Cluster.Nodes.Select(h => h.Ip));
        Assert.DoesNotContain(Lab.Password, File.ReadAllText(Path.Combine(site, "fixture-run.log")), StringComparison.Ordinal);
        // the copy master0 keeps has no password either
        Assert.DoesNotContain(Lab.Password, File.ReadAllText(Lab.Hosts[0].OnHost("/var/lib/sealer/data/fixture/Clusterfile")), StringComparison.Ordinal);
    }

    [Fact]
    public void Guided_run_with_an_encrypted_key_asks_its_passphrase_never_writes_it_and_runs_without_a_terminal_from_the_environment()
    {
        Lab.Wipe("/var/lib/sealer", "/etc/containerd", "/etc/kubernetes", "/tmp", "/usr/local/bin");
        var (run, _, site, home, tmux) = StartGuided();
        using var terminal = tmux;                   // closed (with the session) when the test ends
        tmux.Answer("Masters", "10.200.0.11");
        tmux.Answer("Nodes", "");
        tmux.Answer("SSH user", "");
        tmux.Answer("SSH port", "");
        tmux.Answer("Log in with", "");
        tmux.WaitFor("Private key file");
        tmux.Type(Lab.PassphraseKey);                // made with ssh-keygen -N (build/test-hosts.sh)
        tmux.WaitFor("encrypted (its passphrase is asked next)");
        tmux.Keys("Enter");
        tmux.WaitFor("Passphrase of the key");
        tmux.Type("wrong-pass");
        tmux.Keys("Enter");
        tmux.WaitFor("does not open");               // checked against the key on Enter
        tmux.Keys("C-u");
        tmux.Type(Lab.Passphrase);
        tmux.Keys("Enter");
        tmux.Answer("CLUSTER_NAME", "");
        tmux.Answer("GREETING", "hello");
        tmux.WaitFor("Trust this key");
        tmux.Keys("y");
        tmux.Keys("Enter");
        string screen = tmux.WaitFor("guided-exit=", TimeSpan.FromMinutes(8));
        Assert.Contains("guided-exit=0", screen, StringComparison.Ordinal);
        Assert.DoesNotContain(Lab.Passphrase, screen, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-pass", screen, StringComparison.Ordinal);
        Assert.Contains("kubeadm init", Evidence(0), StringComparison.Ordinal);
        string written = File.ReadAllText(Path.Combine(site, "Clusterfile"));
        Assert.DoesNotContain(Lab.Passphrase, written, StringComparison.Ordinal);
        var doc = ClusterfileReader.Parse(written);
        Assert.Equal(Lab.PassphraseKey, doc.Cluster.Ssh.PrivateKeyPath);
        Assert.Null(doc.Cluster.Ssh.PrivateKeyPassphrase);

        // again on the terminal: the Clusterfile is offered and the passphrase asked again (it was not saved)
        tmux.Start(site, $"HOME='{home}' '{run}'; echo \"again-exit=$?\"; sleep 600", window: "again");
        tmux.Answer("Use it?", "", window: "again");
        tmux.Answer("Passphrase of the key", Lab.Passphrase, window: "again");
        Assert.Contains("again-exit=0", tmux.WaitFor("again-exit=", TimeSpan.FromMinutes(5), window: "again"), StringComparison.Ordinal);

        // without a terminal: the passphrase from SEALER_SSH_KEY_PASSPHRASE, or a coded error naming it
        string self = $"cd '{site}' && HOME='{home}' '{run}' run -f Clusterfile < /dev/null";
        var missing = Processes.Run("bash", ["-c", $"env -u {PrivateKeys.PassphraseVariable} timeout 60 bash -c \"{self}\""], Work, env: null);
        log.WriteLine(missing.Output);
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains(ErrorCodes.SshKeyPassphraseMissing, missing.Output, StringComparison.Ordinal); // as the preflight's problem on the host
        Assert.Contains(PrivateKeys.PassphraseVariable, missing.Output, StringComparison.Ordinal);
        var given = Processes.Run("bash", ["-c", $"timeout 300 bash -c \"{self}\""], Work, [new(PrivateKeys.PassphraseVariable, Lab.Passphrase)]);
        log.WriteLine(given.Output);
        Assert.True(given.ExitCode == 0, given.Output);
        Assert.DoesNotContain(Lab.Passphrase, given.Output, StringComparison.Ordinal);
        Assert.Equal(1, Evidence(0).Split('\n').Count(l => l.StartsWith("kubeadm init ", StringComparison.Ordinal)));
    }

    [Fact]
    public void Preflight_only_on_the_command_line_reports_a_good_and_an_unreachable_host_in_plain_words_fails_and_changes_nothing()
    {
        Lab.Wipe("/var/lib/sealer", "/etc/containerd", "/etc/kubernetes", "/tmp", "/usr/local/bin");
        var image = FixtureImage.Build(Path.Combine(Work, "image"), appLayerBytes: 1024 * 1024);
        string knownHosts = Lab.CopyKnownHosts();
        string before = File.ReadAllText(knownHosts);
        string clusterfile = Path.Combine(Work, "Clusterfile");
        // 10.200.0.99: in the hosts' network, but no host answers there
        File.WriteAllText(clusterfile, $$"""
            apiVersion: sealer.io/v2
            kind: Cluster
            metadata: {name: fixture}
            spec:
              image: example.com/fixture/kubernetes:v1
              hosts:
                - ips: [10.200.0.11]
                  roles: [master]
                - ips: [10.200.0.99]
                  roles: [node]
              ssh:
                pk: {{Lab.PassphraseKey}}
            """);
        var r = Processes.Run(SealerCli.Aot(), ["run", "--preflight-only", "-f", clusterfile, "--image", image.Dir, "--known-hosts", knownHosts, "--connect-timeout", "3"], Work,
            [new("HOME", Work), new(PrivateKeys.PassphraseVariable, Lab.Passphrase)], timeoutMs: 120_000);
        log.WriteLine(r.Output);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("ok    10.200.0.11: reachable, host key trusted, logged in;", r.StdOut, StringComparison.Ordinal);
        Assert.Contains("FAIL  10.200.0.99", r.StdOut, StringComparison.Ordinal);
        Assert.Contains(ErrorCodes.SshUnreachable, r.StdOut, StringComparison.Ordinal);
        Assert.DoesNotContain(Lab.Passphrase, r.Output, StringComparison.Ordinal);
        // nothing changed: no data root on the good host, known_hosts as it was, no state written
        Assert.False(Directory.Exists(Lab.Hosts[0].OnHost("/var/lib/sealer/data")));
        Assert.False(File.Exists(Lab.Hosts[0].OnHost(FixtureImage.Evidence)));
        Assert.Equal(before, File.ReadAllText(knownHosts));
    }
}
