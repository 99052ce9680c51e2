using Sealer.Core.Yaml;
using Sealer.Core.Charts;
using Sealer.Core.Diagnostics;
using Sealer.Core.Kustomize;

namespace Sealer.Charts.Tests.Kustomize;

/// <summary>One transformer (or error) at a time, each checked against the real <c>kubectl kustomize</c> where it builds.</summary>
public class KustomizeTransformerTests
{
    private const string Deployment = """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
          labels: {app: web}
        spec:
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec:
              serviceAccountName: web
              initContainers:
              - name: init
                image: busybox:1.36
              containers:
              - name: app
                image: nginx:1.25
                envFrom:
                - configMapRef: {name: settings}
              - name: sidecar
                image: registry.example.com/team/proxy@sha256:0123456789012345678901234567890123456789012345678901234567890123
              volumes:
              - name: cfg
                configMap: {name: settings}
        """;

    /// <summary>Builds with both engines and returns ours; the objects must print the same YAML values as kubectl's.</summary>
    private static KustomizeResult BuildAndCompare(string dir)
    {
        var oracle = KubectlOracle.Kustomize(dir);
        Assert.True(oracle.ExitCode == 0, "kubectl kustomize failed: " + oracle.StdErr);
        var ours = Kustomizer.Build(dir);
        var theirs = YamlReader.ParseStream(oracle.StdOut).Select(d => YamlReader.ToValue(d.Root)).ToList();
        var mine = YamlReader.ParseStream(ours.ToYaml()).Select(d => YamlReader.ToValue(d.Root)).ToList();
        Assert.Equal(Canonical(theirs), Canonical(mine));
        return ours;
    }

    private static List<string> Canonical(List<object?> docs) => docs.Select(d => Json(d)).Order(StringComparer.Ordinal).ToList();

    private static string Json(object? v) => v switch
    {
        null => "null",
        Dictionary<string, object?> m => "{" + string.Join(",", m.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"\"{kv.Key}\":{Json(kv.Value)}")) + "}",
        List<object?> l => "[" + string.Join(",", l.Select(Json)) + "]",
        string s => "\"" + s + "\"",
        bool b => b ? "true" : "false",
        double d => d.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        _ => v.ToString()!,
    };

    private static List<string> Images(KustomizeResult r)
        => YamlReader.ParseStream(r.ToYaml()).SelectMany(d => AllImages(d.Root)).ToList();

    private static IEnumerable<string> AllImages(YNode? n) => n switch
    {
        YMap m => m.Entries.SelectMany(e => e.Key is YScalar { Value: "image" } && e.Value is YScalar s ? [s.Value] : AllImages(e.Value)),
        YSeq q => q.Items.SelectMany(AllImages),
        _ => [],
    };

    [Fact]
    public void Images_transformer_sets_new_name_tag_digest_and_tag_suffix_matching_names_as_kustomize_does()
    {
        using var tmp = new TempDir();
        tmp.Write("deploy.yaml", Deployment);
        tmp.Write("kustomization.yaml", """
            resources: [deploy.yaml]
            images:
            - name: nginx
              newName: mirror.example.com/nginx
              newTag: "1.27"
            - name: busybox
              digest: sha256:1111111111111111111111111111111111111111111111111111111111111111
            - name: registry.example.com/team/proxy
              newTag: v2
            """);
        var r = BuildAndCompare(tmp.Path);
        Assert.Equal(
            ["busybox@sha256:1111111111111111111111111111111111111111111111111111111111111111", "mirror.example.com/nginx:1.27", "registry.example.com/team/proxy:v2"],
            Images(r).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Strings_that_need_escapes_are_carried_as_the_same_values_kubectl_kustomize_writes()
    {
        // Control characters, YAML line breaks (NEL, LS, PS), a BOM, no-break space, a non-BMP character, quotes,
        // backslashes and a line long enough to fold: our double-quoted scalars must read back as kubectl's values.
        using var tmp = new TempDir();
        tmp.Write("cm.yaml", """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: escapes}
            data:
              tab: "a\tb"
              ctl: "x\x01y\x1fz"
              nel: "line\Nnext"
              ls: "a\Lb\Pc"
              bom: "\ufeffstart"
              nbsp: "\_lead"
              astral: "emoji \U0001F600 here"
              quotes: "say \"hi\" and C:\\path"
              long: "word word word word word word word word word word word word word word word word word word word word word  two  spaces"
              lead: " leading and trailing "
              newline: "first\nsecond\n"
            """);
        tmp.Write("kustomization.yaml", "resources: [cm.yaml]\n");
        var oracle = KubectlOracle.Kustomize(tmp.Path);
        Assert.True(oracle.ExitCode == 0, "kubectl kustomize failed: " + oracle.StdErr);
        var theirs = (YMap)((YMap)YamlReader.ParseStream(oracle.StdOut).Single().Root!).Get("data")!;
        var data = (YMap)((YMap)YamlReader.ParseStream(Kustomizer.Build(tmp.Path).ToYaml()).Single().Root!).Get("data")!;
        string Value(string key) => ((YScalar)data.Get(key)!).Value;
        foreach (var (k, v) in theirs.Entries)
        {
            string key = ((YScalar)k).Value;
            // kubectl's go-yaml writes NEL, LS and PS raw, and reads them back as folds ("line\u0085next" comes out as
            // "line next"): there we keep the value as written (asserted below) rather than copy that loss.
            if (key is "nel" or "ls") continue;
            Assert.True(((YScalar)v).Value == Value(key), $"{key}: kubectl {System.Text.Json.JsonSerializer.Serialize(((YScalar)v).Value)}, ours {System.Text.Json.JsonSerializer.Serialize(Value(key))}");
        }
        Assert.Equal(theirs.Entries.Count, data.Entries.Count);
        Assert.Equal("x\u0001y\u001fz", Value("ctl"));
        Assert.Equal("line\u0085next", Value("nel"));
        Assert.Equal("a\u2028b\u2029c", Value("ls"));
        Assert.Equal("\ufeffstart", Value("bom"));
        Assert.Equal("emoji \U0001F600 here", Value("astral"));
        Assert.Equal("say \"hi\" and C:\\path", Value("quotes"));
    }

    [Theory]
    [InlineData("nginx", "nginx:1.25", true)]
    [InlineData("nginx", "nginx", true)]
    [InlineData("nginx", "nginx@sha256:abc", true)]
    [InlineData("nginx", "docker.io/nginx:1.25", false)]
    [InlineData("nginx", "nginx-ingress:1", false)]
    [InlineData("registry:5000/x", "registry:5000/x:1", true)]
    public void Image_names_match_the_whole_name_before_tag_and_digest(string name, string image, bool expected)
    {
        using var tmp = new TempDir();
        tmp.Write("pod.yaml", $"apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n  containers:\n  - name: a\n    image: \"{image}\"\n");
        tmp.Write("kustomization.yaml", $"resources: [pod.yaml]\nimages:\n- name: \"{name}\"\n  newName: changed.example.com/x\n");
        var r = BuildAndCompare(tmp.Path);
        Assert.Equal(expected, Images(r).Single().StartsWith("changed.example.com/x", StringComparison.Ordinal));
    }

    [Fact]
    public void Strategic_merge_patches_merge_containers_by_name_and_delete_with_the_patch_directive()
    {
        using var tmp = new TempDir();
        tmp.Write("base/deploy.yaml", Deployment);
        tmp.Write("base/kustomization.yaml", "resources: [deploy.yaml]\n");
        tmp.Write("overlay/patch.yaml", """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: web}
            spec:
              template:
                spec:
                  containers:
                  - name: app
                    image: nginx:1.27
                    env: [{name: MODE, value: prod}]
                  - name: sidecar
                    $patch: delete
                  - name: metrics
                    image: quay.io/prometheus/node-exporter:v1.8.0
            """);
        tmp.Write("overlay/kustomization.yaml", "resources: [../base]\npatchesStrategicMerge: [patch.yaml]\n");
        var r = BuildAndCompare(Path.Combine(tmp.Path, "overlay"));
        Assert.Equal(["busybox:1.36", "nginx:1.27", "quay.io/prometheus/node-exporter:v1.8.0"], Images(r).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Json6902_patches_add_replace_remove_copy_move_and_test()
    {
        using var tmp = new TempDir();
        tmp.Write("deploy.yaml", Deployment);
        tmp.Write("ops.yaml", """
            - op: test
              path: /spec/template/spec/containers/0/name
              value: app
            - op: replace
              path: /spec/template/spec/containers/0/image
              value: nginx:1.27
            - op: add
              path: /spec/template/spec/containers/-
              value: {name: extra, image: "alpine:3.20"}
            - op: copy
              from: /spec/template/spec/initContainers/0
              path: /spec/template/spec/initContainers/1
            - op: move
              from: /spec/template/spec/initContainers/1/image
              path: /metadata/annotations~1moved
            - op: remove
              path: /spec/template/spec/containers/1
            """);
        tmp.Write("kustomization.yaml", """
            resources: [deploy.yaml]
            patchesJson6902:
            - target: {group: apps, version: v1, kind: Deployment, name: web}
              path: ops.yaml
            patches:
            - target: {kind: Deployment, labelSelector: "app=web"}
              patch: |-
                - op: replace
                  path: /spec/template/spec/initContainers/0/image
                  value: busybox:1.37
            """);
        var r = BuildAndCompare(tmp.Path);
        // patches: runs before patchesJson6902 (kustomize's order): the copy takes the already replaced init container.
        Assert.Equal(["alpine:3.20", "busybox:1.37", "nginx:1.27"], Images(r).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Namespace_prefix_suffix_labels_and_generators_rename_objects_and_their_references_like_kubectl()
    {
        using var tmp = new TempDir();
        tmp.Write("base/deploy.yaml", Deployment);
        tmp.Write("base/sa.yaml", "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: web}\n");
        tmp.Write("base/app.properties", "a=1\nb=<two>&\n");
        tmp.Write("base/kustomization.yaml", """
            resources: [deploy.yaml, sa.yaml]
            configMapGenerator:
            - name: settings
              files: [app.properties]
              literals: [MODE=prod]
            secretGenerator:
            - name: creds
              literals: [password=s3cret]
            """);
        tmp.Write("overlay/kustomization.yaml", """
            resources: [../base]
            namespace: shop
            namePrefix: prod-
            nameSuffix: -v2
            commonLabels: {team: shop}
            commonAnnotations: {owner: ops}
            replicas: [{name: web, count: 3}]
            """);
        var r = BuildAndCompare(Path.Combine(tmp.Path, "overlay"));
        Assert.Contains(r.Objects, o => o.Kind == "ConfigMap" && o.Namespace == "shop" && o.Name.StartsWith("prod-settings-v2-", StringComparison.Ordinal));
        Assert.Contains(r.Objects, o => o.Kind == "Deployment" && o.Name == "prod-web-v2");
    }

    [Fact]
    public void Components_add_resources_and_transform_what_the_kustomization_holds()
    {
        using var tmp = new TempDir();
        tmp.Write("base/deploy.yaml", Deployment);
        tmp.Write("base/kustomization.yaml", "resources: [deploy.yaml]\n");
        tmp.Write("components/mirror/kustomization.yaml", """
            apiVersion: kustomize.config.k8s.io/v1alpha1
            kind: Component
            resources: [job.yaml]
            images:
            - name: nginx
              newName: mirror.example.com/library/nginx
            """);
        tmp.Write("components/mirror/job.yaml", "apiVersion: batch/v1\nkind: Job\nmetadata: {name: migrate}\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n      - name: m\n        image: nginx:1.25\n");
        tmp.Write("overlay/kustomization.yaml", "resources: [../base]\ncomponents: [../components/mirror]\n");
        var r = BuildAndCompare(Path.Combine(tmp.Path, "overlay"));
        Assert.Equal(2, Images(r).Count(i => i == "mirror.example.com/library/nginx:1.25"));
    }

    [Fact]
    public void HelmCharts_render_a_chart_from_the_local_chart_home_with_values_inline_release_and_namespace()
    {
        using var tmp = new TempDir();
        tmp.Write("charts/web/Chart.yaml", "apiVersion: v2\nname: web\nversion: 1.0.0\n");
        tmp.Write("charts/web/values.yaml", "image: nginx:1.25\nreplicas: 1\n");
        tmp.Write("charts/web/templates/deploy.yaml", """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: {{ .Release.Name }}-web
              namespace: {{ .Release.Namespace }}
            spec:
              replicas: {{ .Values.replicas }}
              selector: {matchLabels: {app: web}}
              template:
                metadata: {labels: {app: web}}
                spec:
                  containers:
                  - name: web
                    image: {{ .Values.image | quote }}
            """);
        tmp.Write("values-prod.yaml", "replicas: 2\n");
        tmp.Write("kustomization.yaml", """
            helmCharts:
            - name: web
              releaseName: shop
              namespace: prod
              valuesFile: values-prod.yaml
              valuesInline: {image: "nginx:1.27"}
            images:
            - name: nginx
              newTag: "1.27-alpine"
            """);
        var r = BuildAndCompare(tmp.Path);
        Assert.Equal(["nginx:1.27-alpine"], Images(r));
        Assert.Equal("shop-web", r.Objects.Single().Name);
    }

    [Fact]
    public void Config_and_secret_generators_do_not_fail_the_build_and_get_kustomize_hash_names()
    {
        using var tmp = new TempDir();
        tmp.Write(".env", "# comment\nA=1\nB=two words\n");
        tmp.Write("kustomization.yaml", """
            configMapGenerator:
            - name: env
              envs: [.env]
            - name: plain
              literals: [x=y]
              options: {disableNameSuffixHash: true}
            secretGenerator:
            - name: tls
              literals: ["key=va=lue"]
              type: kubernetes.io/tls
            """);
        var r = BuildAndCompare(tmp.Path);
        Assert.Contains(r.Objects, o => o.Name == "plain");
    }

    private static SealerException BuildFails(string dir) => Assert.Throws<SealerException>(() => Kustomizer.Build(dir));

    [Theory]
    [InlineData("https://github.com/kubernetes-sigs/metrics-server/releases/download/v0.7.2/components.yaml")]
    [InlineData("github.com/argoproj/argo-cd/manifests/cluster-install?ref=v2.13.0")]
    [InlineData("git::https://example.com/repo.git//deploy?ref=main")]
    public void A_remote_resource_is_a_coded_error_naming_the_kustomization_line(string remote)
    {
        using var tmp = new TempDir();
        tmp.Write("deploy.yaml", Deployment);
        tmp.Write("kustomization.yaml", $"resources:\n- deploy.yaml\n- {remote}\n");
        var ex = BuildFails(tmp.Path);
        Assert.Equal(ErrorCodes.KustomizeRemoteResource, ex.Code);
        Assert.Equal(Path.Combine(tmp.Path, "kustomization.yaml"), ex.File);
        Assert.Equal(3, ex.Line);
        Assert.Contains(remote, ex.Message);
    }

    [Fact]
    public void A_cycle_is_a_coded_error_listing_the_chain()
    {
        using var tmp = new TempDir();
        tmp.Write("a/kustomization.yaml", "resources: [../b]\n");
        tmp.Write("b/kustomization.yaml", "resources:\n- ../c\n");
        tmp.Write("c/kustomization.yaml", "resources:\n- ../a\n");
        var ex = BuildFails(Path.Combine(tmp.Path, "a"));
        Assert.Equal(ErrorCodes.KustomizationCycle, ex.Code);
        Assert.Equal(Path.Combine(tmp.Path, "c", "kustomization.yaml"), ex.File);
        Assert.Equal(2, ex.Line);
        Assert.Contains("-> ../b -> ../c", ex.Message.Replace('\\', '/'));
        Assert.NotEqual(0, KubectlOracle.Kustomize(Path.Combine(tmp.Path, "a")).ExitCode);
    }

    [Theory]
    [InlineData("resources: [missing.yaml]\n", ErrorCodes.KustomizeFileNotFound, 1)]
    [InlineData("resources: [deploy.yaml]\nimagez: []\n", ErrorCodes.InvalidKustomization, 2)]
    [InlineData("resources: [deploy.yaml, deploy.yaml]\n", ErrorCodes.KustomizeDuplicateResource, 1)]
    [InlineData("resources: [deploy.yaml]\npatches:\n- patch: |-\n    apiVersion: apps/v1\n    kind: Deployment\n    metadata: {name: nope}\n", ErrorCodes.KustomizePatchFailed, 4)]
    [InlineData("resources: [deploy.yaml]\npatches:\n- target: {kind: Deployment}\n  patch: |-\n    - op: test\n      path: /metadata/name\n      value: other\n", ErrorCodes.KustomizePatchFailed, 5)]
    [InlineData("resources: [deploy.yaml]\ntransformers: [prefix.yaml]\n", ErrorCodes.KustomizeUnsupported, 2)]
    public void Bad_kustomizations_are_coded_errors_with_file_and_line(string kustomization, string code, int line)
    {
        using var tmp = new TempDir();
        tmp.Write("deploy.yaml", Deployment);
        tmp.Write("kustomization.yaml", kustomization);
        var ex = BuildFails(tmp.Path);
        Assert.Equal(code, ex.Code);
        Assert.Equal(line, ex.Line);
        Assert.NotEqual(0, KubectlOracle.Kustomize(tmp.Path).ExitCode);
    }

    [Theory]
    [InlineData("images:\n- path: spec/runner/image\n  kind: Runner\n", 2)]
    [InlineData("varReference:\n- path: metadata/annotations\n- path: spec/runner/image\n  kind: Runner\n", 3)]
    public void Configurations_that_could_change_images_are_refused_at_their_line_and_kubectl_does_change_them(string config, int line)
    {
        // A custom resource with an image field; kubectl kustomize applies the configuration (images: newTag, or the var).
        using var tmp = new TempDir();
        tmp.Write("runner.yaml", "apiVersion: ci.example.com/v1\nkind: Runner\nmetadata:\n  name: r\nspec:\n  runner:\n    image: " + (config.StartsWith("images", StringComparison.Ordinal) ? "busybox:1.36" : "$(RUNNER_IMAGE)") + "\n");
        tmp.Write("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: images\ndata:\n  runner: busybox:1.37\n");
        tmp.Write("config.yaml", config);
        tmp.Write("kustomization.yaml", "resources: [runner.yaml, cm.yaml]\nconfigurations: [config.yaml]\n" +
            (config.StartsWith("images", StringComparison.Ordinal) ? "images:\n- name: busybox\n  newTag: \"1.37\"\n"
                       : "vars:\n- name: RUNNER_IMAGE\n  objref: {kind: ConfigMap, name: images, apiVersion: v1}\n  fieldref: {fieldpath: data.runner}\n"));
        var kubectl = KubectlOracle.Kustomize(tmp.Path);
        Assert.True(kubectl.ExitCode == 0, kubectl.StdErr);
        Assert.Contains("image: busybox:1.37", kubectl.StdOut); // the real kustomize changes the image
        var ex = BuildFails(tmp.Path);
        Assert.Equal(ErrorCodes.KustomizeUnsupported, ex.Code);
        Assert.Equal((Path.Combine(tmp.Path, "config.yaml"), line), (ex.File, ex.Line));
    }

    [Fact]
    public void Configurations_that_only_name_non_image_fields_are_accepted_and_images_match_kubectl()
    {
        using var tmp = new TempDir();
        tmp.Write("deploy.yaml", Deployment);
        tmp.Write("config.yaml", "nameReference:\n- kind: Service\n  version: v1\n  fieldSpecs:\n  - kind: Runner\n    path: spec/service\nvarReference:\n- path: metadata/annotations\n");
        tmp.Write("kustomization.yaml", "resources: [deploy.yaml]\nconfigurations: [config.yaml]\nsortOptions:\n  order: legacy\n");
        var r = BuildAndCompare(tmp.Path);
        Assert.NotEmpty(Images(r));
    }

    [Fact]
    public void A_directory_without_a_kustomization_is_a_coded_error()
    {
        using var tmp = new TempDir();
        tmp.Write("plain/deploy.yaml", Deployment);
        tmp.Write("kustomization.yaml", "resources:\n- plain\n");
        var ex = BuildFails(tmp.Path);
        Assert.Equal(ErrorCodes.KustomizationNotFound, ex.Code);
        Assert.Equal(2, ex.Line);
    }
}
