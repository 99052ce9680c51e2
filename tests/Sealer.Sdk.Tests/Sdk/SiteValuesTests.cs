using Sealer.Core.Diagnostics;
using Sealer.Sdk.Tests.ClusterImage;

namespace Sealer.Sdk.Tests.Sdk;

/// <summary>
/// <c>dotnet build -p:SealerSiteValues=site-values.yaml</c> with the packed SDK: the built image's apps rendered with a
/// site's Application documents; an MSBuild error per image the cluster image lacks, at the line of the site file.
/// </summary>
[Collection(SdkCollection.Name)]
public sealed class SiteValuesTests(SdkFeed feed)
{
    [Fact]
    public void Site_values_naming_an_image_the_cluster_image_lacks_fail_the_build_at_their_line()
    {
        string dir = feed.NewProjectDir("site");
        Directory.CreateDirectory(Path.Combine(dir, "apps", "web"));
        File.WriteAllText(Path.Combine(dir, "apps", "web", "deploy.yaml"), """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: web
            spec:
              template:
                spec:
                  containers:
                    - name: web
                      image: nginx:1.27
            """);
        new KubeProject()
            .Property("ClusterImageTag", "1.0.0")
            .Property("SealerLaunch", "web")
            .Item("KubeManifest", "apps/web/deploy.yaml")
            .Item("SealerApp", "web", ("Source", "apps/web"), ("Type", "kube"))
            .Mirrors(feed.Env)
            .Write(dir, "site.kubeproj");
        // the site replaces the app's manifest: its image is not in the cluster image (line 13 of the file)
        File.WriteAllText(Path.Combine(dir, "site-values.yaml"), """
            apiVersion: sealer.io/v2
            kind: Application
            spec:
              configs:
                - name: web
                  files:
                    - path: deploy.yaml
                      data: |
                        apiVersion: v1
                        kind: Pod
                        metadata: {name: web}
                        spec:
                          containers: [{name: web, image: "nginx:1.99"}]
            """);
        string cache = feed.NewProjectDir("cache");
        var r = feed.Dotnet(dir, "build -c Release -p:SealerSiteValues=site-values.yaml", cache);
        Assert.True(r.ExitCode != 0, r.Output);
        Assert.True(r.Output.Contains($"site-values.yaml(13): error {ErrorCodes.ImagesMissingFromClusterImage}: app 'web' would be launched with docker.io/library/nginx:1.99", StringComparison.Ordinal), r.Output);

        // allowed knowingly: a warning, the build succeeds; without site values the image's own manifest is complete
        r = feed.Dotnet(dir, "build -c Release -p:SealerSiteValues=site-values.yaml -p:SealerAllowMissingImages=true", cache);
        Assert.True(r.ExitCode == 0, r.Output);
        Assert.True(r.Output.Contains($"site-values.yaml(13): warning {ErrorCodes.ImagesMissingFromClusterImage}", StringComparison.Ordinal), r.Output);
        File.WriteAllText(Path.Combine(dir, "site-values.yaml"), "apiVersion: sealer.io/v2\nkind: Application\nspec:\n  launchApps: [web]\n");
        r = feed.Dotnet(dir, "build -c Release -p:SealerSiteValues=site-values.yaml", cache);
        Assert.True(r.ExitCode == 0, r.Output);
        Assert.Contains("Sealer: every image the apps launch with site-values.yaml is in the cluster image (1 image(s), 1 served)", r.Output, StringComparison.Ordinal);
    }
}
