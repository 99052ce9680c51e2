using Sealer.Core.Layout;
using Sealer.Core.Oci;

namespace Sealer.Core.ClusterImage;

/// <summary>
/// Everything a cluster image is made of (the Kubefile, resolved): the rootfs files of the project, the app images
/// (already in the image cache), labels, env, apps, launch order and platforms. Built by <see cref="ClusterImageBuilder"/>.
/// </summary>
public sealed record ClusterImageSpec
{
    /// <summary>The name the output layout's index.json gives the image (<c>org.opencontainers.image.ref.name</c>), e.g. <c>my-app:1.0.0</c>.</summary>
    public required string RefName { get; init; }

    /// <summary>Files of the project's rootfs layer (charts/, manifests/, application/apps/&lt;name&gt;/, COPY'd files, images.lock.json).</summary>
    public IReadOnlyList<RootfsEntry> RootfsFiles { get; init; } = [];

    /// <summary>Extra rootfs files per platform (<c>linux/arm64</c> → files): a Kubefile's <c>COPY ${ARCH}/...</c>, a SealerFile with
    /// <c>Platform</c>. A platform listed here gets its own rootfs layer (the common files plus these).</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<RootfsEntry>> PlatformRootfsFiles { get; init; } = new Dictionary<string, IReadOnlyList<RootfsEntry>>();

    /// <summary>App images to carry, by full reference; their content must be in <see cref="ImageCache"/>.</summary>
    public IReadOnlyList<ClusterImageContent> Images { get; init; } = [];

    /// <summary>The image cache holding <see cref="Images"/>. Required when <see cref="Images"/> is not empty.</summary>
    public OciLayout? ImageCache { get; init; }

    /// <summary>One cluster image per platform; several give an OCI index over them. Default: linux/amd64.</summary>
    public IReadOnlyList<Platform> Platforms { get; init; } = [Platform.Parse("linux/amd64")];

    /// <summary>Config labels (user LABELs and the <c>cluster.alpha.sealer.io/...</c> ones). Base image labels are kept unless overridden.</summary>
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    /// <summary>ENV, in order (later keys override base image env).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Env { get; init; } = [];

    /// <summary>APP / APPCMDS / APPENV.</summary>
    public IReadOnlyList<ClusterApp> Apps { get; init; } = [];

    /// <summary>LAUNCH: app names in launch order. Exclusive with <see cref="Cmds"/>.</summary>
    public IReadOnlyList<string> Launch { get; init; } = [];

    /// <summary>CMDS: shell commands run at launch. Exclusive with <see cref="Launch"/>.</summary>
    public IReadOnlyList<string> Cmds { get; init; } = [];

    /// <summary><c>kube-installer</c> or <c>app-installer</c>; null derives it: the base image's type with FROM, else kube-installer when a cluster runtime label is set.</summary>
    public string? ImageType { get; init; }

    /// <summary>FROM: the base cluster image, already in a layout. Null for <c>scratch</c>. Its layers are kept as they are.</summary>
    public BaseImage? BaseImage { get; init; }

    /// <summary>mtime for every tar entry (SOURCE_DATE_EPOCH); 0 by default.</summary>
    public long SourceDateEpoch { get; init; }

    /// <summary>The builder's version, written into <c>sealer.image.extension</c>'s <c>buildClient</c>.</summary>
    public string BuilderVersion { get; init; } = "0.1.0";
}

/// <summary>A file in the rootfs layer: <paramref name="Destination"/> is relative (forward slashes), from a file on disk or bytes.</summary>
public sealed record RootfsEntry(string Destination, string? SourcePath = null, byte[]? Content = null, bool? Executable = null)
{
    /// <summary>Where this entry came from (the project item), for error messages.</summary>
    public string? OriginFile { get; init; }

    public int OriginLine { get; init; }
}

/// <summary>An app image in the cache: full reference (as in the lock) and the digest/media type of what the registry served.
/// <paramref name="FromBase"/>: the FROM base already carries it (same ref and digest); assembly keeps the base's layers and
/// registry entry and reads nothing from the cache for it.</summary>
public sealed record ClusterImageContent(string Reference, Digest Digest, string MediaType, bool FromBase = false);

/// <summary>A Sealer app (APP name local://path; APPCMDS; APPENV).</summary>
public sealed record ClusterApp
{
    public required string Name { get; init; }

    /// <summary><c>helm</c>, <c>kube</c> or <c>shell</c>.</summary>
    public required string Type { get; init; }

    /// <summary>Files of the app relative to <c>application/apps/&lt;name&gt;/</c>.</summary>
    public IReadOnlyList<string> LaunchFiles { get; init; } = [];

    public string? Version { get; init; }

    /// <summary>APPCMDS: commands replacing the type's default launch command.</summary>
    public IReadOnlyList<string> Cmds { get; init; } = [];

    /// <summary>APPENV: env for this app only.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Env { get; init; } = [];
}

/// <summary>A FROM image already present in a layout (the cache), by its top descriptor (index or manifest).</summary>
public sealed record BaseImage(string Reference, OciLayout Layout, Descriptor Descriptor);

/// <summary>What a build wrote.</summary>
public sealed record ClusterImageResult
{
    /// <summary>Digest of the top descriptor: the manifest (one platform) or the index over platforms.</summary>
    public required Descriptor Descriptor { get; init; }

    /// <summary>Per platform, the manifest descriptor.</summary>
    public required IReadOnlyDictionary<string, Descriptor> Manifests { get; init; }

    public required string LayoutPath { get; init; }

    public string? ArchivePath { get; init; }

    /// <summary>Blobs written by this build (new content) and reused from the previous output.</summary>
    public int BlobsWritten { get; init; }

    public int BlobsReused { get; init; }

    public long TotalBytes { get; init; }

    /// <summary>What writing the archive did (bytes written vs kept from the previous archive); null without an archive.</summary>
    public ArchiveWriteResult? Archive { get; init; }

    /// <summary>The platform manifests this build wrote, by digest, as the objects their bytes were serialized from: the
    /// archive's plan and the clean-up walk use them instead of parsing the (627 KB at 2,105 layers) manifests again.</summary>
    internal IReadOnlyDictionary<string, Oci.ImageManifest>? BuiltManifests { get; init; }
}

/// <summary>Progress of an assembly: what is being done (<c>rootfs</c>, <c>images</c>, <c>archive</c>), how many bytes of
/// the stage are done so far and how many it has in all (0 when not known).</summary>
public readonly record struct AssemblyProgress(string Stage, string? Item, long Bytes, long BytesTotal = 0);
