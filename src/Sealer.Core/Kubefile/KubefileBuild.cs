using System.Text.RegularExpressions;
using Sealer.Core.Build;
using Sealer.Core.Diagnostics;
using Sealer.Core.Oci;
using Sealer.Core.References;

namespace Sealer.Core.Kubefile;

/// <summary>
/// A Kubefile as build items: each COPY source becomes a SealerFile item (a directory as <c>dir/**</c>, so its contents
/// land in the destination as Docker copies them; a glob expanded here, since MSBuild globs match files only), APP/CNI/CSI
/// SealerApp items, LABEL/ENV/LAUNCH/CMDS/KUBEVERSION the matching properties. <c>sealer build</c> turns the plan into
/// <see cref="ClusterBuildInputs"/>; <c>sealer convert</c> writes the same plan as a .kubeproj — so both build the same image.
/// </summary>
public static partial class KubefileBuild
{
    /// <summary>A SealerFile item: <paramref name="Include"/> relative to the context (forward slashes), maybe ending in <c>/**</c>.</summary>
    public sealed record PlannedFile(string Include, string Destination, string Platform, int Line)
    {
        public string? Comment { get; init; }
    }

    public sealed record Plan(KubefileProject Project, string ContextDirectory, IReadOnlyList<Platform> Platforms, IReadOnlyList<PlannedFile> Files,
        IReadOnlyList<KeyValuePair<string, string>> Labels, string? KubernetesVersion);

    /// <summary>Plans the build for <paramref name="platforms"/> (empty: FROM --platform, else linux/amd64).</summary>
    public static Plan CreatePlan(KubefileProject project, string contextDirectory, IReadOnlyList<Platform>? platforms = null)
    {
        string context = Path.GetFullPath(contextDirectory);
        if (!Directory.Exists(context)) throw new SealerException(ErrorCodes.KubefileSourceMissing, $"The build context '{contextDirectory}' is not a directory.");
        var targets = platforms is { Count: > 0 } ? platforms.ToList()
            : project.FromPlatforms.Count > 0 ? project.FromPlatforms.Select(p => ParsePlatform(p, project)).ToList()
            : [Platform.Parse("linux/amd64")];
        var files = new List<PlannedFile>();
        foreach (var copy in project.Copies)
        {
            var forPlatforms = copy.ArchSpecific ? targets.Select(t => (Key: t.ToString(), Arch: t.Architecture)).ToList() : [("", "")];
            foreach (var (key, arch) in forPlatforms)
            {
                foreach (var source in copy.Sources)
                {
                    string pattern = source.Replace(KubefileCopy.ArchToken, arch, StringComparison.Ordinal);
                    while (pattern.StartsWith("./", StringComparison.Ordinal)) pattern = pattern[2..];
                    if (pattern == ".") pattern = "";
                    var matches = Match(context, pattern);
                    if (matches.Count == 0)
                    {
                        throw new SealerException(ErrorCodes.KubefileSourceMissing,
                            $"COPY {source}{(arch.Length > 0 ? $" (for {key}: {pattern})" : "")} matches nothing in the build context '{context}'. Add the file there, or fix the path.", project.File, copy.Line, 1);
                    }
                    foreach (var rel in matches)
                    {
                        string full = rel.Length == 0 ? context : Path.Combine(context, rel);
                        string dest = copy.Destination.Length == 0 ? "./" : copy.Destination;
                        if (Directory.Exists(full))
                        {
                            // Docker copies a directory's contents into the destination.
                            files.Add(new PlannedFile(rel.Length == 0 ? "**" : rel + "/**", dest.EndsWith('/') ? dest : dest + "/", key, copy.Line) { Comment = copy.Comment });
                        }
                        else
                        {
                            files.Add(new PlannedFile(rel, copy.DestinationIsDirectory ? (dest.EndsWith('/') ? dest : dest + "/") : dest, key, copy.Line) { Comment = copy.Comment });
                        }
                    }
                }
            }
        }
        foreach (var app in project.Apps)
        {
            foreach (var s in app.Sources)
            {
                if (!File.Exists(Path.Combine(context, s)) && !Directory.Exists(Path.Combine(context, s)))
                {
                    throw new SealerException(ErrorCodes.KubefileSourceMissing, $"{(app.Role ?? "app").ToUpperInvariant()} {app.Name} local://{s}: no such file or directory in the build context '{context}'.", project.File, app.Line, 1);
                }
            }
        }
        var labels = new List<KeyValuePair<string, string>>();
        foreach (var l in project.Labels) labels.Add(new(l.Key, l.Value));
        foreach (var app in project.Apps.Where(a => a.Role is not null))
        {
            labels.Add(new((app.Role == "cni" ? KubefileProject.CniLabelPrefix : KubefileProject.CsiLabelPrefix) + app.Name, "true"));
        }
        string? kubernetesVersion = null;
        if (project.KubeVersion is { } kv)
        {
            labels.Add(new(KubefileProject.SupportedKubeVersionLabel, kv));
            // A plain version is also the chart rendering version (.Capabilities.KubeVersion); a constraint (>=v1.20) only labels.
            if (PlainVersion().IsMatch(kv)) kubernetesVersion = kv;
        }
        return new Plan(project, context, targets, files, labels, kubernetesVersion);
    }

    /// <summary>The plan as build inputs: the same items the SDK hands Core for the converted project.</summary>
    public static ClusterBuildInputs Inputs(Plan plan, string refName, string? storeDirectory = null, long sourceDateEpoch = 0, string builderVersion = "0.1.0")
    {
        var files = new List<FileItem>();
        foreach (var f in plan.Files) files.AddRange(ExpandInclude(plan.ContextDirectory, f));
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in plan.Labels) labels[k] = v;
        // The SDK adds sealer.io.kubeversion from KubernetesVersion unless a label sets it (Sdk.targets).
        if (plan.KubernetesVersion is { } kv && !labels.ContainsKey("sealer.io.kubeversion")) labels["sealer.io.kubeversion"] = kv;
        var project = plan.Project;
        return new ClusterBuildInputs
        {
            ProjectDirectory = plan.ContextDirectory,
            ProjectFile = project.File ?? Path.Combine(plan.ContextDirectory, "Kubefile"),
            BaseImageOrigin = new BaseImageOrigin(project.File ?? Path.Combine(plan.ContextDirectory, "Kubefile"), project.FromLine, "FROM"),
            RefName = refName,
            Files = files,
            Apps = project.Apps.Select(a => new AppItem(a.Name) { Sources = a.Sources, Cmds = a.Cmds, Env = a.Env, OriginFile = project.File, OriginLine = a.Line }).ToList(),
            ScanRootfs = true,
            KubeVersion = plan.KubernetesVersion,
            Platforms = plan.Platforms,
            BaseImage = project.BaseImage,
            StoreDirectory = storeDirectory,
            Labels = labels,
            Env = project.Env.Select(e => new KeyValuePair<string, string>(e.Key, e.Value)).ToList(),
            Launch = project.Launch,
            Cmds = project.Cmds,
            SourceDateEpoch = sourceDateEpoch,
            BuilderVersion = builderVersion,
        };
    }

    /// <summary>What MSBuild makes of the item: <c>dir/**</c> → every file below (with <c>%(RecursiveDir)</c>), else the file.</summary>
    private static IEnumerable<FileItem> ExpandInclude(string context, PlannedFile f)
    {
        if (f.Include == "**" || f.Include.EndsWith("/**", StringComparison.Ordinal))
        {
            string dir = f.Include == "**" ? context : Path.Combine(context, f.Include[..^3]);
            foreach (var file in Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                string rel = Path.GetRelativePath(dir, file).Replace('\\', '/');
                // COPY . x: the build's own outputs and project files are not content (the converted project excludes them too).
                if (f.Include == "**" && (rel.StartsWith("bin/", StringComparison.Ordinal) || rel.StartsWith("obj/", StringComparison.Ordinal) || rel.EndsWith(".kubeproj", StringComparison.Ordinal))) continue;
                int slash = rel.LastIndexOf('/');
                yield return new FileItem(file, f.Destination, slash < 0 ? "" : rel[..(slash + 1)], f.Platform) { OriginLine = f.Line };
            }
            yield break;
        }
        yield return new FileItem(Path.Combine(context, f.Include), f.Destination, "", f.Platform) { OriginLine = f.Line };
    }

    /// <summary>Docker's source matching: a path, or a glob whose <c>*</c>/<c>?</c>/<c>[..]</c> match within one path segment (Go's filepath.Match).</summary>
    public static List<string> Match(string context, string pattern)
    {
        pattern = pattern.Trim('/');
        if (pattern.Length == 0) return [""];
        if (!KubefileInterpreter.IsGlob(pattern))
        {
            string full = Path.Combine(context, pattern);
            return File.Exists(full) || Directory.Exists(full) ? [pattern] : [];
        }
        var current = new List<string> { "" };
        foreach (var segment in pattern.Split('/'))
        {
            var next = new List<string>();
            foreach (var dir in current)
            {
                string full = dir.Length == 0 ? context : Path.Combine(context, dir);
                if (!Directory.Exists(full)) continue;
                if (!KubefileInterpreter.IsGlob(segment))
                {
                    string p = dir.Length == 0 ? segment : dir + "/" + segment;
                    if (File.Exists(Path.Combine(context, p)) || Directory.Exists(Path.Combine(context, p))) next.Add(p);
                    continue;
                }
                var regex = new Regex("^" + GlobToRegex(segment) + "$", RegexOptions.CultureInvariant);
                foreach (var entry in Directory.EnumerateFileSystemEntries(full).Select(Path.GetFileName).Order(StringComparer.Ordinal))
                {
                    if (regex.IsMatch(entry!)) next.Add(dir.Length == 0 ? entry! : dir + "/" + entry);
                }
            }
            current = next;
        }
        return current;
    }

    private static string GlobToRegex(string glob)
    {
        var sb = new System.Text.StringBuilder();
        for (int i = 0; i < glob.Length; i++)
        {
            char c = glob[i];
            switch (c)
            {
                case '*': sb.Append("[^/]*"); break;
                case '?': sb.Append("[^/]"); break;
                case '[':
                    int close = glob.IndexOf(']', i + 1);
                    if (close < 0) { sb.Append("\\["); break; }
                    string set = glob[(i + 1)..close];
                    if (set.StartsWith('^')) set = "^" + set[1..]; // Go's [^a] is a negation too
                    sb.Append('[').Append(set.Replace("\\", "\\\\", StringComparison.Ordinal)).Append(']');
                    i = close;
                    break;
                default: sb.Append(Regex.Escape(c.ToString())); break;
            }
        }
        return sb.ToString();
    }

    private static Platform ParsePlatform(string p, KubefileProject project)
    {
        try
        {
            return Platform.Parse(p.Contains('/') ? p : "linux/" + p);
        }
        catch (Exception ex) when (ex is FormatException or SealerException)
        {
            throw new SealerException(ErrorCodes.KubefileSyntax, $"FROM --platform={p}: not a platform (linux/amd64, linux/arm64).", project.File, project.FromLine, 1);
        }
    }

    /// <summary>The image name and tag of <c>-t name:tag</c> (tag defaults to latest), checked like ClusterImageName/Tag.</summary>
    public static (string Name, string Tag) ParseTag(string tag)
    {
        string t = tag.Trim();
        int at = t.LastIndexOf(':');
        string name = at > t.LastIndexOf('/') && at > 0 ? t[..at] : t;
        string version = at > t.LastIndexOf('/') && at > 0 ? t[(at + 1)..] : "latest";
        if (!ImageReference.TryParse(name + ":" + version, out _, out _) || name.Any(char.IsUpper))
        {
            throw new SealerException(ErrorCodes.InvalidProjectValue, $"-t {tag}: not an image name:tag (lowercase letters, digits, '.', '_', '-', '/' between parts).");
        }
        return (name, version);
    }

    [GeneratedRegex(@"^v?[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]*)?$")]
    private static partial Regex PlainVersion();
}
