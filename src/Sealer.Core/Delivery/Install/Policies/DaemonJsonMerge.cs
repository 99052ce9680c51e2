using System.Text.Json.Nodes;
using Sealer.Core.RegistryServer;

namespace Sealer.Core.Delivery.Install.Policies;

/// <summary>Our registry settings in Docker's <c>/etc/docker/daemon.json</c>, never overwriting the host's own, and taken out again on delete. Pure.</summary>
internal static class DaemonJsonMerge
{
    /// <summary>Adds our registry-mirrors / insecure-registries to an existing daemon.json (ours first: tried first), keeping every other setting.</summary>
    public static string Merge(string existing, string ours, string host)
    {
        if (HostJsonFile.Parse(existing, host, RuntimeConfigOptions.DockerDaemonJsonPath) is not { } current) return ours;
        var add = (JsonObject)JsonNode.Parse(ours)!;
        foreach (var key in new[] { "registry-mirrors", "insecure-registries" })
        {
            if (add[key] is not JsonArray wanted) continue;
            var list = current[key] as JsonArray ?? [];
            var have = list.Select(x => x?.GetValue<string>()).ToHashSet(StringComparer.Ordinal);
            var merged = new JsonArray();
            foreach (var v in wanted.Select(x => x!.GetValue<string>())) merged.Add((JsonNode?)JsonValue.Create(v));
            foreach (var v in have.Where(v => v is not null && !wanted.Any(w => w!.GetValue<string>() == v))) merged.Add((JsonNode?)JsonValue.Create(v));
            current[key] = merged;
        }
        return HostJsonFile.Write(current);
    }

    /// <summary>
    /// What <see cref="Merge"/> added taken out again (<c>sealer delete</c>): our registry-mirrors / insecure-registries
    /// entries removed, a list left empty removed with its key, every other setting kept. Null when there is nothing of
    /// ours to take out, or either is not a JSON object (not ours to repair: the file is left as it is; a damaged record
    /// of what was merged takes nothing out).
    /// </summary>
    public static string? Unmerge(string existing, string ours)
    {
        if (string.IsNullOrWhiteSpace(existing) || string.IsNullOrWhiteSpace(ours)) return null;
        JsonObject current, added;
        try
        {
            if (JsonNode.Parse(existing) is not JsonObject o || JsonNode.Parse(ours) is not JsonObject a) return null;
            current = o;
            added = a;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
        bool changed = false;
        foreach (var key in new[] { "registry-mirrors", "insecure-registries" })
        {
            if (added[key] is not JsonArray mine || current[key] is not JsonArray list) continue;
            var drop = mine.OfType<JsonValue>().Select(v => v.TryGetValue<string>(out var text) ? text : null).OfType<string>().ToHashSet(StringComparer.Ordinal);
            var kept = list.Where(x => !(x is JsonValue v && v.TryGetValue<string>(out var s) && drop.Contains(s))).Select(x => x?.DeepClone()).ToList();
            if (kept.Count == list.Count) continue;
            changed = true;
            if (kept.Count == 0) current.Remove(key);
            else current[key] = new JsonArray([.. kept]);
        }
        return changed ? HostJsonFile.Write(current) : null;
    }
}
