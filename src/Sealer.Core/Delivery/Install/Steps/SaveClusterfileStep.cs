using System.Text;
using Sealer.Core.Delivery.Clusterfile;
using Sealer.Core.Delivery.Ssh;

namespace Sealer.Core.Delivery.Install.Steps;

/// <summary>
/// The Clusterfile as the cluster now is: the full file (secrets included) as <c>&lt;dataRoot&gt;/&lt;cluster&gt;/Clusterfile</c>
/// on master0, mode 0600, root only; and, on a Kubernetes cluster, Sealer's ConfigMap kube-system/sealer-clusterfile
/// (key <c>Clusterfile</c>, as pkg/clusterfile saveToCluster writes it) with every secret masked — Sealer stores it
/// verbatim, passwords included, where anyone who may read ConfigMaps in kube-system reads them. Created or updated with
/// a server-side apply (no last-applied annotation, so a large file fits); the data goes on stdin, never on a command line.
/// </summary>
internal sealed class SaveClusterfileStep : ClusterStep
{
    public const string StepName = "clusterfile";

    public override string Name => StepName;

    public override StepRerun Rerun => StepRerun.EveryRun;

    public override string Does => "the Clusterfile on master0 (<dataRoot>/<cluster>/Clusterfile, 0600) and, secrets masked, in the ConfigMap kube-system/sealer-clusterfile";

    public override string Reads => "the Clusterfile as given";

    public override bool AppliesTo(InstallContext ctx) => ctx.ClusterfileText is not null;

    public override Task RunOnceAsync(InstallContext ctx, InstallHost master0, CancellationToken cancellationToken) =>
        SaveAsync(ctx, master0, ctx.ClusterfileText!, ctx.Kube, cancellationToken);

    /// <summary>Saves <paramref name="text"/> (also delete's Clusterfile without the removed hosts).</summary>
    public static async Task SaveAsync(InstallContext ctx, InstallHost master0, string text, bool kube, CancellationToken cancellationToken)
    {
        string dir = ctx.ClusterDir;
        await master0.Ssh.RunWithInputAsync(
            $"umask 077; mkdir -p {Q(dir)}; cat > {Q(dir + "/Clusterfile.tmp")} && chmod 600 {Q(dir + "/Clusterfile.tmp")} && mv -f {Q(dir + "/Clusterfile.tmp")} {Q(dir + "/Clusterfile")}",
            (s, c) => s.WriteAsync(Encoding.UTF8.GetBytes(text), c).AsTask(), new CommandOptions { Description = $"{StepName}: save the Clusterfile (0600)" }, cancellationToken).ConfigureAwait(false);
        if (!kube) return;
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new System.Text.Json.Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("apiVersion", "v1");
            w.WriteString("kind", "ConfigMap");
            w.WriteStartObject("metadata");
            w.WriteString("name", ClusterfileEditor.ConfigMapName);
            w.WriteString("namespace", ClusterfileEditor.ConfigMapNamespace);
            w.WriteStartObject("labels");
            w.WriteString("app.kubernetes.io/managed-by", "sealer");
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteStartObject("data");
            w.WriteString(ClusterfileEditor.ConfigMapKey, ClusterfileEditor.MaskSecrets(text));
            w.WriteEndObject();
            w.WriteEndObject();
        }
        var json = buffer.WrittenMemory;
        await master0.Ssh.RunWithInputAsync(
            $"{ctx.KubePath}; [ -f \"$HOME/.kube/config\" ] || export KUBECONFIG=/etc/kubernetes/admin.conf; kubectl apply --server-side --force-conflicts --field-manager=sealer -f -",
            (s, c) => s.WriteAsync(json, c).AsTask(),
            new CommandOptions { Description = $"{StepName}: kubectl apply ConfigMap {ClusterfileEditor.ConfigMapNamespace}/{ClusterfileEditor.ConfigMapName}", Timeout = TimeSpan.FromMinutes(2) }, cancellationToken).ConfigureAwait(false);
    }
}
