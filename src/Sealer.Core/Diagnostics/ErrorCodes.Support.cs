namespace Sealer.Core.Diagnostics;

// Support bundles: what a vendor needs to diagnose a delivery, collected from this machine and the hosts (SEA4900–4949).
public static partial class ErrorCodes
{
    /// <summary>The support bundle could not be written (the output directory is missing, read-only or full).</summary>
    public const string SupportBundleWriteFailed = "SEA4900";
}
