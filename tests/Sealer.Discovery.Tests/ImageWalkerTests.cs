using Sealer.Core.Diagnostics;
using Sealer.Core.Discovery;

namespace Sealer.Discovery.Tests;

public class ImageWalkerTests
{
    private static List<(string Ref, int Line)> Find(string yaml)
    {
        using var tmp = new TempDir();
        string f = tmp.Write("m.yaml", yaml);
        var r = ImageDiscovery.Discover(new DiscoveryInput { ManifestFiles = [f] });
        return r.Images.SelectMany(i => i.Sources.Select(s => (i.Reference, s.Line))).OrderBy(x => x.Line).ToList();
    }

    [Fact]
    public void Workloads_of_every_kind_with_all_container_lists()
    {
        var found = Find("""
            apiVersion: v1
            kind: Pod
            metadata: {name: p}
            spec:
              initContainers:
              - name: init
                image: busybox:1.36
              containers:
              - name: app
                image: nginx
              ephemeralContainers:
              - name: debug
                image: docker.io/library/alpine:3.20
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: d}
            spec:
              template:
                spec:
                  containers:
                  - name: app
                    image: "registry.k8s.io/pause:3.10"
            ---
            apiVersion: batch/v1
            kind: CronJob
            metadata: {name: c}
            spec:
              jobTemplate:
                spec:
                  template:
                    spec:
                      containers:
                      - {name: job, image: 'quay.io/prometheus/busybox@sha256:0000000000000000000000000000000000000000000000000000000000000000'}
            ---
            apiVersion: example.com/v1
            kind: SomethingCustom
            metadata: {name: x}
            spec:
              workload:
                template:
                  spec:
                    containers:
                    - name: c
                      image: ghcr.io/acme/worker:v2
            """);
        Assert.Equal(
        [
            ("docker.io/library/busybox:1.36", 7),
            ("docker.io/library/nginx:latest", 10),
            ("docker.io/library/alpine:3.20", 13),
            ("registry.k8s.io/pause:3.10", 23),
            ("quay.io/prometheus/busybox@sha256:0000000000000000000000000000000000000000000000000000000000000000", 34),
            ("ghcr.io/acme/worker:v2", 45),
        ], found);
    }

    [Fact]
    public void Crd_image_fields_prometheus_cnpg_argo_tekton()
    {
        var found = Find("""
            apiVersion: monitoring.coreos.com/v1
            kind: Prometheus
            metadata: {name: k8s}
            spec:
              image: quay.io/prometheus/prometheus:v3.1.0
              thanos:
                baseImage: quay.io/thanos/thanos
                version: v0.37.2
            ---
            apiVersion: monitoring.coreos.com/v1
            kind: Alertmanager
            metadata: {name: main}
            spec:
              baseImage: quay.io/prometheus/alertmanager
              tag: v0.28.0
            ---
            apiVersion: postgresql.cnpg.io/v1
            kind: Cluster
            metadata: {name: pg}
            spec:
              imageName: ghcr.io/cloudnative-pg/postgresql:17.2
            ---
            apiVersion: argoproj.io/v1alpha1
            kind: WorkflowTemplate
            metadata: {name: wf}
            spec:
              templates:
              - name: a
                container: {image: "alpine:3.20", command: [sh]}
              - name: b
                script: {image: "python:3.13", source: "print(1)"}
            ---
            apiVersion: tekton.dev/v1
            kind: Task
            metadata: {name: t}
            spec:
              steps:
              - name: build
                image: gcr.io/kaniko-project/executor:v1.23.2
            ---
            apiVersion: apiextensions.k8s.io/v1
            kind: CustomResourceDefinition
            metadata: {name: ignored}
            spec:
              containers:
              - image: not-an-image-because-crd:1
            """);
        Assert.Equal(
        [
            ("quay.io/prometheus/prometheus:v3.1.0", 5),
            ("quay.io/thanos/thanos:v0.37.2", 7),
            ("quay.io/prometheus/alertmanager:v0.28.0", 14),
            ("ghcr.io/cloudnative-pg/postgresql:17.2", 21),
            ("docker.io/library/alpine:3.20", 29),
            ("docker.io/library/python:3.13", 31),
            ("gcr.io/kaniko-project/executor:v1.23.2", 39),
        ], found);
    }

    [Fact]
    public void Image_refs_in_args_and_env_only_when_they_look_like_images()
    {
        var found = Find("""
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: operator}
            spec:
              template:
                spec:
                  containers:
                  - name: op
                    image: quay.io/prometheus-operator/prometheus-operator:v0.79.0
                    args:
                    - --prometheus-config-reloader=quay.io/prometheus-operator/prometheus-config-reloader:v0.79.0
                    - --sidecar-image=busybox:1.36
                    - --log-level=info
                    - --web.listen-address=:8080
                    - --default-image=notatag
                    - --config-file=/etc/config.yaml
                    env:
                    - {name: SIDECAR_IMAGE, value: "docker.io/envoyproxy/envoy:v1.32.0"}
                    - {name: HELPER_IMAGE, value: "latest-stable"}
                    - {name: NOT_AN_IMAGE_VAR, value: "nginx:1.27"}
            """);
        Assert.Equal(
        [
            ("quay.io/prometheus-operator/prometheus-operator:v0.79.0", 9),
            ("quay.io/prometheus-operator/prometheus-config-reloader:v0.79.0", 11),
            ("docker.io/library/busybox:1.36", 12),
            ("docker.io/envoyproxy/envoy:v1.32.0", 18),
        ], found);
    }

    [Fact]
    public void List_kind_and_json_manifests()
    {
        var found = Find("""
            {"apiVersion": "v1", "kind": "List", "items": [
              {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a"},
               "spec": {"containers": [{"name": "a", "image": "nginx:1.27"}]}}
            ]}
            """);
        Assert.Equal([("docker.io/library/nginx:1.27", 3)], found);
    }

    [Fact]
    public void Invalid_image_in_an_image_field_is_an_error_with_file_and_line()
    {
        using var tmp = new TempDir();
        string f = tmp.Write("bad.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: \"Nginx:bad tag\"\n");
        var ex = Assert.Throws<SealerException>(() => ImageDiscovery.Discover(new DiscoveryInput { ManifestFiles = [f] }));
        Assert.Equal(ErrorCodes.InvalidImageReference, ex.Code);
        Assert.Equal(7, ex.Line);
        Assert.Equal(f, ex.File);
    }

    [Fact]
    public void Invalid_yaml_is_an_error_with_line()
    {
        using var tmp = new TempDir();
        string f = tmp.Write("bad.yaml", "kind: Pod\nspec:\n  containers: [\n");
        var ex = Assert.Throws<SealerException>(() => ImageDiscovery.Discover(new DiscoveryInput { ManifestFiles = [f] }));
        Assert.Equal(ErrorCodes.InvalidManifest, ex.Code);
        Assert.True(ex.Line >= 3, ex.ToDiagnosticString());
    }

    [Fact]
    public void Image_lists_extras_excludes_and_merged_provenance()
    {
        using var tmp = new TempDir();
        string list = tmp.Write("imageList", "# base images\nregistry.k8s.io/pause:3.10\n\n  nginx:1.27   # web\ncalico/node:v3.29.1\nquay.io/x/y:1\n");
        string manifest = tmp.Write("m.yaml", "kind: Pod\nspec:\n  containers:\n  - image: nginx:1.27\n");
        var r = ImageDiscovery.Discover(new DiscoveryInput
        {
            ImageListFiles = [list],
            ManifestFiles = [manifest],
            ExtraImages = ["ghcr.io/acme/extra:1"],
            ExcludeImages = ["calico/node", "quay.io/x/*"],
        });
        Assert.Equal(["docker.io/library/nginx:1.27", "ghcr.io/acme/extra:1", "registry.k8s.io/pause:3.10"], r.Images.Select(i => i.Reference));
        var nginx = r.Images[0];
        Assert.Equal([(list, 4), (manifest, 4)], nginx.Sources.Select(s => (s.File, s.Line)).OrderBy(x => x.Item1, StringComparer.Ordinal));
        Assert.Contains(Path.GetFullPath(list), r.InputFiles);
        Assert.Contains(Path.GetFullPath(manifest), r.InputFiles);
    }

    [Fact]
    public void Image_list_with_a_bad_line_names_file_and_line()
    {
        using var tmp = new TempDir();
        string list = tmp.Write("images.txt", "nginx:1.27\nnot a ref\n");
        var ex = Assert.Throws<SealerException>(() => ImageDiscovery.Discover(new DiscoveryInput { ImageListFiles = [list] }));
        Assert.Equal(ErrorCodes.InvalidImageListEntry, ex.Code);
        Assert.Equal(2, ex.Line);
    }

    [Fact]
    public void Missing_input_file_is_a_coded_error()
    {
        var ex = Assert.Throws<SealerException>(() => ImageDiscovery.Discover(new DiscoveryInput { ManifestFiles = ["/nonexistent/x.yaml"] }));
        Assert.Equal(ErrorCodes.DiscoveryInputNotFound, ex.Code);
    }
}
