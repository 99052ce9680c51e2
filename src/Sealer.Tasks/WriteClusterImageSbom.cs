using System.Globalization;
using Microsoft.Build.Framework;
using Sealer.Core.Artifacts;
using Sealer.Core.Layout;
using Task = System.Threading.Tasks.Task;

namespace Sealer.Tasks;

public sealed partial class WriteClusterImageSbom : SealerTask
{
    protected override Task ExecuteCoreAsync(CancellationToken cancellationToken)
    {
        long epoch = long.TryParse(SourceDateEpoch, NumberStyles.Integer, CultureInfo.InvariantCulture, out var e) ? e : 0;
        var info = ClusterImageSbom.WriteFile(OciLayout.Open(Image), RefName, OutputFile, ClusterImageSbom.CreatedAt(epoch));
        int images = info.Platforms.SelectMany(p => p.Images).Select(i => i.Reference).Distinct(StringComparer.Ordinal).Count();
        Log.LogMessage(MessageImportance.High, $"Sealer: SBOM (SPDX 2.3) of {RefName}: {images} image(s) -> {OutputFile}");
        return Task.CompletedTask;
    }
}
