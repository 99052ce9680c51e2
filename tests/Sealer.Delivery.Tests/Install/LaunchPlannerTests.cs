using Sealer.Core.ClusterImage;
using Sealer.Core.Delivery;
using Sealer.Core.Delivery.Clusterfile;
using Sealer.Core.Delivery.Install.Policies;

namespace Sealer.Delivery.Tests.Install;

/// <summary><see cref="LaunchPlanner"/>: Sealer's precedence of what a run launches, without SSH.</summary>
public class LaunchPlannerTests
{
    private const string LaunchOnly = """{"type":"kube-installer","launch":{"app_names":["demo"]}}""";
    private const string CmdsOnly = """{"type":"kube-installer","launch":{"cmds":["kubectl apply -f x.yaml"]}}""";

    private static ClusterfileDocument Doc(string clusterSpec, string application) =>
        ClusterfileReader.Parse($"kind: Cluster\nspec:\n  image: a\n  hosts: [{{ips: [10.0.0.1], roles: [master]}}]\n{clusterSpec}"
            + (application.Length > 0 ? "---\nkind: Application\nspec:\n" + application : ""));

    private static string Show(LaunchPlan plan) => plan.Cmds is { } c ? "cmds:" + string.Join(";", c) : "apps:" + string.Join(",", plan.Apps);

    // Sealer: spec.cmd > Application spec.cmds > spec.appNames > Application spec.launchApps > image CMDS > image LAUNCH
    [Theory]
    [InlineData("", "", LaunchOnly, "apps:demo", "the image's LAUNCH")]
    [InlineData("", "", CmdsOnly, "cmds:kubectl apply -f x.yaml", "the image's CMDS")]
    [InlineData("", "  launchApps: [web, demo]\n", CmdsOnly, "apps:web,demo", "Application spec.launchApps")]
    [InlineData("", "  launchApps: [web, web, \"\", demo]\n", LaunchOnly, "apps:web,demo", "Application spec.launchApps")]
    [InlineData("", "  launchApps: [\"\"]\n", LaunchOnly, "apps:", "Application spec.launchApps")]
    [InlineData("  appNames: [extra]\n", "  launchApps: [web]\n", LaunchOnly, "apps:extra", "spec.appNames")]
    [InlineData("  appNames: [extra, \"\"]\n", "", CmdsOnly, "apps:extra", "spec.appNames")]
    [InlineData("  appNames: [extra]\n", "  cmds: [echo app]\n  launchApps: [web]\n", LaunchOnly, "cmds:echo app", "Application spec.cmds")]
    [InlineData("  cmd: [echo cluster]\n  appNames: [extra]\n", "  cmds: [echo app]\n", LaunchOnly, "cmds:echo cluster", "spec.cmd")]
    public void Launch_follows_sealers_precedence(string clusterSpec, string application, string extension, string expected, string source)
    {
        var plan = LaunchPlanner.Plan(Doc(clusterSpec, application), ClusterImageFormat.ParseExtension(extension, "test"));
        Assert.Equal(expected, Show(plan));
        Assert.Equal(source, plan.Source);
    }

    [Fact]
    public void Only_launched_apps_have_their_config()
    {
        var doc = Doc("", "  launchApps: [web]\n  configs:\n    - name: web\n      env: [A=1]\n    - name: other\n      env: [B=2]\n");
        var plan = LaunchPlanner.Plan(doc, ClusterImageFormat.ParseExtension(LaunchOnly, "test"));
        Assert.Equal([new KeyValuePair<string, string>("A", "1")], LaunchPlanner.ConfigOf(doc, plan, "web")!.Env);
        Assert.Null(LaunchPlanner.ConfigOf(doc, plan, "other"));
        Assert.Null(LaunchPlanner.ConfigOf(doc, null, "web"));
    }

    [Theory]
    [InlineData("application/apps/web/values.yaml", "web")]
    [InlineData("application/apps/web/chart/templates/x.yaml.tmpl", "web")]
    [InlineData("application/apps/web", null)]
    [InlineData("application/apps//x", null)]
    [InlineData("etc/kubeadm.yml.tmpl", null)]
    public void App_of_a_path_is_the_directory_under_application_apps(string path, string? app) => Assert.Equal(app, LaunchPlanner.AppOf(path));

    [Fact]
    public void App_env_is_host_env_then_image_app_env_then_the_configs_env()
    {
        var doc = Doc("", "  launchApps: [web]\n  configs:\n    - name: web\n      env: [B=config]\n");
        var ext = ClusterImageFormat.ParseExtension("""{"type":"kube-installer","launch":{"app_names":["web"]},"applications":[{"name":"web","type":"helm","env":{"A":"image","B":"image"}}]}""", "test");
        var plan = LaunchPlanner.Plan(doc, ext);
        var env = LaunchPlanner.AppEnv([new("A", "host"), new("H", "host")], ext, "web", LaunchPlanner.ConfigOf(doc, plan, "web")).ToDictionary(e => e.Key, e => e.Value);
        Assert.Equal("image", env["A"]);
        Assert.Equal("config", env["B"]);
        Assert.Equal("host", env["H"]);
    }

    [Fact]
    public void Not_in_extension_names_apps_the_image_does_not_register()
    {
        var ext = ClusterImageFormat.ParseExtension("""{"type":"kube-installer","launch":{"app_names":["demo"]},"applications":[{"name":"web","type":"helm"}]}""", "test");
        var plan = LaunchPlanner.Plan(Doc("  appNames: [demo, web, ghost]\n", ""), ext);
        Assert.Equal(["ghost"], LaunchPlanner.NotInExtension(plan, ext));
    }

    [Theory]
    [InlineData("      launch: {helm: {values: [a=2]}}\n", true)]
    [InlineData("      launch: {cmds: [echo hi]}\n", true)]
    [InlineData("      files: [{path: a.txt, data: x}]\n", false)] // files and env are in the render fingerprint, not here
    [InlineData("", false)]
    public void Launch_fingerprint_changes_with_the_launch_settings(string change, bool differs)
    {
        var ext = ClusterImageFormat.ParseExtension(LaunchOnly, "test");
        string Fp(string render, string config)
        {
            var doc = Doc("", "  launchApps: [web]\n  configs:\n    - name: web\n      env: [Y=1]\n" + config);
            return LaunchPlanner.Fingerprint(render, LaunchPlanner.Plan(doc, ext), doc);
        }
        Assert.Equal(Fp("render", ""), Fp("render", ""));
        Assert.NotEqual(Fp("render", ""), Fp("other render", ""));
        Assert.Equal(differs, Fp("render", change) != Fp("render", ""));
    }
}
