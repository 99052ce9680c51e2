using System.Text;
using System.Text.Json.Nodes;
using Sealer.Core.Diagnostics;

namespace Sealer.Core.Delivery.Install.Policies;

/// <summary>A host's own JSON settings file that delivery merges its part into (daemon.json, Docker config.json): read as an object, written back indented. Pure.</summary>
internal static class HostJsonFile
{
    /// <summary>The file's object, null when it is empty (no file); one that is not a JSON object is an error naming <paramref name="host"/> and <paramref name="path"/>.</summary>
    public static JsonObject? Parse(string existing, string host, string path)
    {
        if (string.IsNullOrWhiteSpace(existing)) return null;
        try
        {
            return JsonNode.Parse(existing) as JsonObject ?? throw new System.Text.Json.JsonException("not an object");
        }
        catch (System.Text.Json.JsonException ex)
        {
            throw new SealerException(ErrorCodes.RunStepFailed, $"{host}: {path} is not a JSON object ({ex.Message}); fix it, then run again.", inner: ex);
        }
    }

    /// <summary>Indented, <c>\n</c> line ends and a final one.</summary>
    public static string Write(JsonObject json)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new System.Text.Json.Utf8JsonWriter(buffer, new System.Text.Json.JsonWriterOptions { Indented = true, NewLine = "\n" })) json.WriteTo(w);
        return Encoding.UTF8.GetString(buffer.WrittenSpan) + "\n";
    }
}
