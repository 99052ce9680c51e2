using Sealer.Core.Delivery.Clusterfile;
using Sealer.Core.Diagnostics;

namespace Sealer.Delivery.Tests;

public class ClusterfileEditorTests
{
    private const string File1 = """
        apiVersion: sealer.io/v2
        kind: Cluster
        metadata: {name: c}
        spec:
          image: img
          hosts:
            - ips: [10.0.0.1]
              roles: [master]
            - ips: [10.0.0.2-10.0.0.4]
              roles: [node]
        ---
        kind: Plugin
        metadata: {name: p}
        spec: {action: post-install, data: "echo hi"}
        """;

    [Fact]
    public void Add_hosts_appends_groups_and_keeps_other_documents()
    {
        var text = ClusterfileEditor.AddHosts(File1, ["10.0.0.8"], ["10.0.0.9-10.0.0.10"]);
        var doc = ClusterfileReader.Parse(text);
        Assert.Equal(["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.8", "10.0.0.9", "10.0.0.10"], doc.Cluster.Hosts.Select(h => h.Ip));
        Assert.True(doc.Cluster.Hosts.Single(h => h.Ip == "10.0.0.8").IsMaster);
        Assert.Single(doc.Plugins);
    }

    [Fact]
    public void Adding_a_known_host_is_the_duplicate_error()
    {
        var ex = Assert.Throws<SealerException>(() => ClusterfileEditor.AddHosts(File1, [], ["10.0.0.3"]));
        Assert.Equal(ErrorCodes.ClusterfileDuplicateHost, ex.Code);
    }

    [Fact]
    public void Remove_hosts_splits_ranges_and_drops_empty_groups()
    {
        var text = ClusterfileEditor.RemoveHosts(File1, ["10.0.0.3"]);
        Assert.Equal(["10.0.0.1", "10.0.0.2", "10.0.0.4"], ClusterfileReader.Parse(text).Cluster.Hosts.Select(h => h.Ip));
        var text2 = ClusterfileEditor.RemoveHosts(text, ["10.0.0.2", "10.0.0.4"]);
        var doc = ClusterfileReader.Parse(text2);
        Assert.Equal(["10.0.0.1"], doc.Cluster.Hosts.Select(h => h.Ip));
        Assert.Single(doc.Plugins);
    }

    [Fact]
    public void Replace_hosts_and_set_env_are_sealer_runs_masters_nodes_and_env_flags()
    {
        var text = ClusterfileEditor.ReplaceHosts(File1, ["10.0.0.5"], ["10.0.0.6-10.0.0.7"]);
        var doc = ClusterfileReader.Parse(text);
        Assert.Equal(["10.0.0.5", "10.0.0.6", "10.0.0.7"], doc.Cluster.Hosts.Select(h => h.Ip));
        Assert.Equal(["10.0.0.5"], doc.Cluster.Masters.Select(h => h.Ip));
        Assert.Single(doc.Plugins);
        Assert.Equal(ErrorCodes.ClusterfileWrongShape, Assert.Throws<SealerException>(() => ClusterfileEditor.ReplaceHosts(File1, [], ["10.0.0.6"])).Code);

        var withEnv = ClusterfileEditor.SetEnv(File1.Replace("  image: img\n", "  image: img\n  env: [A=1, B=2]\n", StringComparison.Ordinal),
            [new("B", "x;y=z"), new("C", "new value")]);
        Assert.Equal([new("A", "1"), new("B", "x;y=z"), new("C", "new value")], ClusterfileReader.Parse(withEnv).Cluster.Env);
        Assert.Equal([new("D", "4")], ClusterfileReader.Parse(ClusterfileEditor.SetEnv(File1, [new("D", "4")])).Cluster.Env);
    }

    [Fact]
    public void Mask_secrets_removes_every_secret_and_keeps_the_rest()
    {
        const string text = """
            apiVersion: sealer.io/v2
            kind: Cluster
            metadata: {name: c}
            spec:
              image: img
              env: [A=1, DB_PASSWORD=pw-env-1, apiToken=pw-env-2, CLIENT-SECRET=pw-env-3, ZONE=visible]
              ssh: {user: root, passwd: pw-ssh-1, pkPasswd: pw-ssh-2, pk: /root/.ssh/id_rsa}
              hosts:
                - ips: [10.0.0.1]
                  roles: [master]
                  ssh: {passwd: 'pw-ssh-3'}
                  env: [PRIVATE_KEY=pw-env-4]
              registry:
                localRegistry: {domain: hub, username: admin, password: pw-reg-1}
                externalRegistry: {domain: ext.example, password: "pw-reg-2"}
            ---
            kind: Application
            spec:
              configs:
                - name: web
                  env: [ADMIN_PASSWD=pw-app-1, Greeting=hi]
            """;
        var masked = ClusterfileEditor.MaskSecrets(text);
        Assert.DoesNotContain("pw-", masked, StringComparison.Ordinal);
        foreach (var kept in new[] { "A=1", "ZONE=visible", "Greeting=hi", "/root/.ssh/id_rsa", "username: admin", "10.0.0.1", "kind: Application" })
        {
            Assert.Contains(kept, masked, StringComparison.Ordinal);
        }
        Assert.Contains("\"DB_PASSWORD=<masked>\"", masked, StringComparison.Ordinal);
        Assert.Contains("\"ADMIN_PASSWD=<masked>\"", masked, StringComparison.Ordinal);
        // the masked copy is still a Clusterfile, but its secrets cannot be used by mistake
        var ex = Assert.Throws<SealerException>(() => ClusterfileReader.Parse(masked, "masked"));
        Assert.Equal(ErrorCodes.ClusterfileBadValue, ex.Code);
        Assert.Contains("is masked", ex.Message, StringComparison.Ordinal);
        Assert.True(ex.Line > 0);
    }

    [Fact]
    public void Mask_secrets_uses_the_redactors_broad_rule_so_keys_pwds_passphrases_and_private_names_are_masked_too()
    {
        // the rule the ConfigMap copy and the support bundle share (SecretNames): these names were kept in clear by the
        // editor's old narrow rule (passw/secret/token/credential/apikey/privatekey) and are masked now
        const string text = """
            apiVersion: sealer.io/v2
            kind: Cluster
            metadata: {name: c}
            spec:
              image: img
              env: [LICENSE_KEY=pw-env-1, DB_PWD=pw-env-2, GPG_PASSPHRASE=pw-env-3, PRIVATE_REGISTRY=pw-env-4, SSH_KEY_FILE=pw-env-5, ZONE=visible, OLDPWD=/root]
              hosts:
                - ips: [10.0.0.1]
                  roles: [master]
            ---
            kind: Config
            metadata: {name: values}
            spec:
              path: application/apps/db/values.yaml
              data: |
                signing:
                  publicKey: pw-data-1
                  key: app.kubernetes.io/name
                replicas: 2
            """;
        var masked = ClusterfileEditor.MaskSecrets(text);
        Assert.DoesNotContain("pw-", masked, StringComparison.Ordinal);
        foreach (var name in new[] { "LICENSE_KEY", "DB_PWD", "GPG_PASSPHRASE", "PRIVATE_REGISTRY", "SSH_KEY_FILE" })
        {
            Assert.Contains($"\"{name}=<masked>\"", masked, StringComparison.Ordinal);
        }
        Assert.Contains("publicKey: \"<masked>\"", masked, StringComparison.Ordinal);
        // a bare key (selectors, tolerations), the shell's OLDPWD and plain names stay
        foreach (var kept in new[] { "ZONE=visible", "OLDPWD=/root", "key: app.kubernetes.io/name", "replicas: 2" })
        {
            Assert.Contains(kept, masked, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Mask_secrets_also_masks_secret_lines_inside_documents_data()
    {
        const string text = """
            apiVersion: sealer.io/v2
            kind: Cluster
            metadata: {name: c}
            spec:
              image: img
              hosts:
                - ips: [10.0.0.1]
                  roles: [master]
            ---
            kind: Config
            metadata: {name: values}
            spec:
              path: application/apps/db/values.yaml
              data: |
                replicas: 3
                auth:
                  rootPassword: "pw-root-1"   # from the vault
                  username: app
                  apiToken: pw-token-2
                image: {tag: v2}
            ---
            kind: Plugin
            metadata: {name: env}
            spec:
              action: PreInstall
              data: |
                export DB_PASSWORD=pw-db-3
                export REGION=eu
                echo "$REGION"
            """;
        var masked = ClusterfileEditor.MaskSecrets(text);
        Assert.DoesNotContain("pw-", masked, StringComparison.Ordinal);
        foreach (var kept in new[] { "replicas: 3", "username: app", "image: {tag: v2}", "export REGION=eu", "echo \"$REGION\"" })
        {
            Assert.Contains(kept, masked, StringComparison.Ordinal);
        }
        Assert.Contains("rootPassword: \"<masked>\"", masked, StringComparison.Ordinal);
        Assert.Contains("export DB_PASSWORD=<masked>", masked, StringComparison.Ordinal);
        // the values file is still YAML with the same shape
        var doc = new YamlDotNet.RepresentationModel.YamlStream();
        doc.Load(new StringReader(ClusterfileEditor.MaskData("auth:\n  rootPassword: x\n  user: y\n")));
        Assert.Equal(2, ((YamlDotNet.RepresentationModel.YamlMappingNode)((YamlDotNet.RepresentationModel.YamlMappingNode)doc.Documents[0].RootNode).Children["auth"]).Children.Count);
        // and a copy with masked data is refused, pointing at the document
        var ex = Assert.Throws<SealerException>(() => ClusterfileReader.Parse(masked, "masked"));
        Assert.Equal(ErrorCodes.ClusterfileBadValue, ex.Code);
        Assert.Contains("masked secrets", ex.Message, StringComparison.Ordinal);
        Assert.True(ex.Line > 9, ex.Message);
    }
}
