using Sealer.Core.Yaml;
using Sealer.Charts.Tests.Kustomize;

using Sealer.Core.Charts;
using Sealer.Core.Diagnostics;
using Sealer.Core.Discovery;

namespace Sealer.Charts.Tests.Fidelity;

/// <summary>Inputs real users hand to find-images: image lists under any name, files that are nothing we know, YAML that
/// go-yaml accepts, operators' custom resources, kustomization directories.</summary>
public class FidelityTests
{
    [Theory]
    [InlineData("images.list")]
    [InlineData("airgap-images.list")]
    [InlineData("images")]
    public void Image_lists_are_recognised_by_content_whatever_their_name(string name)
    {
        using var tmp = new TempDir();
        string f = tmp.Write(name, "# rke2 airgap\nregistry.k8s.io/pause:3.10\n\ndocker.io/rancher/klipper-helm:v0.9.3-build20241008 # helm\n");
        var r = SealerCli.Run("find-images", f);
        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.Equal("docker.io/rancher/klipper-helm:v0.9.3-build20241008\nregistry.k8s.io/pause:3.10\n", r.StdOut);
    }

    [Theory]
    [InlineData("notes.md", "# Release notes\n\nThis release adds things: many things.\n")]
    [InlineData("values.yaml", "image:\n  repository: nginx\n  tag: 1.27\n")]
    public void A_named_file_that_is_no_chart_manifest_or_image_list_is_a_coded_error_naming_it(string name, string content)
    {
        using var tmp = new TempDir();
        string f = tmp.Write(name, content);
        var r = SealerCli.Run("find-images", f);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Equal("", r.StdOut);
        Assert.Contains(ErrorCodes.UnrecognizedInputFile, r.StdErr);
        Assert.Contains(name, r.StdErr);
    }

    [Fact]
    public void Find_images_on_a_kustomization_directory_builds_it_and_points_at_the_source_lines()
    {
        var tree = KubectlOracle.Trees.Single(t => t.Name == "metrics-server-release");
        var r = SealerCli.Run("find-images", tree.Directory, "--json");
        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.Contains("registry.k8s.io/metrics-server/metrics-server", r.StdOut);
        Assert.Contains("kustomization", r.StdOut);

        var remote = KubectlOracle.Trees.Single(t => t.ExpectedError is not null);
        var failed = SealerCli.Run("find-images", remote.Directory);
        Assert.NotEqual(0, failed.ExitCode);
        Assert.Contains($"kustomization.yaml(30): error {ErrorCodes.KustomizeRemoteResource}", failed.StdErr);
    }

    [Fact]
    public void A_multi_line_double_quoted_scalar_in_a_flow_sequence_parses_as_kubectl_reads_it()
    {
        // Argo Workflows examples/sidecar.yaml: the closing line of the scalar is indented no deeper than its key.
        const string yaml = """
            apiVersion: v1
            kind: Pod
            metadata:
              name: sidecar
            spec:
              containers:
              - name: main
                image: alpine:3.23
                command: [sh, -c]
                args: ["
                  apk update &&
                  apk add curl
              "]
            """;
        using var tmp = new TempDir();
        tmp.Write("pod.yaml", yaml);
        tmp.Write("kustomization.yaml", "resources: [pod.yaml]\n");
        var oracle = KubectlOracle.Kustomize(tmp.Path);
        Assert.True(oracle.ExitCode == 0, oracle.StdErr);
        string Args(string text) => (string)((List<object?>)((Dictionary<string, object?>)((List<object?>)((Dictionary<string, object?>)((Dictionary<string, object?>)YamlReader.ToValue(YamlReader.ParseStream(text)[0].Root)!)["spec"]!)["containers"]!)[0]!)["args"]!)[0]!;
        Assert.Equal(Args(oracle.StdOut), Args(yaml));
        Assert.Equal(" apk update && apk add curl ", Args(yaml));
        var found = ImageDiscovery.Discover(new DiscoveryInput { ManifestFiles = [Path.Combine(tmp.Path, "pod.yaml")] });
        Assert.Equal(["docker.io/library/alpine:3.23"], found.Images.Select(i => i.Reference));
    }

    [Fact]
    public void Operator_custom_resources_carry_their_images()
    {
        using var tmp = new TempDir();
        string f = tmp.Write("crs.yaml", """
            apiVersion: postgresql.cnpg.io/v1
            kind: Pooler
            metadata: {name: pooler}
            spec:
              cluster: {name: pg}
              pgbouncer:
                image: ghcr.io/cloudnative-pg/pgbouncer:1.23.0
            ---
            apiVersion: postgresql.cnpg.io/v1
            kind: ImageCatalog
            metadata: {name: catalog}
            spec:
              images:
              - major: 18
                image: ghcr.io/cloudnative-pg/postgresql:18.1-minimal-trixie
                extensions:
                - name: pgvector
                  image: {reference: ghcr.io/cloudnative-pg/pgvector:0.8.1-18-trixie}
              extraImages:
              - key: pgbouncer
                image: ghcr.io/cloudnative-pg/pgbouncer:1.24.1
            ---
            apiVersion: opentelemetry.io/v1beta1
            kind: OpenTelemetryCollector
            metadata: {name: otel}
            spec:
              image: ghcr.io/open-telemetry/opentelemetry-collector-releases/opentelemetry-collector-contrib:0.115.0
            ---
            apiVersion: kafka.strimzi.io/v1beta2
            kind: Kafka
            metadata: {name: kafka}
            spec:
              kafka: {image: quay.io/strimzi/kafka:0.45.0-kafka-3.9.0}
            ---
            apiVersion: ceph.rook.io/v1
            kind: CephCluster
            metadata: {name: ceph}
            spec:
              cephVersion: {image: quay.io/ceph/ceph:v19.2.0}
            ---
            apiVersion: minio.min.io/v2
            kind: Tenant
            metadata: {name: t}
            spec:
              image: quay.io/minio/minio:RELEASE.2024-11-07T00-52-20Z
            ---
            apiVersion: elasticsearch.k8s.elastic.co/v1
            kind: Elasticsearch
            metadata: {name: es}
            spec:
              image: docker.elastic.co/elasticsearch/elasticsearch:8.16.0
            ---
            apiVersion: grafana.integreatly.org/v1beta1
            kind: Grafana
            metadata: {name: g}
            spec:
              version: 11.3.0
            ---
            apiVersion: install.istio.io/v1alpha1
            kind: IstioOperator
            metadata: {name: istio}
            spec:
              hub: docker.io/istio
              tag: 1.24.0
            """);
        var found = ImageDiscovery.Discover(new DiscoveryInput { ManifestFiles = [f] }).Images.Select(i => i.Reference).ToList();
        Assert.Equal(
        [
            "docker.elastic.co/elasticsearch/elasticsearch:8.16.0",
            "docker.io/grafana/grafana:11.3.0",
            "docker.io/istio/pilot:1.24.0",
            "docker.io/istio/proxyv2:1.24.0",
            "ghcr.io/cloudnative-pg/pgbouncer:1.23.0",
            "ghcr.io/cloudnative-pg/pgbouncer:1.24.1",
            "ghcr.io/cloudnative-pg/pgvector:0.8.1-18-trixie",
            "ghcr.io/cloudnative-pg/postgresql:18.1-minimal-trixie",
            "ghcr.io/open-telemetry/opentelemetry-collector-releases/opentelemetry-collector-contrib:0.115.0",
            "quay.io/ceph/ceph:v19.2.0",
            "quay.io/minio/minio:RELEASE.2024-11-07T00-52-20Z",
            "quay.io/strimzi/kafka:0.45.0-kafka-3.9.0",
        ], found);
    }
}
