using System.IO.Compression;

namespace Sealer.Sdk.Tests.Sdk;

/// <summary>The SDK knows its own version from the package it was restored from (written at pack time), not a constant.</summary>
[Collection(SdkCollection.Name)]
public sealed class SdkVersionTests(SdkFeed feed)
{
    [Fact]
    public void SealerSdkVersion_and_the_default_user_agent_are_the_restored_package_version()
    {
        string nupkg = Directory.EnumerateFiles(feed.FeedDir, "Sealer.Sdk.*.nupkg").Single();
        string version = Path.GetFileNameWithoutExtension(nupkg)["Sealer.Sdk.".Length..];
        using (var zip = ZipFile.OpenRead(nupkg))
        {
            var entry = zip.GetEntry("Sdk/Sealer.Sdk.Version.props");
            Assert.NotNull(entry);
            using var reader = new StreamReader(entry.Open());
            Assert.Contains($"<SealerSdkVersion>{version}</SealerSdkVersion>", reader.ReadToEnd(), StringComparison.Ordinal);
        }

        string dir = feed.NewProjectDir("version");
        new KubeProject().Item("ContainerImage", "nginx:1.27").Write(dir);
        string cache = feed.NewProjectDir("cache");
        var restore = feed.Dotnet(dir, "restore", cache);
        Assert.True(restore.ExitCode == 0, restore.Output);
        var r = feed.Dotnet(dir, "msbuild -nologo -getProperty:SealerSdkVersion -getProperty:SealerUserAgent", cache);
        Assert.True(r.ExitCode == 0, r.Output);
        Assert.Contains($"\"SealerSdkVersion\": \"{version}\"", r.Output, StringComparison.Ordinal);
        Assert.Contains($"\"SealerUserAgent\": \"sealer-sdk/{version}\"", r.Output, StringComparison.Ordinal);
    }
}
