namespace Sealer.Core.Oci;

/// <summary>Media types we read and write (image-spec media-types.md, Docker manifest v2 schema 2).</summary>
public static class MediaTypes
{
    public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string OciIndex = "application/vnd.oci.image.index.v1+json";
    public const string OciConfig = "application/vnd.oci.image.config.v1+json";
    public const string OciLayer = "application/vnd.oci.image.layer.v1.tar";
    public const string OciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
    public const string OciLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
    public const string OciEmpty = "application/vnd.oci.empty.v1+json";
    public const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
    public const string DockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";
    public const string DockerConfig = "application/vnd.docker.container.image.v1+json";
    public const string DockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";
    public const string DockerForeignLayerGzip = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";

    /// <summary>The config media type of a Sealer cluster image (it is an ordinary OCI image config).</summary>
    public const string ClusterImageConfig = OciConfig;

    public static bool IsIndex(string? mediaType) => mediaType is OciIndex or DockerManifestList;

    public static bool IsManifest(string? mediaType) => mediaType is OciManifest or DockerManifest;

    /// <summary>Everything a registry may answer for a manifest GET; send it as the Accept header.</summary>
    public static readonly string[] AllManifests = [OciIndex, OciManifest, DockerManifestList, DockerManifest];
}

/// <summary>Annotation keys (image-spec annotations.md); the cluster image's own are in <c>ClusterImage/ClusterImageFormat</c>.</summary>
public static class Annotations
{
    /// <summary>The full reference of an image in a layout's index.json, e.g. <c>docker.io/library/nginx:1.27</c>.
    /// We always keep the domain, so <c>docker.io/x</c> and <c>quay.io/x</c> never collide.</summary>
    public const string RefName = "org.opencontainers.image.ref.name";
    public const string Created = "org.opencontainers.image.created";
    public const string Title = "org.opencontainers.image.title";
    public const string BaseName = "org.opencontainers.image.base.name";
    public const string BaseDigest = "org.opencontainers.image.base.digest";
}
