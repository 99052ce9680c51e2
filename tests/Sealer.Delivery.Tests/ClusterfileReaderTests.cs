using Sealer.Core.Delivery.Clusterfile;
using Sealer.Core.Diagnostics;

namespace Sealer.Delivery.Tests;

public class ClusterfileReaderTests
{
    private const string Full = """
        apiVersion: sealer.io/v2
        kind: Cluster
        metadata:
          name: prod
        spec:
          image: docker.io/sealerio/kubernetes:v1.22.15
          env:
            - key1=value1
            - IPS=10.0.0.1;10.0.0.2,"quoted"
          cmd_args: [--foo]
          appNames: [calico, app1]
          ssh:
            user: root
            passwd: "s3cret!"
            pk: /root/.ssh/id_rsa
            pkPasswd: pkpass
            port: "2222"
          hosts:
            - ips: [192.168.0.2-192.168.0.4]
              roles: [master]
              ssh:
                port: 22
              env:
                - etcd-dir=/data/etcd
              labels:
                zone: a
              taints: ["k=v:NoSchedule"]
            - ips: [192.168.0.5]
              roles: [node]
          registry:
            localRegistry:
              domain: hub.local
              port: 5001
              ha: false
              insecure: true
              cert:
                subjectAltName:
                  dnsNames: [hub.example]
                  ips: [10.1.1.1]
            externalRegistry:
              domain: registry.example
              username: u
              password: p
          containerRuntime:
            type: containerd
          hostAliases:
            - ip: 10.9.9.9
              hostnames: [a.example, b.example]
          dataRoot: /data/sealer
        ---
        apiVersion: sealer.io/v2
        kind: Plugin
        metadata:
          name: old
        spec:
          type: SHELL
          action: PostInstall|PostJoin
          scope: master | node
          data: |
            echo hi
        ---
        apiVersion: sealer.io/v1
        kind: Plugin
        metadata:
          name: new
        spec:
          type: SHELL
          action: pre-init-host
          on: role=master
          data: echo pre
        ---
        kind: Config
        metadata:
          name: values
        spec:
          path: application/apps/app1/values.yaml
          data: |
            replicas: 3
        ---
        apiVersion: app.sealer.io/v1
        kind: Application
        metadata:
          name: apps
        spec:
          launchApps: [app1]
          configs:
            - name: app1
              launch:
                cmds: ["kubectl apply -f app1.yaml"]
              env: [A=1]
        ---
        apiVersion: kubeadm.k8s.io/v1beta3
        kind: ClusterConfiguration
        networking:
          podSubnet: 100.64.0.0/10
        """;

    [Fact]
    public void Reads_every_field_of_a_full_Clusterfile()
    {
        var doc = ClusterfileReader.Parse(Full, "Clusterfile");
        var c = doc.Cluster;
        Assert.Equal("prod", c.Name);
        Assert.Equal("docker.io/sealerio/kubernetes:v1.22.15", c.Image);
        Assert.Equal("10.0.0.1;10.0.0.2,\"quoted\"", c.Env.Single(e => e.Key == "IPS").Value);
        Assert.Equal(["--foo"], c.CmdArgs);
        Assert.Equal(["calico", "app1"], c.AppNames);
        Assert.Equal(2222, c.Ssh.Port);
        Assert.Equal("s3cret!", c.Ssh.Password);
        Assert.DoesNotContain("s3cret", c.Ssh.ToString(), StringComparison.Ordinal);
        Assert.Equal(["192.168.0.2", "192.168.0.3", "192.168.0.4", "192.168.0.5"], c.Hosts.Select(h => h.Ip));
        var m0 = c.Hosts[0];
        Assert.True(m0.IsMaster);
        Assert.Equal(22, m0.Ssh.Port);              // host ssh overrides the port...
        Assert.Equal("s3cret!", m0.Ssh.Password);   // ...and keeps the rest of the cluster's ssh
        Assert.Equal("a", m0.Labels["zone"]);
        Assert.Equal(["k=v:NoSchedule"], m0.Taints);
        Assert.Equal("/data/etcd", m0.Env.Single().Value);
        Assert.Equal(2222, c.Hosts[3].Ssh.Port);
        Assert.False(c.Hosts[3].IsMaster);
        Assert.Equal("hub.local:5001", c.Registry.Local.Url);
        Assert.False(c.Registry.Local.Ha);
        Assert.True(c.Registry.Local.Insecure);
        Assert.Equal(["hub.example"], c.Registry.Local.SubjectAltNameDns);
        Assert.Equal("registry.example", c.Registry.External!.Url);
        Assert.Null(c.Registry.External.Prefix);
        Assert.Equal("registry.example", c.Registry.External.Target);
        var prefixed = ClusterfileReader.Parse("kind: Cluster\nspec:\n  image: a\n  hosts: [{ips: [10.0.0.1], roles: [master]}]\n  registry:\n    externalRegistry: {domain: harbor.site, port: 8443, prefix: /sealer/site/}\n").Cluster.Registry.External!;
        Assert.Equal(("sealer/site", "harbor.site:8443/sealer/site"), (prefixed.Prefix, prefixed.Target));
        Assert.Equal("containerd", c.ContainerRuntime);
        Assert.Equal(["a.example", "b.example"], c.HostAliases.Single().Hostnames);
        Assert.Equal("/data/sealer", c.DataRoot);

        Assert.Equal(2, doc.Plugins.Count);
        Assert.Equal([PluginPhase.PostInstall, PluginPhase.PostJoin], doc.Plugins[0].Phases);
        Assert.Equal(["master", "node"], doc.Plugins[0].Roles);
        Assert.Equal([PluginPhase.PreInitHost], doc.Plugins[1].Phases);
        Assert.Equal(["master"], doc.Plugins[1].Roles);
        Assert.Equal("application/apps/app1/values.yaml", doc.Configs.Single().Path);
        Assert.Equal("merge", doc.Configs.Single().Strategy);
        Assert.Equal(["kubectl apply -f app1.yaml"], doc.Applications.Single().Configs.Single().Cmds);
        Assert.Equal("ClusterConfiguration", doc.KubeadmDocuments.Single().Kind);
        Assert.Contains("podSubnet", doc.KubeadmDocuments.Single().Yaml, StringComparison.Ordinal);
    }

    [Fact]
    public void Defaults_follow_Sealer()
    {
        var c = ClusterfileReader.Parse("""
            kind: Cluster
            spec:
              image: k8s:v1
              ssh: {port: 22}
              hosts:
                - ips: [10.0.0.1]
                  roles: [master]
            """).Cluster;
        Assert.Equal("my-cluster", c.Name);
        Assert.Equal("sea.hub:5000", c.Registry.Local.Url);
        Assert.True(c.Registry.Local.Ha);
        Assert.Equal("/var/lib/sealer/data", c.DataRoot);
        Assert.Equal("root", c.Ssh.User);
    }

    [Fact]
    public void Last_cluster_document_wins()
    {
        var c = ClusterfileReader.Parse("""
            apiVersion: sealer.cloud/v2
            kind: Cluster
            spec: {image: a, hosts: [{ips: [10.0.0.1], roles: [master]}]}
            ---
            kind: Cluster
            spec: {image: b, hosts: [{ips: [10.0.0.1], roles: [master]}]}
            """).Cluster;
        Assert.Equal("b", c.Image);
    }

    private const string App = "kind: Cluster\nspec: {image: a, hosts: [{ips: [10.0.0.1], roles: [master]}]}\n---\nkind: Application\n";

    [Fact]
    public void Application_documents_read_Sealers_v2_spec()
    {
        var doc = ClusterfileReader.Parse(App + """
            metadata: {name: apps}
            spec:
              cmds: []
              launchApps: [web, "", demo]
              configs:
                - name: web
                  env: [Greeting=hi]
                  files:
                    - path: values.yaml
                      strategy: merge
                      data: |
                        replicaCount: 3
                    - path: extra.txt
                      data: x
                  launch:
                    helm:
                      Name: shop
                      Namespace: shop-ns
                      createNamespace: false
                      wait: false
                      atomic: true
                      timeout: 5m30s
                      skipCRDs: true
                      values: [image.tag=v2, ingress.enabled=true]
                      valueFiles: [values-prod.yaml]
                - name: demo
                  launch: {cmds: ["bash install.sh"]}
            """, "Clusterfile");
        var app = doc.Applications.Single();
        Assert.Equal(["web", "", "demo"], app.LaunchApps);
        Assert.Equal(8, app.LaunchAppsLocation.Line);
        var web = app.Configs[0];
        Assert.Equal([new KeyValuePair<string, string>("Greeting", "hi")], web.Env);
        Assert.Equal(["merge", "overwrite"], web.Files.Select(f => f.Strategy));
        Assert.Equal("replicaCount: 3\n", web.Files[0].Data);
        Assert.Equal(13, web.Files[0].Location.Line);
        Assert.Equal("shop", web.Helm!.Name);
        Assert.Equal("shop-ns", web.Helm.Namespace);
        Assert.False(web.Helm.CreateNamespace);
        Assert.False(web.Helm.Wait);
        Assert.True(web.Helm.Atomic); // our extension: helm upgrade --atomic
        Assert.Equal("5m30s", web.Helm.Timeout);
        Assert.True(web.Helm.SkipCrds);
        Assert.Equal(["image.tag=v2", "ingress.enabled=true"], web.Helm.Values);
        Assert.Equal(["values-prod.yaml"], web.Helm.ValueFiles);
        Assert.Equal(["bash install.sh"], app.Configs[1].Cmds);
        Assert.Null(ClusterfileReader.Parse(App + "spec:\n  configs: []\n").Applications.Single().LaunchApps); // absent: the image decides
    }

    public static TheoryData<string, string, int, string> BrokenFiles => new()
    {
        // hosts as a mapping instead of a list
        { "kind: Cluster\nspec:\n  image: a\n  hosts:\n    ips: [10.0.0.1]\n    roles: [master]\n", ErrorCodes.ClusterfileWrongShape, 5, "start each group with '- '" },
        // env as a map
        { "kind: Cluster\nspec:\n  image: a\n  env:\n    A: b\n  hosts: [{ips: [10.0.0.1], roles: [master]}]\n", ErrorCodes.ClusterfileWrongShape, 5, "- KEY=value" },
        // passwd: ***** read as an alias
        { "kind: Cluster\nspec:\n  image: a\n  ssh:\n    passwd: *****\n  hosts: [{ips: [10.0.0.1], roles: [master]}]\n", ErrorCodes.ClusterfileUnquotedAlias, 5, "Quote it: passwd: '...'" },
        // typo
        { "kind: Cluster\nspec:\n  imgae: a\n  hosts: [{ips: [10.0.0.1], roles: [master]}]\n", ErrorCodes.ClusterfileUnknownField, 3, "did you mean 'image'" },
        // v1 field
        { "kind: Cluster\nspec:\n  image: a\n  masters:\n    ipList: [10.0.0.1]\n", ErrorCodes.ClusterfileV1, 5, "sealer convert clusterfile" },
        { "kind: Cluster\nspec:\n  image: a\n  hosts: [{ips: [10.0.0.300], roles: [master]}]\n", ErrorCodes.ClusterfileBadAddress, 4, "Bad address" },
        { "kind: Cluster\nspec:\n  image: a\n  hosts: [{ips: [10.0.0.5-10.0.0.2], roles: [master]}]\n", ErrorCodes.ClusterfileBadAddress, 4, "ends before it starts" },
        { "kind: Cluster\nspec:\n  image: a\n  ssh: {port: 99999}\n  hosts: [{ips: [10.0.0.1], roles: [master]}]\n", ErrorCodes.ClusterfileBadPort, 4, "1 to 65535" },
        { "kind: Cluster\nspec:\n  image: a\n  hosts: [{ips: [10.0.0.1], roles: [master, \"big boss\"]}]\n", ErrorCodes.ClusterfileBadRole, 4, "not a valid role name" },
        { "kind: Cluster\nspec:\n  image: a\n  hosts:\n    - ips: [10.0.0.1]\n      roles: [master]\n    - ips: [10.0.0.1]\n      roles: [node]\n", ErrorCodes.ClusterfileDuplicateHost, 7, "listed twice" },
        { "kind: Cluster\nspec:\n  image: a\n  hosts: [{ips: [10.0.0.1], roles: [node]}]\n", ErrorCodes.ClusterfileNoMaster, 4, "master role" },
        { "kind: Cluster\nspec:\n  hosts: [{ips: [10.0.0.1], roles: [master]}]\n", ErrorCodes.ClusterfileMissingField, 3, "spec.image is missing" },
        { "kind: Cluster\nspec:\n  image: a\n  env: [NOEQUALS]\n  hosts: [{ips: [10.0.0.1], roles: [master]}]\n", ErrorCodes.ClusterfileBadEnv, 4, "KEY=value" },
        { "kind: Clutser\nspec: {}\n", ErrorCodes.ClusterfileUnknownKind, 1, "Unknown kind 'Clutser'" },
        { "kind: Plugin\nspec: {action: PostInstall, data: x}\n", ErrorCodes.ClusterfileNoCluster, 1, "no 'kind: Cluster'" },
        { "kind: Cluster\nspec:\n  image: a\n  hosts: [{ips: [10.0.0.1], roles: [master]}\n", ErrorCodes.ClusterfileInvalidYaml, 0, "not valid YAML" },
        { "kind: Cluster\nspec: {image: a, hosts: [{ips: [10.0.0.1], roles: [master]}]}\n---\nkind: Plugin\nspec:\n  action: PostInstal\n  data: x\n", ErrorCodes.ClusterfileBadPlugin, 6, "unknown action 'PostInstal'" },
        { "kind: Cluster\nspec: {image: a, hosts: [{ips: [10.0.0.1], roles: [master]}]}\n---\nkind: Plugin\nspec:\n  type: ETCD\n  action: PostInstall\n  data: x\n", ErrorCodes.ClusterfileOldPluginType, 6, "etcdctl" },
        { "kind: Cluster\nspec: {image: a, hosts: [{ips: [10.0.0.1], roles: [master]}]}\n---\nkind: Config\nspec:\n  path: ../etc/passwd\n", ErrorCodes.ClusterfileBadConfig, 6, "stay inside" },
        { "kind: Cluster\nspec:\n  image: a\n  hosts: [{ips: [10.0.0.1], roles: [master], taints: [nodedefect]}]\n", ErrorCodes.ClusterfileBadValue, 4, "needs an effect" },
        { "kind: Cluster\nspec:\n  image: a\n  hosts: [{ips: [10.0.0.1], roles: [master]}]\n  registry:\n    externalRegistry:\n      domain: harbor.site\n      prefix: Team/Apps\n", ErrorCodes.ClusterfileBadValue, 8, "prefix 'Team/Apps' is not a repository path" },
        { "kind: Cluster\nspec:\n  image: a\n  env:\n    - IPvsVIPv4=10.103\n  hosts: [{ips: [10.0.0.1], roles: [master]}]\n", ErrorCodes.ClusterfileBadValue, 5, "IPvsVIPv4 '10.103' is not an IPv4 address: it is the API servers' local VIP" },
        { "kind: Cluster\nspec:\n  image: a\n  env: [\"IPvsVIPv6=10.103.97.2; reboot\"]\n  hosts: [{ips: [10.0.0.1], roles: [master]}]\n", ErrorCodes.ClusterfileBadValue, 4, "is not an IPv6 address" },
        { "kind: Cluster\nspec:\n  image: a\n  hosts: [{ips: [10.0.0.1], roles: [master]}]\n  registry:\n    localRegistry:\n      port: 5000\n      username: admin\n", ErrorCodes.ClusterfileMissingField, 8, "'spec.registry.localRegistry' has a username but no password: the built-in registry would start without authentication" },
        { "kind: Cluster\nspec:\n  image: a\n  hosts: [{ips: [10.0.0.1], roles: [master]}]\n  registry:\n    externalRegistry:\n      domain: harbor.site\n      password: s3cret\n", ErrorCodes.ClusterfileMissingField, 8, "has a password but no username: the hosts would pull from it anonymously" },
        // Application documents: unknown fields at any depth, bad strategies, helm values, both cmds and helm
        { App + "spec:\n  launchApp: [a]\n", ErrorCodes.ClusterfileUnknownField, 6, "did you mean 'launchApps'" },
        { App + "spec:\n  configs:\n    - name: a\n      lanch: {cmds: [x]}\n", ErrorCodes.ClusterfileUnknownField, 8, "did you mean 'launch'" },
        { App + "spec:\n  configs:\n    - name: a\n      files:\n        - path: values.yaml\n          strategy: replace\n", ErrorCodes.ClusterfileBadConfig, 10, "not overwrite or merge" },
        { App + "spec:\n  configs:\n    - name: a\n      files:\n        - path: values.yaml\n          stratgy: merge\n", ErrorCodes.ClusterfileUnknownField, 10, "did you mean 'strategy'" },
        { App + "spec:\n  configs:\n    - name: a\n      files: [{path: ../../etc/shadow, data: x}]\n", ErrorCodes.ClusterfileBadConfig, 8, "stay inside" },
        { App + "spec:\n  configs:\n    - name: a\n      launch:\n        helm:\n          valus: [a=b]\n", ErrorCodes.ClusterfileUnknownField, 10, "did you mean 'values'" },
        { App + "spec:\n  configs:\n    - name: a\n      launch:\n        helm:\n          values: [a=b, justakey]\n", ErrorCodes.ClusterfileBadValue, 10, "not key=value" },
        { App + "spec:\n  configs:\n    - name: a\n      launch:\n        helm:\n          timeout: 5 minutes\n", ErrorCodes.ClusterfileBadValue, 10, "Go duration" },
        { App + "spec:\n  configs:\n    - name: a\n      launch:\n        cmds: [x]\n        helm: {namespace: n}\n", ErrorCodes.ClusterfileBadValue, 9, "both cmds and helm" },
        { App + "spec:\n  configs:\n    - name: a\n    - name: a\n", ErrorCodes.ClusterfileBadValue, 8, "configured twice" },
        { App + "spec:\n  configs:\n    - env: [A=1]\n", ErrorCodes.ClusterfileMissingField, 7, "no 'name'" },
    };

    [Theory]
    [MemberData(nameof(BrokenFiles))]
    public void Broken_files_get_coded_errors_with_line_and_fix(string yaml, string code, int line, string fix)
    {
        var ex = Assert.Throws<SealerException>(() => ClusterfileReader.Parse(yaml, "Clusterfile"));
        Assert.Equal(code, ex.Code);
        Assert.Equal("Clusterfile", ex.File);
        if (line > 0) Assert.Equal(line, ex.Line);
        Assert.True(ex.Line > 0);
        Assert.Contains(fix, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Passwords_never_appear_in_errors()
    {
        var ex = Assert.Throws<SealerException>(() => ClusterfileReader.Parse(
            "kind: Cluster\nspec:\n  image: a\n  ssh:\n    passwd: *hunter2secret\n  hosts: [{ips: [10.0.0.1], roles: [master]}]\n", "Clusterfile"));
        Assert.DoesNotContain("hunter2secret", ex.ToDiagnosticString(), StringComparison.Ordinal);
        var ex2 = Assert.Throws<SealerException>(() => ClusterfileReader.Parse(
            "kind: Cluster\nspec:\n  image: a\n  ssh:\n    passwd: [topsecretvalue]\n  hosts: [{ips: [10.0.0.1], roles: [master]}]\n", "Clusterfile"));
        Assert.DoesNotContain("topsecretvalue", ex2.ToDiagnosticString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Port_may_be_a_string_or_an_int()
    {
        foreach (var p in new[] { "2222", "\"2222\"", "'2222'" })
        {
            var c = ClusterfileReader.Parse($"kind: Cluster\nspec:\n  image: a\n  ssh: {{port: {p}}}\n  hosts: [{{ips: [10.0.0.1], roles: [master]}}]\n").Cluster;
            Assert.Equal(2222, c.Hosts[0].Ssh.Port);
        }
    }
}
