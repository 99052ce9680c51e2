using Sealer.Core.Delivery.Clusterfile;
using Sealer.Core.Diagnostics;

namespace Sealer.Delivery.Tests;

/// <summary>Clusterfiles as Sealer reads them (pure: no hosts). Run with --filter ClusterfileCompatTests.</summary>
public class ClusterfileCompatTests
{
    private const string Hosts = """
        apiVersion: sealer.io/v2
        kind: Cluster
        metadata: {name: c}
        spec:
          image: docker.io/sealerio/kubernetes:v1.22.15
          hosts:
            - ips: [192.168.0.2]
              roles: [master]
            - ips: [192.168.0.3, 192.168.0.4]
              roles: [node, db]
              labels: {disk: ssd}
            - ips: [192.168.0.5-192.168.0.7]
              roles: [node]
        """;

    private static ClusterfileDocument Read(string extra) => ClusterfileReader.Parse(Hosts + "\n---\n" + extra, "Clusterfile");

    private static SealerException Fails(string text) => Assert.Throws<SealerException>(() => ClusterfileReader.Parse(text, "Clusterfile"));

    [Fact]
    public void Extra_roles_are_kept_and_label_the_host_with_node_role()
    {
        var doc = ClusterfileReader.Parse(Hosts);
        var db = doc.Cluster.Hosts.Single(h => h.Ip == "192.168.0.3");
        Assert.Equal(["node", "db"], db.Roles);
        Assert.Equal("", db.Labels["node-role.kubernetes.io/db"]);
        Assert.Equal("ssd", db.Labels["disk"]);
        Assert.False(doc.Cluster.Hosts.Single(h => h.Ip == "192.168.0.2").Labels.ContainsKey("node-role.kubernetes.io/master"));
        Assert.Equal(5, doc.Cluster.Nodes.Count());
    }

    [Fact]
    public void A_role_that_cannot_be_a_label_is_refused_at_its_item()
    {
        var ex = Fails("kind: Cluster\nspec:\n  image: a\n  hosts:\n    - ips: [10.0.0.1]\n      roles: [master, \"Data Base\"]\n");
        Assert.Equal(ErrorCodes.ClusterfileBadRole, ex.Code);
        Assert.Equal(6, ex.Line);
    }

    [Theory]
    [InlineData("env:")]
    [InlineData("env: ~")]
    [InlineData("env: []")]
    public void Env_with_no_value_is_an_empty_list(string env)
    {
        var doc = ClusterfileReader.Parse($"kind: Cluster\nspec:\n  image: a\n  {env}\n  hosts:\n    - ips: [10.0.0.1]\n      roles: [master]\n      env:\n      labels:\n      taints:\n");
        Assert.Empty(doc.Cluster.Env);
        Assert.Empty(doc.Cluster.Hosts[0].Env);
        Assert.Empty(doc.Cluster.Hosts[0].Taints);
    }

    [Theory]
    [InlineData("PreInit|PreJoin", new[] { PluginPhase.PreInitHost, PluginPhase.PreJoin })]
    [InlineData("pre-init-host", new[] { PluginPhase.PreInitHost })]
    [InlineData("PostInstall | PostJoin", new[] { PluginPhase.PostInstall, PluginPhase.PostJoin })]
    [InlineData("Originally", new[] { PluginPhase.PreInstall })]
    [InlineData("PreInitHost", new[] { PluginPhase.PreInitHost })]
    [InlineData("post-clean-host", new[] { PluginPhase.PostCleanHost })]
    [InlineData("PostClean", new[] { PluginPhase.PostCleanHost })]
    [InlineData("upgrade-host", new[] { PluginPhase.UpgradeHost })]
    public void Actions_are_read_in_every_spelling(string action, PluginPhase[] phases)
    {
        var doc = Read($"kind: Plugin\nmetadata: {{name: p}}\nspec:\n  type: SHELL\n  action: {action}\n  data: echo\n");
        Assert.Equal(phases, doc.Plugins.Single().Phases);
    }

    [Theory]
    [InlineData("scope: master|node", new[] { "master", "node" })]
    [InlineData("scope: master | node", new[] { "master", "node" })]
    [InlineData("scope: master/node", new[] { "master", "node" })]
    [InlineData("scope: db", new[] { "db" })]
    [InlineData("on: 192.168.0.5-192.168.0.6", new[] { "192.168.0.5", "192.168.0.6" })]
    [InlineData("'on': 192.168.0.2,192.168.0.3", new[] { "192.168.0.2", "192.168.0.3" })]
    [InlineData("on: node-role.kubernetes.io/master=", new[] { "master" })]
    [InlineData("on: disk=ssd", new[] { "192.168.0.3", "192.168.0.4" })]
    [InlineData("on: role=node", new[] { "node" })]
    public void Scope_and_the_old_on_selector_pick_the_hosts_Sealer_meant(string selector, string[] selected)
    {
        var doc = Read($"kind: Plugin\nmetadata: {{name: p}}\nspec:\n  type: SHELL\n  action: PostInstall\n  {selector}\n  data: echo\n");
        var plugin = doc.Plugins.Single();
        Assert.Equal(selected, plugin.Roles);
        var chosen = doc.Cluster.Hosts.Where(plugin.AppliesTo).Select(h => h.Ip).ToList();
        Assert.NotEmpty(chosen);
        Assert.All(selected.Where(s => s.Contains('.')), ip => Assert.Contains(ip, chosen));
    }

    [Fact]
    public void A_scope_no_host_has_is_refused_because_the_plugin_would_run_nowhere()
    {
        var ex = Assert.Throws<SealerException>(() => Read("kind: Plugin\nmetadata: {name: p}\nspec:\n  action: PostInstall\n  scope: gpu\n  data: echo\n"));
        Assert.Equal(ErrorCodes.ClusterfileBadPlugin, ex.Code);
        Assert.Contains("master, node, db", ex.Message);
    }

    [Fact]
    public void Old_LABEL_TAINT_and_HOSTNAME_plugins_work_as_they_did()
    {
        var doc = Read("""
            kind: Plugin
            metadata: {name: MyLabel}
            spec:
              type: LABEL
              action: PostInstall
              data: |
                192.168.0.2 ssd=true
                192.168.0.5 ssd=false,hdd=true
            ---
            kind: Plugin
            metadata: {name: MyTaint}
            spec:
              type: TAINT
              action: PreInit
              data: |
                # comment
                192.168.0.3 dedicated=db:NoSchedule
            ---
            kind: Plugin
            metadata: {name: MyHostname}
            spec:
              type: HOSTNAME
              action: PreInit
              data: |
                192.168.0.2 master-0
                192.168.0.5 node-0
            """);
        var h = doc.Cluster.Hosts.ToDictionary(x => x.Ip);
        Assert.Equal("true", h["192.168.0.2"].Labels["ssd"]);
        Assert.Equal("false", h["192.168.0.5"].Labels["ssd"]);
        Assert.Equal("true", h["192.168.0.5"].Labels["hdd"]);
        Assert.Equal(["dedicated=db:NoSchedule"], h["192.168.0.3"].Taints);
        var hostnames = doc.Plugins.Where(p => p.Name.StartsWith("MyHostname", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, hostnames.Count);
        Assert.Equal(["192.168.0.2"], hostnames[0].Roles);
        Assert.Contains("hostnamectl set-hostname master-0", hostnames[0].Data);
        Assert.Equal([PluginPhase.PreInitHost], hostnames[0].Phases);
        Assert.True(hostnames[1].AppliesTo(h["192.168.0.5"]));
        Assert.False(hostnames[1].AppliesTo(h["192.168.0.2"]));
    }

    [Theory]
    [InlineData("ETCD", "etcdctl")]
    [InlineData("OUT", "type: SHELL")]
    [InlineData("LABEL_TEST_SO", "type: SHELL")]
    public void Old_plugin_types_without_a_v2_meaning_name_their_replacement(string type, string replacement)
    {
        var ex = Assert.Throws<SealerException>(() => Read($"kind: Plugin\nmetadata: {{name: p}}\nspec:\n  type: {type}\n  action: PostInstall\n  data: x\n"));
        Assert.Equal(ErrorCodes.ClusterfileOldPluginType, ex.Code);
        Assert.Equal(18, ex.Line);
        Assert.Contains(replacement, ex.Message);
    }

    [Fact]
    public void A_LABEL_line_for_an_unknown_host_names_its_line()
    {
        var ex = Assert.Throws<SealerException>(() => Read("kind: Plugin\nmetadata: {name: l}\nspec:\n  type: LABEL\n  action: PostInstall\n  data: |\n    192.168.0.2 a=b\n    10.9.9.9 a=b\n"));
        Assert.Equal(ErrorCodes.ClusterfileOldPluginType, ex.Code);
        Assert.Equal(22, ex.Line);
        Assert.Contains("10.9.9.9", ex.Message);
    }

    [Fact]
    public void A_v1_Clusterfile_is_refused_with_the_convert_command_and_converts_to_v2()
    {
        const string v1 = """
            apiVersion: sealer.aliyun.com/v1alpha1
            kind: Cluster
            metadata:
              name: my-cluster
              annotations: {sea.aliyun.com/RegionID: cn-chengdu}
            spec:
              image: kubernetes:v1.19.8
              provider: BAREMETAL
              env: [A=1]
              ssh: {user: root, passwd: "x", port: "2222"}
              network: {podCIDR: 100.64.0.0/10}
              masters:
                ipList: [192.168.0.2, 192.168.0.3]
              nodes:
                ipList: [192.168.0.4]
            ---
            apiVersion: sealer.aliyun.com/v1alpha1
            kind: Plugin
            metadata: {name: s}
            spec: {type: SHELL, action: PostInstall, data: echo}
            """;
        var ex = Fails(v1);
        Assert.Equal(ErrorCodes.ClusterfileV1, ex.Code);
        Assert.Equal(13, ex.Line);
        Assert.Contains("sealer convert clusterfile Clusterfile", ex.Message);

        var converted = ClusterfileConverter.ConvertV1(v1, "Clusterfile");
        var doc = ClusterfileReader.Parse(converted.Yaml);
        Assert.Equal("my-cluster", doc.Cluster.Name);
        Assert.Equal("kubernetes:v1.19.8", doc.Cluster.Image);
        Assert.Equal(["192.168.0.2", "192.168.0.3"], doc.Cluster.Masters.Select(h => h.Ip));
        Assert.Equal(["192.168.0.4"], doc.Cluster.Nodes.Select(h => h.Ip));
        Assert.Equal(2222, doc.Cluster.Ssh.Port);
        Assert.Equal("x", doc.Cluster.Ssh.Password);
        Assert.Equal([new KeyValuePair<string, string>("A", "1")], doc.Cluster.Env);
        Assert.Single(doc.Plugins);
        Assert.Contains(converted.Notes, n => n.Contains("spec.provider (BAREMETAL) dropped", StringComparison.Ordinal));
        Assert.Contains(converted.Notes, n => n.Contains("podSubnet", StringComparison.Ordinal));
        Assert.Contains(converted.Notes, n => n.Contains("annotations dropped", StringComparison.Ordinal));
    }

    [Fact]
    public void Encrypted_passwords_decrypt_as_Sealer_does()
    {
        // Vectors from Sealer's algorithm (utils/hash/aes.go) with openssl:
        //   K=$(echo -n ZU9WbzRMVXRQZ2pzTGowR2hNWUpIZjRkWld4aWVRWko= | base64 -d | xxd -p -c 64)
        //   echo -n Seadent123 | openssl enc -aes-256-cbc -K $K -iv ${K:0:32} -base64
        Assert.Equal("Seadent123", SealerPasswordCipher.TryDecrypt("z6YOXQnSv41NttYEGQpyJw=="));
        Assert.Equal("p@ss word!", SealerPasswordCipher.TryDecrypt("ohVptJNyHFNBaDW94RRX7A=="));
        Assert.Equal("z6YOXQnSv41NttYEGQpyJw==", SealerPasswordCipher.Encrypt("Seadent123"));

        var doc = ClusterfileReader.Parse("kind: Cluster\nspec:\n  image: a\n  ssh: {passwd: z6YOXQnSv41NttYEGQpyJw==, encrypted: true}\n  hosts:\n    - ips: [10.0.0.1]\n      roles: [master]\n      ssh: {passwd: ohVptJNyHFNBaDW94RRX7A==, encrypted: true}\n    - ips: [10.0.0.2]\n      roles: [node]\n");
        Assert.Equal("Seadent123", doc.Cluster.Ssh.Password);
        Assert.Equal("p@ss word!", doc.Cluster.Hosts[0].Ssh.Password);
        Assert.Equal("Seadent123", doc.Cluster.Hosts[1].Ssh.Password);

        var ex = Fails("kind: Cluster\nspec:\n  image: a\n  ssh:\n    passwd: notencrypted\n    encrypted: true\n  hosts: [{ips: [10.0.0.1], roles: [master]}]\n");
        Assert.Equal(ErrorCodes.ClusterfileBadValue, ex.Code);
        Assert.Equal(5, ex.Line);
        Assert.DoesNotContain("notencrypted", ex.Message);
        Assert.Contains("remove 'encrypted: true'", ex.Message);
    }
}
