using System.Text.Json.Serialization;

namespace Sealer.Core.References;

/// <summary>Where an image reference came from: a project file, chart template, manifest or image list, and its line.</summary>
public sealed record ImageSource(
    [property: JsonPropertyName("file")] string File,
    [property: JsonPropertyName("line")] int Line,
    [property: JsonPropertyName("detail"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Detail = null)
{
    public override string ToString() => Line > 0 ? $"{File}({Line})" + (Detail is null ? "" : $" [{Detail}]") : File + (Detail is null ? "" : $" [{Detail}]");
}
