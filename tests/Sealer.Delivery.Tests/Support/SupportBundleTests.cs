using System.Diagnostics;
using Sealer.Core.Delivery.Clusterfile;
using Sealer.Core.Delivery.Install;
using Sealer.Core.Delivery.Support;
using Sealer.Core.Diagnostics;

namespace Sealer.Delivery.Tests.Support;

/// <summary>
/// <c>sealer support-bundle</c> against the sshd hosts after a real failed run (the fixture's injected containerd.sh
/// failure): the summary names the host and step with the last lines, an unreachable host is recorded, and no secret of
/// the Clusterfile is anywhere in the extracted bundle.
/// </summary>
[Collection(HostsCollection.Name)]
public sealed class SupportBundleTests(TestHosts hosts, Xunit.Abstractions.ITestOutputHelper log) : HostsTest(hosts, "sealer-support-")
{
    private const string DbPassword = "Pa55-word-XYZ-support";
    private const string ApiToken = "tok-0123456789-support";

    /// <summary>Cluster 'support': master0 .11, node .12 (+ <paramref name="extraNode"/>), by the passphrase key, with secret env values.</summary>
    private string ClusterfileText(string extraNode = "") => $"""
        apiVersion: sealer.io/v2
        kind: Cluster
        metadata:
          name: support
        spec:
          image: example.com/fixture/kubernetes:v1
          env:
            - DB_PASSWORD={DbPassword}
            - API_TOKEN={ApiToken}
            - MODE=plain-value
          ssh:
            pk: {Lab.PassphraseKey}
            pkPasswd: {Lab.Passphrase}
          hosts:
            - ips: [10.200.0.11]
              roles: [master]
            - ips: [10.200.0.12{extraNode}]
              roles: [node]
        """;

    [Fact]
    public async Task After_a_failed_run_the_bundle_names_host_and_step_records_an_unreachable_host_and_holds_no_secret()
    {
        Lab.Wipe("/var/lib/sealer", "/etc/containerd", "/tmp");
        var image = FixtureImage.Build(Path.Combine(Work, "image"));
        File.WriteAllText(Lab.Hosts[1].OnHost("/tmp/fail-runtime"), "");
        var doc = ClusterfileReader.Parse(ClusterfileText(), Path.Combine(Work, "Clusterfile"));
        var failed = await Assert.ThrowsAsync<SealerException>(() => new ClusterInstaller(doc, RunOptionsFor(image.Dir, 2)).RunAsync());
        Assert.True(failed.Code == ErrorCodes.RunStepFailed, failed.ToString());

        // the vendor's view: the same cluster, and a host that has gone away since
        string text = ClusterfileText(", 10.200.0.99");
        var withGone = ClusterfileReader.Parse(text, Path.Combine(Work, "Clusterfile"));
        string output = Path.Combine(Work, "support.tar.gz");
        var limits = new SupportLimits { HostTimeout = TimeSpan.FromSeconds(60), CommandTimeout = TimeSpan.FromSeconds(10) };
        var sw = Stopwatch.StartNew();
        var result = await new SupportBundle(withGone, text, RunOptionsFor(image.Dir), limits).WriteAsync(output);
        log.WriteLine($"{sw.Elapsed}: {result.Bytes} bytes\n{result.Summary}");
        Assert.Equal(["10.200.0.99"], result.Unreachable);
        Assert.Empty(Directory.GetFiles(Work, "support.tar.gz.tmp*")); // written atomically, staging removed

        // a real tar reads it; summary.txt comes first
        string tree = Path.Combine(Work, "extracted");
        Directory.CreateDirectory(tree);
        string listing = TestHosts.Run("-c", $"tar -tzf '{output}' && tar -xzf '{output}' -C '{tree}'");
        Assert.EndsWith("/summary.txt", listing.Split('\n')[0], StringComparison.Ordinal);
        string top = Directory.GetDirectories(tree).Single();
        string summary = File.ReadAllText(Path.Combine(top, "summary.txt"));
        Assert.Contains("failed at step 'runtime' on host 10.200.0.12", summary, StringComparison.Ordinal);
        Assert.Contains("injected failure in containerd.sh", summary, StringComparison.Ordinal); // the last lines
        Assert.Contains("10.200.0.99: UNREACHABLE", summary, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(top, "hosts", "10.200.0.99", "UNREACHABLE.txt")));

        // what was collected: local state and log, check, host facts and configuration, master0's state
        Assert.Contains("runtime", File.ReadAllText(Path.Combine(top, "local", "run.log")), StringComparison.Ordinal);
        Assert.Contains("\"runtime\"", File.ReadAllText(Path.Combine(top, "local", "last-failure.json")), StringComparison.Ordinal);
        Assert.Contains("FAIL", File.ReadAllText(Path.Combine(top, "local", "check.txt")), StringComparison.Ordinal);
        Assert.Contains("10.200.0.12", File.ReadAllText(Path.Combine(top, "local", "check.txt")), StringComparison.Ordinal);
        Assert.Contains("Filesystem", File.ReadAllText(Path.Combine(top, "hosts", "10.200.0.12", "facts.txt")), StringComparison.Ordinal);
        Assert.Contains("distribute", File.ReadAllText(Path.Combine(top, "hosts", "10.200.0.11", "state.json")), StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(top, "hosts", "10.200.0.11", "registry-access.log")));
        Assert.False(File.Exists(Path.Combine(top, "hosts", "10.200.0.12", "kubectl", "nodes.txt"))); // kubectl only on master0
        Assert.Contains("MODE=plain-value", File.ReadAllText(Path.Combine(top, "local", "Clusterfile")), StringComparison.Ordinal);
        Assert.Contains("DB_PASSWORD=[REDACTED]", File.ReadAllText(Path.Combine(top, "local", "Clusterfile")), StringComparison.Ordinal);

        // no secret anywhere: grep the whole tree (real grep) for the passwords, the passphrase and every line of the key
        var secrets = new List<string> { DbPassword, ApiToken, Lab.Passphrase };
        secrets.AddRange(File.ReadAllLines(Lab.PassphraseKey).Where(l => l.Length >= 16 && !l.StartsWith("-----", StringComparison.Ordinal)));
        string patterns = Path.Combine(Work, "secrets.txt");
        File.WriteAllLines(patterns, secrets);
        string hits = TestHosts.Run("-c", $"grep -r -F -f '{patterns}' '{tree}' || true");
        Assert.True(hits.Length == 0, "secrets in the support bundle:\n" + hits);
    }
}
