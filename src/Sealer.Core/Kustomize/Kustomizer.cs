using Sealer.Core.Yaml;
using System.Text;
using Sealer.Core.Charts;
using Sealer.Core.Diagnostics;
using YamlDotNet.Core;

namespace Sealer.Core.Kustomize;

/// <summary>Options of a kustomize build.</summary>
public sealed class KustomizeOptions
{
    /// <summary>Kubernetes version for charts of <c>helmCharts:</c> (<c>.Capabilities.KubeVersion</c>), unless the entry sets its own.</summary>
    public string? KubeVersion { get; init; }
}

/// <summary>One object of a built kustomization.</summary>
public sealed record KustomizedObject(string ApiVersion, string Kind, string Namespace, string Name, string SourceFile)
{
    internal YMap Node { get; init; } = null!;
}

/// <summary>What <c>kubectl kustomize DIR</c> renders: the objects in kustomize's order, and every file that was read.</summary>
public sealed class KustomizeResult
{
    public required IReadOnlyList<KustomizedObject> Objects { get; init; }

    /// <summary>Every file read (kustomization files, resources, patches, generator inputs, charts), full paths, sorted.</summary>
    public required IReadOnlyList<string> InputFiles { get; init; }

    /// <summary>The objects as one YAML stream, as <c>kubectl apply -k</c> would apply them.</summary>
    public string ToYaml() => KYaml.Emit(Objects.Select(o => (YNode)o.Node));
}

/// <summary>
/// kustomize without kustomize, offline: <c>kubectl kustomize DIR</c> for the fields that decide which objects exist and
/// which images they run — resources/bases (files, directories, nested kustomizations), components, generators
/// (configMapGenerator, secretGenerator with kustomize's name hashes, helmCharts from a local chart home), patches
/// (strategic merge and JSON 6902, by patch or target selector), namespace, namePrefix/nameSuffix (with name references
/// updated), commonLabels/labels, commonAnnotations, replicas and images. Remote resources and cycles are coded errors.
/// </summary>
public static class Kustomizer
{
    public static readonly string[] FileNames = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

    /// <summary>The kustomization file in <paramref name="directory"/>, or null.</summary>
    public static string? FindKustomizationFile(string directory)
    {
        foreach (var n in FileNames)
        {
            string p = Path.Combine(directory, n);
            if (File.Exists(p)) return p;
        }
        return null;
    }

    public static KustomizeResult Build(string directory, KustomizeOptions? options = null, CancellationToken ct = default)
    {
        var ctx = new BuildContext(options ?? new KustomizeOptions(), ct);
        string dir = Path.GetFullPath(directory);
        var acc = new List<KResource>();
        ctx.Accumulate(dir, acc, isComponent: false, referencedFrom: null, referencedLine: 0);
        NameReferences.AddHashes(acc);
        NameReferences.Fix(acc);
        var sorted = LegacyOrder(acc);
        return new KustomizeResult
        {
            Objects = sorted.Select(r => new KustomizedObject(r.ApiVersion, r.Kind, r.Namespace, r.Name, r.File) { Node = r.Node }).ToList(),
            InputFiles = ctx.InputFiles.Order(StringComparer.Ordinal).ToList(),
        };
    }

    private static readonly string[] OrderFirst =
    [
        "Namespace", "ResourceQuota", "StorageClass", "CustomResourceDefinition", "ServiceAccount", "PodSecurityPolicy", "Role", "ClusterRole",
        "RoleBinding", "ClusterRoleBinding", "ConfigMap", "Secret", "Endpoints", "Service", "LimitRange", "PriorityClass", "PersistentVolume",
        "PersistentVolumeClaim", "Deployment", "StatefulSet", "CronJob", "PodDisruptionBudget",
    ];

    private static readonly string[] OrderLast = ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"];

    /// <summary>kustomize's default (legacy) output order: kinds in a fixed order, then by id.</summary>
    private static List<KResource> LegacyOrder(List<KResource> resources)
    {
        int Rank(string kind)
        {
            int i = Array.IndexOf(OrderFirst, kind);
            if (i >= 0) return i - OrderFirst.Length;
            i = Array.IndexOf(OrderLast, kind);
            return i >= 0 ? 1 + i : 0;
        }
        return resources
            .OrderBy(r => Rank(r.Kind))
            .ThenBy(r => $"{r.Group}_{r.Version}_{r.Kind}", StringComparer.Ordinal)
            .ThenBy(r => r.Namespace, StringComparer.Ordinal)
            .ThenBy(r => r.Name, StringComparer.Ordinal)
            .ToList();
    }

    internal static bool IsRemote(string reference)
        => reference.Contains("://", StringComparison.Ordinal)
           || reference.StartsWith("github.com/", StringComparison.Ordinal) || reference.StartsWith("gitlab.com/", StringComparison.Ordinal)
           || reference.StartsWith("bitbucket.org/", StringComparison.Ordinal) || reference.StartsWith("git::", StringComparison.Ordinal)
           || reference.StartsWith("git@", StringComparison.Ordinal) || reference.StartsWith("ssh:", StringComparison.Ordinal)
           || reference.Contains("?ref=", StringComparison.Ordinal) || reference.Contains(".git//", StringComparison.Ordinal);

    internal sealed class BuildContext(KustomizeOptions options, CancellationToken ct)
    {
        private readonly List<string> _stack = [];

        public KustomizeOptions Options { get; } = options;

        public HashSet<string> InputFiles { get; } = new(StringComparer.Ordinal);

        public void Accumulate(string dir, List<KResource> acc, bool isComponent, string? referencedFrom, int referencedLine)
        {
            ct.ThrowIfCancellationRequested();
            string? file = FindKustomizationFile(dir);
            if (file is null)
            {
                throw new SealerException(ErrorCodes.KustomizationNotFound,
                    $"'{dir}' holds no kustomization.yaml, kustomization.yml or Kustomization. Point at a kustomization directory.", referencedFrom, referencedLine);
            }
            if (_stack.Contains(dir))
            {
                var chain = _stack.SkipWhile(d => d != dir).Append(dir).Select(d => Path.GetRelativePath(_stack[0], d));
                throw new SealerException(ErrorCodes.KustomizationCycle,
                    $"kustomizations include each other in a cycle: {string.Join(" -> ", chain)}. Remove one of these references.", referencedFrom, referencedLine);
            }
            _stack.Add(dir);
            try
            {
                InputFiles.Add(file);
                var k = new KustomizationFile(file, ReadText(file));
                if (isComponent && k.Kind != "Component")
                {
                    throw new SealerException(ErrorCodes.InvalidKustomization,
                        $"'{dir}' is listed under components: but its kind is '{(k.Kind.Length == 0 ? "Kustomization" : k.Kind)}'; a component has 'kind: Component'.", referencedFrom, referencedLine);
                }
                if (!isComponent && k.Kind == "Component")
                {
                    throw new SealerException(ErrorCodes.InvalidKustomization,
                        $"'{dir}' is a Component; list it under components:, not resources:.", referencedFrom, referencedLine);
                }
                var own = isComponent ? acc : new List<KResource>();
                foreach (var (path, line) in k.Resources)
                {
                    AddResource(k, dir, path, line, own);
                }
                foreach (var (path, line) in k.Components)
                {
                    CheckLocal(k, path, line);
                    string full = Path.GetFullPath(Path.Combine(dir, path));
                    if (!Directory.Exists(full))
                    {
                        throw new SealerException(ErrorCodes.KustomizeFileNotFound, $"component '{path}' does not exist (looked in '{full}').", k.File, line);
                    }
                    Accumulate(full, own, isComponent: true, k.File, line);
                }
                Generators.Run(k, dir, own, this);
                Transformers.Run(k, dir, own, this);
                if (!isComponent) foreach (var r in own) AddUnique(acc, r, k.File, 0);
            }
            finally
            {
                _stack.RemoveAt(_stack.Count - 1);
            }
        }

        private static void CheckLocal(KustomizationFile k, string path, int line)
        {
            if (IsRemote(path))
            {
                throw new SealerException(ErrorCodes.KustomizeRemoteResource,
                    $"'{path}' is a remote resource; the build is offline and fetches nothing. Vendor it into the project (e.g. kustomize build URL > vendor/x.yaml) and list the local path instead.",
                    k.File, line);
            }
        }

        private void AddResource(KustomizationFile k, string dir, string path, int line, List<KResource> acc)
        {
            CheckLocal(k, path, line);
            string full = Path.GetFullPath(Path.Combine(dir, path));
            if (Directory.Exists(full))
            {
                var sub = new List<KResource>();
                Accumulate(full, sub, isComponent: false, k.File, line);
                foreach (var r in sub) AddUnique(acc, r, k.File, line);
                return;
            }
            if (!File.Exists(full))
            {
                throw new SealerException(ErrorCodes.KustomizeFileNotFound, $"resource '{path}' does not exist (looked in '{full}'). Fix the path or remove the entry.", k.File, line);
            }
            foreach (var r in LoadObjects(full)) AddUnique(acc, r, k.File, line);
        }

        public List<KResource> LoadObjects(string file)
        {
            InputFiles.Add(file);
            var result = new List<KResource>();
            foreach (var doc in YamlReader.ParseStream(ReadText(file), file, ErrorCodes.InvalidManifest))
            {
                AddObjects(doc.Root, file, result);
            }
            return result;
        }

        public static void AddObjects(YNode? root, string file, List<KResource> result)
        {
            if (root is null || root is YScalar s && YamlReader.IsNull(s)) return;
            if (root is not YMap m)
            {
                throw new SealerException(ErrorCodes.InvalidManifest, "a resource document must be a Kubernetes object (a mapping with apiVersion, kind, metadata).", file, root.Line, root.Column);
            }
            string kind = m.GetString("kind") ?? "";
            if (kind.EndsWith("List", StringComparison.Ordinal) && m.Get("items") is YSeq items)
            {
                foreach (var item in items.Items) AddObjects(item, file, result);
                return;
            }
            if (kind.Length == 0 || (m.Get("metadata") as YMap)?.GetString("name") is not { Length: > 0 })
            {
                throw new SealerException(ErrorCodes.InvalidManifest, "a resource needs kind and metadata.name (kustomize refuses it too).", file, m.Line, m.Column);
            }
            result.Add(new KResource(m, file));
        }

        public static void AddUnique(List<KResource> acc, KResource r, string? file, int line)
        {
            string id = r.Id;
            if (acc.Any(x => x.Id == id))
            {
                throw new SealerException(ErrorCodes.KustomizeDuplicateResource,
                    $"{r.Kind} '{(r.Namespace.Length > 0 ? r.Namespace + "/" : "")}{r.Name}' (from {r.File}) is already in this kustomization; kustomize refuses duplicate ids. Remove one of them, or give it another name.",
                    file, line);
            }
            acc.Add(r);
        }

        public string ReadFile(string path)
        {
            InputFiles.Add(path);
            return ReadText(path);
        }
    }

    internal static string ReadText(string path)
    {
        var s = File.ReadAllText(path, Encoding.UTF8);
        return s.Length > 0 && s[0] == '\uFEFF' ? s[1..] : s;
    }

}
