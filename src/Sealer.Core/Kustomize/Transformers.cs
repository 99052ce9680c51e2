using Sealer.Core.Yaml;
using System.Text.RegularExpressions;
using Sealer.Core.Charts;
using Sealer.Core.Diagnostics;

namespace Sealer.Core.Kustomize;

/// <summary>The built-in transformers, in kustomize's order: patchesStrategicMerge, patches, namespace, namePrefix,
/// nameSuffix, commonLabels/labels, commonAnnotations, patchesJson6902, replicas, images.</summary>
internal static class Transformers
{
    public static void Run(KustomizationFile k, string dir, List<KResource> acc, Kustomizer.BuildContext build)
    {
        foreach (var field in (string[])["transformers", "generators", "validators", "replacements"])
        {
            if (k[field] is YSeq { Items.Count: > 0 } seq)
            {
                throw new SealerException(ErrorCodes.KustomizeUnsupported,
                    $"{field}: is not run by the offline kustomize engine (plugins and replacements). Render this kustomization with kustomize and add the output as a KubeManifest.",
                    k.File, seq.Line);
            }
        }

        CheckConfigurations(k, dir, build);

        // patchesStrategicMerge: files or inline patches; the target is named by the patch itself.
        foreach (var (entry, line) in k.Paths("patchesStrategicMerge"))
        {
            foreach (var (patch, file) in LoadPatchDocs(k, dir, build, entry, line))
            {
                if (patch is YMap pm) StrategicMerge.ApplyToNamed(acc, pm, file, k.File, line);
                else throw new SealerException(ErrorCodes.InvalidKustomization, "a strategic merge patch must be a mapping (an object with kind and metadata.name).", file, patch.Line);
            }
        }

        foreach (var p in k.Maps("patches")) ApplyPatch(k, dir, build, acc, p, json6902Only: false);

        if (k.String("namespace") is { Length: > 0 } ns)
        {
            foreach (var r in acc)
            {
                if (!r.IsClusterScoped) r.SetNamespace(ns);
                // kustomize's namespace field specs also name the v1 Namespace object itself, and services webhooks call.
                if (r.Kind == "Namespace" && r.ApiVersion == "v1") r.SetName(ns);
                if (r.Kind is "MutatingWebhookConfiguration" or "ValidatingWebhookConfiguration" && r.Node.Get("webhooks") is YSeq hooks)
                {
                    foreach (var h in hooks.Items.OfType<YMap>())
                    {
                        if ((h.Get("clientConfig") as YMap)?.Get("service") is YMap svc) KYaml.Set(svc, "namespace", KYaml.Str(ns));
                    }
                }
                if (r.Kind == "APIService" && (r.Node.Get("spec") as YMap)?.Get("service") is YMap apiSvc) KYaml.Set(apiSvc, "namespace", KYaml.Str(ns));
                if (r.Kind is "RoleBinding" or "ClusterRoleBinding" && r.Node.Get("subjects") is YSeq subjects)
                {
                    foreach (var s in subjects.Items.OfType<YMap>())
                    {
                        if (s.GetString("kind") == "ServiceAccount" && s.GetString("name") == "default") KYaml.Set(s, "namespace", KYaml.Str(ns));
                    }
                }
            }
        }

        string prefix = k.String("namePrefix") ?? "", suffix = k.String("nameSuffix") ?? "";
        if (prefix.Length > 0 || suffix.Length > 0)
        {
            foreach (var r in acc)
            {
                if (r.Kind is "CustomResourceDefinition" or "Namespace" || r.Kind == "APIService" && r.Group == "apiregistration.k8s.io") continue;
                r.SetName(prefix + r.Name + suffix);
            }
        }

        var commonLabels = k.StringMap(k["commonLabels"], "commonLabels");
        if (commonLabels.Count > 0) foreach (var r in acc) Labels.Apply(r, commonLabels, selectors: true, templates: true);
        foreach (var l in k.Maps("labels"))
        {
            var pairs = k.StringMap(l.Get("pairs"), "labels.pairs");
            bool selectors = KYaml.AsString(l.Get("includeSelectors")) == "true";
            bool templates = selectors || KYaml.AsString(l.Get("includeTemplates")) == "true";
            foreach (var r in acc) Labels.Apply(r, pairs, selectors, templates);
        }
        var annotations = k.StringMap(k["commonAnnotations"], "commonAnnotations");
        if (annotations.Count > 0) foreach (var r in acc) Labels.Annotate(r, annotations);

        foreach (var p in k.Maps("patchesJson6902")) ApplyPatch(k, dir, build, acc, p, json6902Only: true);

        foreach (var rep in k.Maps("replicas"))
        {
            string name = KYaml.AsString(rep.Get("name")) ?? throw k.Invalid(rep, "replicas: an entry needs a name.");
            var count = rep.Get("count") as YScalar ?? throw k.Invalid(rep, "replicas: an entry needs a count.");
            foreach (var r in acc.Where(r => r.PreviousNames.Contains(name) && r.Node.Get("spec") is YMap))
            {
                if (r.Kind is "Deployment" or "ReplicaSet" or "StatefulSet" or "ReplicationController" || (r.Node.Get("spec") as YMap)!.Get("replicas") is not null)
                {
                    KYaml.Set((YMap)r.Node.Get("spec")!, "replicas", KYaml.Plain(count.Value, count.Line));
                }
            }
        }

        foreach (var img in k.Maps("images")) Images.Apply(k, img, acc);
    }

    private static void ApplyPatch(KustomizationFile k, string dir, Kustomizer.BuildContext build, List<KResource> acc, YMap p, bool json6902Only)
    {
        string field = json6902Only ? "patchesJson6902" : "patches";
        List<(YNode Doc, string File)> docs;
        if (KYaml.AsString(p.Get("path")) is { } path) docs = LoadPatchFile(k, dir, build, path, p.Get("path")!.Line);
        else if (KYaml.AsString(p.Get("patch")) is { } inline)
        {
            var patchNode = p.Get("patch")!;
            docs = YamlReader.ParseStream(inline, k.File, ErrorCodes.InvalidKustomization, patchNode.Line).Where(d => d.Root is not null).Select(d => (d.Root!, k.File)).ToList();
        }
        else throw k.Invalid(p, $"{field}: an entry needs path: or patch:.");
        if (docs.Count == 0) return;

        var targetNode = p.Get("target") as YMap;
        bool isJson = docs.Count == 1 && docs[0].Doc is YSeq;
        if (json6902Only && !isJson) throw k.Invalid(p, "patchesJson6902: the patch must be a list of JSON 6902 operations.");
        if (isJson)
        {
            if (targetNode is null) throw k.Invalid(p, $"{field}: a JSON 6902 patch needs a target.");
            var targets = Select(acc, targetNode);
            if (targets.Count == 0)
            {
                throw new SealerException(ErrorCodes.KustomizePatchFailed, $"no resource matches the target of this patch ({Describe(targetNode)}).", k.File, p.Line);
            }
            foreach (var r in targets) JsonPatch.Apply(r.Node, (YSeq)docs[0].Doc, docs[0].File);
            return;
        }
        foreach (var (doc, file) in docs)
        {
            if (doc is not YMap pm) throw new SealerException(ErrorCodes.InvalidKustomization, "a strategic merge patch must be a mapping.", file, doc.Line);
            if (targetNode is null)
            {
                StrategicMerge.ApplyToNamed(acc, pm, file, k.File, p.Line);
                continue;
            }
            var targets = Select(acc, targetNode);
            if (targets.Count == 0)
            {
                throw new SealerException(ErrorCodes.KustomizePatchFailed, $"no resource matches the target of this patch ({Describe(targetNode)}).", k.File, p.Line);
            }
            foreach (var r in targets)
            {
                if (StrategicMerge.Apply(r, pm) == StrategicMerge.Outcome.Delete) acc.Remove(r);
            }
        }
    }

    private static string Describe(YMap target) => string.Join(", ", target.Entries.Select(e => $"{(e.Key as YScalar)?.Value}={KYaml.AsString(e.Value)}"));

    /// <summary>kustomize's selector: group/version/kind exactly, name and namespace as anchored regular expressions
    /// (against the original or current value), label and annotation selectors.</summary>
    internal static List<KResource> Select(List<KResource> acc, YMap target)
    {
        string? group = KYaml.AsString(target.Get("group")), version = KYaml.AsString(target.Get("version")), kind = KYaml.AsString(target.Get("kind"));
        string? name = KYaml.AsString(target.Get("name")), ns = KYaml.AsString(target.Get("namespace"));
        string? labelSelector = KYaml.AsString(target.Get("labelSelector")), annotationSelector = KYaml.AsString(target.Get("annotationSelector"));
        var nameRx = name is null ? null : new Regex("^(?:" + name + ")$", RegexOptions.CultureInvariant);
        var nsRx = ns is null ? null : new Regex("^(?:" + ns + ")$", RegexOptions.CultureInvariant);
        return acc.Where(r =>
            (group is null || r.Group == group) && (version is null || r.Version == version) && (kind is null || r.Kind == kind)
            && (nameRx is null || nameRx.IsMatch(r.PreviousNames[0]) || nameRx.IsMatch(r.Name))
            && (nsRx is null || nsRx.IsMatch(Effective(r, r.PreviousNamespaces[0])) || nsRx.IsMatch(Effective(r, r.Namespace)))
            && (labelSelector is null || MatchesSelector(r.Metadata?.Get("labels") as YMap, labelSelector))
            && (annotationSelector is null || MatchesSelector(r.Metadata?.Get("annotations") as YMap, annotationSelector))).ToList();
    }

    private static string Effective(KResource r, string ns) => ns.Length == 0 && !r.IsClusterScoped ? "default" : ns;

    /// <summary>A Kubernetes label selector: <c>k=v</c>, <c>k==v</c>, <c>k!=v</c>, <c>k</c>, <c>!k</c>, <c>k in (a,b)</c>, <c>k notin (a,b)</c>, comma-separated.</summary>
    internal static bool MatchesSelector(YMap? labels, string selector)
    {
        string? Get(string key) => labels is null ? null : KYaml.AsString(labels.Get(key)) ?? (labels.Get(key) is YScalar ? "" : null);
        foreach (Match m in Regex.Matches(selector, @"\s*([^,(]+(?:\([^)]*\))?)\s*(?:,|$)", RegexOptions.CultureInvariant))
        {
            string req = m.Groups[1].Value.Trim();
            if (req.Length == 0) continue;
            var set = Regex.Match(req, @"^(\S+)\s+(in|notin)\s*\(([^)]*)\)$", RegexOptions.CultureInvariant);
            if (set.Success)
            {
                var values = set.Groups[3].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
                string? v = Get(set.Groups[1].Value);
                bool contains = v is not null && values.Contains(v);
                if (set.Groups[2].Value == "in" ? !contains : contains) return false;
                continue;
            }
            int ne = req.IndexOf("!=", StringComparison.Ordinal);
            if (ne > 0)
            {
                if (Get(req[..ne].Trim()) == req[(ne + 2)..].Trim()) return false;
                continue;
            }
            int eq = req.IndexOf('=');
            if (eq > 0)
            {
                string val = req[(eq + 1)..].TrimStart('=').Trim();
                if (Get(req[..eq].Trim()) != val) return false;
                continue;
            }
            if (req.StartsWith('!') ? Get(req[1..]) is not null : Get(req) is null) return false;
        }
        return true;
    }

    private static List<(YNode Doc, string File)> LoadPatchDocs(KustomizationFile k, string dir, Kustomizer.BuildContext build, string entry, int line)
    {
        if (entry.Contains('\n'))
        {
            return YamlReader.ParseStream(entry, k.File, ErrorCodes.InvalidKustomization, line).Where(d => d.Root is not null).Select(d => (d.Root!, k.File)).ToList();
        }
        return LoadPatchFile(k, dir, build, entry, line);
    }

    private static List<(YNode Doc, string File)> LoadPatchFile(KustomizationFile k, string dir, Kustomizer.BuildContext build, string path, int line)
    {
        if (Kustomizer.IsRemote(path)) throw new SealerException(ErrorCodes.KustomizeRemoteResource, $"patch '{path}' is remote; the build is offline. Vendor it.", k.File, line);
        string full = Path.GetFullPath(Path.Combine(dir, path));
        if (!File.Exists(full)) throw new SealerException(ErrorCodes.KustomizeFileNotFound, $"patch file '{path}' does not exist (looked in '{full}').", k.File, line);
        return YamlReader.ParseStream(build.ReadFile(full), full, ErrorCodes.InvalidKustomization).Where(d => d.Root is not null && !(d.Root is YScalar s && YamlReader.IsNull(s))).Select(d => (d.Root!, full)).ToList();
    }

    /// <summary>
    /// <c>configurations:</c> (transformer configs) are read, not applied. What they add that could change images is refused
    /// rather than silently skipped: <c>images:</c> field specs (image fields in custom resources) and <c>varReference</c>
    /// paths into an image field. The rest (<c>nameReference</c>, <c>namespace</c>, <c>commonLabels</c>, <c>varReference</c>
    /// into other fields, ...) names which non-image fields follow renames, labels or vars, so it cannot change images.
    /// </summary>
    private static void CheckConfigurations(KustomizationFile k, string dir, Kustomizer.BuildContext build)
    {
        foreach (var (path, line) in k.Paths("configurations"))
        {
            if (Kustomizer.IsRemote(path)) throw new SealerException(ErrorCodes.KustomizeRemoteResource, $"configurations '{path}' is remote; the build is offline. Vendor it.", k.File, line);
            string full = Path.GetFullPath(Path.Combine(dir, path));
            if (!File.Exists(full)) throw new SealerException(ErrorCodes.KustomizeFileNotFound, $"configurations file '{path}' does not exist (looked in '{full}').", k.File, line);
            foreach (var doc in YamlReader.ParseStream(build.ReadFile(full), full, ErrorCodes.InvalidKustomization))
            {
                if (doc.Root is not YMap config) continue;
                if (config.Get("images") is YSeq { Items.Count: > 0 } images)
                {
                    throw new SealerException(ErrorCodes.KustomizeUnsupported,
                        $"configurations '{path}' adds image fields (images:) that the offline kustomize engine does not apply, so images there would be missed. " +
                        "List those images with ContainerImage/ImageList items, or render this kustomization with kustomize and add the output as a KubeManifest.",
                        full, images.Line);
                }
                if (config.Get("varReference") is YSeq refs)
                {
                    foreach (var r in refs.Items.OfType<YMap>())
                    {
                        if (KYaml.AsString(r.Get("path")) is { } p && p.Split('/').Any(seg => seg.Equals("image", StringComparison.OrdinalIgnoreCase) || seg.Equals("images", StringComparison.OrdinalIgnoreCase)))
                        {
                            throw new SealerException(ErrorCodes.KustomizeUnsupported,
                                $"configurations '{path}' substitutes vars into an image field ({p}); the offline kustomize engine does not substitute vars, so the image would be missed. " +
                                "Use images: (newName/newTag) instead of a var, or render this kustomization with kustomize and add the output as a KubeManifest.",
                                full, r.Line);
                        }
                    }
                }
            }
        }
    }
}

/// <summary>commonLabels / labels and commonAnnotations, on the fields kustomize's default field specs name.</summary>
internal static class Labels
{
    private static readonly HashSet<string> Workloads = new(StringComparer.Ordinal) { "Deployment", "ReplicaSet", "DaemonSet", "StatefulSet", "Job", "ReplicationController" };

    public static void Apply(KResource r, List<KeyValuePair<string, string>> pairs, bool selectors, bool templates)
    {
        if (pairs.Count == 0) return;
        Put(KYaml.Map(r.Node, "metadata", true)!, "labels", pairs);
        var spec = r.Node.Get("spec") as YMap;
        if (spec is null) return;
        if (selectors)
        {
            switch (r.Kind)
            {
                case "Service" or "ReplicationController":
                    Put(spec, "selector", pairs);
                    break;
                case "Deployment" or "ReplicaSet" or "DaemonSet" or "StatefulSet":
                    Put(KYaml.Map(spec, "selector", true)!, "matchLabels", pairs);
                    break;
                case "PodDisruptionBudget":
                    if (KYaml.Map(spec, "selector", false) is { } sel) Put(sel, "matchLabels", pairs);
                    break;
                case "NetworkPolicy":
                    if (KYaml.Map(spec, "podSelector", true) is { } ps) Put(ps, "matchLabels", pairs);
                    break;
            }
        }
        if (templates)
        {
            if (Workloads.Contains(r.Kind) && KYaml.Map(spec, "template", true) is { } t) Put(KYaml.Map(t, "metadata", true)!, "labels", pairs);
            if (r.Kind == "StatefulSet" && spec.Get("volumeClaimTemplates") is YSeq vct)
            {
                foreach (var c in vct.Items.OfType<YMap>()) Put(KYaml.Map(c, "metadata", true)!, "labels", pairs);
            }
            if (r.Kind == "CronJob" && KYaml.Map(spec, "jobTemplate", true) is { } jt)
            {
                Put(KYaml.Map(jt, "metadata", true)!, "labels", pairs);
                if (KYaml.Map(KYaml.Map(jt, "spec", true)!, "template", true) is { } jtt) Put(KYaml.Map(jtt, "metadata", true)!, "labels", pairs);
            }
        }
    }

    public static void Annotate(KResource r, List<KeyValuePair<string, string>> pairs)
    {
        Put(KYaml.Map(r.Node, "metadata", true)!, "annotations", pairs);
        var spec = r.Node.Get("spec") as YMap;
        if (spec is null) return;
        if (Workloads.Contains(r.Kind) && KYaml.Map(spec, "template", true) is { } t) Put(KYaml.Map(t, "metadata", true)!, "annotations", pairs);
        if (r.Kind == "CronJob" && KYaml.Map(spec, "jobTemplate", false) is { } jt)
        {
            Put(KYaml.Map(jt, "metadata", true)!, "annotations", pairs);
            if (KYaml.Map(KYaml.Map(jt, "spec", true)!, "template", true) is { } jtt) Put(KYaml.Map(jtt, "metadata", true)!, "annotations", pairs);
        }
    }

    private static void Put(YMap parent, string key, List<KeyValuePair<string, string>> pairs)
    {
        var m = KYaml.Map(parent, key, true);
        if (m is null) return;
        foreach (var (k, v) in pairs) KYaml.Set(m, k, KYaml.Str(v));
    }

}

/// <summary>The <c>images:</c> transformer: kustomize's name match (the name is a regular expression over the whole
/// reference without tag/digest) and its newName/newTag/digest/tagSuffix rules, on every <c>image</c> of
/// <c>containers</c>/<c>initContainers</c> anywhere in an object (CRDs excluded).</summary>
internal static class Images
{
    public static void Apply(KustomizationFile k, YMap entry, List<KResource> acc)
    {
        string name = KYaml.AsString(entry.Get("name")) ?? throw k.Invalid(entry, "images: an entry needs a name.");
        string? newName = KYaml.AsString(entry.Get("newName")), newTag = KYaml.AsString(entry.Get("newTag"));
        string? digest = KYaml.AsString(entry.Get("digest")), tagSuffix = KYaml.AsString(entry.Get("tagSuffix"));
        Regex matcher;
        try
        {
            matcher = new Regex("^" + name + @"(:[a-zA-Z0-9_.{}-]*)?(@[a-zA-Z0-9]+([.+_-][a-zA-Z0-9]+)*:[a-zA-Z0-9_.{}-]*)?$", RegexOptions.CultureInvariant);
        }
        catch (ArgumentException)
        {
            return; // kustomize skips a name that is not a valid pattern
        }
        foreach (var r in acc)
        {
            if (r.Kind == "CustomResourceDefinition") continue;
            Walk(r.Node, matcher, newName, newTag, digest, tagSuffix, entry.Line, 0);
        }
    }

    private static void Walk(YNode node, Regex matcher, string? newName, string? newTag, string? digest, string? tagSuffix, int line, int depth)
    {
        if (depth > 64) return;
        switch (node)
        {
            case YMap m:
                foreach (var (k, v) in m.Entries)
                {
                    Walk(v, matcher, newName, newTag, digest, tagSuffix, line, depth + 1);
                    if (k is YScalar { Value: "containers" or "initContainers" } && v is YSeq seq)
                    {
                        foreach (var c in seq.Items.OfType<YMap>())
                        {
                            if (c.Get("image") is YScalar img && !YamlReader.IsNull(img) && matcher.IsMatch(img.Value))
                            {
                                KYaml.Set(c, "image", KYaml.Str(Rewrite(img.Value, newName, newTag, digest, tagSuffix), img.Line));
                            }
                        }
                    }
                }
                break;
            case YSeq s:
                foreach (var i in s.Items) Walk(i, matcher, newName, newTag, digest, tagSuffix, line, depth + 1);
                break;
        }
    }

    internal static string Rewrite(string value, string? newName, string? newTag, string? digest, string? tagSuffix)
    {
        var (name, tag, dig) = Split(value);
        if (!string.IsNullOrEmpty(newName)) name = newName;
        if (!string.IsNullOrEmpty(newTag) && !string.IsNullOrEmpty(digest)) { tag = newTag; dig = digest; }
        else if (!string.IsNullOrEmpty(newTag)) { tag = newTag; dig = ""; }
        else if (!string.IsNullOrEmpty(digest)) { tag = ""; dig = digest; }
        else if (!string.IsNullOrEmpty(tagSuffix)) { tag += tagSuffix; dig = ""; }
        if (tag.Length > 0) name += ":" + tag;
        if (dig.Length > 0) name += "@" + dig;
        return name;
    }

    /// <summary>kustomize's image.Split: name, tag, digest (a ':' in the domain is not a tag).</summary>
    internal static (string Name, string Tag, string Digest) Split(string image)
    {
        int slash = image.IndexOf('/');
        int offset = slash > 0 ? slash : 0;
        string search = image[offset..];
        int id = search.IndexOf('@'), ic = search.IndexOf(':');
        if (ic < 0 && id < 0) return (image, "", "");
        if (id >= 0 && (id < ic || ic < 0)) return (image[..(id + offset)], "", image[(id + offset + 1)..]);
        if (id >= 0 && ic >= 0) return (image[..(ic + offset)], image[(ic + offset + 1)..(id + offset)], image[(id + offset + 1)..]);
        return (image[..(ic + offset)], image[(ic + offset + 1)..], "");
    }
}
