using System.Text;
using System.Text.Json.Nodes;
using Sealer.Core.Diagnostics;

namespace Sealer.Core.Delivery.Install.Policies;

/// <summary>Our registry settings in Docker's <c>/etc/docker/daemon.json</c>, never overwriting the host's own. Pure.</summary>
internal static class DaemonJsonMerge
{
    /// <summary>Adds our registry-mirrors / insecure-registries to an existing daemon.json (ours first: tried first), keeping every other setting.</summary>
    public static string Merge(string existing, string ours, string host)
    {
        if (string.IsNullOrWhiteSpace(existing)) return ours;
        JsonObject current;
        try
        {
            current = JsonNode.Parse(existing) as JsonObject ?? throw new System.Text.Json.JsonException("not an object");
        }
        catch (System.Text.Json.JsonException ex)
        {
            throw new SealerException(ErrorCodes.RunStepFailed, $"{host}: /etc/docker/daemon.json is not a JSON object ({ex.Message}); fix it, then run again.", inner: ex);
        }
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
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new System.Text.Json.Utf8JsonWriter(buffer, new System.Text.Json.JsonWriterOptions { Indented = true, NewLine = "\n" })) current.WriteTo(w);
        return Encoding.UTF8.GetString(buffer.WrittenSpan) + "\n";
    }
}
