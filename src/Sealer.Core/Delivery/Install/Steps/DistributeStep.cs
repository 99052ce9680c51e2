using System.Globalization;
using System.Text;
using Sealer.Core.Diagnostics;

namespace Sealer.Core.Delivery.Install.Steps;

/// <summary>
/// The image's blobs into each host's content store, in one pass over every host that still needs them (hosts keep what
/// they have; hosts that finished relay to the next ones): registry hosts get the app image content, the others only the rootfs.
/// </summary>
internal sealed class DistributeStep : InstallStep
{
    public const string StepName = "distribute";

    public override StepScope Scope => StepScope.Host;

    public override string Name => StepName;

    public override string Does => "the image's blobs into <dataRoot>/.store on each host in one pass (registry hosts get the app image content, the others only the rootfs; hosts relay to each other)";

    public override string Reads => "the cluster image (each host's platform), the registry hosts, --parallel, --no-relay";

    public override async Task RunAsync(InstallContext ctx, StepRunner runner, CancellationToken cancellationToken)
    {
        var hosts = ctx.Hosts;
        var need = hosts.Where(n => !ctx.State.HostDone(n.Ip, StepName)).ToList();
        foreach (var n in await LostLinkedLayersAsync(ctx, hosts.Except(need).ToList(), n => LayersOf(ctx, n), StepName, cancellationToken).ConfigureAwait(false))
        {
            ctx.Status($"{StepName,-16} {n.Ip}: its content store lost layers its registry serves app image blobs from: sending them again");
            need.Add(n);
        }
        foreach (var n in hosts.Except(need))
        {
            ctx.Skipped($"{n.Ip}:{StepName}");
            ctx.Step(StepName, n.Ip, StepEventKind.Skipped);
        }
        ctx.Status(need.Count == 0 ? $"{StepName,-16} done before on {hosts.Count} host(s)"
            : $"{StepName,-16} {need.Count} host(s), {Bytes.Format(need.Sum(n => LayersOf(ctx, n).Sum(l => l.Size)))} at most (hosts keep what they have)");
        if (need.Count == 0) return;
        var distributor = NewDistributor(ctx);
        foreach (var n in need) ctx.Step(StepName, n.Ip, StepEventKind.Started);
        try
        {
            ctx.AddTransfers(await distributor.DistributeAsync(need.Select(n => new HostBlobs(n.Ssh, LayersOf(ctx, n))).ToList(), cancellationToken).ConfigureAwait(false));
        }
        catch (SealerException ex)
        {
            // the message names the host that failed; the others stopped with it
            foreach (var n in need) ctx.Step(StepName, n.Ip, StepEventKind.Failed, ex.Message.Contains(n.Ip, StringComparison.Ordinal) ? ex.Message : null);
            if (ex.Code == ErrorCodes.RunStepFailed) throw;
            throw StepRunner.StepFailure(StepName, ex);
        }
        foreach (var n in need)
        {
            ctx.State.MarkHost(n.Ip, n.Spec.Roles, StepName);
            ctx.Ran($"{n.Ip}:{StepName}");
            ctx.Step(StepName, n.Ip, StepEventKind.Done);
        }
        await runner.SaveStateAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Of <paramref name="hosts"/> (done before), the registry hosts whose content store lacks a layer that a link of their
    /// registry (<c>registry/in-store</c>, <see cref="UnpackStep.AppendImageBlobs"/>) points at: the registry cannot serve
    /// those blobs until the layers are back, and a run sends them again (hosts keep what they have). One command per
    /// registry host, shell built-ins only.
    /// </summary>
    internal static async Task<IReadOnlyList<InstallHost>> LostLinkedLayersAsync(InstallContext ctx, IReadOnlyList<InstallHost> hosts, Func<InstallHost, IReadOnlyList<Oci.Descriptor>> layersOf, string step, CancellationToken cancellationToken)
    {
        var lost = new List<InstallHost>();
        await Task.WhenAll(hosts.Where(n => ctx.RegistryIps.Contains(n.Ip)).Select(async n =>
        {
            var sb = new StringBuilder();
            sb.Append(CultureInfo.InvariantCulture, $"k={Q(UnpackStep.LinkDirectory(ctx.Rootfs))}; s={Q(ctx.Store)}\n");
            if (!UnpackStep.AppendImageBlobLoop(sb, layersOf(n), "if [ -L \"$k/$b\" ] && [ ! -f \"$s/blobs/sha256/$l\" ]; then echo lost; break; fi")) return;
            var r = await n.Ssh.RunAsync(sb.ToString(), ctx.Cmd(n, step, "look for store layers the registry's links lost"), cancellationToken).ConfigureAwait(false);
            if (r.Stdout.Contains("lost", StringComparison.Ordinal)) lock (lost) lost.Add(n);
        })).ConfigureAwait(false);
        return lost;
    }

    /// <summary>What a host gets and unpacks: every layer on a registry host, elsewhere all but the app image content.</summary>
    public static IReadOnlyList<Oci.Descriptor> LayersOf(InstallContext ctx, InstallHost n) => n.Platform.LayersFor(ctx.RegistryIps.Contains(n.Ip));

    public static BlobDistributor NewDistributor(InstallContext ctx) => new(ctx.Image, ctx.Store, new DistributionOptions
    {
        Parallelism = ctx.Options.Parallelism, Relay = ctx.Options.Relay, Progress = ctx.Options.TransferProgress, Logger = ctx.Options.Logger, AfterBlob = ctx.Options.AfterBlob,
    });
}
