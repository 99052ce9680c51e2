using Sealer.Core.Diagnostics;
using Sealer.Core.Delivery;
using Sealer.Core.Delivery.Clusterfile;

namespace Sealer.Delivery.Tests;

public class RuntimeConfigMergeTests
{
    [Fact]
    public void Env_precedence_and_derived_values()
    {
        var doc = ClusterfileReader.Parse("""
            kind: Cluster
            spec:
              image: i
              env: [A=cluster, B=cluster, RegistryURL=user-set, ContainerRuntime=user]
              registry:
                localRegistry: {domain: hub.local, port: 5001, username: u, password: p}
              hosts:
                - ips: [10.0.0.1]
                  roles: [master]
                  env: [B=host]
            """);
        var env = DeliveryEnv.For(doc.Cluster, doc.Cluster.Hosts[0], [new("A", "image"), new("I", "image")], "containerd", ["10.0.0.1"])
            .ToDictionary(kv => kv.Key, kv => kv.Value);
        Assert.Equal("image", env["I"]);
        Assert.Equal("cluster", env["A"]);
        Assert.Equal("host", env["B"]);
        Assert.Equal("hub.local:5001", env["RegistryURL"]);      // user-set Registry* values are re-derived, as in Sealer
        Assert.Equal("containerd", env["ContainerRuntime"]);
        Assert.Equal("10.0.0.1", env["HostIP"]);
        Assert.Equal("4", env["HostIPFamily"]);
        Assert.Equal("p", env["LocalRegistryPassword"]);
    }

    [Fact]
    public void Templates_render_with_Go_template_and_Sprig_and_errors_are_coded()
    {
        var env = new List<KeyValuePair<string, string>> { new("A", "1"), new("B", "two"), new("Hosts", "10.0.0.1,10.0.0.2") };
        Assert.Equal("x=1 y=two z=d", DeliveryEnv.Render("x={{ .A }} y={{.B}} z={{ .C | default \"d\" }}", env, "t.tmpl"));
        Assert.Equal("a1", DeliveryEnv.Render("a\n  {{- .A }}", env, "t.tmpl"));
        Assert.Equal("a=1", DeliveryEnv.Render("a={{- .A -}}", env, "t"));
        // range, if/else, variables, sprig; Sealer's b64enc/b64dec
        Assert.Equal("[0:10.0.0.1][1:10.0.0.2]", DeliveryEnv.Render("{{ range $i, $h := splitList \",\" .Hosts }}[{{ $i }}:{{ $h }}]{{ end }}", env, "t"));
        Assert.Equal("no-c TWO", DeliveryEnv.Render("{{ if .C }}c{{ else }}no-c{{ end }} {{ .B | upper }}", env, "t"));
        Assert.Equal("dHdv two", DeliveryEnv.Render("{{ b64enc .B }} {{ .B | b64enc | b64dec }}", env, "t"));
        Assert.Equal("A=1,B=two", DeliveryEnv.Render("{{ $p := list }}{{ range $k, $v := . }}{{ if ne $k \"Hosts\" }}{{ $p = append $p (printf \"%s=%s\" $k $v) }}{{ end }}{{ end }}{{ join \",\" $p }}", env, "t"));

        var parse = Assert.Throws<SealerException>(() => DeliveryEnv.Render("ok\n{{ if .A }}unclosed", env, "etc/p.tmpl", "10.0.0.9"));
        Assert.Equal(ErrorCodes.TemplateUnsupported, parse.Code);
        Assert.Equal("etc/p.tmpl", parse.File);
        Assert.StartsWith("10.0.0.9: etc/p.tmpl line ", parse.Message, StringComparison.Ordinal);
        var fn = Assert.Throws<SealerException>(() => DeliveryEnv.Render("{{ nosuchfunc .A }}", env, "etc/f.tmpl"));
        Assert.Equal(ErrorCodes.TemplateUnsupported, fn.Code);
        Assert.Contains("nosuchfunc", fn.Message, StringComparison.Ordinal);

        var missing = Assert.Throws<SealerException>(() => DeliveryEnv.Render("a\nb {{ .Missing }}", env, "etc/x.tmpl", "10.0.0.9"));
        Assert.Equal(ErrorCodes.TemplateEnvMissing, missing.Code);
        Assert.Equal(2, missing.Line);
        Assert.Equal("etc/x.tmpl", missing.File);
        Assert.Contains("10.0.0.9: etc/x.tmpl line 2", missing.Message, StringComparison.Ordinal);
        Assert.Contains(".Missing", missing.Message, StringComparison.Ordinal);

        var exec = Assert.Throws<SealerException>(() => DeliveryEnv.Render("a\nb\n{{ .B | atoi | div 10 }}", env, "etc/e.tmpl", "10.0.0.9"));
        Assert.Equal(ErrorCodes.TemplateRenderFailed, exec.Code);
        Assert.Equal(3, exec.Line);
    }
}
