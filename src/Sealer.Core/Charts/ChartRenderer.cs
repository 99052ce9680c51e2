using Sealer.Core.Diagnostics;
using Sealer.Core.Discovery;

namespace Sealer.Core.Charts;

/// <summary>One rendered template: helm's key (<c>chart/charts/sub/templates/x.yaml</c>), its output, the file it came from.</summary>
public sealed record RenderedTemplate(string Key, string Text, string SourceFile, string ChartName, string TemplateName);

public sealed class RenderedChart
{
    public required Chart Chart { get; init; }
    public required IReadOnlyList<RenderedTemplate> Templates { get; init; }
    public required IReadOnlyList<string> InputFiles { get; init; }
    public required Dictionary<string, object?> Values { get; init; }
}

/// <summary>Renders charts with the Helm template engine (TEMPORARY: the engine lands from the templating branch).</summary>
public static class ChartRenderer
{
    public static RenderedChart Render(ChartInput input, DiscoveryInput? discovery = null, CancellationToken ct = default)
        => throw new SealerException(ErrorCodes.ChartRenderFailed, $"cannot render chart '{input.Path}': the Helm template engine is not in this build yet.");
}
