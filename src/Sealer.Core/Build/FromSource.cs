using Sealer.Core.Artifacts;
using Sealer.Core.ClusterImage;
using Sealer.Core.Diagnostics;
using Sealer.Core.References;

namespace Sealer.Core.Build;

/// <summary>
/// Where SealerBaseImage (FROM) comes from. A registry reference goes through the image cache like every app image
/// (mirrors, images.lock.json pin, no network when cached); everything else — <c>oci:DIR[:REF]</c>,
/// <c>oci-archive:FILE[:REF]</c>, a path, or a name the local cluster image store has — is resolved by
/// <see cref="BaseImageResolver"/> (the same code as <c>sealer build</c>/CLI FROM), without the network.
/// </summary>
public static class FromSource
{
    public static bool IsScratch(string? from) => string.IsNullOrWhiteSpace(from) || from.Trim().Equals("scratch", StringComparison.OrdinalIgnoreCase);

    public static bool IsLocal(string from, string? storeDirectory)
    {
        string v = from.Trim();
        if (v.StartsWith("oci:", StringComparison.Ordinal) || v.StartsWith("oci-archive:", StringComparison.Ordinal)) return true;
        if (v.StartsWith('/') || v.StartsWith('.') || !ImageReference.TryParse(v, out var reference, out _)) return true; // a path (or the resolver's clear error)
        string store = string.IsNullOrWhiteSpace(storeDirectory) ? ClusterImageStore.DefaultDirectory : storeDirectory;
        return File.Exists(Path.Combine(store, "index.json")) && ClusterImageStore.Open(store).TryResolve(reference.ToString()) is not null;
    }

    /// <summary>Resolves a local FROM (offline); the resolver's errors point at <paramref name="origin"/> (the project's
    /// SealerBaseImage line, or the Kubefile's FROM line).</summary>
    public static async Task<BaseImage?> ResolveLocalAsync(string from, string? storeDirectory, string projectDirectory, BaseImageOrigin origin, CancellationToken cancellationToken)
    {
        try
        {
            return await BaseImageResolver.ResolveAsync(from, Options(storeDirectory, projectDirectory), cancellationToken).ConfigureAwait(false);
        }
        catch (SealerException ex) when (ex.File is null)
        {
            throw new SealerException(ex.Code, $"{ex.Message} ({origin.What})", origin.File, origin.Line);
        }
    }

    /// <summary>The project file and the line that sets SealerBaseImage (0 when not found).</summary>
    public static BaseImageOrigin Line(string projectFile)
        => new(projectFile, File.Exists(projectFile) ? Array.FindIndex(File.ReadAllLines(projectFile), l => l.Contains("SealerBaseImage", StringComparison.Ordinal)) + 1 : 0, "SealerBaseImage");

    public static BaseImageResolveOptions Options(string? storeDirectory, string projectDirectory) => new()
    {
        Store = ClusterImageStore.Open(string.IsNullOrWhiteSpace(storeDirectory) ? null : storeDirectory),
        BaseDirectory = projectDirectory,
        Offline = true,
    };
}

/// <summary>Where the FROM was written: the file, its line, and what it is called there (<c>SealerBaseImage</c>, <c>FROM</c>).</summary>
public sealed record BaseImageOrigin(string File, int Line, string What);
