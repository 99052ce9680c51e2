using Sealer.Core.Yaml;
using Sealer.Core.Charts;
using Sealer.Core.Diagnostics;

namespace Sealer.Core.Kustomize;

/// <summary>
/// Strategic merge patches as kustomize applies them: maps merge key by key, <c>null</c> deletes, lists of objects merge
/// by their merge key (containers, env, volumes by <c>name</c>; volumeMounts by <c>mountPath</c>; ports by
/// <c>containerPort</c>/<c>port</c>; else kyaml's associative keys present in every element), other lists are replaced;
/// <c>$patch: delete|replace</c> directives; <c>$setElementOrder</c>/<c>$retainKeys</c> are ignored.
/// </summary>
internal static class StrategicMerge
{
    public enum Outcome { Merged, Delete }

    private static readonly Dictionary<string, string> MergeKeys = new(StringComparer.Ordinal)
    {
        ["containers"] = "name", ["initContainers"] = "name", ["ephemeralContainers"] = "name", ["env"] = "name", ["volumes"] = "name",
        ["imagePullSecrets"] = "name", ["volumeMounts"] = "mountPath", ["volumeDevices"] = "devicePath", ["hostAliases"] = "ip",
        ["topologySpreadConstraints"] = "topologyKey", ["conditions"] = "type", ["resourceClaims"] = "name",
    };

    private static readonly string[] AssociativeKeys = ["mountPath", "devicePath", "ip", "type", "topologyKey", "name", "containerPort"];

    /// <summary>A patch that names its target (kind, metadata.name, optional namespace): applied to every resource with that identity.</summary>
    public static void ApplyToNamed(List<KResource> acc, YMap patch, string patchFile, string kustomizationFile, int line)
    {
        string kind = patch.GetString("kind") ?? "";
        string apiVersion = patch.GetString("apiVersion") ?? "";
        string group = apiVersion.Contains('/') ? apiVersion[..apiVersion.IndexOf('/')] : "";
        var meta = patch.Get("metadata") as YMap;
        string name = meta?.GetString("name") ?? "";
        string ns = meta?.GetString("namespace") ?? "";
        if (kind.Length == 0 || name.Length == 0)
        {
            throw new SealerException(ErrorCodes.KustomizePatchFailed, "a strategic merge patch without target: must name its object (kind and metadata.name).", patchFile, patch.Line);
        }
        var targets = acc.Where(r => r.Kind == kind && (apiVersion.Length == 0 || r.Group == group) && r.PreviousNames.Contains(name)
            && (ns.Length == 0 || r.PreviousNamespaces.Any(n => (n is "default" ? "" : n) == (ns is "default" ? "" : ns)))).ToList();
        if (targets.Count == 0)
        {
            throw new SealerException(ErrorCodes.KustomizePatchFailed,
                $"the patch for {kind} '{(ns.Length > 0 ? ns + "/" : "")}{name}' matches no resource of this kustomization. Fix its kind/name or add the resource.", patchFile, patch.Line);
        }
        foreach (var r in targets)
        {
            if (Apply(r, patch) == Outcome.Delete) acc.Remove(r);
        }
        _ = kustomizationFile;
        _ = line;
    }

    /// <summary>Merges <paramref name="patch"/> into the resource; kind/apiVersion/metadata.name of the patch are not copied.</summary>
    public static Outcome Apply(KResource r, YMap patch)
    {
        if (KYaml.AsString(patch.Get("$patch")) == "delete") return Outcome.Delete;
        var copy = (YMap)KYaml.Clone(patch);
        KYaml.Remove(copy, "apiVersion");
        KYaml.Remove(copy, "kind");
        if (copy.Get("metadata") is YMap m)
        {
            KYaml.Remove(m, "name");
            KYaml.Remove(m, "namespace");
        }
        MergeMap(r.Node, copy, "");
        return Outcome.Merged;
    }

    private static void MergeMap(YMap target, YMap patch, string parentKey)
    {
        if (KYaml.AsString(patch.Get("$patch")) == "replace")
        {
            target.Entries.Clear();
            foreach (var e in patch.Entries) if (!IsDirective(e.Key)) target.Entries.Add(new(e.Key, Strip(e.Value)));
            return;
        }
        foreach (var (k, v) in patch.Entries)
        {
            if (IsDirective(k) || k is not YScalar ks) continue;
            string key = ks.Value;
            var existing = target.Get(key);
            switch (v)
            {
                case YScalar s when YamlReader.IsNull(s) && s.IsPlain:
                    KYaml.Remove(target, key);
                    break;
                case YMap pm:
                    string? directive = KYaml.AsString(pm.Get("$patch"));
                    if (directive == "delete") { KYaml.Remove(target, key); break; }
                    if (existing is YMap em && directive != "replace") MergeMap(em, pm, key);
                    else KYaml.Set(target, key, Strip(pm));
                    break;
                case YSeq ps:
                    if (existing is YSeq es) KYaml.Set(target, key, MergeList(key, es, ps));
                    else KYaml.Set(target, key, Strip(RemoveDeletes(ps)));
                    break;
                default:
                    KYaml.Set(target, key, v);
                    break;
            }
        }
        _ = parentKey;
    }

    private static YSeq MergeList(string key, YSeq target, YSeq patch)
    {
        if (patch.Items.Any(i => i is YMap m && KYaml.AsString(m.Get("$patch")) == "replace"))
        {
            var replaced = new YSeq { Line = patch.Line };
            foreach (var i in patch.Items) if (!(i is YMap m && KYaml.AsString(m.Get("$patch")) == "replace")) replaced.Items.Add(Strip(i));
            return replaced;
        }
        string? mergeKey = MergeKeyFor(key, target, patch);
        if (mergeKey is null) return (YSeq)Strip(RemoveDeletes(patch));
        var result = new YSeq { Line = target.Line, Column = target.Column };
        result.Items.AddRange(target.Items);
        foreach (var item in patch.Items)
        {
            if (item is not YMap pm) continue;
            string? kv = KeyValue(pm, mergeKey);
            int idx = result.Items.FindIndex(t => t is YMap tm && KeyValue(tm, mergeKey) == kv);
            if (KYaml.AsString(pm.Get("$patch")) == "delete")
            {
                if (idx >= 0) result.Items.RemoveAt(idx);
                continue;
            }
            if (idx >= 0 && result.Items[idx] is YMap tmap) MergeMap(tmap, pm, key);
            else result.Items.Add(Strip(pm));
        }
        return result;
    }

    private static string? KeyValue(YMap m, string key) => m.Get(key) is YScalar s ? s.Value : null;

    private static string? MergeKeyFor(string key, YSeq target, YSeq patch)
    {
        var all = target.Items.Concat(patch.Items).ToList();
        if (all.Count == 0 || !all.All(i => i is YMap)) return null;
        if (MergeKeys.TryGetValue(key, out var known)) return known;
        if (key == "ports")
        {
            if (all.All(i => ((YMap)i).Get("containerPort") is not null)) return "containerPort";
            if (all.All(i => ((YMap)i).Get("port") is not null)) return "port";
        }
        foreach (var k in AssociativeKeys)
        {
            if (all.All(i => ((YMap)i).Get(k) is not null || KYaml.AsString(((YMap)i).Get("$patch")) == "delete")) return k;
        }
        return null;
    }

    private static bool IsDirective(YNode k)
        => k is YScalar s && (s.Value == "$patch" || s.Value.StartsWith("$setElementOrder/", StringComparison.Ordinal)
            || s.Value == "$retainKeys" || s.Value.StartsWith("$deleteFromPrimitiveList/", StringComparison.Ordinal));

    private static YNode RemoveDeletes(YSeq s)
    {
        var r = new YSeq { Line = s.Line, Column = s.Column };
        foreach (var i in s.Items) if (!(i is YMap m && KYaml.AsString(m.Get("$patch")) == "delete")) r.Items.Add(i);
        return r;
    }

    /// <summary>A copy of a patch value without directives (and without null entries, which mean "absent").</summary>
    private static YNode Strip(YNode n)
    {
        switch (n)
        {
            case YMap m:
            {
                var r = new YMap { Line = m.Line, Column = m.Column };
                foreach (var (k, v) in m.Entries)
                {
                    if (IsDirective(k)) continue;
                    if (v is YScalar s && s.IsPlain && YamlReader.IsNull(s)) continue;
                    r.Entries.Add(new(k, Strip(v)));
                }
                return r;
            }
            case YSeq q:
            {
                var r = new YSeq { Line = q.Line, Column = q.Column };
                foreach (var i in q.Items) r.Items.Add(Strip(i));
                return r;
            }
            default:
                return n;
        }
    }
}
