namespace Sealer.Core.Delivery.Install.Policies;

/// <summary>
/// The upgrade plan from two image records: which apps are added, upgraded (chart version, values, files, config, images),
/// unchanged, dropped (kept running, or pruned with --prune-apps); which app images come and go; the Kubernetes change
/// (<see cref="KubeSkew"/>). Pure: records in, plan out.
/// </summary>
public static class UpgradePlanner
{
    /// <param name="from">what runs now (null: installed before sealer kept history, apps unknown)</param>
    /// <param name="to">the new image's record</param>
    /// <param name="pruneApps">remove apps the new image drops (helm uninstall, kubectl delete)</param>
    /// <param name="rollback">going back to an earlier image: Kubernetes is kept, not downgraded</param>
    /// <param name="hosts">the bytes each host must receive</param>
    public static UpgradePlan Plan(ImageRecord? from, ImageRecord to, bool pruneApps, bool rollback, IReadOnlyList<HostBytes> hosts)
    {
        var kube = KubeSkew.Check(from?.KubeVersion, to.KubeVersion, rollback);
        var apps = new List<AppChange>();
        var old = (from?.Apps ?? []).ToDictionary(a => a.Name, StringComparer.Ordinal);
        foreach (var a in to.Apps)
        {
            if (from is null)
            {
                apps.Add(new AppChange { Name = a.Name, Kind = a.Kind, Change = "upgrade", Details = ["the previous launch is not recorded: launched again"] });
                continue;
            }
            if (!old.TryGetValue(a.Name, out var o))
            {
                apps.Add(new AppChange { Name = a.Name, Kind = a.Kind, Change = "add", Details = Describe(a) });
                continue;
            }
            var details = Differences(o, a);
            apps.Add(new AppChange { Name = a.Name, Kind = a.Kind, Change = details.Count > 0 ? "upgrade" : "unchanged", Details = details });
        }
        var dropped = (from?.Apps ?? []).Concat(from?.Kept ?? []).Where(o => to.Apps.All(a => a.Name != o.Name)).DistinctBy(o => o.Name).ToList();
        foreach (var o in dropped)
        {
            apps.Add(pruneApps
                ? new AppChange { Name = o.Name, Kind = o.Kind, Change = "prune", Details = [PruneHow(o)] }
                : new AppChange { Name = o.Name, Kind = o.Kind, Change = "keep", Details = [$"not in {to.Image}: left running (--prune-apps removes it)"] });
        }
        if (from is not null && !(from.Cmds ?? []).SequenceEqual(to.Cmds ?? [], StringComparer.Ordinal))
        {
            apps.Add(new AppChange { Name = "(launch cmds)", Kind = "cmds", Change = (to.Cmds?.Count ?? 0) > 0 ? "upgrade" : "keep", Details = [$"{from.Cmds?.Count ?? 0} -> {to.Cmds?.Count ?? 0} command(s)"] });
        }

        var oldImages = (from?.Images ?? []).ToHashSet(StringComparer.Ordinal);
        var newImages = to.Images.ToHashSet(StringComparer.Ordinal);
        var cannot = new List<string>();
        if (kube.Kind == KubeChangeKind.Kept) cannot.Add(kube.Note);
        if (rollback)
        {
            foreach (var a in apps.Where(a => a.Kind is "shell" or "cmds" && a.Change == "upgrade")) cannot.Add($"{a.Name}: a shell app is run again from the earlier image, what its later run did is not undone");
            foreach (var a in apps.Where(a => a.Change == "keep")) cannot.Add($"{a.Name}: added after {to.Image}, left running (--prune-apps removes it)");
        }
        foreach (var a in apps.Where(a => a.Change == "prune" && a.Kind is "shell" or "cmds")) cannot.Add($"{a.Name}: a shell app cannot be removed, it is left as it is");
        return new UpgradePlan
        {
            From = from?.Image ?? "(not recorded)", To = to.Image, Rollback = rollback, Apps = apps,
            ImagesAdded = to.Images.Where(i => !oldImages.Contains(i)).Order(StringComparer.Ordinal).ToList(),
            ImagesRemoved = from is null ? [] : from.Images.Where(i => !newImages.Contains(i)).Order(StringComparer.Ordinal).ToList(),
            Hosts = hosts, Kubernetes = kube, CannotUndo = cannot,
        };
    }

    /// <summary>What differs between two launches of an app.</summary>
    public static List<string> Differences(AppRecord o, AppRecord a)
    {
        var d = new List<string>();
        if (o.Kind != a.Kind) d.Add($"{o.Kind} -> {a.Kind}");
        if (o.ChartVersion != a.ChartVersion) d.Add($"chart {o.ChartVersion ?? "none"} -> {a.ChartVersion ?? "none"}");
        if (o.ValuesDigest != a.ValuesDigest) d.Add("values changed");
        else if (o.FilesDigest != a.FilesDigest) d.Add("files changed");
        if (o.ConfigDigest != a.ConfigDigest) d.Add("Application config changed");
        var added = a.Images.Except(o.Images, StringComparer.Ordinal).ToList();
        var removed = o.Images.Except(a.Images, StringComparer.Ordinal).ToList();
        if (added.Count + removed.Count > 0) d.Add("images " + string.Join(" ", added.Select(i => "+" + i).Concat(removed.Select(i => "-" + i))));
        return d;
    }

    private static List<string> Describe(AppRecord a)
    {
        var d = new List<string>();
        if (a.ChartVersion is not null) d.Add($"chart {a.ChartVersion}");
        if (a.Images.Count > 0) d.Add("images " + string.Join(" ", a.Images));
        return d;
    }

    /// <summary>How a dropped app is removed: helm uninstall of its release, kubectl delete -f of its old manifests.</summary>
    public static string PruneHow(AppRecord o) => o.Kind switch
    {
        "helm" => $"helm uninstall {o.Release ?? o.Name} -n {o.Namespace ?? o.Name}",
        "kube" => "kubectl delete -f of its manifests from the previous image",
        _ => "cannot be removed (a shell app); left as it is",
    };
}
