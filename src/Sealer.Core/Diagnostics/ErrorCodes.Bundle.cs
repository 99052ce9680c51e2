namespace Sealer.Core.Diagnostics;

// Site bundles: one executable file holding sealer, a cluster image and a Clusterfile template (SEA1900–1949).
public static partial class ErrorCodes
{
    /// <summary>The file is not a site bundle (no bundle trailer at its end).</summary>
    public const string NotABundle = "SEA1900";

    /// <summary>The site bundle is truncated or altered: a section, its manifest or its archive's index does not match what was written.</summary>
    public const string BundleDamaged = "SEA1901";

    /// <summary>The site bundle was written in a format this sealer does not read.</summary>
    public const string BundleUnsupported = "SEA1902";

    /// <summary>What a bundle was to be made of is unusable (a sealer binary that already carries a payload, a compressed archive, a platform the binary does not run on).</summary>
    public const string BundleBadInput = "SEA1903";

    /// <summary>A site bundle split over several files (<c>sealer bundle --split</c>) is missing a part beside its first file: copy every <c>NAME.partK-of-N</c> file into the first file's folder.</summary>
    public const string BundlePartMissing = "SEA1904";

    /// <summary>dotnet publish -t:BundleCluster found no sealer binary for the bundle's platform: the SDK package carries the linux-x64 one (when it was packed after build/publish-cli.sh); set SealerCliPath to the NativeAOT sealer for another platform.</summary>
    public const string BundleNoSealerForPlatform = "SEA1920";
}
