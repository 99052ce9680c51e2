using Sealer.Core.Delivery.Install;
using Sealer.Core.Delivery.Install.Steps;

namespace Sealer.Delivery.Tests.Install;

/// <summary><see cref="InstallPipeline"/>: the one list of steps, in Sealer's order, and what <c>sealer run --plan</c> prints.</summary>
public class InstallPipelineTests
{
    [Fact]
    public void Steps_are_in_sealers_order()
    {
        Assert.Equal(
        [
            "aliases", "distribute", "unpack", "registry+<os>/<arch>", "render", "pre-install", "pre-init-host", "runtime",
            "certificates", "registry", "registry-config", "mirror-images", "init-kube", "kubeadm-init", "join", "lvscare", "join",
            "post-init-host", "post-install", "labels", "images", "apps", "clusterfile",
        ], InstallPipeline.Steps.Select(s => s.Name));
    }

    [Fact]
    public void Every_step_says_what_it_does_and_reads_and_fingerprinted_steps_what_the_fingerprint_covers()
    {
        Assert.All(InstallPipeline.Steps, s =>
        {
            Assert.False(string.IsNullOrWhiteSpace(s.Does), s.Name);
            Assert.False(string.IsNullOrWhiteSpace(s.Reads), s.Name);
            Assert.Equal(s.Rerun == StepRerun.WhenChanged, s.Fingerprint is not null);
        });
        Assert.Equal(["render", "registry-config", "mirror-images", "images", "apps"], InstallPipeline.Steps.Where(s => s.Rerun == StepRerun.WhenChanged).Select(s => s.Name));
        Assert.Equal(["certificates", "lvscare", "clusterfile"], InstallPipeline.Steps.Where(s => s.Rerun == StepRerun.EveryRun).Select(s => s.Name));
        Assert.Equal(["certificates", "mirror-images", "kubeadm-init", "labels", "images", "apps", "clusterfile"], InstallPipeline.Steps.Where(s => s.Scope == StepScope.Cluster).Select(s => s.Name));
    }

    [Fact]
    public void Describe_lists_every_step_numbered_with_scope_and_fingerprint()
    {
        var text = InstallPipeline.Describe();
        Assert.Contains("  0. preflight", text, StringComparison.Ordinal);
        int at = 0, n = 1;
        foreach (var s in InstallPipeline.Steps)
        {
            string head = $"{n++,3}. {s.Name} ({(s.Scope == StepScope.Host ? "host" : "cluster")}, ";
            int i = text.IndexOf(head, at, StringComparison.Ordinal);
            Assert.True(i >= at, $"'{head}' missing or out of order");
            at = i + head.Length;
        }
        Assert.Contains("  5. render (host, again when changed)\n", text, StringComparison.Ordinal);
        Assert.Contains("     fingerprint: the host's manifest and env", text, StringComparison.Ordinal);
        Assert.Contains(" 12. mirror-images (cluster, again when changed)\n", text, StringComparison.Ordinal);
        Assert.Contains("     only when: an externalRegistry (not with --no-mirror)\n", text, StringComparison.Ordinal);
        Assert.Contains(" 14. kubeadm-init (cluster, once)\n", text, StringComparison.Ordinal);
        Assert.Contains("     only when: a Kubernetes cluster", text, StringComparison.Ordinal);
    }

    [Fact]
    public void The_state_keeps_the_fingerprints_of_render_and_apps_where_earlier_states_had_them()
    {
        var state = new Sealer.Core.Delivery.ClusterState();
        state.MarkHost("10.0.0.1", ["master"], AliasesStep.StepName);
        state.SetHostFingerprint("10.0.0.1", RenderStep.StepName, "r1");
        state.SetHostFingerprint("10.0.0.1", "future-step", "f1");
        state.SetClusterFingerprint(AppsStep.StepName, "a1");
        state.SetClusterFingerprint("future-cluster-step", "c1");
        var back = Sealer.Core.Delivery.ClusterState.FromJson(state.ToJson(), "test")!;
        Assert.Equal("r1", back.Hosts["10.0.0.1"].Rendered);
        Assert.Equal("a1", back.Launched);
        Assert.Equal("f1", back.HostFingerprint("10.0.0.1", "future-step"));
        Assert.Equal("c1", back.ClusterFingerprint("future-cluster-step"));
        Assert.Null(back.HostFingerprint("10.0.0.2", RenderStep.StepName));
    }
}
