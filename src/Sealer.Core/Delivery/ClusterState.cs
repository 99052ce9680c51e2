using System.Text.Json;
using System.Text.Json.Serialization;
using Sealer.Core.Diagnostics;
using Sealer.Core.Layout;

namespace Sealer.Core.Delivery;

/// <summary>
/// What has been done to a cluster, kept locally (<c>~/.sealer/&lt;cluster&gt;/state.json</c>) and on master0
/// (<c>&lt;dataRoot&gt;/&lt;cluster&gt;/state.json</c>). A re-run skips finished steps; the copy on master0 wins, so a run from
/// another machine sees the truth of the cluster.
/// </summary>
public sealed class ClusterState
{
    [JsonPropertyName("cluster")] public string Cluster { get; set; } = "";
    [JsonPropertyName("image")] public string Image { get; set; } = "";
    [JsonPropertyName("manifestDigests")] public Dictionary<string, string> ManifestDigests { get; set; } = new(StringComparer.Ordinal);
    [JsonPropertyName("hosts")] public Dictionary<string, HostState> Hosts { get; set; } = new(StringComparer.Ordinal);
    [JsonPropertyName("clusterSteps")] public List<string> ClusterSteps { get; set; } = [];
    [JsonPropertyName("updated")] public string Updated { get; set; } = "";
    /// <summary>The fingerprint of what the apps step launched: a different one launches again.</summary>
    [JsonPropertyName("launched")] public string? Launched { get; set; }
    /// <summary>Fingerprints of other cluster steps (see <see cref="ClusterFingerprint"/>).</summary>
    [JsonPropertyName("fingerprints"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public Dictionary<string, string>? Fingerprints { get; set; }
    /// <summary>The images the cluster ran, oldest first; the last is the current one (absent in states written before upgrades).</summary>
    [JsonPropertyName("history"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public List<ImageRecord>? History { get; set; }
    /// <summary>An upgrade (or rollback) that started and has not finished: the next run resumes it.</summary>
    [JsonPropertyName("upgrade"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public UpgradeRecord? Upgrade { get; set; }

    /// <summary>The image the cluster runs now, as recorded (null: installed before image history was kept).</summary>
    [JsonIgnore] public ImageRecord? Current => History is { Count: > 0 } h ? h[^1] : null;

    private readonly object _gate = new();

    public bool HostDone(string ip, string step)
    {
        lock (_gate) return Hosts.TryGetValue(ip, out var h) && h.Steps.Contains(step);
    }

    public void MarkHost(string ip, IReadOnlyList<string> roles, string step)
    {
        lock (_gate)
        {
            if (!Hosts.TryGetValue(ip, out var h)) Hosts[ip] = h = new HostState();
            h.Roles = roles.ToList();
            if (!h.Steps.Contains(step)) h.Steps.Add(step);
        }
    }

    public bool ClusterDone(string step)
    {
        lock (_gate) return ClusterSteps.Contains(step);
    }

    public void MarkCluster(string step)
    {
        lock (_gate) if (!ClusterSteps.Contains(step)) ClusterSteps.Add(step);
    }

    /// <summary>Drops a finished cluster step, so this run does it again.</summary>
    public void UnmarkCluster(string step)
    {
        lock (_gate) ClusterSteps.Remove(step);
    }

    /// <summary>Drops a finished step of a host, so the next run does it again.</summary>
    public void UnmarkHost(string ip, string step)
    {
        lock (_gate) if (Hosts.TryGetValue(ip, out var h)) h.Steps.Remove(step);
    }

    /// <summary>
    /// The fingerprint of what a host step was last done from (null: unknown). The render step's is kept in <c>rendered</c>
    /// (its field since before fingerprints were generic), any other step's in <c>fingerprints</c>.
    /// </summary>
    public string? HostFingerprint(string ip, string step)
    {
        lock (_gate) return Hosts.TryGetValue(ip, out var h) ? (step == "render" ? h.Rendered : h.Fingerprints?.GetValueOrDefault(step)) : null;
    }

    /// <summary>Records a host step's fingerprint (on a host the state knows).</summary>
    public void SetHostFingerprint(string ip, string step, string fingerprint)
    {
        lock (_gate)
        {
            if (!Hosts.TryGetValue(ip, out var h)) return;
            if (step == "render") h.Rendered = fingerprint;
            else (h.Fingerprints ??= new(StringComparer.Ordinal))[step] = fingerprint;
        }
    }

    /// <summary>The fingerprint of what a cluster step was last done from (null: unknown); the apps step's is kept in <c>launched</c>.</summary>
    public string? ClusterFingerprint(string step)
    {
        lock (_gate) return step == "apps" ? Launched : Fingerprints?.GetValueOrDefault(step);
    }

    public void SetClusterFingerprint(string step, string fingerprint)
    {
        lock (_gate)
        {
            if (step == "apps") Launched = fingerprint;
            else (Fingerprints ??= new(StringComparer.Ordinal))[step] = fingerprint;
        }
    }

    public void ForgetHost(string ip)
    {
        lock (_gate) Hosts.Remove(ip);
    }

    public byte[] ToJson()
    {
        lock (_gate)
        {
            Updated = DateTimeOffset.UtcNow.ToString("O");
            return JsonSerializer.SerializeToUtf8Bytes(this, DeliveryJsonContext.Default.ClusterState);
        }
    }

    public static ClusterState? FromJson(ReadOnlySpan<byte> json, string what)
    {
        if (json.Trim((byte)'\n').IsEmpty) return null;
        try
        {
            return JsonSerializer.Deserialize(json, DeliveryJsonContext.Default.ClusterState);
        }
        catch (JsonException ex)
        {
            throw new SealerException(ErrorCodes.BadClusterState, $"The cluster state {what} is not valid: {ex.Message}. Move it aside to start over (the hosts keep what they have; finished work is detected again).", inner: ex);
        }
    }

    public static string LocalPath(string cluster, string? stateRoot = null) =>
        Path.Combine(stateRoot ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".sealer"), cluster, "state.json");

    public static ClusterState? LoadLocal(string path) => File.Exists(path) ? FromJson(File.ReadAllBytes(path), $"'{path}'") : null;

    public void SaveLocal(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        AtomicFile.WriteAllBytes(path, ToJson());
    }
}

public sealed class HostState
{
    [JsonPropertyName("roles")] public List<string> Roles { get; set; } = [];
    [JsonPropertyName("steps")] public List<string> Steps { get; set; } = [];
    /// <summary>sha256 of the render step's inputs (env, Config/kubeadm/Application documents, masters, VIP).</summary>
    [JsonPropertyName("rendered"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Rendered { get; set; }
    /// <summary>Fingerprints of other host steps (see <see cref="ClusterState.HostFingerprint"/>).</summary>
    [JsonPropertyName("fingerprints"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public Dictionary<string, string>? Fingerprints { get; set; }
}

/// <summary>One image a cluster ran: what it launched, which app images it carried, its Kubernetes version.</summary>
public sealed class ImageRecord
{
    /// <summary>The image as given to run (layout dir, archive or cached name): what <c>sealer rollback</c> opens again.</summary>
    [JsonPropertyName("image")] public string Image { get; set; } = "";
    [JsonPropertyName("manifestDigests")] public Dictionary<string, string> ManifestDigests { get; set; } = new(StringComparer.Ordinal);
    /// <summary>The image's root digest (its index, or its one manifest): what a delta archive names as its base (null in states written before).</summary>
    [JsonPropertyName("root"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Root { get; set; }
    /// <summary>The Kubernetes version the image carries (its cluster-runtime-version label; null: none recorded).</summary>
    [JsonPropertyName("kubeVersion"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? KubeVersion { get; set; }
    /// <summary>What the apps step launched from this image, in launch order.</summary>
    [JsonPropertyName("apps")] public List<AppRecord> Apps { get; set; } = [];
    /// <summary>Raw launch commands (spec.cmd, Application cmds, image CMDS) instead of apps.</summary>
    [JsonPropertyName("cmds"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public List<string>? Cmds { get; set; }
    /// <summary>The app images in the image's registry (full names).</summary>
    [JsonPropertyName("images")] public List<string> Images { get; set; } = [];
    /// <summary>Apps of earlier images this one dropped and that were left running (no --prune-apps).</summary>
    [JsonPropertyName("kept"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public List<AppRecord>? Kept { get; set; }
    [JsonPropertyName("at"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? At { get; set; }
}

/// <summary>One launched app of an image: how it is launched, its chart version, a digest of its files and settings, its images.</summary>
public sealed class AppRecord
{
    [JsonPropertyName("name")] public string Name { get; set; } = "";
    /// <summary>helm, kube, shell, cmds (Application launch cmds or APPCMDS).</summary>
    [JsonPropertyName("kind")] public string Kind { get; set; } = "";
    [JsonPropertyName("chartVersion"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? ChartVersion { get; set; }
    /// <summary>Helm release and namespace (helm apps), for uninstall.</summary>
    [JsonPropertyName("release"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Release { get; set; }
    [JsonPropertyName("namespace"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Namespace { get; set; }
    /// <summary>sha256 of the app's files in the image (chart, values, manifests, scripts).</summary>
    [JsonPropertyName("files")] public string FilesDigest { get; set; } = "";
    /// <summary>sha256 of its values files (values*.yaml) alone.</summary>
    [JsonPropertyName("values"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? ValuesDigest { get; set; }
    /// <summary>sha256 of its Application config (env, files, launch cmds, helm settings).</summary>
    [JsonPropertyName("config")] public string ConfigDigest { get; set; } = "";
    /// <summary>App images its files name (registry images whose repository and tag appear in them).</summary>
    [JsonPropertyName("images")] public List<string> Images { get; set; } = [];
    /// <summary>The image it was last launched from (set when the image history records it).</summary>
    [JsonPropertyName("from"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? From { get; set; }
}

/// <summary>An upgrade in progress: the image it goes from and to, the options it started with.</summary>
public sealed class UpgradeRecord
{
    [JsonPropertyName("from")] public ImageRecord From { get; set; } = new();
    [JsonPropertyName("to")] public ImageRecord To { get; set; } = new();
    [JsonPropertyName("pruneApps")] public bool PruneApps { get; set; }
    [JsonPropertyName("rollback")] public bool Rollback { get; set; }
    /// <summary>The state predates image history and the old image could not be opened: what ran before is not known.</summary>
    [JsonPropertyName("fromUnknown"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public bool FromUnknown { get; set; }
    /// <summary>The Kubernetes version to upgrade to (null: Kubernetes is left as it is).</summary>
    [JsonPropertyName("kubeTo"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? KubeTo { get; set; }
    [JsonPropertyName("started")] public string Started { get; set; } = "";
}

[JsonSourceGenerationOptions(WriteIndented = true, NewLine = "\n")]
[JsonSerializable(typeof(ClusterState))]
[JsonSerializable(typeof(RunFailure))]
internal sealed partial class DeliveryJsonContext : JsonSerializerContext;
