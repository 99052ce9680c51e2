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

[JsonSourceGenerationOptions(WriteIndented = true)]
[JsonSerializable(typeof(ClusterState))]
internal sealed partial class DeliveryJsonContext : JsonSerializerContext;
