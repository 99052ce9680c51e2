using System.Text.Json.Nodes;
using Sealer.Core.Diagnostics;

namespace Sealer.Core.Delivery.Install.Steps;

/// <summary>
/// The end of an upgrade on a registry host: <c>registry/index.json</c> becomes the new image's alone (written atomically;
/// the registry re-reads it within a second). During the upgrade it listed the images of both (see <see cref="UnpackStep"/>),
/// so pods of the old apps kept pulling; the old blobs stay in the layout for a rollback.
/// </summary>
internal sealed class RegistrySwitchStep : HostStep
{
    public const string StepName = "registry-switch";

    public override string Name => StepName;

    public override string Does => "on registry hosts, registry/index.json becomes the new image's alone (it listed the old and new images during the upgrade)";

    public override string Reads => "the new image's registry/index.json";

    public override string When => "an upgrade, on hosts that run the registry";

    public override bool AppliesTo(InstallContext ctx) => ctx.State.Upgrade is not null;

    public override IReadOnlyList<InstallHost> HostsOf(InstallContext ctx) => ctx.RegistryHosts;

    public override Task RunOnAsync(InstallContext ctx, InstallHost n, CancellationToken cancellationToken)
    {
        if (!ctx.Image.ReadFiles(n.Platform, p => p == "registry/index.json").TryGetValue("registry/index.json", out var index)) return Task.CompletedTask;
        string f = Q(ctx.Rootfs + "/registry/index.json");
        return n.Ssh.RunAsync($"[ -d {Q(ctx.Rootfs + "/registry")} ] || exit 0\necho {Convert.ToBase64String(index)} | base64 -d > {f}.tmp && mv -f {f}.tmp {f}",
            ctx.Cmd(n, StepName, "the new image's registry index"), cancellationToken);
    }

    /// <summary>
    /// The index a registry serves during an upgrade: every manifest of <paramref name="next"/>, then those of
    /// <paramref name="previous"/> (the running rootfs's index, empty when there is none) whose name the new index does not
    /// have (a name in both is the new image's).
    /// </summary>
    public static byte[] MergeIndex(byte[] next, string previous)
    {
        var root = JsonNode.Parse(next) as JsonObject ?? throw new SealerException(ErrorCodes.BadClusterImage, "The cluster image's registry/index.json is not a JSON object.");
        if (string.IsNullOrWhiteSpace(previous)) return next;
        JsonObject? old;
        try
        {
            old = JsonNode.Parse(previous) as JsonObject;
        }
        catch (System.Text.Json.JsonException)
        {
            return next; // an unreadable old index serves nothing: the new one alone
        }
        if (root["manifests"] is not JsonArray manifests) root["manifests"] = manifests = [];
        static string Key(JsonNode? m) => m?["annotations"]?["org.opencontainers.image.ref.name"]?.GetValue<string>() ?? m?["digest"]?.GetValue<string>() ?? "";
        var names = manifests.Select(Key).ToHashSet(StringComparer.Ordinal);
        foreach (var m in (old?["manifests"] as JsonArray ?? []).ToList())
        {
            if (m is null || !names.Add(Key(m))) continue;
            manifests.Add(m.DeepClone());
        }
        return System.Text.Encoding.UTF8.GetBytes(root.ToJsonString());
    }
}
