using System.Globalization;
using System.Text;
using System.Text.Json.Serialization;
using Sealer.Core.Diagnostics;

namespace Sealer.Core.Delivery;

/// <summary>How the Kubernetes version changes between two images.</summary>
public enum KubeChangeKind
{
    /// <summary>Same version, or the new image records none: Kubernetes is left as it is.</summary>
    None,

    /// <summary>A newer patch of the same minor version.</summary>
    Patch,

    /// <summary>The next minor version (kubeadm upgrades one minor version at a time).</summary>
    Minor,

    /// <summary>A rollback to an image with an older Kubernetes: the cluster keeps its version (never downgraded).</summary>
    Kept,
}

/// <summary>The Kubernetes part of an upgrade plan.</summary>
public sealed record KubeChange(
    [property: JsonPropertyName("change"), JsonConverter(typeof(JsonStringEnumConverter<KubeChangeKind>))] KubeChangeKind Kind,
    [property: JsonPropertyName("from")] string? From,
    [property: JsonPropertyName("to")] string? To,
    [property: JsonPropertyName("note")] string Note);

/// <summary>What happens to one app in an upgrade.</summary>
public sealed record AppChange
{
    [JsonPropertyName("name")] public required string Name { get; init; }

    /// <summary><c>add</c>, <c>upgrade</c>, <c>unchanged</c>, <c>keep</c> (dropped by the new image, left running), <c>prune</c> (dropped, removed: --prune-apps).</summary>
    [JsonPropertyName("change")] public required string Change { get; init; }

    [JsonPropertyName("kind")] public required string Kind { get; init; }

    /// <summary>What differs: chart version, values, files, config, images.</summary>
    [JsonPropertyName("details")] public IReadOnlyList<string> Details { get; init; } = [];
}

/// <summary>Bytes one host must receive: only the blobs it lacks.</summary>
public sealed record HostBytes([property: JsonPropertyName("host")] string Host, [property: JsonPropertyName("bytes")] long Bytes, [property: JsonPropertyName("blobs")] int Blobs);

/// <summary>A lifecycle script of the image an upgrade runs again, and where: the hosts where the script or what it runs from (the image's etc/ files, the host's env) changed.</summary>
public sealed record ScriptRun(
    [property: JsonPropertyName("step")] string Step,
    [property: JsonPropertyName("script")] string Script,
    [property: JsonPropertyName("hosts")] IReadOnlyList<string> Hosts);

/// <summary>An upgrade (or rollback) plan (Install/Policies/UpgradePlanner): computed before anything changes, printed, and all of <c>sealer run --plan</c>.</summary>
public sealed record UpgradePlan
{
    [JsonPropertyName("from")] public required string From { get; init; }
    [JsonPropertyName("to")] public required string To { get; init; }
    [JsonPropertyName("rollback")] public bool Rollback { get; init; }
    [JsonPropertyName("apps")] public IReadOnlyList<AppChange> Apps { get; init; } = [];
    [JsonPropertyName("imagesAdded")] public IReadOnlyList<string> ImagesAdded { get; init; } = [];
    [JsonPropertyName("imagesRemoved")] public IReadOnlyList<string> ImagesRemoved { get; init; } = [];
    [JsonPropertyName("hosts")] public IReadOnlyList<HostBytes> Hosts { get; init; } = [];
    [JsonPropertyName("kubernetes")] public required KubeChange Kubernetes { get; init; }
    /// <summary>The lifecycle scripts (runtime, init-kube) that run again, each on the hosts where its inputs changed; a script not listed does not run.</summary>
    [JsonPropertyName("scripts")] public IReadOnlyList<ScriptRun> Scripts { get; init; } = [];
    /// <summary>What the upgrade (a rollback especially) does not undo.</summary>
    [JsonPropertyName("cannotUndo")] public IReadOnlyList<string> CannotUndo { get; init; } = [];

    /// <summary>The apps to launch, in the new image's launch order (added and upgraded).</summary>
    [JsonIgnore] public IReadOnlyList<string> ToLaunch => Apps.Where(a => a.Change is "add" or "upgrade").Select(a => a.Name).ToList();

    /// <summary>The plan as text, one line per change.</summary>
    public string ToText()
    {
        var sb = new StringBuilder();
        var ci = CultureInfo.InvariantCulture;
        sb.Append(ci, $"{(Rollback ? "rollback" : "upgrade")} plan: {From} -> {To}\n");
        sb.Append("  apps:\n");
        if (Apps.Count == 0) sb.Append("    none launched\n");
        foreach (var a in Apps)
        {
            sb.Append(ci, $"    {a.Change,-9} {a.Name} ({a.Kind})");
            if (a.Details.Count > 0) sb.Append(": ").Append(string.Join("; ", a.Details));
            sb.Append('\n');
        }
        sb.Append(ci, $"  images: {ImagesAdded.Count} added, {ImagesRemoved.Count} removed\n");
        foreach (var i in ImagesAdded) sb.Append("    + ").Append(i).Append('\n');
        foreach (var i in ImagesRemoved) sb.Append("    - ").Append(i).Append('\n');
        sb.Append("  bytes to send (blobs each host lacks):\n");
        foreach (var h in Hosts) sb.Append(ci, $"    {h.Host,-15} {Bytes.Format(h.Bytes)} in {h.Blobs} blob(s)\n");
        sb.Append("  kubernetes: ").Append(Kubernetes.Note).Append('\n');
        sb.Append("  lifecycle scripts:");
        if (Scripts.Count == 0) sb.Append(" none run again (unchanged)");
        sb.Append('\n');
        foreach (var s in Scripts) sb.Append(ci, $"    {s.Step,-9} scripts/{s.Script} on {string.Join(", ", s.Hosts)} (the script, etc/ or the host's env changed)\n");
        foreach (var c in CannotUndo) sb.Append("  not undone: ").Append(c).Append('\n');
        return sb.ToString();
    }
}

[JsonSourceGenerationOptions(WriteIndented = true, NewLine = "\n")]
[JsonSerializable(typeof(UpgradePlan))]
public sealed partial class UpgradePlanJsonContext : JsonSerializerContext;
