using Sealer.Core.Diagnostics;

namespace Sealer.Core.ClusterImage;

/// <summary>
/// Maps the project's inputs to rootfs paths, as Sealer lays a cluster image out: charts under <c>charts/</c>,
/// manifests under <c>manifests/</c>, apps under <c>application/apps/&lt;name&gt;/</c>, COPY'd files where they say.
/// Also works out an app's type (helm when it holds a Chart.yaml, kube for YAML, shell for scripts) and launch files.
/// </summary>
public sealed class RootfsCollector
{
    private readonly List<RootfsEntry> _entries = [];
    private readonly List<ClusterApp> _apps = [];

    public IReadOnlyList<RootfsEntry> Entries => _entries;

    public IReadOnlyList<ClusterApp> Apps => _apps;

    public void AddFile(string source, string destination, string? originFile = null, int originLine = 0, bool? executable = null)
    {
        if (!File.Exists(source))
        {
            throw new SealerException(ErrorCodes.InputFileMissing, $"'{source}' does not exist. Fix the item's Include, or remove it.", originFile, originLine);
        }
        _entries.Add(new RootfsEntry(ClusterImageBuilder.NormalizeDestination(destination), Path.GetFullPath(source), Executable: executable) { OriginFile = originFile, OriginLine = originLine });
    }

    public void AddContent(string destination, byte[] content) => _entries.Add(new RootfsEntry(ClusterImageBuilder.NormalizeDestination(destination), Content: content));

    /// <summary>Adds a file, or every file under a directory (sorted, hidden files and VCS folders skipped), below <paramref name="destination"/>.</summary>
    public void AddTree(string source, string destination, string? originFile = null, int originLine = 0, bool? executable = null)
    {
        if (File.Exists(source))
        {
            AddFile(source, destination, originFile, originLine, executable);
            return;
        }
        if (!Directory.Exists(source))
        {
            throw new SealerException(ErrorCodes.InputFileMissing, $"'{source}' does not exist. Fix the item's Include, or remove it.", originFile, originLine);
        }
        string root = Path.GetFullPath(source);
        foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            string rel = Path.GetRelativePath(root, file).Replace('\\', '/');
            if (rel.Split('/').Any(p => p is ".git" or ".svn" or ".hg")) continue;
            AddFile(file, destination.TrimEnd('/') + "/" + rel, originFile, originLine, executable);
        }
    }

    /// <summary>HelmChart: a chart directory goes to <c>charts/&lt;dir&gt;/</c>, a packaged chart to <c>charts/&lt;file&gt;.tgz</c>.</summary>
    public void AddChart(string source, string? destination, string? originFile = null, int originLine = 0)
    {
        string name = Path.GetFileName(Path.GetFullPath(source).TrimEnd(Path.DirectorySeparatorChar, '/'));
        if (Directory.Exists(source) && !File.Exists(Path.Combine(source, "Chart.yaml")))
        {
            throw new SealerException(ErrorCodes.InputFileMissing, $"HelmChart '{source}' is a directory without a Chart.yaml. Point Include at the chart's directory or its .tgz.", originFile, originLine);
        }
        AddTree(source, string.IsNullOrEmpty(destination) ? "charts/" + name : destination, originFile, originLine);
    }

    /// <summary>
    /// APP name local://path...: copies the sources to <c>application/apps/&lt;name&gt;/</c> and records the app.
    /// The type is given or detected from the first source: a directory with Chart.yaml (or a .tgz) is helm, YAML is kube,
    /// anything else is shell.
    /// </summary>
    public void AddApp(string name, IReadOnlyList<string> sources, string? type, string? version, IReadOnlyList<string> cmds, IReadOnlyList<KeyValuePair<string, string>> env, string? originFile = null, int originLine = 0)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Contains('/') || name.Contains('\\') || name is "." or "..")
        {
            throw new SealerException(ErrorCodes.InvalidApp, $"App name '{name}' is not valid: use a simple name such as 'web'.", originFile, originLine);
        }
        if (sources.Count == 0 && cmds.Count == 0)
        {
            throw new SealerException(ErrorCodes.InvalidApp, $"SealerApp '{name}' has no Source and no Cmds. Set Source=\"path/to/chart-or-yaml\" (several separated by ';').", originFile, originLine);
        }
        var launchFiles = new List<string>();
        string? detected = null;
        foreach (var s in sources)
        {
            string full = Path.GetFullPath(s);
            string leaf = Path.GetFileName(full.TrimEnd(Path.DirectorySeparatorChar, '/'));
            if (Directory.Exists(full) && !File.Exists(Path.Combine(full, "Chart.yaml")) && Kustomize.Kustomizer.FindKustomizationFile(full) is not null)
            {
                // A kustomization: carried rendered (what kubectl apply -k applies), launched with kubectl apply -f.
                AddContent($"application/apps/{name}/{leaf}.yaml", System.Text.Encoding.UTF8.GetBytes(Kustomize.Kustomizer.Build(full).ToYaml()));
                launchFiles.Add(leaf + ".yaml");
                detected ??= "kube";
                continue;
            }
            AddTree(full, $"application/apps/{name}/{leaf}", originFile, originLine);
            launchFiles.Add(leaf);
            detected ??= Directory.Exists(full)
                ? (File.Exists(Path.Combine(full, "Chart.yaml")) ? "helm" : Directory.EnumerateFiles(full).Any(f => f.EndsWith(".sh", StringComparison.Ordinal)) ? "shell" : "kube")
                : full.EndsWith(".tgz", StringComparison.Ordinal) ? "helm"
                : full.EndsWith(".yaml", StringComparison.Ordinal) || full.EndsWith(".yml", StringComparison.Ordinal) ? "kube" : "shell";
        }
        string finalType = string.IsNullOrWhiteSpace(type) ? detected ?? "shell" : type.Trim().ToLowerInvariant();
        if (finalType is not ("helm" or "kube" or "shell"))
        {
            throw new SealerException(ErrorCodes.InvalidApp, $"SealerApp '{name}' has Type '{type}'; use helm, kube or shell (or leave it out to detect it).", originFile, originLine);
        }
        _apps.Add(new ClusterApp { Name = name, Type = finalType, LaunchFiles = launchFiles, Version = version, Cmds = cmds, Env = env });
    }
}
