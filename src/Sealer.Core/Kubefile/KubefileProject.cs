using Sealer.Core.Diagnostics;

namespace Sealer.Core.Kubefile;

/// <summary>A Kubefile read with Sealer's meaning (<see cref="KubefileProject.Read"/>): what to build, line by line.</summary>
public sealed record KubefileProject
{
    public string? File { get; init; }
    public string BaseImage { get; init; } = "scratch";
    public int FromLine { get; init; }

    /// <summary>From <c>FROM --platform=linux/amd64,linux/arm64</c>; empty when not given.</summary>
    public IReadOnlyList<string> FromPlatforms { get; init; } = [];

    public IReadOnlyList<KubefileCopy> Copies { get; init; } = [];
    public IReadOnlyList<KubefileApp> Apps { get; init; } = [];
    public IReadOnlyList<KubefileValue> Labels { get; init; } = [];
    public IReadOnlyList<KubefileValue> Env { get; init; } = [];
    public IReadOnlyList<string> Launch { get; init; } = [];
    public IReadOnlyList<string> Cmds { get; init; } = [];
    public int LaunchLine { get; init; }
    public int CmdsLine { get; init; }
    public string? KubeVersion { get; init; }
    public int KubeVersionLine { get; init; }

    /// <summary>ARG values used (after --build-arg), for the converted project's comments.</summary>
    public IReadOnlyDictionary<string, string> Args { get; init; } = new Dictionary<string, string>();

    /// <summary>What was read but has no effect on the image (MAINTAINER), one line each.</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    public IReadOnlyList<KubefileInstruction> Instructions { get; init; } = [];

    /// <summary>Sealer's label for KUBEVERSION (build/kubefile/command: LabelSupportedKubeVersionAlpha).</summary>
    public const string SupportedKubeVersionLabel = "app.alpha.sealer.io/supported-kube-version";

    /// <summary>CNI / CSI apps are labelled <c>cluster.alpha.sealer.io/kube-cni-&lt;name&gt;="true"</c> (…kube-csi-…) by Sealer.</summary>
    public const string CniLabelPrefix = "cluster.alpha.sealer.io/kube-cni-", CsiLabelPrefix = "cluster.alpha.sealer.io/kube-csi-";

    /// <summary>Reads a Kubefile. <paramref name="buildArgs"/> are <c>--build-arg</c> values (override ARG defaults).</summary>
    public static KubefileProject Read(string text, string? file = null, IReadOnlyDictionary<string, string>? buildArgs = null)
        => new KubefileInterpreter(file, buildArgs ?? new Dictionary<string, string>()).Run(KubefileParser.Parse(text, file));

    public static KubefileProject Load(string path, IReadOnlyDictionary<string, string>? buildArgs = null)
    {
        string text;
        try
        {
            text = System.IO.File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new SealerException(ErrorCodes.InputFileMissing, $"Cannot read the Kubefile '{path}': {ex.Message}. Pass it with -f.", path, inner: ex);
        }
        return Read(text, path, buildArgs);
    }
}

/// <summary>
/// <c>COPY src... dest</c>: sources relative to the build context after ARG/ENV expansion; <c>${ARCH}</c> (and
/// <c>$ARCH</c>) is kept as <see cref="ArchToken"/> and replaced per platform. <see cref="Destination"/> is rootfs-relative
/// ("" for the root).
/// </summary>
public sealed record KubefileCopy(IReadOnlyList<string> Sources, string Destination, bool DestinationIsDirectory, int Line)
{
    public const string ArchToken = "${ARCH}";

    public string? Comment { get; init; }

    public bool ArchSpecific => Sources.Any(s => s.Contains(ArchToken, StringComparison.Ordinal));
}

/// <summary>APP / CNI / CSI with its APPCMDS and APPENV. <see cref="Role"/> is <c>cni</c>, <c>csi</c> or null.</summary>
public sealed record KubefileApp(string Name, IReadOnlyList<string> Sources, int Line)
{
    public IReadOnlyList<string> Cmds { get; init; } = [];
    public IReadOnlyList<KeyValuePair<string, string>> Env { get; init; } = [];
    public string? Role { get; init; }
    public string? Comment { get; init; }
}

public sealed record KubefileValue(string Key, string Value, int Line);
