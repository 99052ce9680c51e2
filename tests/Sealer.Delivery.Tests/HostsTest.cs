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

    /// <summary>What the fixture image's scripts logged on host <paramref name="i"/> (empty when nothing ran there).</summary>
    protected string Evidence(int i) => File.Exists(Lab.Hosts[i].OnHost(FixtureImage.Evidence)) ? File.ReadAllText(Lab.Hosts[i].OnHost(FixtureImage.Evidence)) : "";
}
