using System.Text.Json;

namespace Sealer.Core.Delivery.Install.Policies;

/// <summary>
/// Which images the registry hosts keep after an upgrade: the current one and the ones before it, newest first, up to
/// <c>--keep-images</c> (default <see cref="DefaultKeep"/>: the current and the previous one, for a rollback whose pods
/// pull at once). Their registry indexes are merged into the served <c>registry/index.json</c>; blobs no kept image reaches
/// are garbage (<see cref="Reachable"/>). Pure: state in, lists out.
/// </summary>
public static class RegistryRetention
{
    public const int DefaultKeep = 2;

    /// <summary>
    /// The images kept, newest first: an upgrade's target and source when one is in progress, then the history from its
    /// end; distinct by their manifests, at most <paramref name="keep"/>.
    /// </summary>
    public static IReadOnlyList<ImageRecord> Retained(ClusterState state, int keep)
    {
        var seq = new List<ImageRecord>();
        if (state.Upgrade is { } u)
        {
            seq.Add(u.To);
            seq.Add(u.From);
        }
        var history = state.History ?? [];
        for (int i = history.Count - 1; i >= 0; i--) seq.Add(history[i]);
        if (seq.Count == 0 && state.ManifestDigests.Count > 0) seq.Add(new ImageRecord { Image = state.Image, ManifestDigests = new(state.ManifestDigests, StringComparer.Ordinal) });
        var result = new List<ImageRecord>();
        foreach (var r in seq)
        {
            if (result.Count == keep) break;
            if (r.ManifestDigests.Count == 0 || result.Any(x => Same(x, r))) continue;
            result.Add(r);
        }
        return result;
    }

    /// <summary>The hex of every manifest of <paramref name="r"/>: the names of its saved records on the hosts (<c>&lt;cluster&gt;/images/HEX/</c>).</summary>
    public static IEnumerable<string> Keys(ImageRecord r) => r.ManifestDigests.Values.Select(Hex).Distinct(StringComparer.Ordinal);

    /// <summary>The hex part of <c>sha256:HEX</c>.</summary>
    public static string Hex(string digest) => digest[(digest.IndexOf(':', StringComparison.Ordinal) + 1)..];

    private static bool Same(ImageRecord a, ImageRecord b) =>
        a.ManifestDigests.Count == b.ManifestDigests.Count && a.ManifestDigests.All(kv => b.ManifestDigests.TryGetValue(kv.Key, out var v) && v == kv.Value);

    /// <summary>
    /// Every sha256 digest reachable from the entries of <paramref name="indexes"/> (OCI index.json documents): manifests,
    /// indexes, configs, layers, blobs of artifacts. <paramref name="readBlob"/> gives a blob's bytes (null: not readable
    /// here); a manifest or index that is referenced and cannot be read is listed in <paramref name="unread"/> (whoever
    /// deletes must then delete nothing, since what it reaches is unknown).
    /// </summary>
    public static HashSet<string> Reachable(IEnumerable<byte[]> indexes, Func<string, byte[]?> readBlob, Func<string, bool> exists, out List<string> unread)
    {
        var keep = new HashSet<string>(StringComparer.Ordinal);
        var todo = new Stack<(string Hex, string? MediaType)>();
        unread = [];
        foreach (var index in indexes) Collect(index, todo);
        while (todo.Count > 0)
        {
            var (hex, mediaType) = todo.Pop();
            if (!keep.Add(hex)) continue;
            bool maybeJson = mediaType is null || mediaType.Contains("manifest", StringComparison.Ordinal) || mediaType.Contains("index", StringComparison.Ordinal);
            if (!maybeJson || !exists(hex)) continue;
            if (readBlob(hex) is not { } bytes)
            {
                unread.Add(hex);
                continue;
            }
            Collect(bytes, todo);
        }
        return keep;
    }

    private static void Collect(byte[] json, Stack<(string, string?)> todo)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) return;
            void Add(JsonElement d)
            {
                if (d.ValueKind == JsonValueKind.Object && d.TryGetProperty("digest", out var dg) && dg.GetString() is { } s && s.StartsWith("sha256:", StringComparison.Ordinal))
                {
                    todo.Push((s[7..], d.TryGetProperty("mediaType", out var mt) ? mt.GetString() : null));
                }
            }
            foreach (var list in new[] { "manifests", "layers", "blobs" })
            {
                if (doc.RootElement.TryGetProperty(list, out var arr) && arr.ValueKind == JsonValueKind.Array) foreach (var d in arr.EnumerateArray()) Add(d);
            }
            if (doc.RootElement.TryGetProperty("config", out var config)) Add(config);
        }
        catch (JsonException)
        {
            // a blob that starts with '{' but is no JSON document references nothing
        }
    }
}
