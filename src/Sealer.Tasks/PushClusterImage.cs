using Microsoft.Build.Framework;
using Sealer.Core.Artifacts;
using Sealer.Core.Diagnostics;
using Sealer.Core.Distribution.Upload;
using Sealer.Core.References;
using Sealer.Core.Signing;
using Task = System.Threading.Tasks.Task;

namespace Sealer.Tasks;

public sealed partial class PushClusterImage : SealerTask
{
    protected override async Task ExecuteCoreAsync(CancellationToken cancellationToken)
    {
        if (!Directory.Exists(Source) && !File.Exists(Source))
        {
            throw new SealerException(ErrorCodes.ImageNotInStore, $"The cluster image '{Source}' does not exist. Build the project first (dotnet build), or push with -t:PushClusterImage which builds it.");
        }
        if (!ImageReference.TryParse(Destination.Trim(), out var destination, out string? why))
        {
            throw new SealerException(ErrorCodes.InvalidPushDestination,
                $"The push destination '{Destination}' is not an image reference ({why}). Set ClusterImageRegistry (e.g. registry.example.com/team) or SealerPushDestination (a full reference with a tag).",
                BuildEngine?.ProjectFileOfTaskNode, 0);
        }
        var options = new PushOptions
        {
            PlainHttp = PlainHttp,
            Concurrency = Math.Clamp(MaxConcurrentBlobs, 1, 32),
            Progress = CreateProgress<PushProgress>((p, meter) => p.BlobsTotal == 0 ? null
                : $"Sealer: pushing {destination}: blobs {p.BlobsDone}/{p.BlobsTotal}, {meter.Describe(p.BytesUploaded, p.BytesTotal)}"),
        };
        foreach (var repo in MountFrom.Where(r => !string.IsNullOrWhiteSpace(r))) options.MountFrom.Add(repo.Trim());
        foreach (var tag in AdditionalTags.Where(t => !string.IsNullOrWhiteSpace(t))) options.AdditionalTags.Add(tag.Trim());
        using var signingKey = string.IsNullOrWhiteSpace(SigningKey) ? null : SigningKeys.LoadPrivateKey(SigningKey.Trim());
        options.SigningKey = signingKey;
        options.AttachSbom = Sbom;
        Log.LogMessage(MessageImportance.High, $"Sealer: pushing {Source} to {destination}{(signingKey is null ? "" : " (signed)")}");
        var pusher = new RegistryPusher(options);
        var result = await pusher.PushAsync(Source, destination.ToString(), string.IsNullOrWhiteSpace(RefName) ? null : RefName, cancellationToken).ConfigureAwait(false);
        Digest = result.Digest;
        PushedReference = $"{result.Reference}@{result.Digest}";
        BlobsUploaded = result.BlobsUploaded;
        BlobsSkipped = result.BlobsSkipped;
        BytesUploaded = result.BytesUploaded;
        string platforms = result.Platforms.Count == 0 ? "" : $", platforms {string.Join(", ", result.Platforms.Keys)}";
        Log.LogMessage(MessageImportance.High,
            $"Sealer: pushed {PushedReference} ({result.Manifests} manifests{platforms}; blobs: {result.BlobsUploaded} uploaded / {result.BytesUploaded} bytes, {result.BlobsSkipped} already there, {result.BlobsMounted} mounted, of {result.BlobsTotal})");
    }
}
