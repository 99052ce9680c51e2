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
        var (run, image) = MakeBundle();
        string site = Path.GetDirectoryName(run)!;
        string home = Directory.CreateDirectory(Path.Combine(Work, "home")).FullName; // no known_hosts, no keys: everything is asked
        using var tmux = new Tmux(Path.Combine(Work, "tmux.sock"), log);
        tmux.Start(site, $"HOME='{home}' '{run}'; echo \"guided-exit=$?\"; sleep 600");

        tmux.Answer("Masters", "10.200.0.11");
        tmux.Answer("Nodes", "10.200.0.12");
        tmux.Answer("SSH user", "");                 // root
        tmux.Answer("SSH port", "");                 // 22
        tmux.Answer("Log in with", "");              // the first choice: a private key file
        tmux.Answer("Private key file", "not-a-key"); // checked as it is answered
        tmux.WaitFor("does not exist");
        tmux.Answer("Private key file", Lab.PrivateKey);
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

    /// <summary>A tmux server of the test's own (its socket under the work directory): real terminals to type into and read.</summary>
    private sealed class Tmux(string socket, Xunit.Abstractions.ITestOutputHelper log) : IDisposable
    {
        private readonly Dictionary<string, int> _seen = new(StringComparer.Ordinal);

        public void Start(string dir, string command, string window = "main")
        {
            var r = window == "main"
                ? Run("new-session", "-d", "-s", "guided", "-n", window, "-x", "160", "-y", "50", "-c", dir, command)
                : Run("new-window", "-t", "guided", "-n", window, "-c", dir, command);
            Assert.True(r.ExitCode == 0, r.Output);
        }

        public void Keys(params string[] keys) => Keys("main", keys);

        private void Keys(string window, params string[] keys)
        {
            var r = Run(["send-keys", "-t", "guided:" + window, .. keys]);
            Assert.True(r.ExitCode == 0, r.Output);
        }

        /// <summary>Waits for the prompt <paramref name="prompt"/> to appear (once more than before), then types <paramref name="answer"/> and Enter.</summary>
        public void Answer(string prompt, string answer, string window = "main")
        {
            _seen.TryGetValue(window + prompt, out int n);
            WaitFor(prompt, occurrence: n + 1, window: window);
            _seen[window + prompt] = n + 1;
            if (answer.Length > 0) Keys(window, "-l", answer);
            Keys(window, "Enter");
        }

        public string WaitFor(string text, TimeSpan? timeout = null, int occurrence = 1, string window = "main")
        {
            var until = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
            string screen = "";
            while (DateTime.UtcNow < until)
            {
                screen = Capture(window);
                if (Count(screen, text) >= occurrence) return screen;
                if (screen.Contains("error SEA", StringComparison.Ordinal) && !text.Contains("exit=", StringComparison.Ordinal)) break;
                Thread.Sleep(300);
            }
            log.WriteLine(screen);
            throw new Xunit.Sdk.XunitException($"'{text}' (#{occurrence}) did not appear on the terminal; the screen:\n{screen}");
        }

        /// <summary>The whole terminal: what scrolled off and the visible screen, without colours.</summary>
        private string Capture(string window)
        {
            var r = Run("capture-pane", "-p", "-J", "-S", "-2000", "-t", "guided:" + window);
            return r.StdOut;
        }

        private static int Count(string s, string what)
        {
            int n = 0;
            for (int i = s.IndexOf(what, StringComparison.Ordinal); i >= 0; i = s.IndexOf(what, i + what.Length, StringComparison.Ordinal)) n++;
            return n;
        }

        private ProcessResult Run(params string[] args) => Processes.Run("tmux", ["-S", socket, .. args], null, [new("TERM", "xterm-256color")], 30_000);

        public void Dispose()
        {
            try
            {
                log.WriteLine(Capture("main"));
            }
            catch (Exception ex) when (ex is InvalidOperationException or IOException)
            {
                // no server left
            }
            Run("kill-server");
        }
    }
}
