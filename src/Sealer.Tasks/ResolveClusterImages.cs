using System.Text.RegularExpressions;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using Sealer.Core.ClusterImage;
using Sealer.Core.Diagnostics;
using Sealer.Core.References;
using Task = System.Threading.Tasks.Task;

namespace Sealer.Tasks;

public sealed partial class ResolveClusterImages : SealerTask
{
    protected override Task ExecuteCoreAsync(CancellationToken cancellationToken)
    {
        var found = new SortedDictionary<string, List<ImageSourceEntry>>(StringComparer.Ordinal);
        string projectDir = string.IsNullOrEmpty(ProjectDirectory) ? Directory.GetCurrentDirectory() : Path.GetFullPath(ProjectDirectory);
        void Add(ImageReference r, ImageSourceEntry source)
        {
            // Sources are kept relative to the project, so images.lock.json (committed, and carried in the rootfs) is the same on every machine.
            if (Path.IsPathRooted(source.File)) source = source with { File = Path.GetRelativePath(projectDir, source.File).Replace('\\', '/') };
            if (!found.TryGetValue(r.ToString(), out var list)) found[r.ToString()] = list = [];
            list.Add(source);
        }

        foreach (var item in Images)
        {
            var (file, line) = ItemLocation.Of(item);
            Add(ImageReference.Parse(item.ItemSpec, file, line), new ImageSourceEntry { File = file ?? "", Line = line, Detail = "ContainerImage" });
        }
        foreach (var list in ImageLists)
        {
            cancellationToken.ThrowIfCancellationRequested();
            string path = list.GetMetadata("FullPath");
            if (!File.Exists(path))
            {
                var (file, line) = ItemLocation.Of(list);
                throw new SealerException(ErrorCodes.InputFileMissing, $"ImageList '{list.ItemSpec}' does not exist. Fix the item's Include, or remove it.", file, line);
            }
            foreach (var (reference, line) in ReadImageList(path)) Add(reference, new ImageSourceEntry { File = path, Line = line, Detail = "image list" });
        }
        DiscoverInManifestsAndCharts(Add, cancellationToken);

        var excludes = Excludes.Select(e => (Item: e, Pattern: ExcludePattern(e.ItemSpec))).ToList();
        var images = new List<ResolvedImageEntry>();
        foreach (var (reference, sources) in found)
        {
            if (excludes.Any(x => x.Pattern.IsMatch(reference)))
            {
                Log.LogMessage(MessageImportance.Normal, $"Sealer: {reference} excluded by ExcludeImage");
                continue;
            }
            images.Add(new ResolvedImageEntry { Reference = reference, Sources = sources });
        }
        new ResolvedImagesFile { Images = images }.Write(OutputFile);
        ResolvedImages = images.Select(i => (ITaskItem)new TaskItem(i.Reference)).ToArray();
        Log.LogMessage(MessageImportance.High, $"Sealer: {images.Count} images found ({string.Join(", ", images.Select(i => i.Reference).Take(8))}{(images.Count > 8 ? ", ..." : "")})");
        return Task.CompletedTask;
    }

    /// <summary>One reference a line; '#' starts a comment; blank lines skipped (Sealer's manifests/imageList format).</summary>
    internal static IEnumerable<(ImageReference Reference, int Line)> ReadImageList(string path)
    {
        int n = 0;
        foreach (var raw in File.ReadLines(path))
        {
            n++;
            int hash = raw.IndexOf('#');
            string text = (hash >= 0 ? raw[..hash] : raw).Trim();
            if (text.Length == 0) continue;
            if (!ImageReference.TryParse(text, out var r, out var error))
            {
                throw new SealerException(ErrorCodes.InvalidImageListLine, $"'{text}' is not an image reference: {error}. Write one reference a line (e.g. docker.io/library/nginx:1.27); '#' starts a comment.", path, n);
            }
            yield return (r, n);
        }
    }

    /// <summary>An ExcludeImage pattern: a reference (normalized, so <c>nginx</c> means docker.io/library/nginx:latest) or a glob with '*'.</summary>
    internal static Regex ExcludePattern(string value)
    {
        string v = value.Trim();
        if (!v.Contains('*') && ImageReference.TryParse(v, out var r, out _)) v = r.ToString();
        return new Regex("^" + Regex.Escape(v).Replace("\\*", ".*") + "$", RegexOptions.CultureInvariant);
    }

    /// <summary>Images in KubeManifest files and rendered HelmCharts come from Sealer.Core.Discovery (the charts work);
    /// until it is merged, projects that use them get a clear error rather than a cluster image silently missing images.</summary>
    private void DiscoverInManifestsAndCharts(Action<ImageReference, ImageSourceEntry> add, CancellationToken cancellationToken)
    {
        foreach (var item in Manifests.Concat(Charts))
        {
            var (file, line) = ItemLocation.Of(item);
            throw new SealerException(ErrorCodes.Internal, $"Image discovery in manifests and charts is not in this build of Sealer.Sdk yet ('{item.ItemSpec}'). List the images with ContainerImage or ImageList items for now.", file, line);
        }
    }
}
