using Sealer.Core.Charts;
using Sealer.Core.Diagnostics;
using Sealer.Core.Semver;

namespace Sealer.Charts.Tests.Charts;

public class HelmYamlAndStrValsTests
{
    [Theory]
    [InlineData("a: 8080", "{\"a\":8080}")]
    [InlineData("a: yes", "{\"a\":true}")]
    [InlineData("a: off", "{\"a\":false}")]
    [InlineData("a: 0777", "{\"a\":511}")]
    [InlineData("a: 0x1F", "{\"a\":31}")]
    [InlineData("a: 1_000", "{\"a\":1000}")]
    [InlineData("a: 1e3", "{\"a\":1000}")]
    [InlineData("a: .5", "{\"a\":0.5}")]
    [InlineData("a: '1'", "{\"a\":\"1\"}")]
    [InlineData("a: ~", "{\"a\":null}")]
    [InlineData("a: 2024-01-02", "{\"a\":\"2024-01-02\"}")]
    [InlineData("a: !!str 5", "{\"a\":\"5\"}")]
    [InlineData("1: x", "{\"1\":\"x\"}")]
    [InlineData("base: &b {p: 1, q: 2}\nd:\n  <<: *b\n  q: 3", "{\"base\":{\"p\":1,\"q\":2},\"d\":{\"p\":1,\"q\":3}}")]
    [InlineData("y: 1\nn: 2", "{\"false\":2,\"true\":1}")]
    [InlineData("a: 1\na: 2", "{\"a\":2}")]
    public void Values_yaml_resolves_like_go_yaml_v2_through_json(string yaml, string expected)
        => Assert.Equal(expected, Canon.Of(HelmYaml.ParseValues(yaml, "v.yaml")));

    [Fact]
    public void Block_scalar_with_indented_blank_first_lines_is_accepted_as_libyaml_does()
    {
        // Seen in real helm output (ingress-nginx-like "runtime.yaml: |" then a line of 4 spaces, then "    {}"):
        // libyaml accepts it, YamlDotNet alone does not.
        var v = HelmYaml.ParseValues("a: |\n    \n    {}\nb: 1\n", "v.yaml");
        Assert.Equal("{\"a\":\"\\n{}\\n\",\"b\":1}", Canon.Of(v));
        // A blank line deeper than the content is an error in libyaml (helm: "did not find expected key") and here.
        var ex = Assert.Throws<SealerException>(() => HelmYaml.ParseValues("a: |\n      \n    text\nb: 1\n", "v.yaml"));
        Assert.Equal(ErrorCodes.InvalidValuesFile, ex.Code);
    }

    [Fact]
    public void Values_file_must_be_a_mapping()
    {
        var ex = Assert.Throws<SealerException>(() => HelmYaml.ParseValues("- a\n- b\n", "v.yaml"));
        Assert.Equal(ErrorCodes.InvalidValuesFile, ex.Code);
    }

    [Theory]
    [InlineData("name=value", "{\"name\":\"value\"}")]
    [InlineData("a.b=1,c=true,d=null", "{\"a\":{\"b\":1},\"c\":true,\"d\":null}")]
    [InlineData("list={a,b,c}", "{\"list\":[\"a\",\"b\",\"c\"]}")]
    [InlineData("l[1]=x", "{\"l\":[null,\"x\"]}")]
    [InlineData("l[0].n=1", "{\"l\":[{\"n\":1}]}")]
    [InlineData(@"a=b\,c", "{\"a\":\"b,c\"}")]
    [InlineData(@"a\.b=c", "{\"a.b\":\"c\"}")]
    [InlineData("a=", "{\"a\":\"\"}")]
    [InlineData("a=007", "{\"a\":\"007\"}")]
    [InlineData("a=1.5", "{\"a\":\"1.5\"}")]
    public void Set_parses_like_helm_strvals(string expr, string expected)
        => Assert.Equal(expected, Canon.Of(StrVals.Parse(expr)));

    [Fact]
    public void Set_ints_are_longs_and_set_string_keeps_text()
    {
        Assert.IsType<long>(StrVals.Parse("a=12")["a"]);
        var d = new Dictionary<string, object?>(StringComparer.Ordinal);
        StrVals.ParseIntoString("a=12,b=true", d);
        Assert.Equal("12", d["a"]);
        Assert.Equal("true", d["b"]);
    }

    [Theory]
    [InlineData("a")]
    [InlineData("a.b")]
    [InlineData("a,b=c")]
    [InlineData("l[x]=1")]
    [InlineData("l[-1]=1")]
    [InlineData("a={b,c")]
    public void Bad_set_expressions_are_coded_errors(string expr)
    {
        var ex = Assert.Throws<SealerException>(() => StrVals.Parse(expr));
        Assert.Equal(ErrorCodes.InvalidSetValue, ex.Code);
    }

    [Theory]
    [InlineData("~1.2.0", "1.2.9", true)]
    [InlineData("~1.2.0", "1.3.0", false)]
    [InlineData("^2.0.0", "2.9.1", true)]
    [InlineData("^0.2.0", "0.3.0", false)]
    [InlineData("1.x", "1.7.0", true)]
    [InlineData(">=1.0.0 <2.0.0", "1.5.0", true)]
    [InlineData(">=1.0.0, <2.0.0", "2.0.0", false)]
    [InlineData("1.0.0 - 1.4.0", "1.4.0", true)]
    [InlineData("<1.0.0 || >=3.0.0", "3.1.0", true)]
    [InlineData("*", "1.0.0", true)]
    [InlineData(">=1.0.0", "1.1.0-rc.1", false)]
    [InlineData(">=1.0.0-0", "1.1.0-rc.1", true)]
    [InlineData(">=1.0.0-0 <2.0.0", "1.5.0-beta", false)] // helm 3 (Masterminds 3.2): each comparison must name a pre-release
    [InlineData("1.0.0-alpha - 1.4.0-0", "1.2.0-rc.1", true)]
    [InlineData("", "1.0.0", false)]
    public void Semver_ranges(string constraint, string version, bool ok)
        => Assert.Equal(ok, SemverConstraint.IsSatisfied(constraint, version));
}
