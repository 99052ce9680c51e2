using Sealer.Core.Diagnostics;
using Sealer.Core.References;

namespace Sealer.References.Tests;

public class ImageReferenceTests
{
    // Expected values are what containerd/docker normalize to (distribution/reference ParseDockerRef).
    [Theory]
    [InlineData("nginx", "docker.io/library/nginx:latest")]
    [InlineData("nginx:1.27", "docker.io/library/nginx:1.27")]
    [InlineData("bitnami/redis:7.2", "docker.io/bitnami/redis:7.2")]
    [InlineData("docker.io/nginx", "docker.io/library/nginx:latest")]
    [InlineData("index.docker.io/library/nginx:1", "docker.io/library/nginx:1")]
    [InlineData("quay.io/prometheus/node-exporter:v1.8.2", "quay.io/prometheus/node-exporter:v1.8.2")]
    [InlineData("registry.k8s.io/pause:3.9", "registry.k8s.io/pause:3.9")]
    [InlineData("localhost/app", "localhost/app:latest")]
    [InlineData("localhost:5000/team/app:v1", "localhost:5000/team/app:v1")]
    [InlineData("127.0.0.1:5000/a/b/c:dev-1_x.y", "127.0.0.1:5000/a/b/c:dev-1_x.y")]
    [InlineData("[::1]:5000/app:v1", "[::1]:5000/app:v1")]
    [InlineData("ghcr.io/org/my__app--x.y_z:1", "ghcr.io/org/my__app--x.y_z:1")]
    [InlineData("nginx@sha256:0000000000000000000000000000000000000000000000000000000000000000", "docker.io/library/nginx@sha256:0000000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("nginx:1.27@sha256:0000000000000000000000000000000000000000000000000000000000000000", "docker.io/library/nginx:1.27@sha256:0000000000000000000000000000000000000000000000000000000000000000")]
    public void Normalizes_like_containerd(string input, string expected)
    {
        Assert.Equal(expected, ImageReference.Parse(input).ToString());
    }

    [Fact]
    public void Splits_domain_repository_tag_digest()
    {
        var r = ImageReference.Parse("localhost:5000/team/app:v1");
        Assert.Equal("localhost:5000", r.Domain);
        Assert.Equal("team/app", r.Repository);
        Assert.Equal("v1", r.Tag);
        Assert.Null(r.Digest);
        Assert.Equal("v1", r.ManifestReference);
        var pinned = ImageReference.Parse("nginx:1@sha256:" + new string('a', 64));
        Assert.True(pinned.IsPinned);
        Assert.Equal("sha256:" + new string('a', 64), pinned.ManifestReference);
    }

    [Theory]
    [InlineData("")]
    [InlineData("Nginx")]
    [InlineData("docker.io/Library/nginx")]
    [InlineData("nginx:")]
    [InlineData("nginx:-bad")]
    [InlineData("nginx@sha256:abc")]
    [InlineData("nginx@md5:0000000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("a//b")]
    [InlineData("a/b_")]
    [InlineData("a/.b")]
    [InlineData("host:99999/app")]
    [InlineData("my app")]
    [InlineData("a/b:c d")]
    public void Rejects_bad_references_with_a_code(string input)
    {
        var ex = Assert.Throws<SealerException>(() => ImageReference.Parse(input, "values.yaml", 7));
        Assert.Equal(ErrorCodes.InvalidImageReference, ex.Code);
        Assert.Equal("values.yaml", ex.File);
        Assert.Equal(7, ex.Line);
        Assert.StartsWith("values.yaml(7): error SEA2000:", ex.ToDiagnosticString());
    }

    [Fact]
    public void Tag_longer_than_128_is_rejected()
    {
        Assert.False(ImageReference.TryParse("nginx:" + new string('a', 129), out _, out var error));
        Assert.Contains("tag", error);
        Assert.True(ImageReference.TryParse("nginx:" + new string('a', 128), out _, out _));
    }
}
