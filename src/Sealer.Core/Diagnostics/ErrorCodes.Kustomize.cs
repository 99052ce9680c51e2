namespace Sealer.Core.Diagnostics;

// SEA3700–3799: kustomize (Sealer.Core.Kustomize) and what find-images cannot classify.
public static partial class ErrorCodes
{
    /// <summary>A kustomization directory (a Kustomization item, a resource, base or component) holds no kustomization.yaml, kustomization.yml or Kustomization.</summary>
    public const string KustomizationNotFound = "SEA3700";

    /// <summary>A kustomization file is malformed: not a mapping, a field of the wrong type, an unknown kind, an invalid images/patches/generator entry.</summary>
    public const string InvalidKustomization = "SEA3701";

    /// <summary>A kustomization names a remote resource (https://, github.com/..., git::): the build is offline. Vendor the resource into the project and point at the local copy.</summary>
    public const string KustomizeRemoteResource = "SEA3702";

    /// <summary>Kustomizations include each other in a cycle (the message lists the chain).</summary>
    public const string KustomizationCycle = "SEA3703";

    /// <summary>A file or directory a kustomization names (resource, patch, generator file, chart home) does not exist.</summary>
    public const string KustomizeFileNotFound = "SEA3704";

    /// <summary>Two resources of a kustomization have the same kind, namespace and name (kustomize refuses them too).</summary>
    public const string KustomizeDuplicateResource = "SEA3705";

    /// <summary>A patch cannot be applied: no resource matches it, a JSON 6902 path does not exist, or a test operation failed.</summary>
    public const string KustomizePatchFailed = "SEA3706";

    /// <summary>A kustomization uses a feature the offline engine does not run (exec/container plugins in transformers/generators/validators); render it with kustomize and add the output as a KubeManifest.</summary>
    public const string KustomizeUnsupported = "SEA3707";

    /// <summary>A file given to find-images is neither a chart, a manifest, an image list nor a kustomization directory.</summary>
    public const string UnrecognizedInputFile = "SEA3708";
}
