using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Json.Schema;
using Sealer.Core.Delivery.Clusterfile;
using Sealer.Core.Diagnostics;
using Sealer.Core.Yaml;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Sealer.Delivery.Tests.Schema;

/// <summary>
/// docs/schemas/clusterfile.schema.json (the editor schema, shipped in the SDK and templates packages) agrees with the one
/// reader: every Clusterfile the reader accepts validates, every one it refuses for a shape reason (unknown key, wrong
/// type, missing field, bad kind) is refused by the schema too. Each YAML document is turned into JSON the way
/// yaml-language-server does (YAML 1.2 core schema: plain 22 is a number, "22" a string) and validated with JsonSchema.Net.
/// What a per-document schema cannot say (one Cluster per file, each host once, app configs named once) stays the
/// reader's; the tables below name those cases.
/// </summary>
public class ClusterfileSchemaTests
{
    private static readonly string Here = AppContext.BaseDirectory;
    private static readonly Lazy<JsonSchema> Schema = new(() => JsonSchema.FromText(File.ReadAllText(Path.Combine(Here, "schema", "clusterfile.schema.json"))));

    /// <summary>The schema's verdict on every document of a file: null when all validate, else the first failures.</summary>
    internal static string? SchemaErrors(string yaml)
    {
        List<JsonNode?> docs;
        try
        {
            docs = YamlJson.Documents(yaml);
        }
        catch (YamlException ex)
        {
            return $"not YAML: {ex.Message}";
        }
        foreach (var doc in docs)
        {
            using var json = JsonDocument.Parse(doc?.ToJsonString() ?? "null");
            var result = Schema.Value.Evaluate(json.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
            if (!result.IsValid)
            {
                var errors = (result.Details ?? []).Where(d => d.Errors is { Count: > 0 })
                    .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation} ({d.EvaluationPath}): {e.Value}")).Take(6);
                return $"document kind={doc?["kind"]}: " + string.Join("\n", errors);
            }
        }
        return null;
    }

    private static string? ReaderCode(string yaml)
    {
        try
        {
            ClusterfileReader.Parse(yaml, "Clusterfile");
            return null;
        }
        catch (SealerException ex)
        {
            return ex.Code;
        }
    }

    /// <summary>Corpus files where the reader and a per-document schema must differ, and why.</summary>
    private static readonly Dictionary<string, string> CorpusQuirks = new(StringComparer.Ordinal)
    {
        // v1 files fail the schema on spec.masters/nodes/provider as the reader refuses them (SEA2540), ETCD/OUT plugin
        // types fail its type pattern (SEA2541), '//' comments are not YAML for either. What differs crosses documents:
        ["sealer-docs-v0.8/plugin-06.yaml"] = "a LABEL plugin names 172.20.126.8, which is no host of the Cluster document",
    };

    [Fact]
    public void Every_corpus_Clusterfile_the_reader_accepts_validates_and_every_one_it_refuses_does_not()
    {
        var files = ClusterfileCorpus.Files();
        Assert.True(files.Count >= 15, $"only {files.Count} corpus files");
        var disagree = new List<string>();
        int accepted = 0;
        foreach (var rel in files)
        {
            string text = ClusterfileCorpus.Read(rel);
            string? code = ReaderCode(ClusterfileCorpus.ForReader(text).Text);
            string? schema = SchemaErrors(text);
            if (code is null) accepted++;
            if ((code is null) != (schema is null) && !CorpusQuirks.ContainsKey(rel))
            {
                disagree.Add($"{rel}: reader {code ?? "accepts"}, schema {(schema is null ? "accepts" : "refuses: " + schema)}");
            }
        }
        Assert.True(accepted >= 8, $"only {accepted} corpus files are accepted by the reader");
        Assert.True(disagree.Count == 0, string.Join("\n\n", disagree));
    }

    [Fact]
    public void Clusterfiles_the_templates_write_validate_and_name_the_schema_in_their_header()
    {
        string dir = Path.Combine(Here, "schema", "templates");
        var written = new List<string>();
        foreach (var file in Directory.EnumerateFiles(dir, "Clusterfile*", SearchOption.AllDirectories))
        {
            string text = File.ReadAllText(file);
            // what 'dotnet new' does: each symbol's 'replaces' token becomes its default value
            string config = Path.Combine(Path.GetDirectoryName(Repo(file))!, ".template.config", "template.json");
            using (var json = JsonDocument.Parse(File.ReadAllText(config)))
            {
                foreach (var symbol in json.RootElement.GetProperty("symbols").EnumerateObject())
                {
                    if (symbol.Value.TryGetProperty("replaces", out var token) && symbol.Value.TryGetProperty("defaultValue", out var value))
                    {
                        text = text.Replace(token.GetString()!, value.GetString()!, StringComparison.Ordinal);
                    }
                }
            }
            Assert.StartsWith("# yaml-language-server: $schema=./clusterfile.schema.json\n", text.ReplaceLineEndings("\n"), StringComparison.Ordinal);
            Assert.Null(ReaderCode(text));
            Assert.Null(SchemaErrors(text));
            written.Add(Path.GetFileName(file));
        }
        Assert.Contains("Clusterfile", written);
        Assert.Contains("Clusterfile.template", written);
    }

    /// <summary>The source path of a template file copied to the test output (the .template.config is read from the source).</summary>
    private static string Repo(string copied)
    {
        string rel = Path.GetRelativePath(Path.Combine(Here, "schema", "templates"), copied);
        return Path.Combine(RepoRoot(), "src", "Sealer.Sdk.Templates", "templates", rel);
    }

    private static string RepoRoot()
    {
        string dir = Here;
        while (!File.Exists(Path.Combine(dir, "Sealer.Sdk.sln"))) dir = Path.GetDirectoryName(dir) ?? throw new InvalidOperationException("no Sealer.Sdk.sln above the test output");
        return dir;
    }

    [Fact]
    public void Clusterfiles_sealer_convert_writes_from_v1_files_validate()
    {
        const string inline = "apiVersion: sealer.aliyun.com/v1alpha1\nkind: Cluster\nmetadata:\n  name: old\nspec:\n  image: k:1\n  provider: BAREMETAL\n  ssh:\n    passwd: x\n  masters:\n    ipList: [192.168.0.2]\n  nodes:\n    ipList: [192.168.0.3]\n";
        int converted = 0;
        foreach (var rel in new[] { "inline", "inline with env and a Plugin" })
        {
            string v1 = rel == "inline" ? inline
                : inline.Replace("  image: k:1\n", "  image: k:1\n  env: [TZ=UTC]\n  network:\n    podCIDR: 100.64.0.0/10\n", StringComparison.Ordinal) + "---\nkind: Plugin\nspec:\n  action: PostInstall\n  data: echo\n";
            Assert.NotNull(SchemaErrors(v1)); // the v1 file itself is refused, as by the reader (SEA2540)
            string v2 = ClusterfileConverter.ConvertV1(v1, rel).Yaml;
            Assert.Null(ReaderCode(v2));
            string? errors = SchemaErrors(v2);
            Assert.True(errors is null, $"{rel} converted:\n{v2}\n{errors}");
            converted++;
        }
        Assert.Equal(2, converted);
    }

    private const string Cluster = """
        apiVersion: sealer.io/v2
        kind: Cluster
        metadata:
          name: site
        spec:
          image: shop:1.0.0
          ssh:
            user: root
            pk: ~/.ssh/id_ed25519
          hosts:
            - ips: [192.168.0.2]
              roles: [master]
            - ips: [192.168.0.3]
              roles: [node]

        """;

    /// <summary>What the reader accepts in Sealer's spelling, which a strict schema would wrongly flag.</summary>
    public static TheoryData<string, string> Accepted() => new()
    {
        { "port quoted, unquoted, passwd a number", Cluster.Replace("    user: root\n", "    user: root\n    port: 22\n    passwd: 123456\n", StringComparison.Ordinal) + "---\n" + Cluster.Replace("    user: root\n", "    port: \"2222\"\n", StringComparison.Ordinal) },
        { "env with no value, labels, taints, Master in capitals", Cluster.Replace("roles: [master]", "roles: [Master]\n      env:\n      labels: {zone: a}\n      taints: [dedicated=db:NoSchedule]", StringComparison.Ordinal) },
        { "registry with every field", Cluster + "  registry:\n    localRegistry:\n      domain: sea.hub\n      port: \"5000\"\n      ha: \"True\"\n      insecure: false\n      cert:\n        subjectAltName:\n          dnsNames: [reg.example]\n          ips: [10.0.0.9]\n    externalRegistry:\n      domain: reg.example\n" },
        { "v0.8 plugin: unquoted on, CamelCase actions", Cluster + "---\nkind: Plugin\nmetadata:\n  name: p\nspec:\n  type: shell\n  action: PostInstall|pre-join\n  on: 192.168.0.2-192.168.0.3\n  data: |\n    echo hi\n" },
        { "helm keys in Go's case-insensitive spelling", Cluster + "---\nkind: Application\nmetadata:\n  name: apps\nspec:\n  launchApps: [web]\n  configs:\n    - name: web\n      launch:\n        helm:\n          Name: web\n          namespace: web\n          timeout: 5m\n          values: [replicaCount=3]\n      files:\n        - path: values.yaml\n          strategy: merge\n          data: |\n            a: 1\n" },
        { "kubeadm documents as they are, a Config, an empty document, status", Cluster + "status: {}\n---\n---\napiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\nnetworking:\n  podSubnet: 100.64.0.0/10\n---\nkind: KubeletConfiguration\nanything: [1, 2]\n---\nkind: Config\nmetadata:\n  name: c\nspec:\n  path: etc/values.yaml\n  strategy: override\n  data: |\n    x: 1\n" },
    };

    [Theory]
    [MemberData(nameof(Accepted))]
    public void Sealer_spellings_the_reader_accepts_validate(string name, string yaml)
    {
        Assert.Null(ReaderCode(yaml));
        string? errors = SchemaErrors(yaml);
        Assert.True(errors is null, $"{name}: {errors}");
    }

    /// <summary>Refused by the reader for their shape (its code) and so by the schema.</summary>
    public static TheoryData<string, string, string> Refused() => new()
    {
        { "unknown spec key", ErrorCodes.ClusterfileUnknownField, Cluster.Replace("  image:", "  imag: x\n  image:", StringComparison.Ordinal) },
        { "ip instead of ips", ErrorCodes.ClusterfileUnknownField, Cluster.Replace("    - ips: [192.168.0.3]", "    - ip: 192.168.0.4\n      ips: [192.168.0.3]", StringComparison.Ordinal) },
        { "ssh password instead of passwd", ErrorCodes.ClusterfileUnknownField, Cluster.Replace("    user: root\n", "    user: root\n    password: x\n", StringComparison.Ordinal) },
        { "unknown root key", ErrorCodes.ClusterfileUnknownField, Cluster.Replace("metadata:", "data: x\nmetadata:", StringComparison.Ordinal) },
        { "unknown metadata key", ErrorCodes.ClusterfileUnknownField, Cluster.Replace("  name: site", "  name: site\n  label: x", StringComparison.Ordinal) },
        { "helm chart", ErrorCodes.ClusterfileUnknownField, Cluster + "---\nkind: Application\nspec:\n  configs:\n    - name: web\n      launch:\n        helm: {chart: web}\n" },
        { "hosts a mapping", ErrorCodes.ClusterfileWrongShape, Cluster.Replace("  hosts:\n    - ips: [192.168.0.2]\n      roles: [master]\n    - ips: [192.168.0.3]\n      roles: [node]\n", "  hosts:\n    ips: [192.168.0.2]\n    roles: [master]\n", StringComparison.Ordinal) },
        { "env a mapping", ErrorCodes.ClusterfileWrongShape, Cluster + "  env:\n    TZ: UTC\n" },
        { "ssh a list", ErrorCodes.ClusterfileWrongShape, Cluster.Replace("  ssh:\n    user: root\n    pk: ~/.ssh/id_ed25519\n", "  ssh: [root]\n", StringComparison.Ordinal) },
        { "image a mapping", ErrorCodes.ClusterfileWrongShape, Cluster.Replace("  image: shop:1.0.0", "  image: {name: shop}", StringComparison.Ordinal) },
        { "metadata a value", ErrorCodes.ClusterfileWrongShape, Cluster.Replace("metadata:\n  name: site", "metadata: site", StringComparison.Ordinal) },
        { "no image", ErrorCodes.ClusterfileMissingField, Cluster.Replace("  image: shop:1.0.0\n", "", StringComparison.Ordinal) },
        { "no spec", ErrorCodes.ClusterfileMissingField, "kind: Cluster\nmetadata:\n  name: x\n" },
        { "no kind", ErrorCodes.ClusterfileMissingField, Cluster + "---\nspec:\n  path: a\n" },
        { "host group without roles", ErrorCodes.ClusterfileMissingField, Cluster.Replace("      roles: [node]\n", "", StringComparison.Ordinal) },
        { "empty roles", ErrorCodes.ClusterfileMissingField, Cluster.Replace("roles: [node]", "roles: []", StringComparison.Ordinal) },
        { "empty hosts", ErrorCodes.ClusterfileMissingField, Cluster.Replace("  hosts:\n    - ips: [192.168.0.2]\n      roles: [master]\n    - ips: [192.168.0.3]\n      roles: [node]\n", "  hosts: []\n", StringComparison.Ordinal) },
        { "plugin without action", ErrorCodes.ClusterfileMissingField, Cluster + "---\nkind: Plugin\nspec:\n  data: echo\n" },
        { "plugin without data", ErrorCodes.ClusterfileMissingField, Cluster + "---\nkind: Plugin\nspec:\n  action: post-install\n" },
        { "external registry without domain", ErrorCodes.ClusterfileMissingField, Cluster + "  registry:\n    externalRegistry:\n      port: 443\n" },
        { "app config without name", ErrorCodes.ClusterfileMissingField, Cluster + "---\nkind: Application\nspec:\n  configs:\n    - env: [A=1]\n" },
        { "config without path", ErrorCodes.ClusterfileBadConfig, Cluster + "---\nkind: Config\nspec:\n  data: x\n" },
        { "config path leaves the rootfs", ErrorCodes.ClusterfileBadConfig, Cluster + "---\nkind: Config\nspec:\n  path: ../etc/passwd\n" },
        { "config strategy", ErrorCodes.ClusterfileBadConfig, Cluster + "---\nkind: Config\nspec:\n  path: a.yaml\n  strategy: replace\n" },
        { "unknown kind", ErrorCodes.ClusterfileUnknownKind, Cluster + "---\nkind: Clustr\nspec: {}\n" },
        { "port not a number", ErrorCodes.ClusterfileBadPort, Cluster.Replace("    user: root\n", "    user: root\n    port: ssh\n", StringComparison.Ordinal) },
        { "port out of range", ErrorCodes.ClusterfileBadPort, Cluster.Replace("    user: root\n", "    user: root\n    port: 70000\n", StringComparison.Ordinal) },
        { "bool not true or false", ErrorCodes.ClusterfileBadValue, Cluster + "  registry:\n    localRegistry:\n      ha: maybe\n" },
        { "env entry not KEY=value", ErrorCodes.ClusterfileBadEnv, Cluster + "  env: [TZ]\n" },
        { "role name", ErrorCodes.ClusterfileBadRole, Cluster.Replace("roles: [node]", "roles: [\"db node\"]", StringComparison.Ordinal) },
        { "no master", ErrorCodes.ClusterfileNoMaster, Cluster.Replace("roles: [master]", "roles: [node]", StringComparison.Ordinal) },
        { "taint without effect", ErrorCodes.ClusterfileBadValue, Cluster.Replace("roles: [node]", "roles: [node]\n      taints: [dedicated=db]", StringComparison.Ordinal) },
        { "relative dataRoot", ErrorCodes.ClusterfileBadValue, Cluster + "  dataRoot: data\n" },
        { "container runtime", ErrorCodes.ClusterfileBadValue, Cluster + "  containerRuntime: {type: crio}\n" },
        { "launch with cmds and helm", ErrorCodes.ClusterfileBadValue, Cluster + "---\nkind: Application\nspec:\n  configs:\n    - name: web\n      launch:\n        cmds: [x]\n        helm: {namespace: web}\n" },
        { "helm timeout", ErrorCodes.ClusterfileBadValue, Cluster + "---\nkind: Application\nspec:\n  configs:\n    - name: web\n      launch:\n        helm: {timeout: 5 minutes}\n" },
        { "plugin action", ErrorCodes.ClusterfileBadPlugin, Cluster + "---\nkind: Plugin\nspec:\n  action: after-install\n  data: echo\n" },
        { "etcd plugin", ErrorCodes.ClusterfileOldPluginType, Cluster + "---\nkind: Plugin\nspec:\n  type: ETCD\n  action: PostInstall\n  data: x\n" },
        { "v1 masters", ErrorCodes.ClusterfileV1, "apiVersion: sealer.aliyun.com/v1alpha1\nkind: Cluster\nspec:\n  image: k:1\n  masters:\n    ipList: [192.168.0.2]\n" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void Shapes_the_reader_refuses_fail_the_schema(string name, string code, string yaml)
    {
        Assert.Equal(code, ReaderCode(yaml));
        Assert.True(SchemaErrors(yaml) is not null, $"{name}: the schema accepts what the reader refuses with {code}");
    }

    /// <summary>Refused by the reader for what is beyond one document or a JSON schema, so the editor does not flag it.</summary>
    public static TheoryData<string, string, string> ReaderOnly() => new()
    {
        { "no Cluster document (a schema checks one document at a time)", ErrorCodes.ClusterfileNoCluster, "kind: Config\nspec:\n  path: a.yaml\n" },
        { "a host listed twice", ErrorCodes.ClusterfileDuplicateHost, Cluster.Replace("ips: [192.168.0.3]", "ips: [192.168.0.2]", StringComparison.Ordinal) },
        { "an address that is not one", ErrorCodes.ClusterfileBadAddress, Cluster.Replace("ips: [192.168.0.3]", "ips: [192.168.0.300]", StringComparison.Ordinal) },
        { "a scope no host has", ErrorCodes.ClusterfileBadPlugin, Cluster + "---\nkind: Plugin\nspec:\n  action: post-install\n  scope: db\n  data: echo\n" },
        { "a masked secret (a copy from the cluster's ConfigMap)", ErrorCodes.ClusterfileBadValue, Cluster.Replace("    user: root\n", $"    user: root\n    passwd: '{ClusterfileEditor.Masked}'\n", StringComparison.Ordinal) },
    };

    [Theory]
    [MemberData(nameof(ReaderOnly))]
    public void What_only_the_reader_can_check_passes_the_schema_and_is_documented(string name, string code, string yaml)
    {
        Assert.Equal(code, ReaderCode(yaml));
        Assert.True(SchemaErrors(yaml) is null, $"{name}: the schema now refuses it; move the case to {nameof(Refused)}");
    }

    [Fact]
    public void The_schema_is_the_one_the_generator_writes_and_names_the_reader_defaults()
    {
        var schema = JsonNode.Parse(File.ReadAllText(Path.Combine(Here, "schema", "clusterfile.schema.json")))!;
        Assert.Equal("https://json-schema.org/draft/2020-12/schema", (string?)schema["$schema"]);
        string text = schema.ToJsonString();
        Assert.Contains("\"default\":\"/var/lib/sealer/data\"", text, StringComparison.Ordinal);
        Assert.Contains("\"default\":\"sea.hub\"", text, StringComparison.Ordinal);
        Assert.Contains("\"default\":5000", text, StringComparison.Ordinal);
        Assert.Contains("sealer convert clusterfile", text, StringComparison.Ordinal);

        string repo = RepoRoot();
        var psi = new System.Diagnostics.ProcessStartInfo("python3", [Path.Combine(repo, "build", "gen-clusterfile-schema.py"), "--check"]) { RedirectStandardError = true };
        using var check = System.Diagnostics.Process.Start(psi)!;
        string stderr = check.StandardError.ReadToEnd();
        check.WaitForExit();
        Assert.True(check.ExitCode == 0, stderr);
        Assert.Equal(File.ReadAllText(Path.Combine(repo, "docs", "schemas", "clusterfile.schema.json")), File.ReadAllText(Path.Combine(Here, "schema", "clusterfile.schema.json")));
    }
}

/// <summary>YAML documents as JSON, typed like yaml-language-server (YAML 1.2 core schema) via YamlDotNet's representation model.</summary>
internal static partial class YamlJson
{
    public static List<JsonNode?> Documents(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new SafeParser(yaml));
        return stream.Documents.Where(d => d.RootNode is not YamlScalarNode { Value: null or "" }).Select(d => Convert(d.RootNode)).ToList();
    }

    private static JsonNode? Convert(YamlNode node) => node switch
    {
        YamlMappingNode m => new JsonObject(m.Children.Select(kv => KeyValuePair.Create(((YamlScalarNode)kv.Key).Value ?? "", Convert(kv.Value)))
            .GroupBy(kv => kv.Key, StringComparer.Ordinal).Select(g => g.Last())),
        YamlSequenceNode s => new JsonArray(s.Children.Select(Convert).ToArray()),
        YamlScalarNode s => Scalar(s),
        _ => throw new InvalidOperationException($"unexpected YAML node {node.GetType().Name}"),
    };

    private static JsonNode? Scalar(YamlScalarNode s)
    {
        string v = s.Value ?? "";
        if (s.Style != ScalarStyle.Plain || (!s.Tag.IsEmpty && !s.Tag.IsNonSpecific && s.Tag.Value == "tag:yaml.org,2002:str")) return JsonValue.Create(v);
        if (v is "" or "~" or "null" or "Null" or "NULL") return null;
        if (v is "true" or "True" or "TRUE") return JsonValue.Create(true);
        if (v is "false" or "False" or "FALSE") return JsonValue.Create(false);
        if (IntRegex().IsMatch(v) && long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long i)) return JsonValue.Create(i);
        if (FloatRegex().IsMatch(v)) return JsonValue.Create(double.Parse(v, CultureInfo.InvariantCulture));
        return JsonValue.Create(v);
    }

    [GeneratedRegex(@"^[-+]?[0-9]+$")]
    private static partial Regex IntRegex();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")]
    private static partial Regex FloatRegex();
}
