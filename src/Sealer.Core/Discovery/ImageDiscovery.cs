using System.Text;
using Sealer.Core.Charts;
using Sealer.Core.Diagnostics;
using Sealer.Core.Kustomize;
using Sealer.Core.References;
using Sealer.Core.Templating.Helm;

namespace Sealer.Core.Discovery;

/// <summary>
/// Finds every image a project needs without a cluster: renders charts offline with the deploy's values (like
/// <c>helm template</c>), walks the rendered objects and plain manifests as YAML trees, reads image lists, applies
/// additions and exclusions, normalizes references and records where each one came from.
/// </summary>
public static class ImageDiscovery
{
    /// <summary>A template's file as sources show it: a cached archive's path replaced by its display name.</summary>
    private static string DisplayName(ChartInput chart, string file)
    {
        foreach (var (path, name) in chart.DisplayNames)
        {
            if (file.StartsWith(path, StringComparison.Ordinal) && (file.Length == path.Length || file[path.Length] is '!' or '/' or '\\')) return name + file[path.Length..];
        }
        return file;
    }

    /// <summary>
    /// Every chart's findings key (<see cref="ChartFindingsKey"/>), on all cores: a rebuild after one chart changed reads
    /// and hashes every chart's files to find the one that did (~65 ms on one core at 300 charts). A key that fails (a
    /// malformed --set-file) is left null for the caller's in-order pass to compute again and report.
    /// </summary>
    private static string?[] ComputeKeys(DiscoveryInput input, CancellationToken ct)
    {
        var keys = new string?[input.Charts.Count];
        Parallel.For(0, keys.Length, new ParallelOptions { CancellationToken = ct }, i =>
        {
            try
            {
                keys[i] = ChartFindingsKey.Compute(input.Charts[i], input.KubeVersion, input.ApiVersions, input.ChartCache!.FileHashes);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                keys[i] = null;
            }
        });
        return keys;
    }

    public static DiscoveryResult Discover(DiscoveryInput input, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        var collector = new Collector();
        var inputFiles = new SortedSet<string>(StringComparer.Ordinal);

        var cache = input.ChartCache;
        var keysUsed = new HashSet<string>(StringComparer.Ordinal);
        int rendered = 0, fromCache = 0;
        var keys = cache is null ? null : ComputeKeys(input, ct);
        for (int i = 0; i < input.Charts.Count; i++)
        {
            ct.ThrowIfCancellationRequested();
            var chart = input.Charts[i];
            // A key the parallel pass could not compute is computed here, in chart order, so its error is the first chart's.
            string? key = keys is null ? null : keys[i] ?? ChartFindingsKey.Compute(chart, input.KubeVersion, input.ApiVersions, cache!.FileHashes);
            var findings = key is null ? null : cache!.TryGet(key);
            if (findings is null)
            {
                findings = RenderChart(chart, input, ct);
                rendered++;
                if (key is not null) cache!.Put(key, findings);
            }
            else
            {
                fromCache++;
            }
            if (key is not null) keysUsed.Add(key);
            foreach (var f in findings.InputFiles) inputFiles.Add(f);
            foreach (var f in findings.Images) collector.Add(new FoundImage(f.Value, f.Line, "", f.Strict), f.File, f.Detail);
        }

        foreach (var file in input.ManifestFiles)
        {
            ct.ThrowIfCancellationRequested();
            string full = RequireFile(file, "manifest");
            inputFiles.Add(full);
            foreach (var root in ManifestDocuments.ParseFile(ReadText(full), file))
            {
                foreach (var img in ImageWalker.Walk(root)) collector.Add(img, file, img.Where);
            }
        }

        foreach (var dir in input.Kustomizations)
        {
            ct.ThrowIfCancellationRequested();
            if (!Directory.Exists(dir))
            {
                throw new SealerException(ErrorCodes.DiscoveryInputNotFound, $"kustomization directory '{dir}' does not exist. Fix the path or remove the item.", dir);
            }
            var built = Kustomizer.Build(dir, new KustomizeOptions { KubeVersion = input.KubeVersion }, ct);
            foreach (var f in built.InputFiles) inputFiles.Add(f);
            foreach (var obj in built.Objects)
            {
                foreach (var img in ImageWalker.Walk(obj.Node))
                {
                    collector.Add(img, obj.SourceFile, $"kustomization {dir}: {img.Where}");
                }
            }
        }

        foreach (var file in input.ImageListFiles)
        {
            ct.ThrowIfCancellationRequested();
            string full = RequireFile(file, "image list");
            inputFiles.Add(full);
            foreach (var (value, line) in ImageList.Parse(ReadText(full), file))
            {
                collector.Add(new FoundImage(value, line, "image list", Strict: true), file, null);
            }
        }

        foreach (var extra in input.ExtraImages)
        {
            collector.Add(new FoundImage(extra.Trim(), 0, "added explicitly", Strict: true), "(ExtraImages)", "added explicitly");
        }

        var excludes = input.ExcludeImages.Select(ImageExclusion.Parse).ToList();
        var images = collector.Images
            .Where(kv => !excludes.Any(e => e.Matches(kv.Key)))
            .OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => new DiscoveredImage(kv.Key, kv.Value))
            .ToList();
        cache?.Retain(keysUsed);
        return new DiscoveryResult { Images = images, InputFiles = inputFiles.ToList(), ChartsRendered = rendered, ChartsFromCache = fromCache };
    }

    /// <summary>Renders one chart (only images are read from the output: TLS keys the chart makes are made once per process,
    /// <see cref="HelmRenderOptions.Discovery"/>) and lists every image its templates show, in order.</summary>
    private static ChartFindings RenderChart(ChartInput chart, DiscoveryInput input, CancellationToken ct)
    {
        var rendered = ChartRenderer.Render(chart, input.KubeVersion, input.ApiVersions, ct, HelmRenderOptions.Discovery);
        var images = new List<ChartFinding>();
        foreach (var t in rendered.Templates)
        {
            ct.ThrowIfCancellationRequested();
            string source = DisplayName(chart, t.SourceFile);
            foreach (var doc in ManifestDocuments.SplitLikeHelm(t.Text))
            {
                var root = ManifestDocuments.ParseDocument(doc, source);
                foreach (var img in ImageWalker.Walk(root))
                {
                    images.Add(new ChartFinding(img.Value, img.Line, img.Strict, source, $"chart {t.ChartName}, template {t.Key}: {img.Where}"));
                }
            }
        }
        return new ChartFindings(images, rendered.InputFiles.ToList());
    }

    /// <summary>Finds images in YAML text holding Kubernetes objects (helm-style split); lines are relative to <paramref name="text"/>.</summary>
    internal static List<FoundImage> FindInRenderedText(string text, string file)
    {
        var result = new List<FoundImage>();
        foreach (var doc in ManifestDocuments.SplitLikeHelm(text))
        {
            result.AddRange(ImageWalker.Walk(ManifestDocuments.ParseDocument(doc, file)));
        }
        return result;
    }

    private static string RequireFile(string file, string what)
    {
        string full = Path.GetFullPath(file);
        if (!File.Exists(full))
        {
            throw new SealerException(ErrorCodes.DiscoveryInputNotFound, $"{what} file '{file}' does not exist. Fix the path or remove the item.", file);
        }
        return full;
    }

    private static string ReadText(string path)
    {
        var s = File.ReadAllText(path, Encoding.UTF8);
        return s.Length > 0 && s[0] == '\uFEFF' ? s[1..] : s;
    }

    private sealed class Collector
    {
        public Dictionary<string, List<ImageSource>> Images { get; } = new(StringComparer.Ordinal);

        public void Add(FoundImage img, string file, string? detail)
        {
            if (!ImageReference.TryParse(img.Value, out var reference, out var error))
            {
                if (!img.Strict) return;
                throw new SealerException(ErrorCodes.InvalidImageReference,
                    $"'{img.Value}' is not a valid image reference ({error}){(detail is null ? "" : " at " + detail)}. Fix the value (or the chart values that produce it).",
                    file, img.Line);
            }
            string key = reference.ToString();
            if (!Images.TryGetValue(key, out var list)) Images[key] = list = [];
            var origin = new ImageSource(file, img.Line, detail);
            if (!list.Contains(origin)) list.Add(origin);
        }
    }
}

/// <summary>Image list files: one reference a line; <c>#</c> starts a comment (whole line or after white space); blank lines skipped.</summary>
public static class ImageList
{
    /// <summary>True when the text is an image list by content: at least one entry, and every line that is not blank or a
    /// comment is an image reference (whatever the file is called: images.list, airgap-images.list, ...).</summary>
    public static bool LooksLikeImageList(string text)
    {
        int entries = 0;
        foreach (var raw in text.Split('\n'))
        {
            string line = raw.TrimEnd('\r');
            int hash = line.IndexOf('#');
            while (hash > 0 && !char.IsWhiteSpace(line[hash - 1])) hash = line.IndexOf('#', hash + 1);
            if (hash >= 0) line = line[..hash];
            line = line.Trim();
            if (line.Length == 0) continue;
            if (line.Contains(' ', StringComparison.Ordinal) || line.Contains(':', StringComparison.Ordinal) && line.EndsWith(':') || !ImageReference.TryParse(line, out _, out _)) return false;
            entries++;
        }
        return entries > 0;
    }

    public static List<(string Reference, int Line)> Parse(string text, string file)
    {
        var result = new List<(string, int)>();
        int lineNo = 0;
        foreach (var raw in text.Split('\n'))
        {
            lineNo++;
            string line = raw.TrimEnd('\r');
            int hash = line.IndexOf('#');
            while (hash > 0 && !char.IsWhiteSpace(line[hash - 1])) hash = line.IndexOf('#', hash + 1);
            if (hash >= 0) line = line[..hash];
            line = line.Trim();
            if (line.Length == 0) continue;
            if (!ImageReference.TryParse(line, out _, out var error))
            {
                throw new SealerException(ErrorCodes.InvalidImageListEntry,
                    $"'{line}' is not an image reference ({error}). Image lists hold one reference a line (e.g. registry.k8s.io/pause:3.10); '#' starts a comment.",
                    file, lineNo, raw.IndexOf(line, StringComparison.Ordinal) + 1);
            }
            result.Add((line, lineNo));
        }
        return result;
    }
}

/// <summary>An exclusion: exact reference, repository (any tag) or a <c>*</c> pattern on the normalized reference.</summary>
internal sealed class ImageExclusion
{
    private readonly Func<string, bool> _match;

    private ImageExclusion(Func<string, bool> match) => _match = match;

    public bool Matches(string normalized) => _match(normalized);

    public static ImageExclusion Parse(string spec)
    {
        spec = spec.Trim();
        if (spec.Contains('*'))
        {
            var rx = new System.Text.RegularExpressions.Regex("^" + System.Text.RegularExpressions.Regex.Escape(spec).Replace("\\*", ".*", StringComparison.Ordinal) + "$");
            return new ImageExclusion(n => rx.IsMatch(n) || rx.IsMatch(Shorten(n)));
        }
        var r = ImageReference.Parse(spec);
        int slash = spec.LastIndexOf('/');
        bool explicitTag = spec.Contains('@') || spec[(slash + 1)..].Contains(':');
        string exact = r.ToString();
        string repo = r.Name;
        return explicitTag
            ? new ImageExclusion(n => n == exact)
            : new ImageExclusion(n => n == repo || n.StartsWith(repo + ":", StringComparison.Ordinal) || n.StartsWith(repo + "@", StringComparison.Ordinal));
    }

    /// <summary><c>docker.io/library/nginx:1</c> as users write it (<c>nginx:1</c>), so patterns match either form.</summary>
    private static string Shorten(string n)
    {
        if (n.StartsWith("docker.io/library/", StringComparison.Ordinal)) return n["docker.io/library/".Length..];
        if (n.StartsWith("docker.io/", StringComparison.Ordinal)) return n["docker.io/".Length..];
        return n;
    }
}
