using System.Text.RegularExpressions;
using Sealer.Core.References;
using Sealer.Core.Yaml;

namespace Sealer.Core.Discovery;

/// <summary>An image found in a Kubernetes object: the raw value, its line, and a description (<c>Deployment/x: spec.template.spec.containers[0].image</c>).</summary>
internal sealed record FoundImage(string Value, int Line, string Where, bool Strict);

/// <summary>
/// Finds images in parsed Kubernetes objects (as YAML trees, never as text lines):
/// <list type="bullet">
/// <item>containers, initContainers and ephemeralContainers of any pod spec, wherever it sits (Pod.spec,
/// spec.template.spec of workloads, spec.jobTemplate.spec.template.spec of CronJobs, and any custom kind that embeds
/// a pod template);</item>
/// <item>well-known custom resources: Prometheus/Alertmanager/ThanosRuler/PrometheusAgent <c>spec.image</c> (or
/// <c>baseImage</c>+<c>tag</c>/<c>version</c>/<c>sha</c>) and the Thanos sidecar, CloudNativePG <c>imageName</c> and image
/// catalogs, Argo Workflows templates (container, script, containerSet, sidecars), Tekton steps/sidecars/stepTemplate;</item>
/// <item>images passed to containers as <c>--*image*=REF</c> args or <c>*_IMAGE</c> env values, kept only when the value
/// parses as a reference and looks like one (has a tag/digest or a registry domain).</item>
/// </list>
/// </summary>
internal static class ImageWalker
{
    private static readonly string[] ContainerLists = ["containers", "initContainers", "ephemeralContainers"];
    private static readonly Regex ImageFlag = new(@"^--?(?<name>[A-Za-z0-9_.-]*image[A-Za-z0-9_.-]*)=(?<value>\S+)$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
    private static readonly Regex AnyFlag = new(@"^--?[A-Za-z0-9_.-]+=(?<value>\S+)$", RegexOptions.CultureInvariant);

    /// <summary>Images in one document (a single object, or a v1 List whose items are walked).</summary>
    public static List<FoundImage> Walk(YNode? root)
    {
        var found = new List<FoundImage>();
        if (root is YMap map) WalkObject(map, found, 0);
        return found;
    }

    private static void WalkObject(YMap obj, List<FoundImage> found, int depth)
    {
        if (depth > 8) return;
        string kind = obj.GetString("kind") ?? "";
        string apiVersion = obj.GetString("apiVersion") ?? "";
        string name = (obj.Get("metadata") as YMap)?.GetString("name") ?? "";
        string label = kind.Length == 0 ? "" : name.Length == 0 ? kind : kind + "/" + name;

        if (kind.EndsWith("List", StringComparison.Ordinal) && obj.Get("items") is YSeq items)
        {
            foreach (var item in items.Items) if (item is YMap m) WalkObject(m, found, depth + 1);
            return;
        }
        // CRD schemas describe containers but hold none.
        if (kind is "CustomResourceDefinition") return;

        string group = apiVersion.Contains('/') ? apiVersion[..apiVersion.IndexOf('/')] : "";
        var spec = obj.Get("spec") as YMap;

        // Every pod spec embedded anywhere in the object (Pod.spec, spec.template.spec, jobTemplate, custom kinds).
        FindPodSpecs(obj, label, "", found, 0);

        if (spec is null) return;
        switch (group)
        {
            case "monitoring.coreos.com" when kind is "Prometheus" or "Alertmanager" or "ThanosRuler" or "PrometheusAgent":
                PrometheusOperatorImage(spec, kind, label, "spec", found);
                if (spec.Get("thanos") is YMap thanos) PrometheusOperatorImage(thanos, "Thanos", label, "spec.thanos", found);
                break;
            case "postgresql.cnpg.io":
                AddScalar(spec.Get("imageName"), label, "spec.imageName", found);
                if (spec.Get("images") is YSeq catalog)
                {
                    for (int i = 0; i < catalog.Items.Count; i++)
                    {
                        if (catalog.Items[i] is YMap e) AddScalar(e.Get("image"), label, $"spec.images[{i}].image", found);
                    }
                }
                break;
            case "argoproj.io" when kind is "Workflow" or "WorkflowTemplate" or "ClusterWorkflowTemplate" or "CronWorkflow":
            {
                var wfSpec = kind == "CronWorkflow" ? spec.Get("workflowSpec") as YMap : spec;
                string prefix = kind == "CronWorkflow" ? "spec.workflowSpec" : "spec";
                if (wfSpec?.Get("templates") is YSeq templates)
                {
                    for (int i = 0; i < templates.Items.Count; i++)
                    {
                        if (templates.Items[i] is not YMap t) continue;
                        string tp = $"{prefix}.templates[{i}]";
                        if (t.Get("container") is YMap c) Container(c, label, tp + ".container", found);
                        if (t.Get("script") is YMap s) Container(s, label, tp + ".script", found);
                        ContainerSeq(t.Get("sidecars"), label, tp + ".sidecars", found);
                        if (t.Get("containerSet") is YMap cs) ContainerSeq(cs.Get("containers"), label, tp + ".containerSet.containers", found);
                    }
                }
                if (wfSpec?.Get("templateDefaults") is YMap td && td.Get("container") is YMap tdc)
                {
                    Container(tdc, label, prefix + ".templateDefaults.container", found);
                }
                break;
            }
            case "tekton.dev":
                TektonSteps(spec, label, "spec", found, 0);
                if (kind == "StepAction") AddScalar(spec.Get("image"), label, "spec.image", found);
                break;
        }
    }

    /// <summary>Finds mappings holding container lists (a pod spec) anywhere under <paramref name="node"/>.</summary>
    private static void FindPodSpecs(YNode node, string label, string path, List<FoundImage> found, int depth)
    {
        if (depth > 24) return;
        switch (node)
        {
            case YMap m:
            {
                bool isPodSpec = false;
                foreach (var list in ContainerLists)
                {
                    if (m.Get(list) is YSeq seq && seq.Items.Count > 0 && seq.Items.All(i => i is YMap))
                    {
                        isPodSpec = true;
                        ContainerSeq(seq, label, Join(path, list), found);
                    }
                }
                if (isPodSpec) return;
                foreach (var (k, v) in m.Entries)
                {
                    if (k is YScalar ks && v is YMap or YSeq) FindPodSpecs(v, label, Join(path, ks.Value), found, depth + 1);
                }
                break;
            }
            case YSeq s:
                for (int i = 0; i < s.Items.Count; i++)
                {
                    if (s.Items[i] is YMap or YSeq) FindPodSpecs(s.Items[i], label, $"{path}[{i}]", found, depth + 1);
                }
                break;
        }
    }

    private static string Join(string path, string key) => path.Length == 0 ? key : path + "." + key;

    private static void ContainerSeq(YNode? node, string label, string path, List<FoundImage> found)
    {
        if (node is not YSeq seq) return;
        for (int i = 0; i < seq.Items.Count; i++)
        {
            if (seq.Items[i] is YMap c) Container(c, label, $"{path}[{i}]", found);
        }
    }

    /// <summary>A container-like mapping: its <c>image</c>, plus image refs in <c>args</c>/<c>command</c> flags and <c>*_IMAGE</c> env.</summary>
    private static void Container(YMap c, string label, string path, List<FoundImage> found)
    {
        AddScalar(c.Get("image"), label, path + ".image", found);
        foreach (var key in (string[])["args", "command"])
        {
            if (c.Get(key) is not YSeq args) continue;
            for (int i = 0; i < args.Items.Count; i++)
            {
                if (args.Items[i] is not YScalar s || YamlReader.IsNull(s)) continue;
                var m = ImageFlag.Match(s.Value.Trim());
                if (m.Success)
                {
                    AddLoose(m.Groups["value"].Value, s.Line, label, $"{path}.{key}[{i}] ({m.Groups["name"].Value})", found, requireDomainAndTag: false);
                    continue;
                }
                // Other flags: only values that are unmistakably image references (registry domain and tag or digest).
                var any = AnyFlag.Match(s.Value.Trim());
                if (any.Success) AddLoose(any.Groups["value"].Value, s.Line, label, $"{path}.{key}[{i}]", found, requireDomainAndTag: true);
            }
        }
        if (c.Get("env") is YSeq env)
        {
            for (int i = 0; i < env.Items.Count; i++)
            {
                if (env.Items[i] is not YMap e) continue;
                string? n = e.GetString("name");
                if (n is null || !n.EndsWith("_IMAGE", StringComparison.OrdinalIgnoreCase)) continue;
                if (e.Get("value") is YScalar v && !YamlReader.IsNull(v))
                {
                    AddLoose(v.Value.Trim(), v.Line, label, $"{path}.env[{n}]", found, requireDomainAndTag: false);
                }
            }
        }
    }

    private static void AddScalar(YNode? node, string label, string path, List<FoundImage> found)
    {
        if (node is not YScalar s || YamlReader.IsNull(s)) return;
        string v = s.Value.Trim();
        if (v.Length == 0) return;
        found.Add(new FoundImage(v, s.Line, Describe(label, path), Strict: true));
    }

    /// <summary>An image-looking value outside an <c>image</c> field: kept only when it parses and looks like a reference.</summary>
    private static void AddLoose(string value, int line, string label, string path, List<FoundImage> found, bool requireDomainAndTag)
    {
        value = value.Trim().Trim('"', '\'');
        if (!LooksLikeImage(value, requireDomainAndTag)) return;
        found.Add(new FoundImage(value, line, Describe(label, path), Strict: false));
    }

    /// <summary>The conservative check for refs in args/env: parses as a reference AND has a tag/digest or a registry domain.</summary>
    internal static bool LooksLikeImage(string value, bool requireDomainAndTag = false)
    {
        if (value.Length == 0 || value.Contains("://", StringComparison.Ordinal) || value.StartsWith('/') || value.StartsWith('.')) return false;
        if (!ImageReference.TryParse(value, out _, out _)) return false;
        int slash = value.IndexOf('/');
        string head = slash > 0 ? value[..slash] : "";
        bool hasDomain = head.Length > 0 && (head.Contains('.') || head.Contains(':') || head == "localhost");
        string last = slash >= 0 ? value[(value.LastIndexOf('/') + 1)..] : value;
        bool hasTagOrDigest = value.Contains('@') || last.Contains(':');
        return requireDomainAndTag ? hasDomain && hasTagOrDigest : hasDomain || hasTagOrDigest;
    }

    private static string Describe(string label, string path) => label.Length == 0 ? path : $"{label}: {path}";

    private static void PrometheusOperatorImage(YMap spec, string kind, string label, string path, List<FoundImage> found)
    {
        if (spec.Get("image") is YScalar img && !YamlReader.IsNull(img) && img.Value.Trim().Length > 0)
        {
            AddScalar(img, label, path + ".image", found);
            return;
        }
        string? baseImage = spec.GetString("baseImage");
        string? tag = spec.GetString("tag");
        string? sha = spec.GetString("sha");
        string? version = spec.GetString("version");
        if (string.IsNullOrWhiteSpace(baseImage))
        {
            // The operator's defaults for these kinds, when a version pins them.
            baseImage = kind switch
            {
                "Prometheus" or "PrometheusAgent" => "quay.io/prometheus/prometheus",
                "Alertmanager" => "quay.io/prometheus/alertmanager",
                "ThanosRuler" or "Thanos" => "quay.io/thanos/thanos",
                _ => null,
            };
            if (baseImage is null || string.IsNullOrWhiteSpace(version) && string.IsNullOrWhiteSpace(tag) && string.IsNullOrWhiteSpace(sha)) return;
        }
        string image = !string.IsNullOrWhiteSpace(sha) ? $"{baseImage}@sha256:{sha}"
            : !string.IsNullOrWhiteSpace(tag) ? $"{baseImage}:{tag}"
            : !string.IsNullOrWhiteSpace(version) ? $"{baseImage}:{version}"
            : baseImage!;
        var line = (spec.Get("baseImage") ?? spec.Get("version") ?? spec.Get("tag") ?? spec.Get("sha") ?? spec).Line;
        found.Add(new FoundImage(image, line, Describe(label, path + ".baseImage/tag/version/sha"), Strict: true));
    }

    private static void TektonSteps(YMap m, string label, string path, List<FoundImage> found, int depth)
    {
        if (depth > 12) return;
        ContainerSeq(m.Get("steps"), label, path + ".steps", found);
        ContainerSeq(m.Get("sidecars"), label, path + ".sidecars", found);
        if (m.Get("stepTemplate") is YMap st) Container(st, label, path + ".stepTemplate", found);
        foreach (var (k, v) in m.Entries)
        {
            if (k is not YScalar ks || ks.Value is "steps" or "sidecars" or "stepTemplate") continue;
            if (v is YMap vm) TektonSteps(vm, label, path + "." + ks.Value, found, depth + 1);
            else if (v is YSeq seq)
            {
                for (int i = 0; i < seq.Items.Count; i++)
                {
                    if (seq.Items[i] is YMap im) TektonSteps(im, label, $"{path}.{ks.Value}[{i}]", found, depth + 1);
                }
            }
        }
    }
}
