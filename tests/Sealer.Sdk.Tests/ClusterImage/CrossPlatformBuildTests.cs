using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Sealer.Core.Build;
using Sealer.Core.ClusterImage;
using Sealer.Core.Diagnostics;
using Sealer.Core.IO;
using Sealer.Core.Kubefile;
using Sealer.Core.Oci;

namespace Sealer.Sdk.Tests.ClusterImage;

/// <summary>
/// Windows and macOS build machines, proven on Linux with the build pipeline (<see cref="ClusterBuild"/>) over
/// samples/shop: the same sources give the same cluster image digest from another checkout path with Windows-style item
/// specs and a checkout without mode bits (the executable bit comes from git); CRLF line endings find the same images
/// and warn about a script; names that differ only by case are refused; the git index is read like git writes it.
/// </summary>
public sealed class CrossPlatformBuildTests : IDisposable
{
    private readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    private static readonly string[] ShopImages =
    [
        "docker.io/library/nginx:1.27", "docker.io/library/redis:7.4", "quay.io/coreos/etcd:v3.5.15", "quay.io/prometheus/node-exporter:v1.8.2",
        "registry.k8s.io/coredns/coredns:v1.11.1", "registry.k8s.io/pause:3.9",
    ];

    /// <summary>samples/shop.kubeproj's items as the tasks hand them to Core; <paramref name="windows"/> writes every path
    /// metadata with backslashes, as a project edited on Windows has them (MSBuild fixes only item specs on Linux).</summary>
    private static ClusterBuildInputs Shop(string dir, bool windows)
    {
        string S(string p) => windows ? p.Replace('/', '\\') : p;
        string project = Path.Combine(dir, "shop.kubeproj");
        var manifests = Directory.GetFiles(Path.Combine(dir, "manifests"), "*.yaml", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            .Select(f => new FileItem(f, "", S(Path.GetRelativePath(Path.Combine(dir, "manifests"), Path.GetDirectoryName(f)!) + "/")) { OriginFile = project, OriginLine = 28 }).ToList();
        return new ClusterBuildInputs
        {
            ProjectDirectory = windows ? dir + Path.DirectorySeparatorChar : dir,
            ProjectFile = project,
            RefName = "shop:1.4.0",
            KubeVersion = "v1.30.0",
            Charts = [new ChartItem(Path.Combine(dir, "charts", "web")) { Include = S("charts/web"), ValuesFiles = [S("./values-prod.yaml")], ReleaseName = "web", Namespace = "shop", OriginFile = project, OriginLine = 27 }],
            Manifests = manifests,
            ImageLists = [new FileItem(Path.Combine(dir, "images.txt")) { OriginFile = project, OriginLine = 29 }],
            Files =
            [
                new FileItem(Path.Combine(dir, "etc", "registry_config.yml"), S("etc/")) { OriginFile = project, OriginLine = 34 },
                new FileItem(Path.Combine(dir, "scripts", "post-install.sh"), S("scripts/")) { OriginFile = project, OriginLine = 35 },
                new FileItem(Path.Combine(dir, "values-prod.yaml"), S("application/apps/web/")) { OriginFile = project, OriginLine = 36 },
            ],
            Apps =
            [
                new AppItem("web") { Type = "helm", Sources = [S("charts/web")], Cmds = ["helm upgrade -i web web -f values-prod.yaml -n shop --create-namespace"], Version = "0.3.0" },
                new AppItem("monitoring") { Type = "kube", Sources = ["local://" + S("manifests/monitoring")] },
            ],
            Launch = ["monitoring", "web"],
            Labels = new Dictionary<string, string> { ["owner"] = "team-shop" },
            Env = [new("REGION", "eu-west")],
        };
    }

    private string CopyShop(string to)
    {
        string from = Path.Combine(Repo.Root, "samples", "shop");
        foreach (var f in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            string rel = Path.GetRelativePath(from, f);
            if (rel.StartsWith("bin" + Path.DirectorySeparatorChar, StringComparison.Ordinal) || rel.StartsWith("obj" + Path.DirectorySeparatorChar, StringComparison.Ordinal) || rel == "images.lock.json") continue;
            string dest = Path.Combine(to, rel);
            Directory.CreateDirectory(Path.GetDirectoryName(dest)!);
            File.Copy(f, dest);
            File.SetUnixFileMode(dest, File.GetUnixFileMode(f));
        }
        return to;
    }

    private async Task<(string Digest, ResolvedImagesFile Images, CapturingLogger Log)> BuildAsync(ClusterBuildInputs inputs, string outName)
    {
        var resolved = ClusterBuild.Resolve(inputs).Images;
        var log = new CapturingLogger();
        var result = await ClusterBuild.AssembleAsync(inputs, new PulledImagesFile(), _tmp.Sub("cache"), lockFile: null,
            new ClusterImageOutput(_tmp.Sub($"out/{outName}"), _tmp.Sub($"out/{outName}.tar"), _tmp.Sub($"obj/{outName}.layers.json")), log);
        return (result.Descriptor.Digest, resolved, log);
    }

    private static (int Code, string Output) Git(string dir, string args)
    {
        var (code, output) = Processes.RunCommandLine("git", args, dir);
        return (code, output);
    }

    [Fact]
    public async Task The_shop_built_from_another_checkout_path_with_backslash_items_and_no_mode_bits_has_the_same_digest()
    {
        // Checkout A: as on Linux (script mode 0755 on disk, forward slashes, not a git work tree).
        var (digestA, imagesA, _) = await BuildAsync(Shop(CopyShop(_tmp.Sub("a/shop")), windows: false), "a");

        // Checkout B: elsewhere, deeper, items written the Windows way, and a git work tree whose checkout lost the mode
        // bits (core.fileMode=false, as on Windows): git's index still says 100755 for the script.
        string b = CopyShop(_tmp.Sub("Users/Dev Name/source/repos/Shop Checkout/shop"));
        Assert.Equal(0, Git(b, "init -q").Code);
        Assert.Equal(0, Git(b, "config core.fileMode false").Code);
        Assert.Equal(0, Git(b, "add -A").Code);
        Assert.Equal(0, Git(b, "update-index --chmod=+x scripts/post-install.sh").Code);
        foreach (var f in Directory.GetFiles(b, "*", SearchOption.AllDirectories).Where(f => !f.Contains("/.git/", StringComparison.Ordinal)))
        {
            File.SetUnixFileMode(f, (UnixFileMode)0b110_100_100);
        }
        var (digestB, imagesB, _) = await BuildAsync(Shop(b, windows: true), "b");

        Assert.Equal(ShopImages, imagesA.Images.Select(i => i.Reference).Order(StringComparer.Ordinal));
        Assert.Equal(Canon(imagesA), Canon(imagesB)); // images.lock.json's sources: relative, forward slashes
        Assert.DoesNotContain('\\', Canon(imagesB));
        Assert.Equal(digestA, digestB);
        Assert.Equal((UnixFileMode)0b111_101_101, RootfsMode(_tmp.Sub("out/b"), "scripts/post-install.sh"));
        Assert.Equal((UnixFileMode)0b110_100_100, RootfsMode(_tmp.Sub("out/b"), "etc/registry_config.yml"));
    }

    /// <summary>The mode a file has in the rootfs layer of a one-platform cluster image layout.</summary>
    private static UnixFileMode RootfsMode(string layoutDir, string path)
    {
        string Blob(string digest) => Path.Combine(layoutDir, "blobs", "sha256", digest["sha256:".Length..]);
        using var index = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(layoutDir, "index.json")));
        using var manifest = JsonDocument.Parse(File.ReadAllBytes(Blob(index.RootElement.GetProperty("manifests")[0].GetProperty("digest").GetString()!)));
        foreach (var layer in manifest.RootElement.GetProperty("layers").EnumerateArray())
        {
            if (!layer.TryGetProperty("annotations", out var a) || !a.TryGetProperty(ClusterImageFormat.LayerKindAnnotation, out var kind) || kind.GetString() != ClusterImageFormat.LayerKindRootfs) continue;
            using var gz = new GZipStream(File.OpenRead(Blob(layer.GetProperty("digest").GetString()!)), CompressionMode.Decompress);
            using var tar = new TarReader(gz);
            while (tar.GetNextEntry() is { } e)
            {
                if (e.Name.TrimStart('.', '/') == path) return e.Mode;
            }
        }
        throw new InvalidOperationException($"{path} is not in the rootfs layer of {layoutDir}");
    }

    private static string Canon(ResolvedImagesFile f)
        => string.Join("\n", f.Images.OrderBy(i => i.Reference, StringComparer.Ordinal).Select(i => i.Reference + " <- " + string.Join(", ", i.Sources.Select(s => $"{s.File}:{s.Line}:{s.Detail}"))));

    [Fact]
    public async Task CRLF_charts_values_image_lists_and_manifests_find_the_same_images_and_a_CRLF_script_is_SEA1311()
    {
        string lf = CopyShop(_tmp.Sub("lf/shop"));
        string crlf = CopyShop(_tmp.Sub("crlf/shop"));
        foreach (var f in Directory.GetFiles(crlf, "*", SearchOption.AllDirectories))
        {
            File.WriteAllText(f, File.ReadAllText(f).Replace("\r\n", "\n", StringComparison.Ordinal).Replace("\n", "\r\n", StringComparison.Ordinal));
        }
        Assert.Contains("\r\n", File.ReadAllText(Path.Combine(crlf, "charts", "web", "values.yaml")), StringComparison.Ordinal);

        var (_, imagesLf, logLf) = await BuildAsync(Shop(lf, windows: false), "lf");
        var (_, imagesCrlf, logCrlf) = await BuildAsync(Shop(crlf, windows: false), "crlf");

        Assert.Equal(ShopImages, imagesCrlf.Images.Select(i => i.Reference).Order(StringComparer.Ordinal));
        Assert.Equal(Canon(imagesLf), Canon(imagesCrlf));
        Assert.Empty(logLf.Warnings);
        var warning = Assert.Single(logCrlf.Warnings);
        Assert.Equal(ErrorCodes.ScriptHasCrlf, warning.Code);
        Assert.Equal(Path.Combine(crlf, "scripts", "post-install.sh"), warning.File);
        Assert.Equal(1, warning.Line);
        Assert.Contains("scripts/post-install.sh", warning.Text, StringComparison.Ordinal);
        Assert.Contains("eol=lf", warning.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void A_CRLF_Kubefile_plans_the_same_build_and_finds_the_same_images()
    {
        const string kubefile = "FROM scratch\nKUBEVERSION v1.30.0\nLABEL owner=\"team-shop\" \\\n  tier=\"prod\"\nENV REGION=eu-west\n"
            + "COPY etc/registry_config.yml etc/\nCOPY scripts/post-install.sh scripts/\n# apps\nAPP web local://charts/web\n"
            + "APP monitoring local://manifests/monitoring\nAPPCMDS web [\"helm upgrade -i web web -n shop --create-namespace\"]\nLAUNCH [\"monitoring\", \"web\"]\n";
        string Describe(string dir, string text)
        {
            File.WriteAllText(Path.Combine(dir, "Kubefile"), text);
            var plan = KubefileBuild.CreatePlan(KubefileProject.Load(Path.Combine(dir, "Kubefile")), dir);
            var inputs = KubefileBuild.Inputs(plan, "shop:1.4.0");
            var images = ClusterBuild.Resolve(inputs).Images;
            return string.Join("\n", [
                .. inputs.Labels.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"label {kv.Key}={kv.Value}"),
                .. inputs.Env.Select(kv => $"env {kv.Key}={kv.Value}"),
                .. inputs.Files.Select(f => $"file {Path.GetRelativePath(dir, f.FullPath)} -> {f.Destination}"),
                .. inputs.Apps.Select(a => $"app {a.Name} {string.Join(",", a.Sources)} {string.Join(",", a.Cmds)}"),
                $"launch {string.Join(",", inputs.Launch)}",
                Canon(images)]);
        }
        string lf = Describe(CopyShop(_tmp.Sub("kf-lf/shop")), kubefile);
        string crlf = Describe(CopyShop(_tmp.Sub("kf-crlf/shop")), kubefile.Replace("\n", "\r\n", StringComparison.Ordinal));
        Assert.Contains("label tier=prod", lf, StringComparison.Ordinal);
        Assert.Contains("quay.io/prometheus/node-exporter:v1.8.2", lf, StringComparison.Ordinal);
        Assert.Contains("docker.io/library/nginx:1.27", lf, StringComparison.Ordinal);
        Assert.DoesNotContain('\r', crlf);
        Assert.Equal(lf, crlf);
    }

    [Fact]
    public void The_first_CRLF_line_of_a_script_is_found_and_other_files_are_not_scripts()
    {
        Assert.Equal(3, ScriptLineEndings.FirstCrlfLine("#!/bin/sh\necho a\necho b\r\n"u8));
        Assert.Equal(0, ScriptLineEndings.FirstCrlfLine("#!/bin/sh\necho a\n"u8));
        Assert.True(ScriptLineEndings.IsScript("scripts/init", "#!/bin/bash\n"u8));
        Assert.True(ScriptLineEndings.IsScript("scripts/INIT.SH", "echo\n"u8));
        Assert.False(ScriptLineEndings.IsScript("etc/a.conf", "a=1\r\n"u8));
        Assert.Equal(0, ScriptLineEndings.Check(new RootfsEntry("etc/a.conf", Content: "a=1\r\n"u8.ToArray())));
        Assert.Equal(1, ScriptLineEndings.Check(new RootfsEntry("scripts/x.sh", Content: "echo\r\n"u8.ToArray())));
    }

    [Fact]
    public async Task Two_charts_whose_names_differ_only_by_case_are_SEA1312_not_one_chart()
    {
        string dir = _tmp.Sub("case");
        foreach (var name in new[] { "Web", "web" })
        {
            _tmp.Write($"case/charts/{name}/Chart.yaml", $"apiVersion: v2\nname: {name}\nversion: 0.1.0\n");
            _tmp.Write($"case/charts/{name}/templates/cm.yaml", "kind: ConfigMap\napiVersion: v1\nmetadata:\n  name: x\n");
        }
        var inputs = new ClusterBuildInputs
        {
            ProjectDirectory = dir,
            ProjectFile = Path.Combine(dir, "case.kubeproj"),
            RefName = "case:1",
            Charts = [new ChartItem(Path.Combine(dir, "charts", "Web")) { OriginFile = Path.Combine(dir, "case.kubeproj"), OriginLine = 5 },
                      new ChartItem(Path.Combine(dir, "charts", "web")) { OriginFile = Path.Combine(dir, "case.kubeproj"), OriginLine = 6 }],
        };
        var ex = await Assert.ThrowsAsync<SealerException>(() => ClusterBuild.AssembleAsync(inputs, new PulledImagesFile(), _tmp.Sub("cache"), null,
            new ClusterImageOutput(_tmp.Sub("out/case"), null, null)));
        Assert.Equal(ErrorCodes.RootfsPathCaseConflict, ex.Code);
        Assert.Contains("'charts/Web'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'charts/web'", ex.Message, StringComparison.Ordinal);
        Assert.Equal(6, ex.Line);
        Assert.False(Directory.Exists(_tmp.Sub("out/case")));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void The_git_index_gives_the_executable_bit_whatever_the_file_system_says(int indexVersion)
    {
        string repo = _tmp.Sub($"repo{indexVersion}");
        _tmp.Write($"repo{indexVersion}/scripts/run.sh", "#!/bin/sh\n");
        _tmp.Write($"repo{indexVersion}/scripts/lib.sh", "f() { :; }\n");
        _tmp.Write($"repo{indexVersion}/scripts/untracked.sh", "#!/bin/sh\n");
        string deep = $"repo{indexVersion}/" + string.Join('/', Enumerable.Range(0, 12).Select(i => $"a-long-folder-name-{i:00}")) + "/tool.sh";
        _tmp.Write(deep, "#!/bin/sh\n");
        Assert.Equal(0, Git(repo, "init -q").Code);
        Assert.Equal(0, Git(repo, "add -A").Code);
        Assert.Equal(0, Git(repo, $"update-index --chmod=+x scripts/run.sh {deep[(deep.IndexOf('/') + 1)..]}").Code);
        Assert.Equal(0, Git(repo, $"update-index --index-version {indexVersion}").Code);
        _tmp.Write($"repo{indexVersion}/scripts/untracked.sh", "#!/bin/sh\n"); // added after: not in the index
        Assert.Equal(0, Git(repo, "rm -q --cached scripts/untracked.sh").Code);
        File.SetUnixFileMode(Path.Combine(repo, "scripts", "run.sh"), (UnixFileMode)0b110_100_100);        // checkout without modes
        File.SetUnixFileMode(Path.Combine(repo, "scripts", "lib.sh"), (UnixFileMode)0b111_101_101);        // +x only locally
        File.SetUnixFileMode(Path.Combine(repo, "scripts", "untracked.sh"), (UnixFileMode)0b111_101_101);

        var index = GitIndex.ForPath(Path.Combine(repo, "scripts", "run.sh"))!;
        Assert.Equal(3, index.Count); // run.sh, lib.sh, tool.sh: untracked.sh was taken out
        foreach (var platform in new[] { FilePlatform.Linux, FilePlatform.Windows, FilePlatform.MacOS })
        {
            var modes = new RootfsFileModes(platform);
            Assert.True(modes.IsExecutable(new RootfsEntry("scripts/run.sh", Path.Combine(repo, "scripts", "run.sh"))));
            Assert.True(modes.IsExecutable(new RootfsEntry("tool.sh", _tmp.Sub(deep))));
            Assert.False(modes.IsExecutable(new RootfsEntry("scripts/lib.sh", Path.Combine(repo, "scripts", "lib.sh"))));
            Assert.False(modes.IsExecutable(new RootfsEntry("scripts/run.sh", Path.Combine(repo, "scripts", "run.sh"), Executable: false)));
            Assert.True(modes.IsExecutable(new RootfsEntry("scripts/lib.sh", Path.Combine(repo, "scripts", "lib.sh"), Executable: true)));
            // Not tracked: the file's own mode where files have one; on Windows there is none, so it is not executable.
            Assert.Equal(platform.HasUnixFileModes, modes.IsExecutable(new RootfsEntry("scripts/untracked.sh", Path.Combine(repo, "scripts", "untracked.sh"))));
        }
    }

    [Fact]
    public void Files_sharing_the_walk_up_to_their_work_tree_each_get_their_own_nested_repositorys_index()
    {
        // One RootfsFileModes for a whole rootfs remembers every folder it walked through: a repository nested in another
        // (a vendored chart with its own .git) answers for its files, the outer one for the rest, none for files in neither.
        string outer = _tmp.Sub("outer");
        _tmp.Write("outer/a/b/run.sh", "#!/bin/sh\n");
        _tmp.Write("outer/a/b/inner/c/tool.sh", "#!/bin/sh\n");
        _tmp.Write("outer/a/other.sh", "#!/bin/sh\n");
        _tmp.Write("loose/d/e/free.sh", "#!/bin/sh\n");
        string inner = Path.Combine(outer, "a", "b", "inner");
        Assert.Equal(0, Git(inner, "init -q").Code);
        Assert.Equal(0, Git(inner, "add -A").Code);                                   // tool.sh: 100644 in the inner index
        Assert.Equal(0, Git(outer, "init -q").Code);
        Assert.Equal(0, Git(outer, "add a/b/run.sh a/other.sh").Code);
        Assert.Equal(0, Git(outer, "update-index --chmod=+x a/b/run.sh").Code);          // run.sh: 100755, other.sh: 100644
        foreach (var f in new[] { "outer/a/b/run.sh", "outer/a/b/inner/c/tool.sh", "outer/a/other.sh", "loose/d/e/free.sh" })
        {
            File.SetUnixFileMode(_tmp.Sub(f), (UnixFileMode)0b111_101_101); // all +x on disk: only the indexes say otherwise
        }
        foreach (var order in new[] { new[] { 0, 1, 2, 3 }, [1, 0, 3, 2], [3, 2, 1, 0] })
        {
            var modes = new RootfsFileModes(FilePlatform.Linux);
            var answers = new bool[4];
            string[] files = ["outer/a/b/run.sh", "outer/a/b/inner/c/tool.sh", "outer/a/other.sh", "loose/d/e/free.sh"];
            foreach (int i in order) answers[i] = modes.IsExecutable(new RootfsEntry(Path.GetFileName(files[i]), _tmp.Sub(files[i])));
            Assert.Equal([true, false, false, true], answers); // free.sh: in no repository, its own mode
            Assert.Equal(outer, GitIndex.Locate(_tmp.Sub("outer/a/other.sh"))!.Value.WorkTree);
        }
    }

    [Fact]
    public void A_linked_work_tree_reads_its_own_index()
    {
        string repo = _tmp.Sub("main");
        _tmp.Write("main/run.sh", "#!/bin/sh\n");
        Assert.Equal(0, Git(repo, "init -q").Code);
        Assert.Equal(0, Git(repo, "add -A").Code);
        Assert.Equal(0, Git(repo, "update-index --chmod=+x run.sh").Code);
        Assert.Equal(0, Git(repo, "-c user.name=t -c user.email=t@e commit -qm init").Code);
        Assert.Equal(0, Git(repo, $"worktree add -q {_tmp.Sub("linked")}").Code);
        string script = Path.Combine(_tmp.Sub("linked"), "run.sh");
        File.SetUnixFileMode(script, (UnixFileMode)0b110_100_100);
        Assert.True(File.Exists(Path.Combine(_tmp.Sub("linked"), ".git")), "a linked work tree has a .git file");
        Assert.True(new RootfsFileModes(FilePlatform.Windows).IsExecutable(new RootfsEntry("run.sh", script)));
    }

    [Fact]
    public void A_damaged_git_index_is_SEA1313_naming_it()
    {
        string repo = _tmp.Sub("broken");
        _tmp.Write("broken/run.sh", "#!/bin/sh\n");
        Assert.Equal(0, Git(repo, "init -q").Code);
        Assert.Equal(0, Git(repo, "add -A").Code);
        string indexFile = Path.Combine(repo, ".git", "index");
        byte[] bytes = File.ReadAllBytes(indexFile);
        File.WriteAllBytes(indexFile, bytes[..40]);
        var ex = Assert.Throws<SealerException>(() => new RootfsFileModes(FilePlatform.Windows).IsExecutable(new RootfsEntry("run.sh", Path.Combine(repo, "run.sh"))));
        Assert.Equal(ErrorCodes.GitIndexUnreadable, ex.Code);
        Assert.Equal(indexFile, ex.File);
    }

    [Fact]
    public void Generated_JSON_is_written_with_LF_whatever_the_OS_writes_lines_with()
    {
        // System.Text.Json indents with Environment.NewLine (CRLF on Windows) unless told: images.lock.json and
        // registry/images.json go into the image, so that would change its digest by build machine.
        var contexts = typeof(ClusterBuild).Assembly.GetTypes()
            .Where(t => t.IsSubclassOf(typeof(System.Text.Json.Serialization.JsonSerializerContext)) && !t.IsAbstract)
            .Select(t => (t.Name, Context: (System.Text.Json.Serialization.JsonSerializerContext)t.GetProperty("Default", System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)!.GetValue(null)!))
            .Where(c => c.Context.Options.WriteIndented)
            .ToList();
        Assert.Contains(contexts, c => c.Name == "ImagesLockJsonContext");
        Assert.Contains(contexts, c => c.Name == "ImageListJsonContext");
        Assert.All(contexts, c => Assert.True(c.Context.Options.NewLine == "\n", $"{c.Name} indents with {c.Context.Options.NewLine.Replace("\r", "CR").Replace("\n", "LF")}"));
        // Writers made by hand: every indented Utf8JsonWriter of the engine names its NewLine.
        var unpinned = Directory.GetFiles(Repo.Path("src", "Sealer.Core"), "*.cs", SearchOption.AllDirectories)
            .SelectMany(f => File.ReadLines(f).Select((l, i) => (File: f, Line: i + 1, Text: l)))
            .Where(l => l.Text.Contains("Indented = true", StringComparison.Ordinal) && !l.Text.Contains("NewLine = \"\\n\"", StringComparison.Ordinal))
            .Select(l => $"{Path.GetRelativePath(Repo.Root, l.File)}:{l.Line}").ToList();
        Assert.True(unpinned.Count == 0, "indented JSON without NewLine = \"\\n\": " + string.Join(", ", unpinned));
    }

    internal sealed class CapturingLogger : ILogger
    {
        public List<(string? Code, string? File, int Line, string Text)> Warnings { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel != LogLevel.Warning) return;
            var values = state as IReadOnlyList<KeyValuePair<string, object?>> ?? [];
            string? Get(string key) => values.FirstOrDefault(kv => kv.Key == key).Value?.ToString();
            Warnings.Add((Get("Code"), Get("File"), int.TryParse(Get("Line"), out int l) ? l : 0, formatter(state, exception)));
        }
    }
}
