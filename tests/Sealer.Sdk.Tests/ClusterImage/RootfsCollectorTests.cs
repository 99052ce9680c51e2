using Sealer.Core.ClusterImage;
using Sealer.Core.Diagnostics;

namespace Sealer.Sdk.Tests.ClusterImage;

public sealed class RootfsCollectorTests : IDisposable
{
    private readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    private string File(string rel, string text = "x\n")
    {
        string path = _tmp.Sub(rel);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        System.IO.File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void Apps_land_under_application_apps_and_their_type_is_detected()
    {
        File("src/chart/Chart.yaml", "name: c\n");
        File("src/chart/templates/a.yaml");
        File("src/yaml/deploy.yaml");
        File("src/run.sh", "#!/bin/sh\n");
        var c = new RootfsCollector();
        c.AddApp("db", [_tmp.Sub("src/chart")], null, "1.0", [], []);
        c.AddApp("kubeapp", [_tmp.Sub("src/yaml/deploy.yaml")], null, null, [], []);
        c.AddApp("job", [_tmp.Sub("src/run.sh")], null, null, ["sh run.sh"], [new("A", "1")]);
        Assert.Equal(["helm", "kube", "shell"], c.Apps.Select(a => a.Type));
        Assert.Equal(["chart"], c.Apps[0].LaunchFiles);
        Assert.Contains(c.Entries, e => e.Destination == "application/apps/db/chart/templates/a.yaml");
        Assert.Contains(c.Entries, e => e.Destination == "application/apps/kubeapp/deploy.yaml");
        Assert.Equal(["sh run.sh"], c.Apps[2].Cmds);
    }

    [Fact]
    public void Charts_go_under_charts_and_bad_inputs_are_coded_with_their_origin()
    {
        File("c/web/Chart.yaml", "name: web\n");
        File("c/web/values.yaml");
        File("c/notachart/readme.md");
        var c = new RootfsCollector();
        c.AddChart(_tmp.Sub("c/web"), null);
        Assert.Equal(["charts/web/Chart.yaml", "charts/web/values.yaml"], c.Entries.Select(e => e.Destination).Order(StringComparer.Ordinal));
        var ex = Assert.Throws<SealerException>(() => c.AddChart(_tmp.Sub("c/notachart"), null, "app.kubeproj", 7));
        Assert.Equal((ErrorCodes.InputFileMissing, "app.kubeproj", 7), (ex.Code, ex.File, ex.Line));
        ex = Assert.Throws<SealerException>(() => c.AddFile(_tmp.Sub("nope.txt"), "etc/nope.txt", "app.kubeproj", 9));
        Assert.Equal(ErrorCodes.InputFileMissing, ex.Code);
        ex = Assert.Throws<SealerException>(() => c.AddApp("x", [_tmp.Sub("c/web")], "chart", null, [], []));
        Assert.Equal(ErrorCodes.InvalidApp, ex.Code);
        ex = Assert.Throws<SealerException>(() => c.AddFile(_tmp.Sub("c/web/values.yaml"), "../../etc/passwd"));
        Assert.Equal(ErrorCodes.InvalidRootfsPath, ex.Code);
    }

    [Fact]
    public void Two_different_files_at_one_rootfs_path_conflict()
    {
        var entries = new List<RootfsEntry>
        {
            new("etc/a.conf", File("one/a.conf")) { OriginFile = "app.kubeproj", OriginLine = 3 },
            new("etc/a.conf", File("two/a.conf")) { OriginFile = "app.kubeproj", OriginLine = 4 },
        };
        var ex = Assert.Throws<SealerException>(() => ClusterImageBuilder.NormalizeRootfs(entries));
        Assert.Equal((ErrorCodes.RootfsPathConflict, 4), (ex.Code, ex.Line));
        // The same file twice is fine.
        Assert.Single(ClusterImageBuilder.NormalizeRootfs([entries[0], entries[0] with { OriginLine = 5 }]));
    }
}
