using Sealer.Core.Delivery;
using Sealer.Core.Delivery.Install;
using Sealer.Core.Delivery.Clusterfile;
using Sealer.Core.Delivery.Ssh;
using Sealer.Core.Diagnostics;

namespace Sealer.Delivery.Tests;

/// <summary>
/// On real sshd hosts: *.tmpl files rendered per host with Go text/template + Sprig, Application documents applied at launch
/// (selection and order, launch cmds, helm settings, files merged into the chart's values, app env), and coded errors.
/// </summary>
[Collection(HostsCollection.Name)]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public class TemplatesAndAppsTests(TestHosts hosts) : HostsTest(hosts, "sealer-tmpl-")
{

    private const string Rootfs = "/var/lib/sealer/data/fixture/rootfs";

    /// <summary>A template using range, if/else, variables, default and Sprig functions over cluster and host env.</summary>
    private const string HostInfoTemplate = """
        # rendered for {{ .HostIP }}
        {{- if eq .HostIP "10.200.0.11" }}
        role=first
        {{- else }}
        role=other
        {{- end }}
        tier={{ .Tier | default "bronze" }}
        {{- range $i, $z := splitList "," .Zones }}
        zone{{ $i }}={{ $z | trim | upper }}
        {{- end }}
        my={{ .MyVar | b64enc }} registry={{ .RegistryURL }}
        {{- with .Extra }}
        extra={{ . | quote }}
        {{- end }}

        """;

    private RunOptions Options(string image) => RunOptionsFor(image, 2);

    private string Clusterfile(string extra) => FixtureClusterfile("""
          hosts:
            - ips: [10.200.0.11]
              roles: [master]
              env: [Tier=gold, Extra=only on h1]
            - ips: [10.200.0.12]
              roles: [node]
        """, extra, env: ["MyVar=fromcluster", "Zones=a, b,c"]);

    private string OnHost(int i, string path) => File.ReadAllText(Lab.Hosts[i].OnHost(path));

    [Fact]
    public async Task Templates_render_per_host_and_applications_drive_the_launch()
    {
        Lab.Wipe("/var/lib/sealer", "/etc/containerd", "/etc/kubernetes", "/tmp");
        var image = FixtureImage.Build(Path.Combine(Work, "image"), appLayerBytes: 1024, extraRootfs: new Dictionary<string, string>
        {
            ["etc/host-info.conf.tmpl"] = HostInfoTemplate,
            ["etc/hello.sh.tmpl"] = "#!/bin/bash\necho \"hello from {{ .HostIP }}\"\n",
            // outside etc/, charts/, manifests/ and the apps Sealer leaves .tmpl files alone: so do we
            ["scripts/raw.sh.tmpl"] = "{{ .NotSetAnywhere }}\n",
        });
        string text = Clusterfile("""
            ---
            apiVersion: sealer.io/v2
            kind: Application
            metadata: {name: apps}
            spec:
              launchApps: [web, demo]
              configs:
                - name: web
                  env: [WebGreeting=hi-from-clusterfile]
                  files:
                    - path: values.yaml
                      strategy: merge
                      data: |
                        replicaCount: 3
                        image:
                          tag: v2
                  launch:
                    helm:
                      namespace: shop
                      values: [ingress.enabled=true]
                      valueFiles: [values-prod.yaml]
                      timeout: 5m
                - name: demo
                  env: [DemoEnv=from-app-config]
                  launch:
                    cmds: ["bash application/apps/demo/install.sh overridden"]
                - name: extra
                  files: [{path: cm.yaml, data: "not launched, so never written"}]
            """);
        var doc = ClusterfileReader.Parse(text, "Clusterfile");
        await new ClusterInstaller(doc, Options(image.Dir)).RunAsync();

        // 1. the same template, rendered per host (cluster env merged with host env), mode kept, .tmpl left in place
        Assert.Equal("# rendered for 10.200.0.11\nrole=first\ntier=gold\nzone0=A\nzone1=B\nzone2=C\nmy=ZnJvbWNsdXN0ZXI= registry=sea.hub:5000\nextra=\"only on h1\"\n",
            OnHost(0, Rootfs + "/etc/host-info.conf"));
        Assert.Equal("# rendered for 10.200.0.12\nrole=other\ntier=bronze\nzone0=A\nzone1=B\nzone2=C\nmy=ZnJvbWNsdXN0ZXI= registry=sea.hub:5000\n",
            OnHost(1, Rootfs + "/etc/host-info.conf"));
        Assert.True(File.Exists(Lab.Hosts[0].OnHost(Rootfs + "/etc/host-info.conf.tmpl")));
        Assert.False(File.Exists(Lab.Hosts[0].OnHost(Rootfs + "/scripts/raw.sh")));
        var mode = File.GetUnixFileMode(Lab.Hosts[1].OnHost(Rootfs + "/etc/hello.sh"));
        Assert.Equal((UnixFileMode)0b111_101_101, mode);
        Assert.Equal((UnixFileMode)0b110_100_100, File.GetUnixFileMode(Lab.Hosts[1].OnHost(Rootfs + "/etc/host-info.conf")));
        await using (var h2 = await Lab.ConnectAsync("10.200.0.12"))
        {
            Assert.Equal("hello from 10.200.0.12\n", (await h2.RunAsync(Rootfs + "/etc/hello.sh")).Stdout);
        }
        // an app's template gets the app's env: Application config env over the image's APPENV
        Assert.Equal("hi-from-clusterfile from 10.200.0.11\n", OnHost(0, Rootfs + "/application/apps/web/web/greeting.txt"));

        // 2. launchApps order (web, then demo; the image's LAUNCH says only demo), demo's launch cmds replace its install
        var evidence = OnHost(0, FixtureImage.Evidence);
        int helm = evidence.IndexOf("helm upgrade --install web", StringComparison.Ordinal);
        int demo = evidence.IndexOf("app demo launched", StringComparison.Ordinal);
        Assert.True(helm >= 0 && demo > helm, evidence);
        Assert.Contains($"app demo launched on sealer-h1 from {Rootfs} args=overridden DemoEnv=from-app-config", evidence, StringComparison.Ordinal);
        Assert.Equal(1, evidence.Split('\n').Count(l => l.StartsWith("app demo launched", StringComparison.Ordinal)));
        Assert.DoesNotContain("extra", evidence, StringComparison.Ordinal); // configured but not launched
        Assert.False(File.Exists(Lab.Hosts[0].OnHost(Rootfs + "/application/apps/extra/cm.yaml")) && OnHost(0, Rootfs + "/application/apps/extra/cm.yaml").Contains("never written", StringComparison.Ordinal));

        // helm got the release, namespace, timeout, --set and the values file, with the app's env
        Assert.Contains($"helm upgrade --install web application/apps/web/web --namespace shop --create-namespace --wait --timeout 5m -f application/apps/web/web/values-prod.yaml --set ingress.enabled=true on sealer-h1 WebGreeting=hi-from-clusterfile",
            evidence, StringComparison.Ordinal);
        // the chart's values.yaml it installed from: the Clusterfile's data merged onto the chart's values
        var values = OnHost(0, "/var/lib/sealer/helm-values.log");
        Assert.Contains("--- chart application/apps/web/web values.yaml\nreplicaCount: 3\nimage:\n  repository: docker.io/library/demo\n  tag: v2\n", values, StringComparison.Ordinal);
        Assert.Contains("--- -f application/apps/web/web/values-prod.yaml\nresources:\n  limits:\n    cpu: 500m\n", values, StringComparison.Ordinal);
        // the merge happened on every host's rootfs (Sealer processes app files before distribution)
        Assert.Contains("replicaCount: 3", OnHost(1, Rootfs + "/application/apps/web/web/values.yaml"), StringComparison.Ordinal);

        // 3. a changed Clusterfile renders again where it matters: h1's env changed, h2's did not
        var changed = ClusterfileReader.Parse(text.Replace("env: [Tier=gold, Extra=only on h1]", "env: [Tier=platinum]", StringComparison.Ordinal), "Clusterfile");
        var rerun = await new ClusterInstaller(changed, Options(image.Dir)).RunAsync();
        Assert.Contains("10.200.0.11:render", rerun.StepsRun);
        Assert.Contains("10.200.0.12:render", rerun.StepsSkipped);
        Assert.Contains("role=first\ntier=platinum\n", OnHost(0, Rootfs + "/etc/host-info.conf"), StringComparison.Ordinal);
        Assert.DoesNotContain("extra=", OnHost(0, Rootfs + "/etc/host-info.conf"), StringComparison.Ordinal);
        // master0's env is the apps' env: they were launched again
        Assert.Contains("apps", rerun.StepsRun);
        int Launches() => OnHost(0, FixtureImage.Evidence).Split('\n').Count(l => l.StartsWith("helm upgrade --install web", StringComparison.Ordinal));
        Assert.Equal(2, Launches());

        // 4. nothing changed: the apps are not launched again
        var same = await new ClusterInstaller(changed, Options(image.Dir)).RunAsync();
        Assert.Contains("apps", same.StepsSkipped);
        Assert.Equal(2, Launches());

        // 5. only an app's helm settings changed: no host renders again, the apps are launched with the new settings
        var newValues = ClusterfileReader.Parse(text.Replace("env: [Tier=gold, Extra=only on h1]", "env: [Tier=platinum]", StringComparison.Ordinal)
            .Replace("values: [ingress.enabled=true]", "values: [ingress.enabled=false]", StringComparison.Ordinal), "Clusterfile");
        var relaunch = await new ClusterInstaller(newValues, Options(image.Dir)).RunAsync();
        Assert.Contains("apps", relaunch.StepsRun);
        Assert.Contains("10.200.0.11:render", relaunch.StepsSkipped);
        Assert.Equal(3, Launches());
        Assert.Contains("--set ingress.enabled=false on sealer-h1", OnHost(0, FixtureImage.Evidence), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_templates_and_unknown_apps_are_coded_errors_naming_host_file_and_line()
    {
        Lab.Wipe("/var/lib/sealer", "/etc/containerd", "/etc/kubernetes", "/tmp");
        var image = FixtureImage.Build(Path.Combine(Work, "image"), appLayerBytes: 1024, extraRootfs: new Dictionary<string, string>
        {
            // Extra is set on h1 only: h2 fails on line 3
            ["etc/needs-extra.conf.tmpl"] = "a={{ .MyVar }}\nb=2\nc={{ .Extra }}\n",
        });
        var ex = await Assert.ThrowsAsync<SealerException>(() => new ClusterInstaller(ClusterfileReader.Parse(Clusterfile("")), Options(image.Dir)).RunAsync());
        Assert.Equal(ErrorCodes.RunStepFailed, ex.Code);
        Assert.Contains("Step 'render' on 10.200.0.12 failed (SEA4015)", ex.Message, StringComparison.Ordinal);
        var inner = Assert.IsType<SealerException>(ex.InnerException, exactMatch: false);
        Assert.Equal(ErrorCodes.TemplateEnvMissing, inner.Code);
        Assert.Equal("etc/needs-extra.conf.tmpl", inner.File);
        Assert.Equal(3, inner.Line);
        Assert.StartsWith("10.200.0.12: etc/needs-extra.conf.tmpl line 3:", inner.Message, StringComparison.Ordinal);
        Assert.Equal("a=fromcluster\nb=2\nc=only on h1\n", OnHost(0, Rootfs + "/etc/needs-extra.conf")); // h1 rendered
        Assert.False(File.Exists(Lab.Hosts[1].OnHost(Rootfs + "/etc/needs-extra.conf")));

        // an app the image does not have: refused before anything changes, pointing at launchApps
        Lab.Wipe("/var/lib/sealer", "/etc/containerd", "/etc/kubernetes", "/tmp");
        var doc = ClusterfileReader.Parse(Clusterfile("""
            ---
            kind: Application
            spec:
              launchApps: [web, nosuchapp]
            """), "Clusterfile");
        var unknown = await Assert.ThrowsAsync<SealerException>(() => new ClusterInstaller(doc, Options(image.Dir)).RunAsync());
        Assert.Equal(ErrorCodes.AppNotInImage, unknown.Code);
        Assert.Equal(21, unknown.Line);
        Assert.Contains("'nosuchapp'", unknown.Message, StringComparison.Ordinal);
        Assert.Contains("its apps: demo, extra, web", unknown.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Lab.Hosts[0].OnHost("/var/lib/sealer/data")));
    }
}
