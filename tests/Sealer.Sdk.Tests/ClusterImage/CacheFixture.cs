using Sealer.Core.Layout;
using Sealer.Core.Oci;

namespace Sealer.Sdk.Tests.ClusterImage;

/// <summary>Builds an image cache (an OCI layout with full refs) holding real, small images made with <see cref="OciImages"/>.</summary>
internal static class CacheFixture
{
    /// <summary>A cache with docker.io/library/nginx:1.27 (amd64+arm64 index), quay.io/demo/app:2 (amd64 only) sharing a base layer.</summary>
    public static (OciLayout Cache, List<Sealer.Core.ClusterImage.ClusterImageContent> Images) Create(string dir)
    {
        var cache = OciLayout.OpenOrCreate(dir);
        byte[] shared = OciImages.TarGz(("etc/os-release", "ID=fixture\n"));
        var amd = OciImages.AddManifest(cache, "linux", "amd64", shared, OciImages.TarGz(("usr/sbin/nginx", "amd64 nginx\n")));
        var arm = OciImages.AddManifest(cache, "linux", "arm64", OciImages.TarGz(("etc/os-release", "ID=fixture-arm\n")), OciImages.TarGz(("usr/sbin/nginx", "arm64 nginx\n")));
        var nginx = OciImages.AddIndex(cache, amd, arm);
        cache.SetRef("docker.io/library/nginx:1.27", nginx);
        var app = OciImages.AddManifest(cache, "linux", "amd64", shared, OciImages.TarGz(("app/run", "#!/bin/sh\necho app\n")));
        cache.SetRef("quay.io/demo/app:2", app with { Platform = null });
        return (cache, [
            new("docker.io/library/nginx:1.27", nginx.ParsedDigest, MediaTypes.OciIndex),
            new("quay.io/demo/app:2", app.ParsedDigest, MediaTypes.OciManifest),
        ]);
    }
}
