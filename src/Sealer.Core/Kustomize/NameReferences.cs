using Sealer.Core.Text;
using Sealer.Core.Yaml;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Sealer.Core.Charts;

namespace Sealer.Core.Kustomize;

/// <summary>The end of a build: generated ConfigMaps/Secrets get kustomize's content-hash suffix, then references to
/// renamed objects (prefix, suffix, hash) are updated in the fields kustomize's name-reference config lists most often:
/// pod specs (volumes, env, envFrom, imagePullSecrets, serviceAccountName, priorityClassName), RBAC bindings, Ingress,
/// StatefulSet serviceName, HPA targets, webhook and APIService services.</summary>
internal static class NameReferences
{
    public static void AddHashes(List<KResource> acc)
    {
        foreach (var r in acc.Where(r => r.NeedsHash)) r.SetName(r.Name + "-" + Hash(r));
    }

    /// <summary>kustomize's hasher: sha256 of a Go-JSON encoding of kind, (an empty) name and data, first 10 hex digits with 0,1,3,a,e swapped out.</summary>
    internal static string Hash(KResource r)
    {
        var fields = new SortedDictionary<string, object>(StringComparer.Ordinal)
        {
            ["kind"] = r.Kind,
            // kustomize looks the name up as one field called "metadata/name", finds nothing, and hashes "" (kept for equal names).
            ["name"] = "",
            ["data"] = (object?)StringMap(r.Node.Get("data")) ?? "",
        };
        if (r.Kind == "Secret")
        {
            fields["type"] = KYaml.AsString(r.Node.Get("type")) ?? "";
            if (StringMap(r.Node.Get("stringData")) is { } sd) fields["stringData"] = sd;
        }
        else if (StringMap(r.Node.Get("binaryData")) is { } bd)
        {
            fields["binaryData"] = bd;
        }
        var sb = new StringBuilder();
        WriteGoJson(sb, fields);
        string hex = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())));
        var enc = hex[..10].ToCharArray();
        for (int i = 0; i < enc.Length; i++)
        {
            enc[i] = enc[i] switch { '0' => 'g', '1' => 'h', '3' => 'k', 'a' => 'm', 'e' => 't', var c => c };
        }
        return new string(enc);
    }

    private static SortedDictionary<string, object>? StringMap(YNode? n)
    {
        if (n is not YMap m) return null;
        var d = new SortedDictionary<string, object>(StringComparer.Ordinal);
        foreach (var (k, v) in m.Entries) d[(k as YScalar)?.Value ?? ""] = (v as YScalar)?.Value ?? "";
        return d;
    }

    private static void WriteGoJson(StringBuilder sb, object value)
    {
        switch (value)
        {
            case string s:
                StringEscapes.AppendJson(sb, s, escapeHtml: true);
                break;
            case SortedDictionary<string, object> d:
                sb.Append('{');
                bool first = true;
                foreach (var (k, v) in d)
                {
                    if (!first) sb.Append(',');
                    first = false;
                    WriteGoJson(sb, k);
                    sb.Append(':');
                    WriteGoJson(sb, v);
                }
                sb.Append('}');
                break;
        }
    }

    public static void Fix(List<KResource> acc)
    {
        if (!acc.Any(r => r.PreviousNames.Count > 1)) return;
        foreach (var r in acc)
        {
            if (r.Kind == "CustomResourceDefinition") continue;
            var ctx = new Ctx(acc, r);
            FindPodSpecs(r.Node, ctx, 0);
            var spec = r.Node.Get("spec") as YMap;
            switch (r.Kind)
            {
                case "RoleBinding" or "ClusterRoleBinding":
                    if (r.Node.Get("roleRef") is YMap rr && rr.GetString("kind") is { } rk) ctx.Ref(rr, "name", rk);
                    if (r.Node.Get("subjects") is YSeq subjects)
                    {
                        foreach (var s in subjects.Items.OfType<YMap>().Where(s => s.GetString("kind") == "ServiceAccount"))
                        {
                            var target = ctx.Ref(s, "name", "ServiceAccount", s.GetString("namespace"));
                            if (target is not null && target.Namespace.Length > 0) KYaml.Set(s, "namespace", KYaml.Str(target.Namespace));
                        }
                    }
                    break;
                case "Ingress" when spec is not null:
                    ctx.Backend(spec.Get("defaultBackend") as YMap);
                    ctx.Backend(spec.Get("backend") as YMap);
                    if (spec.Get("tls") is YSeq tls) foreach (var t in tls.Items.OfType<YMap>()) ctx.Ref(t, "secretName", "Secret");
                    if (spec.Get("rules") is YSeq rules)
                    {
                        foreach (var rule in rules.Items.OfType<YMap>())
                        {
                            if ((rule.Get("http") as YMap)?.Get("paths") is YSeq paths)
                            {
                                foreach (var p in paths.Items.OfType<YMap>()) ctx.Backend(p.Get("backend") as YMap);
                            }
                        }
                    }
                    break;
                case "StatefulSet" when spec is not null:
                    ctx.Ref(spec, "serviceName", "Service");
                    break;
                case "HorizontalPodAutoscaler" when spec?.Get("scaleTargetRef") is YMap st && st.GetString("kind") is { } sk:
                    ctx.Ref(st, "name", sk);
                    break;
                case "MutatingWebhookConfiguration" or "ValidatingWebhookConfiguration" when r.Node.Get("webhooks") is YSeq hooks:
                    foreach (var h in hooks.Items.OfType<YMap>()) ServiceRef((h.Get("clientConfig") as YMap)?.Get("service") as YMap, ctx);
                    break;
                case "APIService" when spec is not null:
                    ServiceRef(spec.Get("service") as YMap, ctx);
                    break;
                case "ServiceAccount":
                    foreach (var list in (string[])["secrets", "imagePullSecrets"])
                    {
                        if (r.Node.Get(list) is YSeq s) foreach (var i in s.Items.OfType<YMap>()) ctx.Ref(i, "name", "Secret");
                    }
                    break;
            }
        }
    }

    private static void ServiceRef(YMap? service, Ctx ctx)
    {
        if (service is null) return;
        var target = ctx.Ref(service, "name", "Service", service.GetString("namespace"));
        if (target is not null && target.Namespace.Length > 0 && service.Get("namespace") is not null) KYaml.Set(service, "namespace", KYaml.Str(target.Namespace));
    }

    private static void FindPodSpecs(YNode node, Ctx ctx, int depth)
    {
        if (depth > 24) return;
        if (node is YSeq seq)
        {
            foreach (var i in seq.Items) FindPodSpecs(i, ctx, depth + 1);
            return;
        }
        if (node is not YMap m) return;
        if (m.Get("containers") is YSeq)
        {
            PodSpec(m, ctx);
            return;
        }
        foreach (var (_, v) in m.Entries) FindPodSpecs(v, ctx, depth + 1);
    }

    private static void PodSpec(YMap pod, Ctx ctx)
    {
        ctx.Ref(pod, "serviceAccountName", "ServiceAccount");
        ctx.Ref(pod, "serviceAccount", "ServiceAccount");
        ctx.Ref(pod, "priorityClassName", "PriorityClass");
        if (pod.Get("imagePullSecrets") is YSeq ips) foreach (var i in ips.Items.OfType<YMap>()) ctx.Ref(i, "name", "Secret");
        if (pod.Get("volumes") is YSeq vols)
        {
            foreach (var v in vols.Items.OfType<YMap>())
            {
                if (v.Get("configMap") is YMap cm) ctx.Ref(cm, "name", "ConfigMap");
                if (v.Get("secret") is YMap sec) ctx.Ref(sec, "secretName", "Secret");
                if (v.Get("persistentVolumeClaim") is YMap pvc) ctx.Ref(pvc, "claimName", "PersistentVolumeClaim");
                if ((v.Get("projected") as YMap)?.Get("sources") is YSeq sources)
                {
                    foreach (var s in sources.Items.OfType<YMap>())
                    {
                        if (s.Get("configMap") is YMap pcm) ctx.Ref(pcm, "name", "ConfigMap");
                        if (s.Get("secret") is YMap ps) ctx.Ref(ps, "name", "Secret");
                    }
                }
            }
        }
        foreach (var list in (string[])["containers", "initContainers", "ephemeralContainers"])
        {
            if (pod.Get(list) is not YSeq cs) continue;
            foreach (var c in cs.Items.OfType<YMap>())
            {
                if (c.Get("env") is YSeq env)
                {
                    foreach (var e in env.Items.OfType<YMap>())
                    {
                        if (e.Get("valueFrom") is not YMap vf) continue;
                        if (vf.Get("configMapKeyRef") is YMap ck) ctx.Ref(ck, "name", "ConfigMap");
                        if (vf.Get("secretKeyRef") is YMap sk) ctx.Ref(sk, "name", "Secret");
                    }
                }
                if (c.Get("envFrom") is YSeq envFrom)
                {
                    foreach (var e in envFrom.Items.OfType<YMap>())
                    {
                        if (e.Get("configMapRef") is YMap cr) ctx.Ref(cr, "name", "ConfigMap");
                        if (e.Get("secretRef") is YMap sr) ctx.Ref(sr, "name", "Secret");
                    }
                }
            }
        }
    }

    private sealed class Ctx(List<KResource> acc, KResource referrer)
    {
        /// <summary>Points <paramref name="field"/> of <paramref name="holder"/> at the current name of the <paramref name="kind"/> it names; returns that object.</summary>
        public KResource? Ref(YMap holder, string field, string kind, string? ns = null)
        {
            if (holder.Get(field) is not YScalar s || YamlReader.IsNull(s)) return null;
            string value = s.Value;
            string wantNs = ns ?? referrer.Namespace;
            var candidates = acc.Where(r => r.Kind == kind && r.PreviousNames.Contains(value)).ToList();
            if (candidates.Count == 0) return null;
            var target = candidates.FirstOrDefault(r => r.IsClusterScoped || r.Namespace == wantNs || r.PreviousNamespaces.Contains(wantNs))
                ?? (candidates.Count == 1 ? candidates[0] : null);
            if (target is null) return null;
            if (target.Name != value) KYaml.Set(holder, field, KYaml.Str(target.Name, s.Line));
            return target;
        }

        public void Backend(YMap? backend)
        {
            if (backend is null) return;
            if (backend.Get("service") is YMap svc) Ref(svc, "name", "Service");
            Ref(backend, "serviceName", "Service");
        }
    }
}
