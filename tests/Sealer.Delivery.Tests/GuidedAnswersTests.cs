using Sealer.Core.Delivery;
using Sealer.Core.Delivery.Clusterfile;
using Sealer.Core.Delivery.Guided;
using Sealer.Core.Diagnostics;

namespace Sealer.Delivery.Tests;

/// <summary>What the guided run checks as the user answers, and the Clusterfile it writes from the answers.</summary>
public class GuidedAnswersTests
{
    [Theory]
    [InlineData("10.0.0.1", new[] { "10.0.0.1" })]
    [InlineData("10.0.0.1, 10.0.0.3", new[] { "10.0.0.1", "10.0.0.3" })]
    [InlineData("10.0.0.1-10.0.0.3 10.0.0.9", new[] { "10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.9" })]
    [InlineData(" 10.0.0.254-10.0.1.1;", new[] { "10.0.0.254", "10.0.0.255", "10.0.1.0", "10.0.1.1" })]
    [InlineData("", new string[0])]
    public void Host_lists_take_addresses_and_ranges_separated_by_commas_or_spaces(string answer, string[] expected)
    {
        Assert.Equal(expected, HostList.Parse(answer));
        Assert.Null(HostList.Validate(answer, allowEmpty: true));
    }

    [Theory]
    [InlineData("10.0.0.300", "'10.0.0.300' is not an IP address")]
    [InlineData("10.0.0.5-10.0.0.1", "ends before it starts")]
    [InlineData("10.0.0.1-10.1.0.1", "more than 4096 addresses")]
    [InlineData("10.0.0.1,10.0.0.1", "10.0.0.1 is listed twice")]
    [InlineData("10.0.0.1-10.0.0.3,10.0.0.2", "10.0.0.2 is listed twice")]
    [InlineData("master1", "'master1' is not an IP address")]
    public void A_bad_host_list_is_refused_with_what_is_wrong(string answer, string message)
    {
        var problem = HostList.Validate(answer, allowEmpty: false);
        Assert.NotNull(problem);
        Assert.Contains(message, problem, StringComparison.Ordinal);
        var ex = Assert.Throws<SealerException>(() => HostList.Parse(answer));
        Assert.Equal(ErrorCodes.GuidedBadAnswer, ex.Code);
    }

    [Fact]
    public void Masters_are_required_and_a_node_cannot_also_be_a_master()
    {
        Assert.Contains("at least one address", HostList.Validate("  ", allowEmpty: false), StringComparison.Ordinal);
        Assert.Contains("10.0.0.2 is already a master", HostList.Validate("10.0.0.2-10.0.0.4", allowEmpty: true, ["10.0.0.1", "10.0.0.2"]), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("10.0.0.1", true, true, "1 host: 10.0.0.1")]
    [InlineData("10.0.0.1-10.0.0.3, 10.0.0.9", false, true, "4 hosts: 10.0.0.1-10.0.0.3,10.0.0.9")]
    [InlineData("", true, true, "none")]
    [InlineData("10.0.0.", false, false, "'10.0.0.' is not an IP address")]
    [InlineData("10.0.0.1-10.0.0", false, false, "10.0.0")]
    [InlineData("", false, false, "give at least one address")]
    public void A_host_list_checked_as_it_is_typed_says_what_is_wrong_or_how_many_hosts_it_names(string answer, bool allowEmpty, bool good, string shown)
    {
        var check = HostList.Check(answer, allowEmpty);
        Assert.Equal(good, check.IsGood);
        Assert.Contains(shown, check.IsGood ? check.Understood : check.Problem, StringComparison.Ordinal);
        Assert.True(check.IsGood ? check.Problem is null : check.Understood is null);
    }

    [Fact]
    public void A_host_list_checked_as_it_is_typed_refuses_a_master_as_node()
    {
        var check = HostList.Check("10.0.0.1,10.0.0.2", allowEmpty: true, ["10.0.0.2"]);
        Assert.False(check.IsGood);
        Assert.Contains("10.0.0.2 is already a master", check.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Host_lists_are_shown_back_with_ranges()
    {
        Assert.Equal("10.0.0.1-10.0.0.3,10.0.0.7,10.0.0.9,10.0.0.10", HostList.Format(["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.7", "10.0.0.9", "10.0.0.10"]));
        Assert.Equal("10.0.0.255-10.0.1.1", HostList.Format(["10.0.0.255", "10.0.1.0", "10.0.1.1"]));
    }

    [Theory]
    [InlineData("22", true)]
    [InlineData(" 2222 ", true)]
    [InlineData("65535", true)]
    [InlineData("0", false)]
    [InlineData("65536", false)]
    [InlineData("-1", false)]
    [InlineData("ssh", false)]
    public void Ssh_ports_are_1_to_65535(string answer, bool ok) => Assert.Equal(ok, HostList.ValidatePort(answer) is null);

    private const string Template = """
        apiVersion: sealer.io/v2
        kind: Cluster
        metadata:
          name: ${{ CLUSTER_NAME = shop }}
        spec:
          image: example.com/shop:1.4.0
          env:
            - "SHOP_DOMAIN=${{ DOMAIN }}"
            - "REPLICAS=${{REPLICAS=2}}"
        ---
        apiVersion: sealer.io/v2
        kind: Plugin
        metadata:
          name: greet
        spec:
          type: SHELL
          action: post-install
          data: |
            echo "${HOSTNAME} is ready for ${{ DOMAIN }}"
        """;

    [Fact]
    public void Template_placeholders_are_found_in_order_once_each_with_their_default_and_line()
    {
        var found = ClusterfileTemplate.Placeholders(Template);
        Assert.Equal([new TemplatePlaceholder("CLUSTER_NAME", "shop", 4), new TemplatePlaceholder("DOMAIN", null, 8), new TemplatePlaceholder("REPLICAS", "2", 9)], found);
    }

    [Fact]
    public void Filling_a_template_replaces_placeholders_and_keeps_shell_variables()
    {
        string filled = ClusterfileTemplate.Fill(Template, new Dictionary<string, string> { ["DOMAIN"] = "shop.example", ["REPLICAS"] = "3" });
        Assert.Contains("name: shop\n", filled, StringComparison.Ordinal);
        Assert.Contains("SHOP_DOMAIN=shop.example", filled, StringComparison.Ordinal);
        Assert.Contains("REPLICAS=3", filled, StringComparison.Ordinal);
        Assert.Contains("echo \"${HOSTNAME} is ready for shop.example\"", filled, StringComparison.Ordinal);
        Assert.DoesNotContain("${{", filled, StringComparison.Ordinal);
    }

    [Fact]
    public void A_placeholder_without_value_or_default_is_a_coded_error_naming_it_and_its_line()
    {
        var ex = Assert.Throws<SealerException>(() => ClusterfileTemplate.Fill(Template, new Dictionary<string, string>(), "Clusterfile.template"));
        Assert.Equal(ErrorCodes.GuidedAnswerMissing, ex.Code);
        Assert.Contains("DOMAIN", ex.Message, StringComparison.Ordinal);
        Assert.Equal(8, ex.Line);
    }

    [Fact]
    public void A_malformed_placeholder_is_refused_with_its_line()
    {
        var ex = Assert.Throws<SealerException>(() => ClusterfileTemplate.Placeholders("a: 1\nb: ${{ not a name }}\n"));
        Assert.Equal(ErrorCodes.GuidedBadAnswer, ex.Code);
        Assert.Equal(2, ex.Line);
    }

    private static SiteAnswers Answers(string? password = null, bool store = false) => new()
    {
        Image = "example.com/shop:1.4.0",
        Masters = ["10.0.0.1", "10.0.0.2", "10.0.0.3"],
        Nodes = ["10.0.0.4", "10.0.0.5"],
        User = "deploy",
        Port = 2222,
        KeyFile = password is null ? "/home/deploy/.ssh/id_ed25519" : null,
        Password = password,
        StoreSecrets = store,
        Registry = RegistryPlacement.FirstMaster,
        Values = new Dictionary<string, string> { ["DOMAIN"] = "shop.example" },
    };

    [Fact]
    public void The_clusterfile_is_the_filled_template_with_the_answered_hosts_ssh_and_registry()
    {
        var (write, run) = SiteClusterfile.Build(Answers(), Template);
        Assert.Equal(write, run); // a key: nothing secret to leave out
        var doc = ClusterfileReader.Parse(write);
        Assert.Equal("shop", doc.Cluster.Name);
        Assert.Equal(["10.0.0.1", "10.0.0.2", "10.0.0.3"], doc.Cluster.Masters.Select(h => h.Ip));
        Assert.Equal(["10.0.0.4", "10.0.0.5"], doc.Cluster.Nodes.Select(h => h.Ip));
        Assert.Equal("deploy", doc.Cluster.Ssh.User);
        Assert.Equal(2222, doc.Cluster.Ssh.Port);
        Assert.Equal("/home/deploy/.ssh/id_ed25519", doc.Cluster.Ssh.PrivateKeyPath);
        Assert.Null(doc.Cluster.Ssh.Password);
        Assert.False(doc.Cluster.Registry.Local.Ha);
        Assert.Contains(new KeyValuePair<string, string>("SHOP_DOMAIN", "shop.example"), doc.Cluster.Env);
        Assert.Single(doc.Plugins); // the other documents stay
    }

    [Fact]
    public void A_password_is_left_out_of_the_written_clusterfile_unless_the_user_agreed()
    {
        var (write, run) = SiteClusterfile.Build(Answers(password: "s3cr'et"), Template);
        Assert.DoesNotContain("s3cr", write, StringComparison.Ordinal);
        Assert.Null(ClusterfileReader.Parse(write).Cluster.Ssh.Password);
        Assert.Equal("s3cr'et", ClusterfileReader.Parse(run).Cluster.Ssh.Password);

        var (stored, _) = SiteClusterfile.Build(Answers(password: "s3cr'et", store: true), Template);
        Assert.Equal("s3cr'et", ClusterfileReader.Parse(stored).Cluster.Ssh.Password);

        // the next run asks again and runs with it, in memory
        Assert.Equal("again", ClusterfileReader.Parse(SiteClusterfile.WithPassword(write, "again")).Cluster.Ssh.Password);
    }

    [Fact]
    public void Without_a_template_a_minimal_clusterfile_names_the_image_and_the_cluster()
    {
        var (write, _) = SiteClusterfile.Build(Answers() with { Values = new Dictionary<string, string>(), Registry = RegistryPlacement.AllMasters, ClusterName = "site-a" }, null);
        var doc = ClusterfileReader.Parse(write);
        Assert.Equal("site-a", doc.Cluster.Name);
        Assert.Equal("example.com/shop:1.4.0", doc.Cluster.Image);
        Assert.True(doc.Cluster.Registry.Local.Ha);
        Assert.Equal(5, doc.Cluster.Hosts.Count);
    }

    [Fact]
    public void A_template_value_that_breaks_the_clusterfile_is_reported_before_anything_runs()
    {
        var ex = Assert.Throws<SealerException>(() => SiteClusterfile.Build(Answers() with { Values = new Dictionary<string, string> { ["DOMAIN"] = "x\"\n  bad: [" } }, Template));
        Assert.Equal(ErrorCodes.GuidedBadAnswer, ex.Code);
        Assert.Throws<SealerException>(() => SiteClusterfile.Build(Answers() with { KeyFile = null }, Template));
    }

    [Fact]
    public void The_preflight_report_says_per_host_what_passed_and_what_to_do()
    {
        var report = new PreflightReport(
            ["10.0.0.1", "10.0.0.2"],
            [new HostFacts("10.0.0.1", "linux", "amd64", "m1", 40L << 30, 1, [], [])],
            new Dictionary<string, HostRequirements> { ["10.0.0.1"] = new([5000, 6443], 80L << 20) },
            [new PreflightProblem("10.0.0.2", "ssh", "SEA4001: Cannot reach 10.0.0.2:22")],
            ["linux/amd64"], "/var/lib/sealer/data");
        string text = report.ToText();
        Assert.False(report.Passed);
        Assert.Contains("ok    10.0.0.1: reachable, host key trusted, logged in; m1, linux/amd64; 40.0 GiB free under /var/lib/sealer/data (80.0 MiB needed); ports 5000, 6443 free; clock +1 s off this machine; tools present", text, StringComparison.Ordinal);
        Assert.Contains("FAIL  10.0.0.2\n      ssh: SEA4001: Cannot reach", text, StringComparison.Ordinal);
        Assert.EndsWith("preflight found 1 problem(s); nothing was changed on any host: fix them and run again\n", text, StringComparison.Ordinal);
    }
}
