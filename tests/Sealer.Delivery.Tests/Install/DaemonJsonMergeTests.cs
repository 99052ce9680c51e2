using Sealer.Core.Delivery.Install.Policies;
using Sealer.Core.Diagnostics;

namespace Sealer.Delivery.Tests.Install;

/// <summary><see cref="DaemonJsonMerge"/>: our mirrors in Docker's daemon.json, the host's settings kept.</summary>
public class DaemonJsonMergeTests
{
    private const string Ours = """{"registry-mirrors":["https://10.0.0.1:5000"],"insecure-registries":["10.0.0.1:5000"]}""";

    [Fact]
    public void Daemon_json_keeps_the_hosts_settings_and_puts_our_mirrors_first()
    {
        const string existing = """{"log-driver":"json-file","registry-mirrors":["https://old.example"],"data-root":"/data/docker"}""";
        var merged = System.Text.Json.JsonDocument.Parse(DaemonJsonMerge.Merge(existing, Ours, "h")).RootElement;
        Assert.Equal("json-file", merged.GetProperty("log-driver").GetString());
        Assert.Equal("/data/docker", merged.GetProperty("data-root").GetString());
        Assert.Equal(["https://10.0.0.1:5000", "https://old.example"], merged.GetProperty("registry-mirrors").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["10.0.0.1:5000"], merged.GetProperty("insecure-registries").EnumerateArray().Select(e => e.GetString()));
        // idempotent
        var again = DaemonJsonMerge.Merge(DaemonJsonMerge.Merge(existing, Ours, "h"), Ours, "h");
        Assert.Equal(2, System.Text.Json.JsonDocument.Parse(again).RootElement.GetProperty("registry-mirrors").GetArrayLength());
    }

    [Theory]
    [InlineData("")]
    [InlineData("  \n")]
    public void No_daemon_json_is_ours(string existing) => Assert.Equal(Ours, DaemonJsonMerge.Merge(existing, Ours, "h"));

    [Theory]
    [InlineData("[]")]
    [InlineData("{\"a\":")]
    [InlineData("not json")]
    public void A_daemon_json_that_is_not_an_object_is_an_error_naming_the_host(string existing)
    {
        var ex = Assert.Throws<SealerException>(() => DaemonJsonMerge.Merge(existing, Ours, "10.0.0.7"));
        Assert.Equal(ErrorCodes.RunStepFailed, ex.Code);
        Assert.StartsWith("10.0.0.7: /etc/docker/daemon.json is not a JSON object", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unmerge_takes_out_what_merge_added_and_keeps_the_hosts_own()
    {
        const string existing = """{"log-driver":"json-file","registry-mirrors":["https://old.example"],"data-root":"/data/docker"}""";
        var left = DaemonJsonMerge.Unmerge(DaemonJsonMerge.Merge(existing, Ours, "h"), Ours);
        Assert.NotNull(left);
        var json = System.Text.Json.JsonDocument.Parse(left).RootElement;
        Assert.Equal(["log-driver", "registry-mirrors", "data-root"], json.EnumerateObject().Select(p => p.Name)); // insecure-registries: ours alone, gone with its key
        Assert.Equal(["https://old.example"], json.GetProperty("registry-mirrors").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("/data/docker", json.GetProperty("data-root").GetString());
        // a daemon.json that was ours alone keeps no empty list behind
        Assert.Equal("{}\n", DaemonJsonMerge.Unmerge(Ours, Ours));
    }

    [Theory]
    [InlineData("")]
    [InlineData("""{"registry-mirrors":["https://old.example"],"insecure-registries":["10.0.0.2:5000"]}""")]
    [InlineData("""{"registry-mirrors":"https://10.0.0.1:5000"}""")]
    [InlineData("[]")]
    [InlineData("not json")]
    public void Unmerge_leaves_alone_a_daemon_json_without_ours_or_not_an_object(string existing) => Assert.Null(DaemonJsonMerge.Unmerge(existing, Ours));

    [Theory]
    [InlineData("")]
    [InlineData("{\"registry-mirrors\":[\"https://10.0.0.1:50")] // a record cut short
    [InlineData("[]")]
    [InlineData("{\"registry-mirrors\":[5, null]}")]
    public void A_damaged_record_of_what_was_merged_takes_nothing_out(string record)
        => Assert.Null(DaemonJsonMerge.Unmerge("""{"registry-mirrors":["https://10.0.0.1:5000"]}""", record));
}
