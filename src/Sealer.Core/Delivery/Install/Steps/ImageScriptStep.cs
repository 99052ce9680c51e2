using System.Text;

namespace Sealer.Core.Delivery.Install.Steps;

/// <summary>
/// A lifecycle script of the image's <c>scripts/</c> on every host, when the image has it (run with the rootfs' <c>bin/</c>
/// on PATH and the host's env). Its fingerprint is what it runs from: the script's bytes in the image, the image's
/// <c>etc/</c> files it reads (configs, templates) and the host's env. An install records it and runs the script once; in
/// an upgrade (<see cref="OnUpgrade"/>) the script runs again on a host only when that fingerprint changed since it last
/// ran there (the plan lists where: <see cref="WillRun"/>).
/// </summary>
internal abstract class ImageScriptStep(bool onUpgrade) : HostStep
{
    /// <summary>This instance belongs to the upgrade's steps: a changed fingerprint runs the script again.</summary>
    public bool OnUpgrade { get; } = onUpgrade;

    /// <summary>The script's name under <c>scripts/</c> for this host.</summary>
    public abstract string ScriptOf(InstallContext ctx, InstallHost host);

    public override StepRerun Rerun => OnUpgrade ? StepRerun.WhenChanged : StepRerun.Once;

    /// <summary>Only the upgrade's instance runs again when it changed; an install's records the fingerprint (<see cref="FingerprintOf"/>) and runs once.</summary>
    public override string? Fingerprint => OnUpgrade ? "the script's bytes in the image, the image's etc/ files, the host's env (recorded when it ran)" : null;

    public override bool RerunOnChange => OnUpgrade;

    /// <summary>A state from before scripts had fingerprints: what ran counts as run from these inputs.</summary>
    public override bool RerunWhenFingerprintUnknown => false;

    public override string? FingerprintOf(InstallContext ctx, InstallHost n)
    {
        string script = "scripts/" + ScriptOf(ctx, n);
        var files = ctx.ImageFiles(n.Platform, "scripts-and-etc", p => p.StartsWith("scripts/", StringComparison.Ordinal) || p.StartsWith("etc/", StringComparison.Ordinal));
        var sb = new StringBuilder();
        sb.Append(script).Append('\0').Append(files.TryGetValue(script, out var bytes) ? Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)) : "absent");
        foreach (var (path, data) in files.Where(f => f.Key.StartsWith("etc/", StringComparison.Ordinal)).OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            sb.Append('\0').Append(path).Append('=').Append(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(data)));
        }
        foreach (var (k, v) in n.Env) sb.Append('\0').Append(k).Append('=').Append(v);
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())));
    }

    /// <summary>Whether an upgrade runs the script on <paramref name="n"/>: not run there yet, or its fingerprint changed.</summary>
    public bool WillRun(InstallContext ctx, InstallHost n)
    {
        if (!ctx.State.HostDone(n.Ip, Name)) return true;
        var before = ctx.State.HostFingerprint(n.Ip, Name);
        return before is null ? RerunWhenFingerprintUnknown : before != FingerprintOf(ctx, n);
    }

    public override Task RunOnAsync(InstallContext ctx, InstallHost n, CancellationToken cancellationToken)
    {
        string script = ScriptOf(ctx, n);
        return n.Ssh.RunAsync($"cd {Q(ctx.Rootfs + "/scripts")} 2>/dev/null || exit 0\nif [ -f {Q(script)} ]; then export PATH={Q(ctx.Rootfs + "/bin")}:$PATH; bash {Q(script)} ; fi",
            ctx.Cmd(n, Name, $"scripts/{script}"), cancellationToken);
    }
}
