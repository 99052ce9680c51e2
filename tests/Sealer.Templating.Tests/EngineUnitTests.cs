using System.Security.Cryptography.X509Certificates;
using Sealer.Core.Diagnostics;
using Sealer.Core.Semver;
using Sealer.Core.Templating;
using Sealer.Core.Templating.Helm;
using Sealer.Core.Templating.Sprig;

namespace Sealer.Templating.Tests;

public class ParseErrorTests
{
    public static TheoryData<string, string> Cases => new()
    {
        { "{{ .x ", "template: t:1: unclosed action" },
        { "a\nb\n{{ .x ", "template: t:3: unclosed action" },
        { "{{ end }}", "template: t:1: unexpected {{end}}" },
        { "{{ if 1 }}", "template: t:1: unexpected EOF" },
        { "{{ $x }}", "template: t:1: undefined variable \"$x\"" },
        { "{{ nofn }}", "template: t:1: function \"nofn\" not defined" },
        { "{{ 1 | 2 }}", "template: t:1: non executable command in pipeline stage 2" },
        { "{{ \"abc }}", "template: t:1: unterminated quoted string" },
        { "{{ break }}", "template: t:1: {{break}} outside {{range}}" },
        { "{{ range $a, $b, $c := . }}{{ end }}", "template: t:1: too many declarations in range" },
        { "{{ define \"a\" }}x", "template: t:1: unexpected EOF" },
        { "{{ else }}", "template: t:1: unexpected {{else}}" },
        { "{{ 3x }}", "template: t:1: bad number syntax: \"3x\"" },
        { "{{ if }}{{ end }}", "template: t:1: missing value for if" },
        { "{{ ) }}", "template: t:1: unexpected right paren" },
        { "{{ /* x */ }}", "template: t:1: unexpected \"/\" in command" },
        { "{{/* x */ y }}", "template: t:1: comment ends before closing delimiter" },
        { "{{ template foo }}", "template: t:1: unexpected \"foo\" in template clause" },
        { "{{ 1.a }}", "template: t:1: bad number syntax: \"1.a\"" },
        { "{{ \"a\".b }}", "template: t:1: unexpected . after term \"\\\"a\\\"\"" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Parse_errors_match_Go(string text, string expected)
    {
        var set = new TemplateSet(HelmEngine.CreateFunctions(new SprigEnvironment()));
        var ex = Assert.Throws<TemplateException>(() => set.Parse("t", text));
        Assert.Equal(ErrorCodes.TemplateParseError, ex.Code);
        Assert.Equal("t", ex.TemplateName);
        Assert.True(ex.Line > 0);
        Assert.StartsWith(expected, ex.Message);
    }

    [Fact]
    public void Parses_without_errors()
    {
        var set = new TemplateSet();
        set.Parse("t", "{{- /* c */ -}} {{ range $i, $e := . }}{{ if eq $i 0 }}{{ continue }}{{ end }}{{ $e }}{{ else }}x{{ end }}");
        Assert.True(set.Has("t"));
    }
}

public class ExecTests
{
    private static string Run(string text, object? data, MissingKeyMode mode = MissingKeyMode.Zero)
    {
        var set = new TemplateSet(HelmEngine.CreateFunctions(new SprigEnvironment { RandomSeed = 7 })) { MissingKey = mode };
        set.Parse("t", text);
        return set.Execute("t", data);
    }

    private static Dictionary<string, object?> Map(params (string K, object? V)[] kv)
    {
        var d = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (k, v) in kv) d[k] = v;
        return d;
    }

    [Fact]
    public void Nil_pointer_error_has_Go_message_and_location()
    {
        var ex = Assert.Throws<TemplateException>(() => Run("a\n  {{ .Values.foo.bar }}", Map(("Values", Map()))));
        Assert.Equal("template: t:2:12: executing \"t\" at <.Values.foo.bar>: nil pointer evaluating interface {}.bar", ex.Message);
        Assert.Equal(2, ex.Line);
        Assert.Equal(13, ex.Column);
        Assert.Equal(ErrorCodes.TemplateExecError, ex.Code);
    }

    [Fact]
    public void Columns_are_UTF8_bytes_like_Go()
    {
        var ex = Assert.Throws<TemplateException>(() => Run("é {{ .a.b.c }}", Map()));
        Assert.StartsWith("template: t:1:8: executing", ex.Message);
    }

    [Theory]
    [InlineData(MissingKeyMode.Default, "<no value>")]
    [InlineData(MissingKeyMode.Zero, "<no value>")]
    public void Missing_key_prints_no_value(MissingKeyMode mode, string expected) => Assert.Equal(expected, Run("{{ .x }}", Map(), mode));

    [Fact]
    public void Missing_key_error_mode()
    {
        var ex = Assert.Throws<TemplateException>(() => Run("{{ .x }}", Map(), MissingKeyMode.Error));
        Assert.Contains("map has no entry for key \"x\"", ex.Message);
    }

    [Fact]
    public void Missing_key_default_does_not_fail_on_chains() => Assert.Equal("<no value>", Run("{{ .a.b.c }}", Map(), MissingKeyMode.Default));

    [Fact]
    public void Variables_scope_and_assign() =>
        Assert.Equal("1 2 3", Run("{{ $x := 1 }}{{ $x }} {{ range .l }}{{ $x = . }}{{ end }}{{ $x }} {{ with 3 }}{{ . }}{{ end }}", Map(("l", new List<object?> { 1L, 2L }))));

    [Fact]
    public void Range_map_sorted_keys() =>
        Assert.Equal("a=1;b=2;c=3;", Run("{{ range $k, $v := . }}{{ $k }}={{ $v }};{{ end }}", Map(("c", 3L), ("a", 1L), ("b", 2L))));

    [Fact]
    public void Define_template_and_block() =>
        Assert.Equal("[x][b]", Run("{{ define \"d\" }}[{{ . }}]{{ end }}{{ template \"d\" \"x\" }}{{ block \"bl\" . }}[b]{{ end }}", null));

    [Fact]
    public void Later_definition_wins()
    {
        var set = new TemplateSet();
        set.Parse("a", "{{ define \"x\" }}first{{ end }}");
        set.Parse("b", "{{ define \"x\" }}second{{ end }}{{ template \"x\" }}");
        set.Parse("c", "{{ define \"x\" }}{{ end }}");
        Assert.Equal("second", set.Execute("b", null));
    }

    [Fact]
    public void Values_double_print_like_Go()
    {
        Assert.Equal("8080 1e+06 3.5 100000 1.5e-07", Run("{{ .a }} {{ .b }} {{ .c }} {{ .d }} {{ .e }}", Map(("a", 8080.0), ("b", 1000000.0), ("c", 3.5), ("d", 100000.0), ("e", 1.5e-7))));
    }

    [Fact]
    public void Eq_incompatible_types()
    {
        var ex = Assert.Throws<TemplateException>(() => Run("{{ eq .a 1 }}", Map(("a", 1.0))));
        Assert.Contains("error calling eq: incompatible types for comparison", ex.Message);
        Assert.Equal("true false", Run("{{ eq .a 1.0 }} {{ eq .missing \"x\" }}", Map(("a", 1.0))));
    }

    [Fact]
    public void Include_recursion_limit()
    {
        var root = new HelmChartNode
        {
            Name = "r",
            Metadata = DiffChart.ChartMetadata("r"),
            Templates = [new HelmTemplateFile("templates/a.yaml", "{{ define \"loop\" }}{{ include \"loop\" . }}{{ end }}{{ include \"loop\" . }}")],
            Files = new Dictionary<string, byte[]>(),
        };
        var ex = Assert.Throws<TemplateException>(() => HelmEngine.Render(root, DiffChart.TopValues(null, HelmCapabilities.Default)));
        Assert.Contains("rendering template has a nested reference name: loop", ex.Message);
    }

    [Fact]
    public void Fail_becomes_helm_execution_error()
    {
        var root = new HelmChartNode
        {
            Name = "r",
            Metadata = DiffChart.ChartMetadata("r"),
            Templates =
            [
                new HelmTemplateFile("templates/a.yaml", "a\n{{ include \"x\" . }}", "/src/r/templates/a.yaml"),
                new HelmTemplateFile("templates/_h.tpl", "{{ define \"x\" }}\n  {{ required \"need it\" .Values.q }}{{ end }}"),
            ],
            Files = new Dictionary<string, byte[]>(),
        };
        var ex = Assert.Throws<TemplateException>(() => HelmEngine.Render(root, DiffChart.TopValues(null, HelmCapabilities.Default)));
        Assert.Equal("execution error at (r/templates/a.yaml:2:3): need it", ex.Message);
        Assert.Equal(ErrorCodes.TemplateRequiredValue, ex.Code);
        Assert.Equal("/src/r/templates/a.yaml", ex.File);
        Assert.Equal(2, ex.Line);
    }

    [Fact]
    public void A_cancelled_render_throws_OperationCanceledException()
    {
        var root = new HelmChartNode
        {
            Name = "r",
            Metadata = DiffChart.ChartMetadata("r"),
            Templates = [new HelmTemplateFile("templates/a.yaml", "x")],
            Files = new Dictionary<string, byte[]>(),
        };
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => HelmEngine.Render(root, DiffChart.TopValues(null, HelmCapabilities.Default), null, cts.Token));
    }

    [Fact]
    public void Rand_is_reproducible_with_seed()
    {
        var a = Run("{{ randAlphaNum 16 }} {{ uuidv4 }}", null);
        var b = Run("{{ randAlphaNum 16 }} {{ uuidv4 }}", null);
        Assert.Equal(a, b);
        Assert.Matches("^[A-Za-z0-9]{16} [0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", a);
    }
}

public class PrintfTests
{
    public static TheoryData<string, object?[], string> Cases => new()
    {
        { "%5.2f", [3.14159], " 3.14" },
        { "%-5d|", [42L], "42   |" },
        { "%05d", [-42L], "-0042" },
        { "%x %X", ["hi", 255L], "6869 FF" },
        { "%q", ["a\"b\n"], "\"a\\\"b\\n\"" },
        { "%v %v %v %v %v %v", [1e6, 100000.0, 3.0, 1e21, 0.0001, 0.00001], "1e+06 100000 3 1e+21 0.0001 1e-05" },
        { "%e", [1234.5678], "1.234568e+03" },
        { "%g %.3g %G", [1e-7, 1234.0, 1e21], "1e-07 1.23e+03 1E+21" },
        { "%t %v", [true, false], "true false" },
        { "%d", ["x"], "%!d(string=x)" },
        { "%s", [], "%!s(MISSING)" },
        { "%s", ["a", "b"], "a%!(EXTRA string=b)" },
        { "%d", [1.5], "%!d(float64=1.5)" },
        { "%s", [5L], "%!s(int=5)" },
        { "%v|%s|%d", [null, null, null], "<nil>|%!s(<nil>)|%!d(<nil>)" },
        { "%08.3f", [-3.14159], "-003.142" },
        { "%+d %+.1f", [5L, 2.0], "+5 +2.0" },
        { "%c %U %#U", [65L, 0x1F600L, 65L], "A U+1F600 U+0041 'A'" },
        { "%o %#o %b %#x", [8L, 8L, 5L, 255L], "10 010 101 0xff" },
        { "%10s|%-4s|%.2s", ["abc", "x", "abcdef"], "       abc|x   |ab" },
        { "%f", [1e21], "1000000000000000000000.000000" },
        { "%.0f %.1f", [2.5, 0.05], "2 0.1" },
        { "%[2]s %[1]s", ["a", "b"], "b a" },
        { "%*d|%-*d|", [4L, 7L, 3L, 1L], "   7|1  |" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_Go_fmt(string format, object?[] args, string expected) => Assert.Equal(expected, GoFmt.Sprintf(format, args));

    [Fact]
    public void Maps_and_lists_print_like_Go()
    {
        var m = new Dictionary<string, object?>(StringComparer.Ordinal) { ["b"] = 2.0, ["a"] = new List<object?> { "x", null } };
        Assert.Equal("map[a:[x <nil>] b:2]", GoFmt.Sprintf("%v", [m]));
        Assert.Equal("map[string]interface {}", GoFmt.Sprintf("%T", [m]));
        Assert.Equal("[1 2]", GoFmt.Sprintf("%d", [new List<object?> { 1L, 2L }]));
    }
}

public class ToYamlTests
{
    private static Dictionary<string, object?> M(params (string K, object? V)[] kv)
    {
        var d = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (k, v) in kv) d[k] = v;
        return d;
    }

    public static TheoryData<object?, string> Cases => new()
    {
        { M(("a", "yes"), ("b", "on"), ("c", "1.0"), ("d", ""), ("e", "123"), ("f", "null"), ("g", "~")), "a: \"yes\"\nb: \"on\"\nc: \"1.0\"\nd: \"\"\ne: \"123\"\nf: \"null\"\ng: \"~\"\n" },
        { M(("a", "2023-01-01"), ("b", "0x1F"), ("c", "1e3"), ("d", "1:20")), "a: \"2023-01-01\"\nb: \"0x1F\"\nc: \"1e3\"\nd: \"1:20\"\n" },
        { M(("a", "*x"), ("b", "a: b"), ("c", " lead"), ("d", "trail "), ("e", "it's"), ("f", "- d")), "a: '*x'\nb: 'a: b'\nc: ' lead'\nd: 'trail '\ne: it's\nf: '- d'\n" },
        { M(("m", M()), ("l", new List<object?>())), "l: []\nm: {}\n" },
        { M(("a", "x\ny"), ("b", "x\ny\n"), ("c", "x\n\n"), ("d", " x\ny")), "a: |-\n  x\n  y\nb: |\n  x\n  y\nc: |+\n  x\n\nd: |2-\n   x\n  y\n" },
        { M(("a", "tab\there"), ("b", "sp  \nx")), "a: \"tab\\there\"\nb: \"sp  \\nx\"\n" },
        { M(("l", new List<object?> { M(("a", 1.0), ("b", new List<object?> { "x" })), new List<object?> { 1L, 2L } })), "l:\n- a: 1\n  b:\n  - x\n- - 1\n  - 2\n" },
        { M(("n", M(("deep", M(("k", true)))))), "\"n\":\n  deep:\n    k: true\n" },
        { M(("i", 1.0), ("f", 1.5), ("big", 1e21), ("small", 0.000001), ("neg", -3.0)), "big: 1e+21\nf: 1.5\ni: 1\nneg: -3\nsmall: 1e-06\n" },
        { M(("b10", 1L), ("b9", 2L), ("a", 3L)), "a: 3\nb9: 2\nb10: 1\n" },
        { "plain", "plain\n" },
        { null, "null\n" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Marshals_like_sigs_k8s_yaml(object? value, string expected) => Assert.Equal(expected, GoYaml.Marshal(value));

    [Fact]
    public void Long_plain_strings_fold_at_80_columns()
    {
        var s = string.Join(' ', Enumerable.Repeat("word", 30));
        var y = GoYaml.Marshal(M(("k", s)));
        Assert.All(y.TrimEnd('\n').Split('\n'), line => Assert.True(line.Length <= 84, line));
        Assert.StartsWith("k: word word", y);
        Assert.Contains("\n  word", y);
    }

    [Fact]
    public void Unmarshal_uses_YAML_1_1_and_float64()
    {
        var v = (Dictionary<string, object?>)GoYaml.Unmarshal("a: 1\nb: yes\nc: \"yes\"\nd: 1.5\ne: ~\nf: [on, off]\ng: 0x10\n")!;
        Assert.Equal(1.0, v["a"]);
        Assert.Equal(true, v["b"]);
        Assert.Equal("yes", v["c"]);
        Assert.Equal(1.5, v["d"]);
        Assert.Null(v["e"]);
        Assert.Equal(new List<object?> { true, false }, v["f"]);
        Assert.Equal(16.0, v["g"]);
    }
}

public class SemverTests
{
    [Theory]
    [InlineData(">=1.20.0", "1.25.3", true)]
    [InlineData(">=1.20.0", "1.19.9", false)]
    [InlineData("^1.2.0", "1.9.0", true)]
    [InlineData("^1.2.0", "2.0.0", false)]
    [InlineData("^0.2.3", "0.2.9", true)]
    [InlineData("^0.2.3", "0.3.0", false)]
    [InlineData("~1.2.0", "1.2.9", true)]
    [InlineData("~1.2.0", "1.3.0", false)]
    [InlineData(">=1.2, <1.5", "1.4.9", true)]
    [InlineData(">=1.2 <1.5 || >=2", "1.6.0", false)]
    [InlineData(">=1.2 <1.5 || >=2", "2.1.0", true)]
    [InlineData("1.2 - 1.4", "1.4.0", true)]
    [InlineData("1.x", "1.9.0", true)]
    [InlineData("!=1.2.3", "1.2.3", false)]
    [InlineData(">=1.20-0", "v1.32.0-eks-1", true)]
    [InlineData(">=1.20", "1.21.0-rc.1", false)]
    [InlineData("*", "3.0.0", true)]
    [InlineData("<2", "1.99.0", true)]
    public void Constraint_check_matches_Masterminds_semver(string constraint, string version, bool expected) => Assert.Equal(expected, SemverConstraint.Check(constraint, version));
}

public class CryptoTests
{
    private static string Run(string text)
    {
        var set = new TemplateSet(HelmEngine.CreateFunctions(new SprigEnvironment()));
        set.Parse("t", text);
        return set.Execute("t", null);
    }

    [Fact]
    public void GenCA_produces_a_real_CA_certificate()
    {
        var pem = Run("{{ $ca := genCA \"my-ca\" 365 }}{{ $ca.Cert }}");
        using var cert = X509Certificate2.CreateFromPem(pem);
        Assert.Equal("CN=my-ca", cert.Subject);
        var bc = cert.Extensions.OfType<X509BasicConstraintsExtension>().Single();
        Assert.True(bc.CertificateAuthority);
        Assert.InRange((cert.NotAfter - DateTime.Now).TotalDays, 363, 366);
    }

    [Fact]
    public void GenSignedCert_chains_to_the_CA()
    {
        var text = Run("{{ $ca := genCA \"ca\" 30 }}{{ $c := genSignedCert \"svc.local\" (list \"10.0.0.1\") (list \"svc.local\" \"svc\") 10 $ca }}{{ $ca.Cert }}@@{{ $c.Cert }}@@{{ $c.Key }}");
        var parts = text.Split("@@");
        using var ca = X509Certificate2.CreateFromPem(parts[0]);
        using var leaf = X509Certificate2.CreateFromPem(parts[1], parts[2]);
        Assert.True(leaf.HasPrivateKey);
        Assert.Equal("CN=svc.local", leaf.Subject);
        Assert.Equal(ca.Subject, leaf.Issuer);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        Assert.True(chain.Build(leaf), string.Join(", ", chain.ChainStatus.Select(s => s.StatusInformation)));
        var san = leaf.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
        Assert.Contains("svc", san.EnumerateDnsNames());
    }

    [Fact]
    public void Self_signed_and_private_keys()
    {
        var pem = Run("{{ (genSelfSignedCert \"me\" nil nil 5).Cert }}");
        using var cert = X509Certificate2.CreateFromPem(pem);
        Assert.Equal(cert.Subject, cert.Issuer);
        Assert.StartsWith("-----BEGIN EC PRIVATE KEY-----", Run("{{ genPrivateKey \"ecdsa\" }}"));
    }

    [Fact]
    public void Aes_round_trips_and_htpasswd_verifies()
    {
        Assert.Equal("secret text", Run("{{ encryptAES \"pw\" \"secret text\" | decryptAES \"pw\" }}"));
        var h = Run("{{ htpasswd \"user\" \"pass\" }}");
        Assert.StartsWith("user:$2a$10$", h);
        Assert.True(BCrypt.Net.BCrypt.Verify("pass", h["user:".Length..]));
    }

    [Fact]
    public void DerivePassword_matches_the_Master_Password_algorithm()
    {
        // Known vector from sprig's tests: derivePassword 1 "long" "password" "user" "example.com"
        Assert.Equal("ZedaFaxcZaso9*", Run("{{ derivePassword 1 \"long\" \"password\" \"user\" \"example.com\" }}"));
    }
}

public class ReproducibilityTests
{
    [Fact]
    public void Random_functions_restart_per_render()
    {
        var root = new HelmChartNode
        {
            Name = "r",
            Metadata = DiffChart.ChartMetadata("r"),
            Templates = [new HelmTemplateFile("templates/a.yaml", "{{ randAlphaNum 10 }} {{ uuidv4 }} {{ now | date \"2006-01-02\" }}")],
            Files = new Dictionary<string, byte[]>(),
        };
        var a = HelmEngine.Render(root, DiffChart.TopValues(null, HelmCapabilities.Default))["r/templates/a.yaml"];
        var b = HelmEngine.Render(root, DiffChart.TopValues(null, HelmCapabilities.Default))["r/templates/a.yaml"];
        Assert.Equal(a, b);
        Assert.EndsWith(" 2026-01-01", a);
    }
}

public class ConcurrencyTests
{
    [Fact]
    public void Parallel_renders_are_independent_and_identical()
    {
        var root = new HelmChartNode
        {
            Name = "p",
            Metadata = DiffChart.ChartMetadata("p"),
            Templates =
            [
                new HelmTemplateFile("templates/_h.tpl", "{{ define \"p.n\" }}{{ .Release.Name }}-{{ .Values.x }}{{ end }}"),
                new HelmTemplateFile("templates/a.yaml", "{{ include \"p.n\" . }} {{ randAlphaNum 8 }} {{ toYaml .Values }}"),
            ],
            Files = new Dictionary<string, byte[]>(),
        };
        var expected = HelmEngine.Render(root, DiffChart.TopValues(DiffChart.LoadValues("x: 1\ny: [a]"), HelmCapabilities.Default));
        var results = new IReadOnlyDictionary<string, string>[16];
        Parallel.For(0, results.Length, i => results[i] = HelmEngine.Render(root, DiffChart.TopValues(DiffChart.LoadValues("x: 1\ny: [a]"), HelmCapabilities.Default)));
        Assert.All(results, r => Assert.Equal(expected["p/templates/a.yaml"], r["p/templates/a.yaml"]));
    }
}

public class DepthTests
{
    [Fact]
    public void Self_recursive_template_fails_cleanly()
    {
        var root = new HelmChartNode
        {
            Name = "d",
            Metadata = DiffChart.ChartMetadata("d"),
            Templates = [new HelmTemplateFile("templates/a.yaml", "{{ define \"r\" }}{{ template \"r\" . }}{{ end }}{{ template \"r\" . }}")],
            Files = new Dictionary<string, byte[]>(),
        };
        var ex = Assert.Throws<TemplateException>(() => HelmEngine.Render(root, HelmEngine.TopLevelValues(new Dictionary<string, object?>())));
        Assert.Contains("exceeded maximum template depth", ex.Message);
        Assert.Equal(Sealer.Core.Diagnostics.ErrorCodes.TemplateRecursionLimit, ex.Code);
    }
}

public class JsonYamlErrorTests
{
    [Fact]
    public void Non_finite_floats_make_toYaml_and_toJson_empty_like_helm()
    {
        var set = new TemplateSet(HelmEngine.CreateFunctions(HelmRenderOptions.ReproducibleSprig));
        set.Parse("t", "[{{ toYaml .x }}][{{ toJson .x }}]");
        Assert.Equal("[][]", set.Execute("t", new Dictionary<string, object?> { ["x"] = new Dictionary<string, object?> { ["n"] = double.NaN } }));
        set.Parse("u", "{{ mustToJson .x }}");
        Assert.Throws<TemplateException>(() => set.Execute("u", new Dictionary<string, object?> { ["x"] = double.PositiveInfinity }));
    }
}
