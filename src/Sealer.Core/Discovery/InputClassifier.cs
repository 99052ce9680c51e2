using Sealer.Core.Yaml;
using System.Text;
using Sealer.Core.Charts;
using Sealer.Core.Diagnostics;
using Sealer.Core.Kustomize;
using YamlDotNet.Core;

namespace Sealer.Core.Discovery;

/// <summary>What a path given to find-images is.</summary>
public enum InputKind { Unknown, ChartDirectory, ChartArchive, Kustomization, Manifest, ImageList, Directory }

/// <summary>
/// Sorts paths into charts, kustomizations, manifests and image lists. A file named on the command line must be one of
/// them (else <see cref="ErrorCodes.UnrecognizedInputFile"/>, never an empty result); image lists are recognised by name
/// (<c>imageList</c>, <c>*.txt</c>) or by content (every non-comment line an image reference), and a YAML file must hold
/// at least one Kubernetes object.
/// </summary>
public static class InputClassifier
{
    public static InputKind Classify(string path)
    {
        if (Directory.Exists(path))
        {
            if (File.Exists(Path.Combine(path, "Chart.yaml"))) return InputKind.ChartDirectory;
            return Kustomizer.FindKustomizationFile(path) is not null ? InputKind.Kustomization : InputKind.Directory;
        }
        if (!File.Exists(path)) return InputKind.Unknown;
        if (IsChartArchive(path)) return InputKind.ChartArchive;
        if (IsManifestName(path)) return InputKind.Manifest;
        if (IsImageListName(path)) return InputKind.ImageList;
        string? text = ReadSmallText(path);
        if (text is null) return InputKind.Unknown;
        if (ImageList.LooksLikeImageList(text)) return InputKind.ImageList;
        return HoldsObjects(text) ? InputKind.Manifest : InputKind.Unknown;
    }

    /// <summary>Like <see cref="Classify"/> for a file the user named: an error naming it when it is none of the known kinds,
    /// or a YAML file holding no Kubernetes object (a values file given by mistake).</summary>
    public static InputKind ClassifyNamedFile(string path)
    {
        var kind = Classify(path);
        if (kind == InputKind.Manifest && ReadSmallText(path) is { } text && !HoldsObjects(text))
        {
            if (ImageList.LooksLikeImageList(text)) return InputKind.ImageList;
            throw new SealerException(ErrorCodes.UnrecognizedInputFile,
                $"'{path}' holds no Kubernetes object (no document with apiVersion and kind), so it is not a manifest. Give charts, manifests, kustomization directories or image lists (one image reference a line).", path);
        }
        if (kind == InputKind.Unknown)
        {
            throw new SealerException(ErrorCodes.UnrecognizedInputFile,
                $"'{path}' is neither a chart (.tgz), a manifest (YAML/JSON with Kubernetes objects) nor an image list (one image reference a line, '#' comments). Fix the file or leave it out.", path);
        }
        return kind;
    }

    /// <summary>Whether a file met while searching a directory is worth reading (known extensions and list-like names).</summary>
    public static bool IsCandidateInDirectory(string path)
        => IsChartArchive(path) || IsManifestName(path) || IsImageListName(path)
           || Path.GetExtension(path).ToLowerInvariant() is ".list" or ".lst" || Path.GetFileName(path).Contains("image", StringComparison.OrdinalIgnoreCase) && Path.GetExtension(path).Length == 0;

    public static bool IsChartArchive(string p) => p.EndsWith(".tgz", StringComparison.OrdinalIgnoreCase) || p.EndsWith(".tar.gz", StringComparison.OrdinalIgnoreCase);

    public static bool IsImageListName(string p) => Path.GetFileName(p) is "imageList" or "imagelist" || p.EndsWith(".txt", StringComparison.OrdinalIgnoreCase);

    public static bool IsManifestName(string p) => Path.GetExtension(p).ToLowerInvariant() is ".yaml" or ".yml" or ".json" or ".tmpl";

    private static string? ReadSmallText(string path)
    {
        var info = new FileInfo(path);
        if (info.Length > 64 << 20) return null;
        var bytes = File.ReadAllBytes(path);
        if (Array.IndexOf(bytes, (byte)0) >= 0) return null;
        try
        {
            var s = new UTF8Encoding(false, true).GetString(bytes);
            return s.Length > 0 && s[0] == '\uFEFF' ? s[1..] : s;
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }

    private static bool HoldsObjects(string text)
    {
        try
        {
            return YamlReader.ParseStream(text).Any(d => d.Root is YMap m && m.GetString("kind") is { Length: > 0 } && m.GetString("apiVersion") is { Length: > 0 });
        }
        catch (YamlException)
        {
            return true; // YAML-named but broken: let the manifest parser report the line.
        }
    }
}
