using System.Text;
using Sealer.Core.ClusterImage;
using Sealer.Core.Delivery.Clusterfile;

namespace Sealer.Core.Delivery.Install.Policies;

/// <summary>What the apps step launches: raw commands (<see cref="Cmds"/>), or apps in order; <see cref="Source"/> says which setting decided.</summary>
internal sealed record LaunchPlan(IReadOnlyList<string>? Cmds, IReadOnlyList<string> Apps, string Source);

/// <summary>Which apps or commands a run launches, and how each app is configured. Pure: no SSH, no image reading.</summary>
internal static class LaunchPlanner
{
    /// <summary>
    /// Sealer's precedence (cmd/sealer/cmd/utils ConstructApplication + pkg/application NewAppDriver): Cluster spec.cmd, else
    /// Application spec.cmds, else the apps of Cluster spec.appNames, else Application spec.launchApps (<c>[""]</c>: none),
    /// else the image's CMDS, else its LAUNCH app names.
    /// </summary>
    public static LaunchPlan Plan(ClusterfileDocument doc, SealerImageExtension ext)
    {
        var appDoc = doc.Applications.LastOrDefault();
        var cluster = doc.Cluster;
        if (cluster.Cmd.Count > 0) return new(cluster.Cmd, [], "spec.cmd");
        if (appDoc is { Cmds.Count: > 0 }) return new(appDoc.Cmds, [], "Application spec.cmds");
        if (cluster.AppNames.Count > 0) return new(null, cluster.AppNames.Where(a => a.Length > 0).ToList(), "spec.appNames");
        if (appDoc?.LaunchApps is { } la) return new(null, la.Where(a => a.Length > 0).Distinct(StringComparer.Ordinal).ToList(), "Application spec.launchApps");
        if (ext.LaunchCmds.Count > 0) return new(ext.LaunchCmds, [], "the image's CMDS");
        return new(null, ext.LaunchApps, "the image's LAUNCH");
    }

    /// <summary>The Application config of a launched app (configs of apps not launched are ignored, as in Sealer).</summary>
    public static AppConfig? ConfigOf(ClusterfileDocument doc, LaunchPlan? plan, string app) => plan is not null && plan.Apps.Contains(app)
        ? doc.Applications.LastOrDefault()?.Configs.FirstOrDefault(c => c.Name == app) : null;

    /// <summary>The app a rootfs path belongs to (<c>application/apps/NAME/...</c>).</summary>
    public static string? AppOf(string path)
    {
        const string prefix = "application/apps/";
        if (!path.StartsWith(prefix, StringComparison.Ordinal)) return null;
        int slash = path.IndexOf('/', prefix.Length);
        return slash > prefix.Length ? path[prefix.Length..slash] : null;
    }

    /// <summary>The host's env, then the image's APPENV for the app, then the Application config's env.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> AppEnv(IReadOnlyList<KeyValuePair<string, string>> hostEnv, SealerImageExtension ext, string app, AppConfig? config) =>
        DeliveryEnv.WithAppEnv(hostEnv, (ext.Apps.FirstOrDefault(a => a.Name == app)?.Env ?? new Dictionary<string, string>())
            .Concat(config?.Env ?? []));

    /// <summary>The apps of <paramref name="plan"/> the image does not name (its applications list or LAUNCH); the caller still looks for their directories.</summary>
    public static List<string> NotInExtension(LaunchPlan plan, SealerImageExtension ext)
    {
        var known = ext.Apps.Select(a => a.Name).Concat(ext.LaunchApps).ToHashSet(StringComparer.Ordinal);
        return plan.Apps.Where(a => !known.Contains(a)).ToList();
    }

    /// <summary>
    /// What a launch depends on besides the rendered files (<paramref name="renderFingerprint"/>, master0's): the plan and each
    /// launched app's cmds and helm settings. A different value launches the apps again.
    /// </summary>
    public static string Fingerprint(string renderFingerprint, LaunchPlan? plan, ClusterfileDocument doc)
    {
        var sb = new StringBuilder(renderFingerprint);
        if (plan is not null)
        {
            sb.Append("\0plan\0").Append(plan.Source);
            foreach (var c in plan.Cmds ?? []) sb.Append("\0cmd\0").Append(c);
            foreach (var app in plan.Apps)
            {
                sb.Append("\0app\0").Append(app);
                if (ConfigOf(doc, plan, app) is not { } config) continue;
                foreach (var c in config.Cmds) sb.Append("\0cmd\0").Append(c);
                if (config.Helm is { } h)
                {
                    sb.Append("\0helm\0").Append(h.Name).Append('\0').Append(h.Namespace).Append('\0').Append(h.CreateNamespace).Append('\0').Append(h.Wait).Append(h.Atomic ? "\0atomic" : "")
                        .Append('\0').Append(h.Timeout).Append('\0').Append(h.SkipCrds).Append('\0').Append(h.DisableHooks);
                    foreach (var v in h.Values) sb.Append("\0set\0").Append(v);
                    foreach (var f in h.ValueFiles) sb.Append("\0f\0").Append(f);
                }
            }
        }
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())));
    }
}
