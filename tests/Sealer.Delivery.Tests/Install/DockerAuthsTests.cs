using Sealer.Core.Delivery.Install.Policies;
using Sealer.Core.Diagnostics;

namespace Sealer.Delivery.Tests.Install;

/// <summary><see cref="DockerAuths"/>: the registry's login in a Docker config.json, the file's other entries and settings kept, and taken out again.</summary>
public class DockerAuthsTests
{
    private static readonly string Token = DockerAuths.Token("admin", "s3cret:with-colon");

    [Fact]
    public void The_token_is_what_docker_login_writes()
        => Assert.Equal("YWRtaW46czNjcmV0OndpdGgtY29sb24=", Token); // printf 'admin:s3cret:with-colon' | base64

    [Fact]
    public void Merge_adds_the_login_and_keeps_the_files_own_and_unmerge_takes_it_out_again()
    {
        const string existing = """{"auths":{"harbor.site":{"auth":"b3RoZXI6b25l"},"sea.hub:5000":{"identitytoken":"old"}},"currentContext":"sealer-test","credsStore":"pass"}""";
        string merged = DockerAuths.Merge(existing, ["sea.hub:5000"], Token, "h", DockerAuths.RootDockerConfigPath);
        var json = System.Text.Json.JsonDocument.Parse(merged).RootElement;
        Assert.Equal("sealer-test", json.GetProperty("currentContext").GetString());
        Assert.Equal("pass", json.GetProperty("credsStore").GetString());
        Assert.Equal("b3RoZXI6b25l", json.GetProperty("auths").GetProperty("harbor.site").GetProperty("auth").GetString());
        Assert.Equal(["auth"], json.GetProperty("auths").GetProperty("sea.hub:5000").EnumerateObject().Select(p => p.Name)); // replaced, not mixed
        Assert.Equal(Token, json.GetProperty("auths").GetProperty("sea.hub:5000").GetProperty("auth").GetString());
        Assert.Equal(merged, DockerAuths.Merge(merged, ["sea.hub:5000"], Token, "h", DockerAuths.RootDockerConfigPath)); // idempotent

        var left = System.Text.Json.JsonDocument.Parse(DockerAuths.Unmerge(merged, ["sea.hub:5000"], Token)!).RootElement;
        Assert.Equal(["harbor.site"], left.GetProperty("auths").EnumerateObject().Select(p => p.Name));
        Assert.Equal("sealer-test", left.GetProperty("currentContext").GetString());
    }

    [Fact]
    public void A_file_that_held_only_the_login_is_left_empty_so_that_it_goes()
    {
        string merged = DockerAuths.Merge("", ["sea.hub:5000"], Token, "h", DockerAuths.KubeletConfigPath);
        Assert.Equal($$"""
            {
              "auths": {
                "sea.hub:5000": {
                  "auth": "{{Token}}"
                }
              }
            }

            """, merged);
        Assert.Equal("", DockerAuths.Unmerge(merged, ["sea.hub:5000"], Token));
        // auths emptied, another setting stays
        Assert.Equal("{\n  \"credsStore\": \"pass\"\n}\n", DockerAuths.Unmerge("""{"credsStore":"pass","auths":{"sea.hub:5000":{"auth":"TOKEN"}}}""".Replace("TOKEN", Token, StringComparison.Ordinal), ["sea.hub:5000"], Token));
    }

    [Theory]
    [InlineData("")]
    [InlineData("not json")]
    [InlineData("[]")]
    [InlineData("""{"auths":{"sea.hub:5000":{"auth":"c29tZW9uZTplbHNl"}}}""")] // another's login under the same name
    [InlineData("""{"auths":{"harbor.site":{"auth":"x"}}}""")]
    public void Unmerge_leaves_alone_what_is_not_ours(string existing) => Assert.Null(DockerAuths.Unmerge(existing, ["sea.hub:5000"], Token));

    [Theory]
    [InlineData("[]")]
    [InlineData("{\"auths\":")]
    [InlineData("{\"auths\":[]}")]
    public void A_file_that_cannot_take_the_login_is_an_error_naming_host_and_file_and_never_its_content(string existing)
    {
        var ex = Assert.Throws<SealerException>(() => DockerAuths.Merge(existing, ["sea.hub:5000"], Token, "10.0.0.7", DockerAuths.KubeletConfigPath));
        Assert.Equal(ErrorCodes.RunStepFailed, ex.Code);
        Assert.StartsWith("10.0.0.7: /var/lib/kubelet/config.json", ex.Message, StringComparison.Ordinal);
        Assert.EndsWith("fix it, then run again.", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Token, ex.Message, StringComparison.Ordinal);
    }
}
