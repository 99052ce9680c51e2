using Microsoft.Build.Framework;
using Sealer.Core.Artifacts;
using Sealer.Core.Bundle;
using Sealer.Core.Diagnostics;
using Sealer.Core.Layout;
using Task = System.Threading.Tasks.Task;

namespace Sealer.Tasks;

public sealed partial class BundleCluster : SealerTask
{
    protected override async Task ExecuteCoreAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(Archive))
        {
            throw new SealerException(ErrorCodes.BundleBadInput, $"The cluster image archive '{Archive}' does not exist. Build with SealerArchive=true (the default), or run -t:BundleCluster, which builds it.", Archive);
        }
        string platform = !string.IsNullOrWhiteSpace(Platform) ? Platform.Trim()
            : (Platforms ?? "").Split([';', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "linux/amd64";
        string binary = SealerBinary(platform);
        string actual = SiteBundle.PlatformOfBinary(binary);
        if (actual != platform)
        {
            throw new SealerException(ErrorCodes.BundleBadInput, $"SealerCliPath '{binary}' is a sealer for {actual}, not {platform} (SealerBundlePlatform). Give the NativeAOT sealer for {platform}.", binary);
        }
        string? template = null;
        if (!string.IsNullOrWhiteSpace(ClusterfileTemplate))
        {
            if (!File.Exists(ClusterfileTemplate)) throw new SealerException(ErrorCodes.BundleBadInput, $"The Clusterfile template '{ClusterfileTemplate}' (SealerBundleClusterfileTemplate) does not exist.", ClusterfileTemplate);
            template = await File.ReadAllTextAsync(ClusterfileTemplate, cancellationToken).ConfigureAwait(false);
        }
        long? split = null;
        if (!string.IsNullOrWhiteSpace(SplitSize))
        {
            try
            {
                split = SiteBundle.ParseSplitSize(SplitSize);
            }
            catch (SealerException ex)
            {
                throw new SealerException(ex.Code, $"SealerBundleSplitSize: {ex.Message}", BuildEngine?.ProjectFileOfTaskNode, 0);
            }
        }
        var info = ClusterImageInspector.Inspect(ArchiveLayout.Open(Archive));
        string output = string.IsNullOrWhiteSpace(Output)
            ? Path.Combine(string.IsNullOrWhiteSpace(OutputDirectory) ? Path.GetDirectoryName(Path.GetFullPath(Archive))! : OutputDirectory, SiteBundle.DefaultFileName(info.Name, platform))
            : Path.GetFullPath(Output);
        Log.LogMessage(MessageImportance.High, $"Sealer: bundling {info.Name} with the sealer for {platform} ({binary})");
        long total = new FileInfo(Archive).Length, done = 0;
        var report = CreateProgress<long>((bytes, meter) => $"Sealer: bundled {meter.Describe(bytes, total)}");
        var bundle = await SiteBundle.WriteFromArchiveAsync(output, binary, Archive, new BundleWriteOptions
        {
            Progress = new Sealer.Core.IO.SyncProgress<long>(n => report.Report(Interlocked.Add(ref done, n))),
            Image = info.Name,
            Platforms = info.Platforms.Select(p => p.Platform).ToList(),
            SealerPlatform = platform,
            SealerVersion = string.IsNullOrWhiteSpace(SealerVersion) ? null : SealerVersion,
            ClusterfileTemplate = template,
            SplitSize = split,
        }, cancellationToken).ConfigureAwait(false);
        Bundle = bundle.Path;
        Log.LogMessage(MessageImportance.High, $"Sealer: site bundle {Bundle} ({new FileInfo(Bundle).Length} bytes). At the site: ./{Path.GetFileName(Bundle)} --help");
        if (bundle.IsSplit)
        {
            var parts = bundle.ArchiveRegions().Skip(1).ToList();
            BundleParts = [.. parts.Select(r => (ITaskItem)new Microsoft.Build.Utilities.TaskItem(r.Path))];
            Log.LogMessage(MessageImportance.High, $"Sealer: split in {parts.Count + 1} files of at most {split} bytes; carry them all into one folder at the site: {string.Join(", ", parts.Select(r => Path.GetFileName(r.Path)))}");
        }
    }

    /// <summary>SealerCliPath, else the SDK's <c>tools/sealer/RID/sealer</c>; SEA1920 naming SealerCliPath when neither is there.</summary>
    private string SealerBinary(string platform)
    {
        if (!string.IsNullOrWhiteSpace(SealerCliPath))
        {
            if (!File.Exists(SealerCliPath)) throw new SealerException(ErrorCodes.BundleNoSealerForPlatform, $"SealerCliPath '{SealerCliPath}' does not exist. Point it at the NativeAOT sealer for {platform} (build/publish-cli.sh writes artifacts/cli/RID/sealer).", BuildEngine?.ProjectFileOfTaskNode, 0);
            return SealerCliPath;
        }
        string rid = platform switch
        {
            "linux/amd64" => "linux-x64",
            "linux/arm64" => "linux-arm64",
            _ => throw new SealerException(ErrorCodes.BundleBadInput, $"SealerBundlePlatform '{platform}' is not a platform sealer runs on (linux/amd64, linux/arm64).", BuildEngine?.ProjectFileOfTaskNode, 0),
        };
        string dir = SdkSealerDirectory ?? "";
        string candidate = Path.Combine(dir, rid, "sealer");
        if (File.Exists(candidate)) return candidate;
        var carried = Directory.Exists(dir) ? Directory.GetDirectories(dir).Where(d => File.Exists(Path.Combine(d, "sealer"))).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList() : [];
        throw new SealerException(ErrorCodes.BundleNoSealerForPlatform,
            $"This Sealer SDK carries no sealer for {platform} ({(carried.Count == 0 ? "it carries none: it was packed without build/publish-cli.sh" : "it carries " + string.Join(", ", carried))}). " +
            $"Set SealerCliPath to the NativeAOT sealer for {platform} (build/publish-cli.sh {rid} writes artifacts/cli/{rid}/sealer).", BuildEngine?.ProjectFileOfTaskNode, 0);
    }
}
