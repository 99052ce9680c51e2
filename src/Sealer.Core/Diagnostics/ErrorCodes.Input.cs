namespace Sealer.Core.Diagnostics;

public static partial class ErrorCodes
{
    /// <summary>An image reference (in a manifest, chart, image list or the project) is malformed.</summary>
    public const string InvalidImageReference = "SEA2000";
}
