using Microsoft.Build.Framework;
using Sealer.Core.Delivery;
using Sealer.Core.Delivery.Checks;
using Sealer.Core.Delivery.Clusterfile;
using Sealer.Core.Diagnostics;
using Task = System.Threading.Tasks.Task;

namespace Sealer.Tasks;

public sealed partial class CheckSiteImages : SealerTask
{
    protected override Task ExecuteCoreAsync(CancellationToken cancellationToken)
    {
        string path = Path.GetFullPath(SiteValues);
        if (!File.Exists(path))
        {
            throw new SealerException(ErrorCodes.ClusterfileNotFound, $"SealerSiteValues names '{SiteValues}', which does not exist. Point it at the site's Clusterfile (or its Application documents).", BuildEngine?.ProjectFileOfTaskNode, 0);
        }
        var image = ClusterImageSource.Open(Image);
        string text = File.ReadAllText(path);
        // only Application/Config documents: a Cluster document after them (their lines stay as written)
        bool hasCluster = text.Split('\n').Any(l => l.TrimEnd('\r').Trim() is "kind: Cluster" or "kind: \"Cluster\"" or "kind: 'Cluster'");
        if (!hasCluster)
        {
            text = text.TrimEnd() + $"\n---\napiVersion: sealer.io/v2\nkind: Cluster\nmetadata:\n  name: site\nspec:\n  image: {image.Reference}\n  hosts:\n    - ips: [127.0.0.1]\n      roles: [master]\n";
        }
        var doc = ClusterfileReader.Parse(text, path);
        var report = ImageCompleteness.CheckOffline(image, doc, cancellationToken: cancellationToken);
        MissingImages = report.Missing.Select(m => m.Reference).Distinct(StringComparer.Ordinal).Count();
        foreach (var a in report.Apps.Where(a => a.NotChecked is not null))
        {
            Log.LogMessage(MessageImportance.Normal, $"Sealer: app {a.App} not checked: {a.NotChecked}");
        }
        foreach (var m in report.Missing)
        {
            var (file, line) = m.FixAt;
            string message = $"app '{m.App}' would be launched with {m.Reference}, which the cluster image {image.Reference} does not carry: {m}. Fix the value, or add the image to the project and build again{(AllowMissing ? "" : " (SealerAllowMissingImages=true makes this a warning)")}.";
            if (AllowMissing) Log.LogWarning(null, ErrorCodes.ImagesMissingFromClusterImage, null, file, line, 0, 0, 0, message);
            else Log.LogError(null, ErrorCodes.ImagesMissingFromClusterImage, null, file, line, 0, 0, 0, message);
        }
        if (report.Complete)
        {
            Log.LogMessage(MessageImportance.High, $"Sealer: every image the apps launch with {SiteValues} is in the cluster image ({report.Apps.Sum(a => a.Images)} image(s), {report.Served} served)");
        }
        return Task.CompletedTask;
    }
}
