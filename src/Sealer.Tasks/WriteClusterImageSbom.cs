using System.Globalization;
using Microsoft.Build.Framework;
using Sealer.Core.Artifacts;
using Sealer.Core.Diagnostics;
using Sealer.Core.Layout;
using Task = System.Threading.Tasks.Task;

namespace Sealer.Tasks;

public sealed partial class WriteClusterImageSbom : SealerTask
{
    protected override Task ExecuteCoreAsync(CancellationToken cancellationToken)
    {
        var layout = OciLayout.Open(Image);
        var root = layout.FindRef(RefName)
            ?? throw new SealerException(ErrorCodes.NotAClusterImage, $"The built layout {Image} has no image named '{RefName}', so there is nothing to describe. Build the project again (dotnet build -t:Rebuild).", BuildEngine?.ProjectFileOfTaskNode, 0);
        var info = ClusterImageInspector.Inspect(layout, RefName, root);
        var created = long.TryParse(SourceDateEpoch, NumberStyles.Integer, CultureInfo.InvariantCulture, out var epoch) && epoch > 0
            ? DateTimeOffset.FromUnixTimeSeconds(epoch) : DateTimeOffset.UtcNow;
        cancellationToken.ThrowIfCancellationRequested();
        AtomicFile.WriteAllBytes(OutputFile, ClusterImageSbom.Create(info, created));
        int images = info.Platforms.SelectMany(p => p.Images).Select(i => i.Reference).Distinct(StringComparer.Ordinal).Count();
        Log.LogMessage(MessageImportance.High, $"Sealer: SBOM (SPDX 2.3) of {RefName}: {images} image(s) -> {OutputFile}");
        return Task.CompletedTask;
    }
}
