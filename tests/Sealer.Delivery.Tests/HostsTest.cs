using System.Text;
using Sealer.Core.Delivery;
using Sealer.Core.Delivery.Ssh;

namespace Sealer.Delivery.Tests;

/// <summary>What the end-to-end tests on the sshd hosts share: a work directory, run options for a fixture image, evidence.</summary>
public abstract class HostsTest(TestHosts lab, string prefix) : IDisposable
{
    /// <summary>The sshd hosts (build/test-hosts.sh).</summary>
    protected TestHosts Lab { get; } = lab;

    /// <summary>A temporary directory of this test, removed after it.</summary>
    protected string Work { get; } = Directory.CreateTempSubdirectory(prefix).FullName;

    public void Dispose()
    {
        Directory.Delete(Work, true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Options of a run of <paramref name="image"/>: state under <see cref="Work"/>, the hosts' known_hosts, the real CLI as the hosts' sealer.</summary>
    protected RunOptions RunOptionsFor(string image, int parallelism = 1) => new()
    {
        Image = image,
        StateRoot = Path.Combine(Work, "state"),
        Ssh = new SshOptions { KnownHostsPath = Lab.KnownHostsFile, ConnectTimeout = TimeSpan.FromSeconds(3) },
        Parallelism = parallelism,
        SealerBinary = Lab.SealerWrapper(Work),
        StepTimeout = TimeSpan.FromMinutes(2),
    };

    /// <summary>The <c>hosts:</c> of a cluster of master0 (10.200.0.11) alone, indented as under <c>spec:</c>.</summary>
    protected const string OneMaster = """
          hosts:
            - ips: [10.200.0.11]
              roles: [master]
        """;

    /// <summary>The <c>hosts:</c> of master0 (10.200.0.11) and one node (10.200.0.12), indented as under <c>spec:</c>.</summary>
    protected const string MasterAndNode = """
          hosts:
            - ips: [10.200.0.11]
              roles: [master]
            - ips: [10.200.0.12]
              roles: [node]
        """;

    /// <summary>
    /// A Clusterfile (sealer.io/v2) of the fixture image, cluster <c>fixture</c>, logging in with the lab's key: <paramref name="spec"/>
    /// is the rest of <c>spec</c> (its hosts and anything else, indented as under <c>spec:</c>, e.g. <see cref="OneMaster"/>),
    /// <paramref name="env"/> the cluster's env, <paramref name="ssh"/> more lines of its <c>ssh:</c> after <c>pk</c>, and
    /// <paramref name="documents"/> what follows the Cluster (<c>---</c> and an Application, Plugins, Configs).
    /// </summary>
    protected string FixtureClusterfile(string spec, string documents = "", string[]? env = null, string[]? ssh = null)
    {
        var text = new StringBuilder("apiVersion: sealer.io/v2\nkind: Cluster\nmetadata:\n  name: fixture\nspec:\n  image: example.com/fixture/kubernetes:v1\n");
        if (env is { Length: > 0 }) text.Append("  env:\n").AppendJoin("", env.Select(e => $"    - {e}\n"));
        text.Append($"  ssh:\n    pk: {Lab.PrivateKey}\n").AppendJoin("", (ssh ?? []).Select(line => $"    {line}\n"));
        text.Append(spec.TrimEnd('\n')).Append('\n');
        if (documents.Length > 0) text.Append(documents.TrimEnd('\n')).Append('\n');
        return text.ToString();
    }

    /// <summary>What the fixture image's scripts logged on host <paramref name="i"/> (empty when nothing ran there).</summary>
    protected string Evidence(int i) => File.Exists(Lab.Hosts[i].OnHost(FixtureImage.Evidence)) ? File.ReadAllText(Lab.Hosts[i].OnHost(FixtureImage.Evidence)) : "";
}
