using Microsoft.Build.Framework;
using Sealer.Core.Diagnostics;
using Sealer.Core.Kustomize;

namespace Sealer.Tasks;

/// <summary>Kustomization items: where their rendered manifests go, and the build with errors pointing at the item.</summary>
internal static class KustomizationItems
{
    /// <summary><c>Destination</c>, else <c>manifests/&lt;Name&gt;.yaml</c>; Name defaults to the directory's path relative to the
    /// project with '/' turned into '-' (<c>deploy/overlays/prod</c> → <c>manifests/deploy-overlays-prod.yaml</c>).</summary>
    public static string Destination(ITaskItem item, string projectDir)
    {
        string dest = item.GetMetadata("Destination");
        if (!string.IsNullOrEmpty(dest)) return dest.EndsWith('/') ? dest + Name(item, projectDir) + ".yaml" : dest;
        return "manifests/" + Name(item, projectDir) + ".yaml";
    }

    public static string Name(ITaskItem item, string projectDir)
    {
        string name = item.GetMetadata("Name");
        if (!string.IsNullOrEmpty(name)) return name;
        string full = item.GetMetadata("FullPath").TrimEnd('/', Path.DirectorySeparatorChar);
        string rel = Path.GetRelativePath(projectDir, full).Replace('\\', '/');
        if (rel.StartsWith("../", StringComparison.Ordinal) || rel == "..") rel = Path.GetFileName(full);
        return rel.Trim('/').Replace('/', '-');
    }

    public static void Check(ITaskItem item, string? file, int line)
    {
        string full = item.GetMetadata("FullPath");
        if (!Directory.Exists(full))
        {
            throw new SealerException(ErrorCodes.InputFileMissing, $"Kustomization '{item.ItemSpec}' does not exist: point Include at a directory holding kustomization.yaml.", file, line);
        }
        if (Kustomizer.FindKustomizationFile(full) is null)
        {
            throw new SealerException(ErrorCodes.KustomizationNotFound, $"Kustomization '{item.ItemSpec}' holds no kustomization.yaml, kustomization.yml or Kustomization.", file, line);
        }
    }

    public static KustomizeResult Render(string directory, string? kubeVersion, string? file, int line, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(directory) || Kustomizer.FindKustomizationFile(directory) is null)
        {
            throw new SealerException(ErrorCodes.KustomizationNotFound, $"Kustomization '{directory}' holds no kustomization.yaml, kustomization.yml or Kustomization.", file, line);
        }
        return Kustomizer.Build(directory, new KustomizeOptions { KubeVersion = string.IsNullOrWhiteSpace(kubeVersion) ? null : kubeVersion }, cancellationToken);
    }
}
