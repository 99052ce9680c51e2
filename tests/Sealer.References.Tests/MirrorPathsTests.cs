using Sealer.Core.References;

namespace Sealer.References.Tests;

/// <summary>Where a mirror registry keeps an image under a prefix: PREFIX/DOMAIN/PATH, each a valid repository path.</summary>
public class MirrorPathsTests
{
    [Theory]
    [InlineData(null, "docker.io", "library/nginx", "library/nginx")] // no prefix: the path as it is, the domain dropped
    [InlineData("sealer", "docker.io", "library/nginx", "sealer/docker.io/library/nginx")]
    [InlineData("sealer/site", "registry.local:5000", "team/app", "sealer/site/registry.local-5000/team/app")]
    [InlineData("sealer", "[::1]:5000", "app", "sealer/1-5000/app")]
    [InlineData("sealer", "Registry.Example.COM", "app", "sealer/registry.example.com/app")]
    [InlineData("sealer", null, "kube-apiserver", "sealer/kube-apiserver")] // no domain (a Sealer base's tree)
    public void An_image_s_repository_in_the_mirror_is_a_valid_path(string? prefix, string? domain, string path, string expected)
    {
        string repository = MirrorPaths.Repository(prefix, domain, path);
        Assert.Equal(expected, repository);
        Assert.True(ImageReference.TryParse($"harbor.site/{repository}:1", out var parsed, out string? error), error);
        Assert.Equal(repository, parsed.Repository);
    }

    [Theory]
    [InlineData("harbor.site", "harbor.site", null, null)]
    [InlineData("harbor.site:8443/sealer/site/", "harbor.site:8443", "sealer/site", null)]
    [InlineData("harbor.site/Sealer", "harbor.site", "Sealer", "'Sealer' is not a path prefix")]
    [InlineData("harbor.site//x", "harbor.site", "/x", "'/x' is not a path prefix")]
    [InlineData("harbor site/x", "harbor site", "x", "'harbor site' is not a registry host[:port]")]
    public void A_target_splits_into_host_and_prefix_or_says_what_is_wrong(string target, string host, string? prefix, string? error)
    {
        var split = MirrorPaths.SplitTarget(target);
        Assert.Equal(host, split.Host);
        Assert.Equal(prefix, split.Prefix);
        if (error is null) Assert.Null(split.Error);
        else Assert.StartsWith(error, split.Error, StringComparison.Ordinal);
    }
}
