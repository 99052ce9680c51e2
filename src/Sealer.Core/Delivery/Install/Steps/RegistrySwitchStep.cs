using System.Text.Json.Nodes;
using Sealer.Core.Delivery.Install.Policies;
using Sealer.Core.Diagnostics;

namespace Sealer.Core.Delivery.Install.Steps;

/// <summary>
/// The end of an upgrade on a registry host: <c>registry/index.json</c> becomes the new image's, plus the entries of the
/// images kept before it (<see cref="RegistryRetention"/>: --keep-images, default the previous one, whose saved index
/// <c>&lt;cluster&gt;/images/HEX/index.json</c> is read) whose names the new one lacks; written atomically (the registry
/// re-reads it within a second). During the upgrade it listed the images of both (see <see cref="UnpackStep"/>), so pods
/// of the old apps kept pulling; what no kept image reaches goes with the garbage collection after the upgrade.
/// </summary>
internal sealed class RegistrySwitchStep : HostStep
{
    public const string StepName = "registry-switch";

    public override string Name => StepName;

    public override string Does => "on registry hosts, registry/index.json becomes the new image's and the kept previous images' (--keep-images, default 2: the previous one stays for a rollback)";

    public override string Reads => "the new image's registry/index.json, the saved indexes of the kept images, --keep-images";

    public override string When => "an upgrade, on hosts that run the registry";

    public override bool AppliesTo(InstallContext ctx) => ctx.State.Upgrade is not null;

    public override IReadOnlyList<InstallHost> HostsOf(InstallContext ctx) => ctx.RegistryHosts;

    public override async Task RunOnAsync(InstallContext ctx, InstallHost n, CancellationToken cancellationToken)
    {
        if (!ctx.Image.ReadFiles(n.Platform, p => p == "registry/index.json").TryGetValue("registry/index.json", out var index)) return;
        var kept = RegistryRetention.Retained(ctx.State, Math.Max(1, ctx.Options.KeepImages)).Skip(1).SelectMany(RegistryRetention.Keys).ToList();
        if (kept.Count > 0)
        {
            var sb = new System.Text.StringBuilder();
            foreach (var k in kept) sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"f={Q(ctx.ClusterDir + "/images/" + k + "/index.json")}; if [ -f \"$f\" ]; then printf '%s ' {k}; base64 -w0 \"$f\"; echo; fi\n");
            var saved = await n.Ssh.RunAsync(sb.ToString(), new Ssh.CommandOptions { Description = $"{StepName}: read the kept images' registry indexes", Timeout = ctx.Options.StepTimeout }, cancellationToken).ConfigureAwait(false);
            var byKey = saved.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ', 2)).Where(p => p.Length == 2)
                .ToDictionary(p => p[0], p => System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(p[1])), StringComparer.Ordinal);
            foreach (var k in kept)
            {
                if (byKey.TryGetValue(k, out var previous)) index = MergeIndex(index, previous);
            }
        }
        string f = Q(ctx.Rootfs + "/registry/index.json");
        await n.Ssh.RunAsync($"[ -d {Q(ctx.Rootfs + "/registry")} ] || exit 0\necho {Convert.ToBase64String(index)} | base64 -d > {f}.tmp && mv -f {f}.tmp {f}",
            ctx.Cmd(n, StepName, "the new image's registry index"), cancellationToken).ConfigureAwait(false);
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
