using Sealer.Core.Diagnostics;
using Sealer.Core.Kubefile;
using Sealer.Core.Oci;

namespace Sealer.Sdk.Tests.Kubefile;

/// <summary>
/// Kubefiles published in Sealer's repositories (corpus/kubefiles, sources in SOURCES), read with Sealer's meaning and
/// planned against their own directory: each either plans (all its sources are present) or fails with the coded error
/// and line this table names. <see cref="KubefileBuildTests"/> converts and builds every one that plans.
/// </summary>
public class KubefileCorpusTests
{
    public static readonly string Root = Repo.Path("tests", "Sealer.Sdk.Tests", "corpus", "kubefiles");

    /// <summary>Every corpus Kubefile (relative directory) → null when it plans, else the code and line of its error.</summary>
    public static readonly IReadOnlyDictionary<string, (string Code, int Line)?> Expected = new Dictionary<string, (string, int)?>
    {
        ["ackdistro/build"] = (ErrorCodes.KubefileSourceMissing, 3),        // COPY Metadata . (the build writes it first)
        ["ackdistro/context"] = (ErrorCodes.KubefileSourceMissing, 2),      // COPY rootfs .
        ["applications/calico"] = (ErrorCodes.KubefileSourceMissing, 2),    // COPY etc . (tigera-operator.yaml not vendored)
        ["applications/cassandra"] = null,
        ["applications/cockroachdb"] = (ErrorCodes.KubefileSourceMissing, 2),
        ["applications/dashboard/v2.2.0"] = null,
        ["applications/flannel"] = (ErrorCodes.KubefileUnsupported, 2),     // RUN wget ...
        ["applications/helm/v3.6.0"] = (ErrorCodes.KubefileSourceMissing, 2),
        ["applications/ingress"] = (ErrorCodes.KubefileSourceMissing, 2),
        ["applications/kafka"] = (ErrorCodes.KubefileSourceMissing, 2),
        ["applications/kube-prometheus-stack"] = (ErrorCodes.KubefileSourceMissing, 3),
        ["applications/loki-stack-fluentbit"] = (ErrorCodes.KubefileSourceMissing, 3),
        ["applications/loki-stack-promtail"] = (ErrorCodes.KubefileSourceMissing, 3),
        ["applications/loki-stack/fluentbit-loki-stack"] = (ErrorCodes.KubefileSourceMissing, 2),
        ["applications/loki-stack/promtail-loki-stack"] = (ErrorCodes.KubefileSourceMissing, 2),
        ["applications/longhorn"] = (ErrorCodes.KubefileSourceMissing, 3),
        ["applications/minio"] = null,
        ["applications/mongodb"] = (ErrorCodes.KubefileSourceMissing, 2),
        ["applications/mysql"] = (ErrorCodes.KubefileSourceMissing, 2),
        ["applications/mysql-operator"] = null,
        ["applications/nvidia-plugin"] = (ErrorCodes.KubefileSourceMissing, 2), // COPY ./nvidia-docker.tar . (a binary, not in the repository)
        ["applications/nydus"] = (ErrorCodes.KubefileSourceMissing, 3),     // COPY Metadata .
        ["applications/openebs/cstor"] = (ErrorCodes.KubefileSourceMissing, 2),
        ["applications/openebs/jiva"] = (ErrorCodes.KubefileSourceMissing, 2),
        ["applications/openebs/localpv"] = (ErrorCodes.KubefileSourceMissing, 2),
        ["applications/postgresql"] = (ErrorCodes.KubefileSourceMissing, 2),
        ["applications/prometheus-stack"] = (ErrorCodes.KubefileSourceMissing, 2),
        ["applications/redis"] = (ErrorCodes.KubefileSourceMissing, 2),
        ["applications/redis-operator"] = null,                             // COPY . manifests: the directory as vendored (Kubefile only)
        ["applications/rocketmq"] = (ErrorCodes.KubefileSourceMissing, 2),
        ["applications/rookceph/rookceph-block"] = (ErrorCodes.KubefileSourceMissing, 2),
        ["applications/rookceph/rookceph-file"] = (ErrorCodes.KubefileSourceMissing, 2),
        ["applications/rookceph/rookceph-object"] = (ErrorCodes.KubefileSourceMissing, 2),
        ["applications/skywalking"] = (ErrorCodes.KubefileSourceMissing, 3),
        ["applications/strimzi-kafka"] = null,                              // COPY . manifests/: the directory as vendored (Kubefile only)
        ["applications/tidb"] = (ErrorCodes.KubefileSourceMissing, 2),
        ["applications/zookeeper"] = (ErrorCodes.KubefileUnsupported, 2),   // RUN mkdir zookeeper
        ["sealer/build_with_appcmds"] = null,
        ["sealer/build_with_cmds"] = null,
        ["sealer/build_with_imagelist_flag"] = null,
        ["sealer/build_with_launch"] = null,
        ["sealer/build_with_multi_arch"] = null,
    };

    public static IEnumerable<string> Directories() => Directory.EnumerateFiles(Root, "Kubefile", SearchOption.AllDirectories)
        .Select(f => Path.GetRelativePath(Root, Path.GetDirectoryName(f)!).Replace('\\', '/')).Order(StringComparer.Ordinal);

    public static KubefileBuild.Plan Plan(string dir, IReadOnlyList<Platform>? platforms = null)
        => KubefileBuild.CreatePlan(KubefileProject.Load(Path.Combine(dir, "Kubefile")), dir, platforms);

    [Fact]
    public void Every_published_Kubefile_plans_or_gets_the_coded_error_of_its_line()
    {
        var dirs = Directories().ToList();
        Assert.Equal(Expected.Keys.Order(StringComparer.Ordinal), dirs);
        var failures = new List<string>();
        foreach (var rel in dirs)
        {
            string? got;
            try
            {
                var plan = Plan(Path.Combine(Root, rel));
                Assert.NotEqual(0, plan.Project.FromLine);
                got = null;
            }
            catch (SealerException ex)
            {
                Assert.Equal(Path.Combine(Root, rel, "Kubefile"), ex.File);
                got = $"{ex.Code}:{ex.Line}";
                if (ex.Code == ErrorCodes.KubefileUnsupported) Assert.Contains("RUN", ex.Message, StringComparison.Ordinal);
            }
            string? want = Expected[rel] is { } e ? $"{e.Code}:{e.Line}" : null;
            if (got != want) failures.Add($"{rel}: expected {want ?? "a plan"}, got {got ?? "a plan"}");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void Sample_Kubefiles_mean_what_Sealer_reads_in_them()
    {
        KubefileProject Read(string rel) => KubefileProject.Load(Path.Combine(Root, rel, "Kubefile"));

        var appcmds = Read("sealer/build_with_appcmds");
        Assert.Equal(["yamlapp", "shellapp", "mixedapp"], appcmds.Apps.Select(a => a.Name));
        Assert.Equal(["install.sh", "mixedcontext"], appcmds.Apps[2].Sources); // APP name local://a local://b
        Assert.Equal(["kubectl apply -f app.yaml"], appcmds.Apps[2].Cmds);
        Assert.Equal(["mixedapp", "shellapp"], appcmds.Launch);

        var launch = Read("sealer/build_with_launch");
        Assert.Equal(["myapp"], launch.Launch); // LAUNCH myapp, no brackets, no final newline

        var arch = Read("sealer/build_with_multi_arch");
        Assert.True(arch.Copies.Single().ArchSpecific);
        Assert.Equal("bin", arch.Copies.Single().Destination);
        var archPlan = Plan(Path.Combine(Root, "sealer/build_with_multi_arch"), [Platform.Parse("linux/amd64"), Platform.Parse("linux/arm64")]);
        Assert.Equal([("amd64/bin/**", "linux/amd64"), ("arm64/bin/**", "linux/arm64")], archPlan.Files.Select(f => (f.Include, f.Platform)));

        var calico = Read("applications/calico"); // '#RUN' is a comment; several CMD lines add up
        Assert.Equal(["kubectl apply -f etc/tigera-operator.yaml", "kubectl apply -f etc/custom-resources.yaml"], calico.Cmds);
        Assert.Equal("kubernetes:v1.19.8-alpine", calico.BaseImage);

        var mysql = Read("applications/mysql-operator"); // CMD as a JSON array
        Assert.Equal(["kubectl apply -f manifests/bundle.yaml", "kubectl apply -f manifests/cr.yaml"], mysql.Cmds);

        var strimzi = Read("applications/strimzi-kafka"); // JSON array and shell forms mixed, quotes kept for the shell
        Assert.Equal(4, strimzi.Cmds.Count);
        Assert.StartsWith("kubectl patch storageclass hostpath -p '{\"metadata\"", strimzi.Cmds[2], StringComparison.Ordinal);

        var ack = Read("ackdistro/build");
        Assert.Equal("registry.cn-qingdao.aliyuncs.com/sealer-io/ackdistro-multi:v0.4.1", ack.BaseImage);
        Assert.Equal(4, ack.Copies.Count(c => c.ArchSpecific));
        Assert.Equal("VERSION", ack.Copies.Single(c => c.Sources[0] == "VERSION").Destination);
        Assert.False(ack.Copies.Single(c => c.Sources[0] == "VERSION").DestinationIsDirectory);
    }
}
