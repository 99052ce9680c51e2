using Sealer.Core.Diagnostics;
using Sealer.Core.Kubefile;
using Sealer.Core.Oci;

namespace Sealer.Sdk.Tests.Kubefile;

/// <summary>What real Kubefiles write, read with Docker's line rules and Sealer's meaning; what a lite build cannot do is a coded error on its line.</summary>
public class KubefileReaderTests
{
    private static KubefileProject Read(string text, IReadOnlyDictionary<string, string>? args = null) => KubefileProject.Read(text, "Kubefile", args);

    private static SealerException Fails(string text) => Assert.Throws<SealerException>(() => Read(text));

    [Fact]
    public void Docker_line_rules_continuations_comments_and_no_final_newline_are_read()
    {
        var p = Read("# top\nARG V=1.0\nFROM --platform=linux/arm64 scratch\nLABEL \"a.b/c\"=\"x y\" k=v  # why\nENV A=1 \\\n  # skipped\n\n  B=\"two words\"\nENV C 3 4\nCOPY dir-${V}/ etc/ # trailing\nCNI calico local://calico.sh\nKUBEVERSION v1.22.15\nLAUNCH calico",
            new Dictionary<string, string> { ["V"] = "2.0" });
        Assert.Equal(["linux/arm64"], p.FromPlatforms);
        Assert.Equal([("a.b/c", "x y"), ("k", "v")], p.Labels.Select(l => (l.Key, l.Value)));
        Assert.Equal([("A", "1"), ("B", "two words"), ("C", "3 4")], p.Env.Select(l => (l.Key, l.Value))); // ENV k v (old form) keeps the rest
        Assert.Equal("dir-2.0/", p.Copies.Single().Sources[0]); // --build-arg overrides the ARG default
        Assert.Equal("trailing", p.Copies.Single().Comment);
        Assert.Equal("v1.22.15", p.KubeVersion);
        Assert.Equal(["calico"], p.Launch);
        Assert.Equal(5, p.Env[1].Line); // a continued instruction is at its first line
    }

    [Fact]
    public void CMD_lines_add_up_in_both_forms_and_CMDS_and_APP_forms_are_Sealers()
    {
        var p = Read("FROM scratch\nCMD kubectl apply -f a.yaml # the shell reads this comment\nCMD [\"kubectl apply -f b.yaml\", \"kubectl apply -f c.yaml\"]\n");
        Assert.Equal(["kubectl apply -f a.yaml # the shell reads this comment", "kubectl apply -f b.yaml", "kubectl apply -f c.yaml"], p.Cmds);

        var apps = Read("FROM scratch\nAPP web local://web.yaml local://extra\nAPPCMDS web [\"kubectl apply -f web.yaml\"]\nAPPENV web A=1 B=2\nLAUNCH [\"web\"]");
        var web = apps.Apps.Single();
        Assert.Equal(["web.yaml", "extra"], web.Sources);
        Assert.Equal(["kubectl apply -f web.yaml"], web.Cmds);
        Assert.Equal([("A", "1"), ("B", "2")], web.Env.Select(e => (e.Key, e.Value)));
    }

    [Fact]
    public void RUN_is_refused_on_its_line_naming_what_to_do_instead()
    {
        var ex = Fails("FROM scratch\nCOPY a .\nRUN wget https://example.com/x.tgz");
        Assert.Equal(ErrorCodes.KubefileUnsupported, ex.Code);
        Assert.Equal(3, ex.Line);
        Assert.Equal("Kubefile", ex.File);
        Assert.Contains("COPY", ex.Message, StringComparison.Ordinal); // do it before the build and COPY the result
        Assert.Contains("CMDS", ex.Message, StringComparison.Ordinal); // or at install time
    }

    [Fact]
    public void CNI_and_CSI_of_older_Sealer_become_apps_with_Sealers_labels()
    {
        var p = Read("FROM scratch\nCNI calico local://calico.sh\nCSI openebs local://openebs.yaml\nLAUNCH calico openebs");
        Assert.Equal([("calico", "cni"), ("openebs", "csi")], p.Apps.Select(a => (a.Name, a.Role)));
        Assert.Equal(["calico", "openebs"], p.Launch);
        using var dir = new TempDir();
        dir.Write("calico.sh", "echo calico\n");
        dir.Write("openebs.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: openebs\n");
        var plan = KubefileBuild.CreatePlan(p, dir.Path);
        Assert.Contains(new KeyValuePair<string, string>(KubefileProject.CniLabelPrefix + "calico", "true"), plan.Labels);
        Assert.Contains(new KeyValuePair<string, string>(KubefileProject.CsiLabelPrefix + "openebs", "true"), plan.Labels);
    }

    [Fact]
    public void COPY_globs_and_ARCH_sources_are_planned_per_platform()
    {
        using var dir = new TempDir();
        dir.Write("amd64/a.bin", "a");
        dir.Write("amd64/b.bin", "b");
        dir.Write("arm64/a.bin", "A");
        dir.Write("charts/x.yaml", "x");
        var p = Read("ARG DIR=charts\nFROM --platform=linux/amd64,linux/arm64 scratch\nCOPY ${ARCH}/* bin/\nCOPY $DIR/*.yaml manifests\n");
        var plan = KubefileBuild.CreatePlan(p, dir.Path);
        Assert.Equal(["linux/amd64", "linux/arm64"], plan.Platforms.Select(x => x.ToString()));
        Assert.Equal([("amd64/a.bin", "bin/", "linux/amd64"), ("amd64/b.bin", "bin/", "linux/amd64"), ("arm64/a.bin", "bin/", "linux/arm64"), ("charts/x.yaml", "manifests/", "")],
            plan.Files.Select(f => (f.Include, f.Destination, f.Platform)));

        var missing = Assert.Throws<SealerException>(() => KubefileBuild.CreatePlan(Read("FROM scratch\n\nCOPY nothing/* .\n"), dir.Path));
        Assert.Equal((ErrorCodes.KubefileSourceMissing, 3), (missing.Code, missing.Line));
        var outside = Assert.Throws<SealerException>(() => Read("FROM scratch\nCOPY ../x .\n"));
        Assert.Equal((ErrorCodes.KubefileSourceMissing, 2), (outside.Code, outside.Line));
    }

    [Theory]
    [InlineData("FROM scratch\nAPP a local://a.yaml\nLAUNCH a\nCMDS [\"x\"]", "SEA2102", 3)] // LAUNCH not last
    [InlineData("FROM scratch\nLAUNCH a", "SEA2003", 2)] // LAUNCH of an app nobody defines
    [InlineData("FROM scratch\nAPPCMDS a [\"x\"]", "SEA2003", 2)]
    [InlineData("FROM scratch\nAPP a local://a\nAPPCMDS a kubectl apply", "SEA2100", 3)] // APPCMDS needs a JSON array
    [InlineData("COPY a .\nFROM scratch", "SEA2100", 1)] // only ARG before FROM
    [InlineData("FROM scratch\nFROM scratch", "SEA2101", 2)] // multi-stage
    [InlineData("FROM scratch AS x", "SEA2101", 1)]
    [InlineData("FROM scratch\nHEALTHCHECK CMD true", "SEA2100", 2)]
    [InlineData("FROM scratch\nADD https://example.com/a.yaml .", "SEA2101", 2)]
    [InlineData("FROM scratch\nAPP a https://example.com/a.yaml", "SEA2101", 2)]
    [InlineData("FROM scratch\nCOPY --chmod=755 a .", "SEA2101", 2)]
    [InlineData("FROM scratch\nLABEL \"unclosed=1", "SEA2100", 2)]
    public void What_a_lite_build_cannot_do_is_a_coded_error_on_its_line(string text, string code, int line)
    {
        var ex = Fails(text);
        Assert.Equal((code, line), (ex.Code, ex.Line));
    }

    [Fact]
    public void A_converted_project_names_each_items_Kubefile_line_and_keeps_comments()
    {
        using var dir = new TempDir();
        dir.Write("app.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n");
        dir.Write("etc/x.conf", "x");
        var p = KubefileProject.Read("FROM scratch\n# the app\nAPP web local://app.yaml\nCOPY etc .  # config\nLABEL owner=\"team a\"\nKUBEVERSION v1.30.0\nCMDS [\"kubectl apply -f a;b.yaml\"]\n", Path.Combine(dir.Path, "Kubefile"));
        string xml = KubefileConverter.ToKubeproj(KubefileBuild.CreatePlan(p, dir.Path), "0.1.0", "web", "1.0");
        var doc = System.Xml.Linq.XDocument.Parse(xml);
        Assert.Contains("<!-- line 3: APP web (the app) -->", xml, StringComparison.Ordinal);
        Assert.Contains("<!-- line 4: COPY etc . (config) -->", xml, StringComparison.Ordinal);
        Assert.Equal("etc/**", doc.Descendants("SealerFile").Single().Attribute("Include")!.Value);
        Assert.Equal("kubectl apply -f a%3Bb.yaml", doc.Descendants("SealerCmds").Single().Value); // MSBuild-escaped ';'
        Assert.Equal("v1.30.0", doc.Descendants("KubernetesVersion").Single().Value);
        Assert.Equal("true", doc.Descendants("SealerScanRootfs").Single().Value);
        Assert.Equal("team a", doc.Descendants("SealerLabel").First(l => l.Attribute("Include")!.Value == "owner").Attribute("Value")!.Value);
    }
}
