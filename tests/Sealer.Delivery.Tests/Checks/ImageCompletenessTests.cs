using Sealer.Core.Delivery;
using Sealer.Core.Delivery.Checks;
using Sealer.Core.Delivery.Clusterfile;
using Sealer.Core.Diagnostics;
using Sealer.Core.References;

namespace Sealer.Delivery.Tests.Checks;

/// <summary>
/// <see cref="ImageCompleteness"/> on a real (small) cluster image, no host: apps rendered as the run launches them
/// (chart values, Application config files, launch.helm values/valueFiles, *.tmpl), each image looked up in the image's
/// registry/images.json, missing ones named with app, file:line and the value that produced them.
/// </summary>
public sealed class ImageCompletenessTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("sealer-complete-").FullName;
    private readonly FixtureImage _image;

    /// <summary>The fixture's web chart with a Deployment using its image values; extra (kube) with a rendered manifest naming an env image.</summary>
    public ImageCompletenessTests()
    {
        _image = FixtureImage.Build(Path.Combine(_work, "image"), appLayerBytes: 1024, launch: ["web", "extra"], extraRootfs: new Dictionary<string, string>
        {
            ["application/apps/web/web/templates/deploy.yaml"] = """
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: {{ .Release.Name }}
                spec:
                  template:
                    spec:
                      containers:
                        - name: web
                          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"

                """,
            ["application/apps/web/web/values-site.yaml"] = "image:\n  tag: \"1.0\"\n",
            ["application/apps/extra/pod.yaml.tmpl"] = """
                apiVersion: v1
                kind: Pod
                metadata:
                  name: sidecar
                spec:
                  containers:
                    - name: s
                      image: {{ .SidecarImage | default "docker.io/library/demo:1.0" }}

                """,
        });
    }

    public void Dispose() => Directory.Delete(_work, true);

    private static ClusterfileDocument Doc(string application) => ClusterfileReader.Parse($$"""
        apiVersion: sealer.io/v2
        kind: Cluster
        metadata:
          name: fixture
        spec:
          image: example.com/fixture/kubernetes:v1
          hosts:
            - ips: [10.200.0.11]
              roles: [master]
        ---
        apiVersion: sealer.io/v2
        kind: Application
        metadata: {name: apps}
        spec:
          launchApps: [web, extra]
        {{application}}
        """, "Clusterfile");

    private CompletenessReport Check(string application = "") =>
        ImageCompleteness.CheckOffline(ClusterImageSource.Open(_image.Dir), Doc(application));

    [Fact]
    public void The_images_values_name_only_what_the_registry_serves()
    {
        var report = Check();
        Assert.True(report.Complete, report.MissingText());
        Assert.Equal(["web helm 1", "extra kube 1"], report.Apps.Select(a => $"{a.App} {a.Kind} {a.Images}"));
        Assert.Equal(1, report.Served);
    }

    [Fact]
    public void A_tag_merged_by_an_application_config_file_is_missing_at_its_clusterfile_line()
    {
        var report = Check("""
              configs:
                - name: web
                  files:
                    - path: values.yaml
                      strategy: merge
                      data: |
                        image:
                          tag: "2.0"
            """);
        var m = Assert.Single(report.Missing);
        Assert.Equal("docker.io/library/demo:2.0", m.Reference);
        Assert.Equal("web", m.App);
        Assert.Equal("application/apps/web/web/templates/deploy.yaml", m.File);
        Assert.Equal(10, m.Line);
        // both values that make it, the one set at the site last (where to fix it)
        Assert.Equal(["image.repository=docker.io/library/demo (application/apps/web/web/values.yaml:3)", "image.tag=2.0 (Clusterfile:23)"], m.Values.Select(v => v.ToString()));
        Assert.Contains("tag(s) 1.0", m.Hint, StringComparison.Ordinal);

        var ex = report.Failure();
        Assert.Equal(ErrorCodes.ImagesMissingFromClusterImage, ex.Code);
        Assert.Equal(("Clusterfile", 23), (ex.File, ex.Line));
        Assert.Contains("docker.io/library/demo:2.0  app web  application/apps/web/web/templates/deploy.yaml:10", ex.Message, StringComparison.Ordinal);
        Assert.Contains("image.tag=2.0 (Clusterfile:23)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Launch_helm_values_and_value_files_are_applied_in_helms_order()
    {
        // --set wins over valueFiles, which win over values.yaml
        var report = Check("""
              configs:
                - name: web
                  launch:
                    helm:
                      valueFiles: [values-site.yaml]
                      values: [image.repository=quay.io/shop/web]
            """);
        var m = Assert.Single(report.Missing);
        Assert.Equal("quay.io/shop/web:1.0", m.Reference);
        Assert.Equal(["image.repository=quay.io/shop/web (Clusterfile:21)"], m.Values.Select(v => v.ToString()).Where(s => s.StartsWith("image.repository", StringComparison.Ordinal)));
        Assert.Null(m.Hint);

        // the value file wins over the chart's values; the tag it sets is served
        Assert.True(Check("""
              configs:
                - name: web
                  launch:
                    helm:
                      valueFiles: [values-site.yaml]
            """).Complete);
    }

    [Fact]
    public void A_value_file_the_image_lacks_is_a_coded_error_at_the_app_config()
    {
        var ex = Assert.Throws<SealerException>(() => Check("""
              configs:
                - name: web
                  launch:
                    helm:
                      valueFiles: [values-nowhere.yaml]
            """));
        Assert.Equal(ErrorCodes.LaunchValuesFileMissing, ex.Code);
        Assert.Equal(("Clusterfile", 17), (ex.File, ex.Line));
    }

    [Fact]
    public void Manifests_are_checked_after_template_rendering_with_the_apps_env()
    {
        var report = Check("""
              configs:
                - name: extra
                  env: [SidecarImage=ghcr.io/acme/sidecar:3]
            """);
        var m = Assert.Single(report.Missing);
        Assert.Equal(("ghcr.io/acme/sidecar:3", "extra", "application/apps/extra/pod.yaml", 8), (m.Reference, m.App, m.File, m.Line));
        Assert.Contains("rendered from pod.yaml.tmpl", m.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_manifest_overwritten_by_an_application_config_file_points_into_the_clusterfile()
    {
        var report = Check("""
              configs:
                - name: extra
                  files:
                    - path: cm.yaml
                      data: |
                        apiVersion: v1
                        kind: Pod
                        metadata: {name: p}
                        spec:
                          containers:
                            - name: c
                              image: docker.io/library/demo@sha256:0000000000000000000000000000000000000000000000000000000000000000
            """);
        var m = Assert.Single(report.Missing);
        Assert.Equal("docker.io/library/demo@sha256:0000000000000000000000000000000000000000000000000000000000000000", m.Reference);
        Assert.Equal(("Clusterfile", 27), (m.File, m.Line));
        Assert.Contains("other digests", m.Hint, StringComparison.Ordinal);
    }

    [Fact]
    public void A_pinned_image_is_served_by_its_digest()
    {
        var report = Check($$"""
              configs:
                - name: extra
                  env: ["SidecarImage=demo@{{_image.AppManifestDigest}}"]
            """);
        Assert.True(report.Complete, report.MissingText());
    }

    [Fact]
    public void Apps_launched_by_commands_are_listed_as_not_checked()
    {
        var report = Check("""
              configs:
                - name: web
                  launch:
                    cmds: ["helm install web application/apps/web/web --set image.tag=9"]
            """);
        Assert.True(report.Complete);
        Assert.Contains(report.Apps, a => a is { App: "web", Kind: "cmds", NotChecked: not null });
    }

    [Theory]
    [InlineData("image.tag", "2.0", true)]
    [InlineData("image.repository", "library/demo", true)]
    [InlineData("image.repository", "demo", true)]
    [InlineData("global.imageRegistry", "docker.io", true)]
    [InlineData("sidecar", "docker.io/library/demo:2.0", true)] // a full reference under any key
    [InlineData("replicas", "2.0", false)] // a tag-like value under a key that is not about images
    [InlineData("image.tag", "2", false)]
    [InlineData("image.pullPolicy", "Always", false)]
    public void A_value_produces_an_image_when_it_is_the_image_or_a_part_of_it_under_an_image_key(string key, string value, bool expected) =>
        Assert.Equal(expected, ImageCompleteness.Produces(ImageReference.Parse("docker.io/library/demo:2.0"), key, value));

    [Fact]
    public void A_later_layer_setting_the_key_to_something_else_drops_the_earlier_match()
    {
        var image = ImageReference.Parse("docker.io/library/demo:2.0");
        var origins = ImageCompleteness.Origins(image,
        [
            new ValueLayer(ValueLayer.Leaves("image:\n  repository: docker.io/library/demo\n  tag: \"2.0\"\n"), "values.yaml", 0),
            new ValueLayer(ValueLayer.Leaves("image:\n  tag: \"3.0\"\n"), "Clusterfile", 10),
        ]);
        Assert.Equal(["image.repository=docker.io/library/demo (values.yaml:2)"], origins.Select(o => o.ToString()));
    }

    [Fact]
    public void Sealer_check_images_offline_names_the_image_app_and_clusterfile_line()
    {
        string clusterfile = Path.Combine(_work, "Clusterfile");
        File.WriteAllText(clusterfile, """
            apiVersion: sealer.io/v2
            kind: Cluster
            metadata:
              name: fixture
            spec:
              image: example.com/fixture/kubernetes:v1
              hosts:
                - ips: [192.0.2.10]
                  roles: [master]
            ---
            apiVersion: sealer.io/v2
            kind: Application
            spec:
              launchApps: [web]
              configs:
                - name: web
                  files:
                    - path: values.yaml
                      strategy: merge
                      data: |
                        image:
                          repository: registry.example.com/shop/web
            """);
        // no host is contacted: 192.0.2.10 (TEST-NET-1) does not exist
        var r = SealerCli.Run("check", "--images", "-f", clusterfile, "--image", _image.Dir);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("ok    app web (helm): 1 image(s)", r.StdOut, StringComparison.Ordinal);
        Assert.Contains($"{clusterfile}(22): error {ErrorCodes.ImagesMissingFromClusterImage}:", r.StdErr, StringComparison.Ordinal);
        Assert.Contains("registry.example.com/shop/web:1.0  app web  application/apps/web/web/templates/deploy.yaml:10", r.StdErr, StringComparison.Ordinal);
        Assert.Contains($"image.repository=registry.example.com/shop/web ({clusterfile}:22)", r.StdErr, StringComparison.Ordinal);

        // the image's own values: complete
        File.WriteAllText(clusterfile, File.ReadAllText(clusterfile).Split("---")[0]);
        var fine = SealerCli.Run("check", "--images", "-f", clusterfile, "--image", _image.Dir);
        Assert.True(fine.ExitCode == 0, fine.StdErr);
        Assert.Contains("every image the apps launch is in", fine.StdOut, StringComparison.Ordinal);
    }
}
