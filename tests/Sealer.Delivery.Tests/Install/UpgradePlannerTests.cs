using System.Text;
using System.Text.Json;
using Sealer.Core.Delivery;
using Sealer.Core.Delivery.Install;
using Sealer.Core.Delivery.Install.Policies;
using Sealer.Core.Delivery.Install.Steps;
using Sealer.Core.Diagnostics;

namespace Sealer.Delivery.Tests.Install;

/// <summary><see cref="UpgradePlanner"/>, <see cref="KubeSkew"/> and the registry index merge of an upgrade: tables, no SSH.</summary>
public class UpgradePlannerTests
{
    // kubeadm's skew rules: same major, same or next minor, never down (a rollback keeps the newer version)
    [Theory]
    [InlineData("v1.28.3", "v1.28.5", false, "Patch")]
    [InlineData("v1.28.3", "1.29.0", false, "Minor")]
    [InlineData("v1.28.3", "v1.28.3", false, "None")]
    [InlineData("v1.28.3", null, false, "None")]
    [InlineData("v1.28.3", "", false, "None")]
    [InlineData("v1.29.1", "v1.28.3", true, "Kept")]
    [InlineData("v1.29.1", "v1.29.0", true, "Kept")]
    [InlineData("v1.28.3-rc.1", "v1.28.4+build", false, "Patch")]
    public void Kubernetes_change_follows_kubeadm_skew_rules(string from, string? to, bool rollback, string kind)
    {
        var change = KubeSkew.Check(from, to, rollback);
        Assert.Equal(kind, change.Kind.ToString());
        Assert.False(string.IsNullOrEmpty(change.Note));
    }

    [Theory]
    [InlineData("v1.28.3", "v1.30.0", "one minor version at a time")]
    [InlineData("v1.29.1", "v1.28.3", "never downgrades")]
    [InlineData("v1.29.1", "v1.29.0", "never downgrades")]
    [InlineData("v1.28.3", "v2.0.0", "major")]
    [InlineData("v1.28.3", "latest", "not a version")]
    [InlineData(null, "v1.28.3", "not recorded")]
    public void Kubernetes_skips_downgrades_and_unknown_versions_are_refused(string? from, string to, string why)
    {
        var ex = Assert.Throws<SealerException>(() => KubeSkew.Check(from, to));
        Assert.Equal(ErrorCodes.KubernetesSkew, ex.Code);
        Assert.Contains(why, ex.Message, StringComparison.Ordinal);
    }

    private static AppRecord App(string name, string kind = "helm", string? chart = "0.1.0", string files = "f1", string? values = "v1", string config = "", params string[] images) =>
        new() { Name = name, Kind = kind, ChartVersion = chart, FilesDigest = files, ValuesDigest = values, ConfigDigest = config, Images = [.. images], Release = kind == "helm" ? name : null, Namespace = kind == "helm" ? name : null };

    private static ImageRecord Image(string name, string? kube, string[] images, params AppRecord[] apps) =>
        new() { Image = name, KubeVersion = kube, Images = [.. images], Apps = [.. apps], ManifestDigests = { ["linux/amd64"] = "sha256:" + name } };

    private static string Show(UpgradePlan plan) => string.Join(" | ", plan.Apps.Select(a => $"{a.Change} {a.Name}" + (a.Details.Count > 0 ? ": " + string.Join("; ", a.Details) : "")));

    public static TheoryData<string, ImageRecord?, ImageRecord, bool, string> AppCases => new()
    {
        { "unchanged", Image("a", "v1.28.3", [], App("web")), Image("b", "v1.28.3", [], App("web")), false, "unchanged web" },
        { "chart bump", Image("a", null, [], App("web")), Image("b", null, [], App("web", chart: "0.2.0", files: "f2")), false, "upgrade web: chart 0.1.0 -> 0.2.0; files changed" },
        { "values", Image("a", null, [], App("web")), Image("b", null, [], App("web", files: "f2", values: "v2")), false, "upgrade web: values changed" },
        { "config", Image("a", null, [], App("web")), Image("b", null, [], App("web", config: "c2")), false, "upgrade web: Application config changed" },
        { "images", Image("a", null, ["x:1"], App("web", images: "x:1")), Image("b", null, ["x:2"], App("web", files: "f2", images: "x:2")), false, "upgrade web: files changed; images +x:2 -x:1" },
        { "added", Image("a", null, [], App("web")), Image("b", null, [], App("web"), App("db", chart: "1.0.0", images: "pg:16")), false, "unchanged web | add db: chart 1.0.0; images pg:16" },
        { "dropped kept", Image("a", null, [], App("web"), App("old", "kube", chart: null, values: null)), Image("b", null, [], App("web")), false, "unchanged web | keep old: not in b: left running (--prune-apps removes it)" },
        { "dropped pruned", Image("a", null, [], App("web"), App("old", "kube", chart: null, values: null), App("h")), Image("b", null, [], App("web")), true, "unchanged web | prune old: kubectl delete -f of its manifests from the previous image | prune h: helm uninstall h -n h" },
        { "history unknown", null, Image("b", null, [], App("web")), false, "upgrade web: the previous launch is not recorded: launched again" },
    };

    [Theory]
    [MemberData(nameof(AppCases))]
    public void Apps_are_added_upgraded_kept_or_pruned_in_launch_order(string why, ImageRecord? from, ImageRecord to, bool prune, string expected)
    {
        Assert.Equal(expected, Show(UpgradePlanner.Plan(from, to, prune, rollback: false, [])));
        Assert.False(string.IsNullOrEmpty(why));
    }

    [Fact]
    public void Plan_lists_images_bytes_per_host_and_kubernetes_and_serializes_to_json()
    {
        var from = Image("shop:1.4.0", "v1.28.3", ["docker.io/library/demo:1.0", "docker.io/library/redis:7"], App("web", images: "docker.io/library/demo:1.0"));
        var to = Image("shop:1.5.0", "v1.29.0", ["docker.io/library/demo:2.0", "docker.io/library/redis:7"], App("web", chart: "0.2.0", files: "f2", images: "docker.io/library/demo:2.0"));
        var plan = UpgradePlanner.Plan(from, to, false, false, [new HostBytes("10.0.0.1", 5 << 20, 2), new HostBytes("10.0.0.2", 1024, 1)]);
        Assert.Equal(["docker.io/library/demo:2.0"], plan.ImagesAdded);
        Assert.Equal(["docker.io/library/demo:1.0"], plan.ImagesRemoved);
        Assert.Equal(KubeChangeKind.Minor, plan.Kubernetes.Kind);
        Assert.Equal(["web"], plan.ToLaunch);
        var text = plan.ToText();
        Assert.Contains("upgrade plan: shop:1.4.0 -> shop:1.5.0", text, StringComparison.Ordinal);
        Assert.Contains("10.0.0.1        5.0 MiB in 2 blob(s)", text, StringComparison.Ordinal);
        Assert.Contains("Kubernetes v1.28.3 -> v1.29.0 (next minor)", text, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(JsonSerializer.Serialize(plan, UpgradePlanJsonContext.Default.UpgradePlan));
        Assert.Equal("Minor", json.RootElement.GetProperty("kubernetes").GetProperty("change").GetString());
        Assert.Equal(5 << 20, json.RootElement.GetProperty("hosts")[0].GetProperty("bytes").GetInt64());
        Assert.Equal("upgrade", json.RootElement.GetProperty("apps")[0].GetProperty("change").GetString());
    }

    [Fact]
    public void Rollback_keeps_kubernetes_and_says_what_it_cannot_undo()
    {
        var now = Image("shop:1.5.0", "v1.29.0", [], App("web", chart: "0.2.0"), App("new", "kube", chart: null, values: null), App("job", "shell", chart: null, values: null, files: "j2"));
        var back = Image("shop:1.4.0", "v1.28.3", [], App("web"), App("job", "shell", chart: null, values: null, files: "j1"));
        var plan = UpgradePlanner.Plan(now, back, false, rollback: true, []);
        Assert.True(plan.Rollback);
        Assert.Equal(KubeChangeKind.Kept, plan.Kubernetes.Kind);
        Assert.Equal("upgrade web: chart 0.2.0 -> 0.1.0 | upgrade job: files changed | keep new: not in shop:1.4.0: left running (--prune-apps removes it)", Show(plan));
        Assert.Contains(plan.CannotUndo, c => c.Contains("never downgrades Kubernetes", StringComparison.Ordinal));
        Assert.Contains(plan.CannotUndo, c => c.StartsWith("job: a shell app is run again", StringComparison.Ordinal));
        Assert.Contains(plan.CannotUndo, c => c.StartsWith("new: added after shop:1.4.0", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("repository: docker.io/library/demo\ntag: \"1.0\"", "docker.io/library/demo:1.0", true)]
    [InlineData("image: library/demo:1.0", "docker.io/library/demo:1.0", true)]
    [InlineData("repository: docker.io/library/demo\ntag: \"2.0\"", "docker.io/library/demo:1.0", false)]
    [InlineData("image: nginx:1.0", "docker.io/library/demo:1.0", false)]
    [InlineData("image: quay.io/x/y@sha256:ab", "quay.io/x/y@sha256:ab", true)]
    public void An_app_names_an_image_when_its_repository_and_tag_appear(string files, string image, bool names) =>
        Assert.Equal(names, ImageRecords.Names(files, image));

    [Fact]
    public void Registry_index_during_an_upgrade_serves_both_images_new_names_winning()
    {
        string M(string d, string name) => $$$"""{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:{{{d}}}","size":1,"annotations":{"org.opencontainers.image.ref.name":"{{{name}}}"}}""";
        var next = Encoding.UTF8.GetBytes($$"""{"schemaVersion":2,"manifests":[{{M("b2", "docker.io/library/demo:2.0")}},{{M("c2", "docker.io/library/redis:7")}}]}""");
        var old = $$"""{"schemaVersion":2,"manifests":[{{M("a1", "docker.io/library/demo:1.0")}},{{M("c1", "docker.io/library/redis:7")}}]}""";
        using var merged = JsonDocument.Parse(RegistrySwitchStep.MergeIndex(next, old));
        var refs = merged.RootElement.GetProperty("manifests").EnumerateArray()
            .Select(m => m.GetProperty("annotations").GetProperty("org.opencontainers.image.ref.name").GetString() + "@" + m.GetProperty("digest").GetString()).ToList();
        Assert.Equal(["docker.io/library/demo:2.0@sha256:b2", "docker.io/library/redis:7@sha256:c2", "docker.io/library/demo:1.0@sha256:a1"], refs);
        Assert.Equal(next, RegistrySwitchStep.MergeIndex(next, ""));
    }

    [Fact]
    public void State_without_history_still_reads_and_history_round_trips()
    {
        var old = ClusterState.FromJson("""{"cluster":"c","image":"x","manifestDigests":{"linux/amd64":"sha256:1"},"hosts":{},"clusterSteps":["apps"],"updated":""}"""u8, "test")!;
        Assert.Null(old.History);
        Assert.Null(old.Current);
        old.History = [Image("x", "v1.28.3", ["a:1"], App("web"))];
        old.Upgrade = new UpgradeRecord { From = old.History[0], To = Image("y", "v1.28.4", []), KubeTo = "v1.28.4" };
        var back = ClusterState.FromJson(old.ToJson(), "test")!;
        Assert.Equal("web", back.Current!.Apps[0].Name);
        Assert.Equal("v1.28.4", back.Upgrade!.KubeTo);
        Assert.Equal("x", back.Upgrade.From.Image);
    }
}
