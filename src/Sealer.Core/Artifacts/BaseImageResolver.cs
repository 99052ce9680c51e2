using Sealer.Core.ClusterImage;
using Sealer.Core.Diagnostics;
using Sealer.Core.Distribution;
using Sealer.Core.Layout;
using Sealer.Core.Oci;
using Sealer.Core.References;

namespace Sealer.Core.Artifacts;

/// <summary>Options for <see cref="BaseImageResolver"/>.</summary>
public sealed class BaseImageResolveOptions
{
    /// <summary>The local cluster image store (default: <see cref="ClusterImageStore.Open"/> of the default directory).</summary>
    public ClusterImageStore? Store { get; set; }

    /// <summary>The registry client for references not in the store (share the build's).</summary>
    public RegistryClient? Client { get; set; }

    /// <summary>Never touch the network: a reference must be in the store (design-time builds).</summary>
    public bool Offline { get; set; }

    /// <summary>Pull a tag again even when the store has it (a digest-pinned reference is never re-pulled).</summary>
    public bool Refresh { get; set; }

    /// <summary>Relative layout/archive paths are relative to this (the project directory).</summary>
    public string? BaseDirectory { get; set; }

    public IProgress<long>? Progress { get; set; }
}

/// <summary>
/// Resolves a FROM (base cluster image) to a <see cref="BaseImage"/> assembly can layer on:
/// <list type="bullet">
/// <item><c>scratch</c> or empty: none;</item>
/// <item><c>oci:DIR[:REF]</c> or an existing directory: an OCI layout (a build output, an unpacked archive), used in place;</item>
/// <item><c>oci-archive:FILE[:REF]</c> or an existing file: an OCI archive (plain/zstd/gzip), loaded into the store (verified);</item>
/// <item>a reference: the store's copy, else pulled from the registry into the store (all platforms).</item>
/// </list>
/// </summary>
public static class BaseImageResolver
{
    public static async Task<BaseImage?> ResolveAsync(string from, BaseImageResolveOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new BaseImageResolveOptions();
        string value = from.Trim();
        if (value.Length == 0 || value.Equals("scratch", StringComparison.OrdinalIgnoreCase)) return null;

        string? layoutPath = null, archivePath = null, refInSource = null;
        if (value.StartsWith("oci:", StringComparison.Ordinal)) (layoutPath, refInSource) = SplitTransport(value[4..]);
        else if (value.StartsWith("oci-archive:", StringComparison.Ordinal)) (archivePath, refInSource) = SplitTransport(value[12..]);
        else if (LooksLikePath(value) && Directory.Exists(Full(value, options))) layoutPath = value;
        else if (LooksLikePath(value) && File.Exists(Full(value, options))) archivePath = value;

        if (layoutPath is not null)
        {
            string dir = Full(layoutPath, options);
            if (!Directory.Exists(dir)) throw NotFound(from, $"the directory '{dir}' does not exist");
            var layout = OciLayout.Open(dir);
            var (name, root) = Pick(layout.ReadIndex().Manifests, refInSource, from);
            ImageGraph.Load(layout, root); // complete, or a clear error now rather than during assembly
            return new BaseImage(name ?? $"oci:{dir}", layout, root);
        }

        var store = options.Store ?? ClusterImageStore.Open();
        if (archivePath is not null)
        {
            string file = Full(archivePath, options);
            if (!File.Exists(file)) throw NotFound(from, $"the file '{file}' does not exist");
            var loaded = await OciArchive.LoadAsync(store, file, new OciArchive.LoadOptions { Progress = options.Progress }, cancellationToken).ConfigureAwait(false);
            var pick = refInSource is null
                ? (loaded.Count == 1 ? loaded[0] : throw NotFound(from, $"the archive holds {loaded.Count} images; name one: oci-archive:{archivePath}:<ref>"))
                : loaded.FirstOrDefault(i => i.Name == ClusterImageStore.NormalizeName(refInSource)) ?? throw NotFound(from, $"the archive has no image '{refInSource}'");
            return new BaseImage(pick.Name, store.Layout, pick.Descriptor);
        }

        if (!ImageReference.TryParse(value, out var reference, out var error))
        {
            throw new SealerException(ErrorCodes.BaseImageNotFound, $"FROM '{from}' is neither a reference ({error}) nor an existing layout directory or archive file.");
        }
        var local = store.TryResolve(reference.ToString());
        bool pinned = reference.Digest is not null;
        if (local is not null && (pinned ? local.Digest == reference.Digest : !options.Refresh))
        {
            return new BaseImage(reference.ToString(), store.Layout, local.Descriptor);
        }
        if (options.Offline)
        {
            throw new SealerException(ErrorCodes.BaseImageNotFound, $"The base image {reference} is not in the local store '{store.Root}' and the network may not be used now. Run 'sealer pull {reference}' or build once online.");
        }
        var pulled = await ClusterImagePuller.PullAsync(store, reference.ToString(), new ClusterImagePullOptions { Client = options.Client, Progress = options.Progress }, cancellationToken).ConfigureAwait(false);
        return new BaseImage(reference.ToString(), store.Layout, pulled.Descriptor);
    }

    private static bool LooksLikePath(string v) => v.StartsWith('/') || v.StartsWith('.') || v.Contains('\\') || v.EndsWith(".tar", StringComparison.OrdinalIgnoreCase)
        || v.EndsWith(".zst", StringComparison.OrdinalIgnoreCase) || v.EndsWith(".tgz", StringComparison.OrdinalIgnoreCase) || v.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)
        || !ImageReference.TryParse(v, out _, out _);

    private static string Full(string path, BaseImageResolveOptions options) => Path.GetFullPath(path, options.BaseDirectory ?? Directory.GetCurrentDirectory());

    /// <summary>Splits <c>PATH[:REF]</c> as skopeo does; a REF may itself contain ':' (a port or a tag), so the path ends at the first ':' after an existing prefix.</summary>
    private static (string Path, string? Ref) SplitTransport(string rest)
    {
        int colon = rest.IndexOf(':');
        return colon < 0 ? (rest, null) : (rest[..colon], rest[(colon + 1)..]);
    }

    private static (string? Name, Descriptor Root) Pick(IReadOnlyList<Descriptor> roots, string? refName, string from)
    {
        var named = roots.Where(r => r.GetAnnotation(Annotations.RefName) is not null).ToList();
        if (refName is not null)
        {
            string? normalized = ImageReference.TryParse(refName, out var r, out _) ? r.ToString() : null;
            var hit = named.FirstOrDefault(d => d.GetAnnotation(Annotations.RefName) is { } n && (n == refName || n == normalized))
                ?? throw NotFound(from, $"the layout has no image named '{refName}' (it has {string.Join(", ", named.Select(n => n.GetAnnotation(Annotations.RefName)))})");
            return (normalized ?? refName, hit);
        }
        var candidates = named.Count > 0 ? named : roots.ToList();
        if (candidates.Count != 1) throw NotFound(from, $"the layout holds {candidates.Count} images; name one: oci:DIR:<ref>");
        string? name = candidates[0].GetAnnotation(Annotations.RefName);
        return (name is not null && ImageReference.TryParse(name, out var n2, out _) && name.IndexOfAny(['/', ':']) >= 0 ? n2.ToString() : null, candidates[0]);
    }

    private static SealerException NotFound(string from, string why)
        => new(ErrorCodes.BaseImageNotFound, $"Cannot use FROM '{from}': {why}.");
}
