using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Sealer.Core.Artifacts;
using Sealer.Core.Delivery.Clusterfile;
using Sealer.Core.Diagnostics;
using Sealer.Core.Distribution.Upload;

namespace Sealer.Core.Delivery.Install.Steps;

/// <summary>
/// With an externalRegistry (a site's Harbor) no registry runs on the hosts: they pull every image domain through the
/// external one (<see cref="RegistryConfigStep"/>), so it must hold the app images under their own paths before
/// Kubernetes and the apps start. This machine pushes them there (<see cref="ImageMirror"/>), read where they lie in the
/// cluster image: blobs it has are skipped, shared layers sent once. A Sealer base's own images (its rootfs's
/// <c>registry/docker/registry/v2</c> tree: kubeadm's images) go too, their paths kept (<see cref="SealerFormatImages"/>). Credentials: the Clusterfile's username/password,
/// else the environment and Docker config of this machine.
/// </summary>
internal sealed class MirrorImagesStep : ClusterStep
{
    public const string StepName = "mirror-images";

    public override string Name => StepName;

    public override string Does => "pushes the app images the cluster image carries into the externalRegistry under their own paths (from this machine; blobs it has are skipped, shared layers sent once), before Kubernetes pulls through it";

    public override string Reads => "the cluster image's registry and image-blob layers, a Sealer base's registry/docker/registry/v2 tree in its rootfs layers, registry.externalRegistry (domain, port, username/password), this machine's Docker config";

    public override string When => "an externalRegistry (not with --no-mirror)";

    public override string Fingerprint => "the cluster image's digest and the external registry";

    public override bool AppliesTo(InstallContext ctx)
    {
        if (ctx.Cluster.Registry.External is not { } external) return false;
        if (!ctx.Options.NoMirror) return true;
        // said here: the runner asks once per run, and a step that does not apply is otherwise not mentioned
        ctx.Status($"{StepName,-16} skipped (--no-mirror): the app images are taken to be in {external.Target} already");
        return false;
    }

    public override string? FingerprintOf(InstallContext ctx) =>
        ctx.Cluster.Registry.External is { } e ? $"{ctx.Image.RootDigest} {e.Target}" : null;

    /// <summary>Push options for the external registry: the Clusterfile's username/password, else the environment and Docker config.</summary>
    internal static PushOptions OptionsFor(ExternalRegistrySpec external) => new()
    {
        Credentials = external.Username is { } user && external.Password is { } password ? RegistryTransport.StaticCredentials(external.Url, user, password) : null,
    };

    public override async Task RunOnceAsync(InstallContext ctx, InstallHost master0, CancellationToken cancellationToken)
    {
        var external = ctx.Cluster.Registry.External!;
        ctx.Status($"{StepName,-16} reading the app images the cluster image carries (and a Sealer base's {SealerFormatImages.Tree} in its rootfs)");
        var unpackClock = Stopwatch.StartNew();
        long unpackReport = 0;
        var unpacked = new Progress<long>(bytes =>
        {
            long second = unpackClock.ElapsedMilliseconds / 5000;
            if (second > 0 && Interlocked.Exchange(ref unpackReport, second) != second) ctx.Status($"{StepName,-16} {Bytes.Format(bytes)} of Sealer-format images read from the rootfs layers");
        });
        var options = OptionsFor(external);
        CarriedImages carried;
        try
        {
            carried = await ctx.Image.CarriedImagesForMirrorAsync(external.Target, options, unpacked, cancellationToken).ConfigureAwait(false);
        }
        catch (SealerException ex) when (ex.Code == ErrorCodes.RegistryUnreachable)
        {
            throw Unreachable(ctx, external, ex);
        }
        using var _ = carried;
        WarnOfNotPushable(ctx, carried, external);
        if (carried.Images.Count == 0)
        {
            ctx.Status($"{StepName,-16} the cluster image carries no app images (registry/index.json, nor a Sealer-format {SealerFormatImages.Tree}): nothing to push to {external.Target}");
            return;
        }
        var clock = Stopwatch.StartNew();
        long lastReport = -1;
        options.Progress = new Progress<PushProgress>(p =>
        {
            long second = clock.ElapsedMilliseconds / 5000;
            if (Interlocked.Exchange(ref lastReport, second) == second) return;
            ctx.Status(string.Create(CultureInfo.InvariantCulture,
                $"{StepName,-16} {Bytes.Format(p.BytesUploaded)} of {Bytes.Format(p.BytesTotal)}, {p.BlobsDone}/{p.BlobsTotal} blobs"));
        });
        ctx.Status($"{StepName,-16} {carried.Images.Count} app image(s) to {external.Target}" +
            (carried.SealerFormatCount > 0 ? $" ({carried.SealerFormatCount} of them from the rootfs's Sealer-format {SealerFormatImages.Tree}, paths kept as they are)" : ""));
        MirrorResult result;
        try
        {
            result = await ImageMirror.MirrorAsync(carried, external.Target, options, cancellationToken).ConfigureAwait(false);
        }
        catch (SealerException ex) when (ex.Code == ErrorCodes.RegistryUnreachable)
        {
            throw Unreachable(ctx, external, ex);
        }
        foreach (var image in result.Images.Where(i => i.PlatformsLeftOut > 0))
        {
            ctx.Options.Logger.LogInformation("{Step}: {Destination} is an index of the carried platforms only ({Digest}; {Left} platform(s) of {Source} left out: {Registry} refuses an index without them)",
                StepName, image.Destination, image.Digest, image.PlatformsLeftOut, image.SourceDigest, external.Target);
        }
        ctx.Status(string.Create(CultureInfo.InvariantCulture,
            $"{StepName,-16} {result.Images.Count} app image(s) in {external.Target}: {result.BlobsUploaded} blob(s) uploaded ({Bytes.Format(result.BytesUploaded)}), {result.BlobsMounted} mounted, {result.BlobsPresent} already there, in {clock.Elapsed.TotalSeconds:0.0} s"));
    }

    private static SealerException Unreachable(InstallContext ctx, ExternalRegistrySpec external, SealerException ex)
        => new(ex.Code,
            $"{ex.Message} This machine puts the app images into the externalRegistry before Kubernetes starts. Where it cannot reach {external.Target}, run 'sealer mirror {ctx.Image.Reference} {external.Target}' on a machine that can, then run again with --no-mirror.", inner: ex);

    /// <summary>
    /// Images of a Sealer-format base's registry tree (<c>registry/docker/registry/v2</c>) that cannot be pushed (a tag
    /// whose manifest is not in the tree, a schema 1 manifest) or that a carried image of the same name shadows: said,
    /// with the reason, so that a kubeadm pull that fails later has its cause on record.
    /// </summary>
    private static void WarnOfNotPushable(InstallContext ctx, CarriedImages carried, ExternalRegistrySpec external)
    {
        if (carried.NotPushable.Count == 0) return;
        string list = string.Join("; ", carried.NotPushable.Take(8)) + (carried.NotPushable.Count > 8 ? $"; ... ({carried.NotPushable.Count})" : "");
        ctx.Options.Logger.LogWarning("{Code}: {Count} image(s) in the rootfs's Sealer-format registry ({Tree}) are not pushed into {Registry}: {List}. Pods (or kubeadm) that pull them through it fail; push them there yourself, or fix the base image.",
            ErrorCodes.SealerFormatImagesNotMirrored, carried.NotPushable.Count, SealerFormatImages.Tree, external.Target, list);
        ctx.Status($"{StepName,-16} {ErrorCodes.SealerFormatImagesNotMirrored}: {carried.NotPushable.Count} image(s) in Sealer's registry format are not pushed into {external.Target}: {list}");
    }
}
