using Sealer.Core.Yaml;
using Sealer.Core.Charts;

namespace Sealer.Core.Kustomize;

/// <summary>One object while a kustomization is built: its tree, where it came from, and the names and namespaces it had
/// before transformers renamed it (patches and references match any of them, as kustomize's "any id" does).</summary>
internal sealed class KResource
{
    public KResource(YMap node, string file)
    {
        Node = node;
        File = file;
        PreviousNames.Add(Name);
        PreviousNamespaces.Add(Namespace);
    }

    public YMap Node { get; }

    /// <summary>The file the object was read from (a generated object: the kustomization).</summary>
    public string File { get; }

    public List<string> PreviousNames { get; } = [];

    public List<string> PreviousNamespaces { get; } = [];

    /// <summary>Made by configMapGenerator/secretGenerator and not <c>disableNameSuffixHash</c>: gets the content hash suffix.</summary>
    public bool NeedsHash { get; set; }

    public string ApiVersion => Node.GetString("apiVersion") ?? "";

    public string Kind => Node.GetString("kind") ?? "";

    public string Group => ApiVersion.Contains('/') ? ApiVersion[..ApiVersion.IndexOf('/')] : "";

    public string Version => ApiVersion.Contains('/') ? ApiVersion[(ApiVersion.IndexOf('/') + 1)..] : ApiVersion;

    public YMap? Metadata => Node.Get("metadata") as YMap;

    public string Name => KYaml.AsString(Metadata?.Get("name")) ?? "";

    public string Namespace => KYaml.AsString(Metadata?.Get("namespace")) ?? "";

    public void SetName(string name)
    {
        if (name == Name) return;
        KYaml.Set(KYaml.Map(Node, "metadata", create: true)!, "name", KYaml.Str(name));
        if (!PreviousNames.Contains(name)) PreviousNames.Add(name);
    }

    public void SetNamespace(string ns)
    {
        if (ns == Namespace) return;
        KYaml.Set(KYaml.Map(Node, "metadata", create: true)!, "namespace", KYaml.Str(ns));
        if (!PreviousNamespaces.Contains(ns)) PreviousNamespaces.Add(ns);
    }

    /// <summary>kustomize's resource id: group/version/kind, namespace ("" and "default" are the same), name.</summary>
    public string Id => $"{Group}/{Version}/{Kind}|{(Namespace is "default" ? "" : Namespace)}|{Name}";

    public bool IsClusterScoped => ClusterScopedKinds.Contains(Kind);

    /// <summary>Kinds kustomize knows to have no namespace (its built-in schema); any other kind, custom ones included,
    /// is namespaced, as kustomize assumes.</summary>
    public static readonly HashSet<string> ClusterScopedKinds = new(StringComparer.Ordinal)
    {
        "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
        "CustomResourceDefinition", "APIService", "CertificateSigningRequest", "FlowSchema", "PriorityLevelConfiguration", "IngressClass",
        "RuntimeClass", "ClusterRole", "ClusterRoleBinding", "PriorityClass", "CSIDriver", "CSINode", "StorageClass", "VolumeAttachment",
        "ComponentStatus", "Namespace", "Node", "PersistentVolume", "PodSecurityPolicy",
    };
}
