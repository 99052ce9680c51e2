using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Sealer.Core.Diagnostics;
using Sealer.Core.Templating;
using Sealer.Core.Templating.Helm;
using Sealer.Core.Templating.Sprig;

namespace Sealer.Templating.Tests;

/// <summary>
/// Templates are parsed once per text and function table (a library chart such as Bitnami's common under every chart, the
/// same tpl string): the shared trees must behave exactly as a fresh parse under each name.
/// </summary>
public class SharedParseTests
{
    private const string Library = "{{ define \"lib.name\" }}{{ .Chart.Name }}-{{ .Values.x }}{{ end }}{{ define \"lib.bad\" }}{{ index .Values.nope 3 }}{{ end }}";

    private static HelmChartNode Chart(string name, params HelmChartNode[] deps) => new()
    {
        Name = name,
        Metadata = DiffChart.ChartMetadata(name),
        Templates =
        [
            new HelmTemplateFile("templates/_lib.tpl", Library),
            new HelmTemplateFile("templates/a.yaml", "name: {{ include \"lib.name\" . }}"),
        ],
        Files = new Dictionary<string, byte[]>(),
        Dependencies = deps,
    };

    [Fact]
    public void The_same_library_text_under_two_charts_renders_each_charts_own_values()
    {
        var env = new SprigEnvironment();
        var values = DiffChart.LoadValues("x: top\nsub:\n  x: inner");
        var first = HelmEngine.Render(Chart("top", Chart("sub")), DiffChart.TopValues(values, HelmCapabilities.Default), new HelmRenderOptions { Sprig = env });
        var second = HelmEngine.Render(Chart("top", Chart("sub")), DiffChart.TopValues(values, HelmCapabilities.Default), new HelmRenderOptions { Sprig = env });
        Assert.Equal("name: top-top", first["top/templates/a.yaml"]);
        Assert.Equal("name: sub-inner", first["top/charts/sub/templates/a.yaml"]);
        Assert.Equal(first, second);
    }

    [Fact]
    public void A_text_is_parsed_once_per_function_table_and_labelled_per_file()
    {
        var funcs = HelmEngine.CreateFunctions(new SprigEnvironment());
        var a = new TemplateSet(funcs);
        var b = new TemplateSet(funcs);
        a.Parse("a/charts/common/templates/_lib.tpl", Library);
        b.Parse("b/charts/common/templates/_lib.tpl", Library);
        Assert.Same(a.Lookup("lib.name")!.Root, b.Lookup("lib.name")!.Root);
        Assert.Equal("a/charts/common/templates/_lib.tpl", a.Lookup("lib.name")!.ParseName);
        Assert.Equal("b/charts/common/templates/_lib.tpl", b.Lookup("lib.name")!.ParseName);
        Assert.Equal("b/charts/common/templates/_lib.tpl", b.Lookup("b/charts/common/templates/_lib.tpl")!.Name);
        // Another function table parses for itself (a text may name a function one table lacks).
        var c = new TemplateSet(HelmEngine.CreateFunctions(new SprigEnvironment()));
        c.Parse("c.tpl", Library);
        Assert.NotSame(a.Lookup("lib.name")!.Root, c.Lookup("lib.name")!.Root);
    }

    [Fact]
    public void An_error_in_a_shared_template_names_the_file_it_ran_from()
    {
        var env = new SprigEnvironment();
        foreach (var chart in new[] { "one", "two" })
        {
            var root = new HelmChartNode
            {
                Name = chart,
                Metadata = DiffChart.ChartMetadata(chart),
                Templates =
                [
                    new HelmTemplateFile("templates/_lib.tpl", Library),
                    new HelmTemplateFile("templates/a.yaml", "{{ include \"lib.bad\" . }}"),
                ],
                Files = new Dictionary<string, byte[]>(),
            };
            var ex = Assert.Throws<TemplateException>(() => HelmEngine.Render(root, DiffChart.TopValues(null, HelmCapabilities.Default), new HelmRenderOptions { Sprig = env }));
            Assert.Contains($"template: {chart}/templates/_lib.tpl:1:", ex.Message);
        }
    }

    [Fact]
    public void A_parse_error_in_a_text_parsed_before_under_another_name_names_the_new_file()
    {
        var set1 = new TemplateSet(HelmEngine.CreateFunctions(new SprigEnvironment()));
        var set2 = new TemplateSet(set1.Functions);
        var e1 = Assert.Throws<TemplateException>(() => set1.Parse("a.yaml", "x\n{{ .x "));
        var e2 = Assert.Throws<TemplateException>(() => set2.Parse("b.yaml", "x\n{{ .x "));
        Assert.StartsWith("template: a.yaml:2: unclosed action", e1.Message);
        Assert.StartsWith("template: b.yaml:2: unclosed action", e2.Message);
        Assert.Equal("b.yaml", e2.TemplateName);
    }

    [Fact]
    public void A_define_named_like_its_own_file_keeps_Gos_rules()
    {
        var env = new SprigEnvironment();
        var funcs = HelmEngine.CreateFunctions(env);
        var text = "{{ define \"f\" }}defined{{ end }}";
        // Parsed under another name first (so the text is cached), then as "f": the define wins over the empty main body.
        var warm = new TemplateSet(funcs);
        warm.Parse("other", text);
        var set = new TemplateSet(funcs);
        set.Parse("f", text);
        Assert.Equal("defined", set.Execute("f", null));
        Assert.Equal("defined", warm.Execute("f", null));
        Assert.Equal("", warm.Execute("other", null));
    }

    [Fact]
    public void A_define_inside_tpl_is_seen_by_that_tpl_only()
    {
        var root = new HelmChartNode
        {
            Name = "r",
            Metadata = DiffChart.ChartMetadata("r"),
            Templates =
            [
                new HelmTemplateFile("templates/_h.tpl", "{{ define \"x\" }}original{{ end }}"),
                new HelmTemplateFile("templates/a.yaml",
                    "{{ tpl \"{{ define \\\"x\\\" }}replaced{{ end }}{{ include \\\"x\\\" . }}\" . }} {{ include \"x\" . }} {{ tpl \"{{ include \\\"x\\\" . }}\" . }}"),
            ],
            Files = new Dictionary<string, byte[]>(),
        };
        var result = HelmEngine.Render(root, DiffChart.TopValues(null, HelmCapabilities.Default));
        Assert.Equal("replaced original original", result["r/templates/a.yaml"]);
    }
}

/// <summary>Discovery renders make TLS material with one key per process (<see cref="SprigEnvironment.ReuseKeys"/>); other renders a key per call.</summary>
public class ReusedKeyTests
{
    private static string Run(SprigEnvironment env, string text)
    {
        var set = new TemplateSet(HelmEngine.CreateFunctions(env));
        set.Parse("t", text);
        return set.Execute("t", null);
    }

    private const string TwoCerts = "{{ $ca := genCA \"ca\" 30 }}{{ $c := genSignedCert \"svc\" nil (list \"svc\") 10 $ca }}{{ $ca.Cert }}@@{{ $ca.Key }}@@{{ $c.Cert }}@@{{ $c.Key }}@@{{ genPrivateKey \"rsa\" }}";

    [Fact]
    public void With_reused_keys_certificates_are_still_real_and_chain_but_share_one_key()
    {
        var parts = Run(HelmRenderOptions.DiscoverySprig, TwoCerts).Split("@@");
        using var ca = X509Certificate2.CreateFromPem(parts[0], parts[1]);
        using var leaf = X509Certificate2.CreateFromPem(parts[2], parts[3]);
        Assert.Equal("CN=ca", ca.Subject);
        Assert.Equal("CN=svc", leaf.Subject);
        Assert.Equal(ca.Subject, leaf.Issuer);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        Assert.True(chain.Build(leaf), string.Join(", ", chain.ChainStatus.Select(s => s.StatusInformation)));
        Assert.Equal(parts[1], parts[3]);
        using var rsa = RSA.Create();
        rsa.ImportFromPem(parts[4]);
        Assert.Equal(parts[1].Trim(), parts[4].Trim());
        // A second render in the same process hands out the same key again.
        Assert.Equal(parts[1], Run(HelmRenderOptions.DiscoverySprig, TwoCerts).Split("@@")[1]);
    }

    [Fact]
    public void Without_reused_keys_every_call_makes_its_own_key()
    {
        var parts = Run(new SprigEnvironment(), "{{ (genCA \"a\" 30).Key }}@@{{ (genCA \"b\" 30).Key }}").Split("@@");
        Assert.NotEqual(parts[0], parts[1]);
        Assert.False(HelmRenderOptions.ReproducibleSprig.ReuseKeys);
    }
}
